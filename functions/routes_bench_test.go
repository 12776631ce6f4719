package functions

import (
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// BenchmarkRoutes measures routing one URI: with one exact function only
// (the case before patterns), then with 100 patterns of the same provider
// besides, to the exact uri and to one of the patterns. Compare the last
// two with the first (go test -bench Routes ./functions).
func BenchmarkRoutes(b *testing.B) {
	exact := storage.Function{ID: "e", ProviderID: "p", URI: "git/push", Active: true, Script: "1"}
	patterns := []storage.Function{exact}
	for i := range 100 {
		uri := fmt.Sprintf("svc%d/{repo}/events/*", i)
		if i%2 == 1 {
			uri = fmt.Sprintf("svc%d/{repo}/{event}", i)
		}
		patterns = append(patterns, storage.Function{ID: fmt.Sprint(i), ProviderID: "p", URI: uri, Active: true, Script: "1"})
	}
	for _, bc := range []struct {
		name string
		list []storage.Function
		uri  string
	}{
		{"exact-only", []storage.Function{exact}, "git/push"},
		{"exact-among-100-patterns", patterns, "git/push"},
		{"pattern-among-100", patterns, "svc98/switchyard/events/refs/heads/main"},
		{"no-match-among-100", patterns, "svc98/switchyard/nothing/here"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			routes, err := BuildRoutes(bc.list, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if r := routes.For("p", bc.uri); len(r.Functions) != 1 && bc.name != "no-match-among-100" {
					b.Fatalf("%s routed to %d functions", bc.uri, len(r.Functions))
				}
			}
		})
	}
}
