package functions

import (
	"maps"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// FuzzRoutes checks the pattern code against its definitions for any two
// uris and any received URI: parsing never panics; the trie routes where
// a scan of every function by the precedence rules does, with the same
// PATH_PARAMS; two patterns that overlaps calls apart never both match a
// URI; and the example of two that overlap matches both.
func FuzzRoutes(f *testing.F) {
	for _, s := range [][3]string{
		{"repos/{repo}/push", "repos/main/{event}", "repos/main/push"},
		{"jira/*", "jira/{x}", "jira/a"},
		{"jira/*", "{x}", "jira"},
		{"a/{x}/*", "a/b/{c}", "a/b/c/d"},
		{"*", "git/push", "git/push"},
		{"{a}/{b}", "x/y", "x//y"},
		{"a/*/b", "a/{x}", "a/*/b"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, uri string) {
		a, b, uri = NormalizeURI(a), NormalizeURI(b), NormalizeURI(uri)
		pa, errA := parsePattern(a)
		pb, errB := parsePattern(b)
		list := []storage.Function{
			{ID: "a", ProviderID: "p", URI: a, Active: true, Script: "1"},
			{ID: "b", ProviderID: "p", URI: b, Active: true, Script: "1"},
		}
		routes, err := BuildRoutes(list, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := routes.For("p", uri)
		wantURI, wantParams := scan(list, uri)
		if gotURI := firstURI(got); gotURI != wantURI || !maps.Equal(got.Params, wantParams) {
			t.Fatalf("%q %q, %q: routed to %q %v, the scan to %q %v", a, b, uri, gotURI, got.Params, wantURI, wantParams)
		}
		if errA != nil || errB != nil || pa == nil || pb == nil || a == b {
			return
		}
		parts := strings.Split(uri, "/")
		_, okA := pa.match(parts)
		_, okB := pb.match(parts)
		if okA && okB && !pa.overlaps(pb) {
			t.Fatalf("%q and %q both match %q but do not overlap", a, b, uri)
		}
		if pa.overlaps(pb) {
			ex := strings.Split(pa.example(pb), "/")
			if _, ok := pa.match(ex); !ok {
				t.Fatalf("the example %q does not match %q", pa.example(pb), a)
			}
			if _, ok := pb.match(ex); !ok {
				t.Fatalf("the example %q does not match %q", pa.example(pb), b)
			}
		}
	})
}

// scan routes uri through every function of list by the rules, without
// the index: an exact uri first, else the matching pattern that comes
// before the others.
func scan(list []storage.Function, uri string) (string, map[string]string) {
	var best *pattern
	var params map[string]string
	for _, f := range list {
		p, err := parsePattern(f.URI)
		if err != nil || p == nil {
			if f.URI == uri {
				return uri, nil
			}
			continue
		}
		if m, ok := p.match(strings.Split(uri, "/")); ok && (best == nil || p.before(best)) {
			best, params = p, m
		}
	}
	if best == nil {
		return "", nil
	}
	return best.raw, params
}

func firstURI(r Route) string {
	if len(r.Functions) == 0 {
		return ""
	}
	return r.Functions[0].URI
}
