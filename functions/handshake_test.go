package functions_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// Providers without a handshake script cost a request nothing before it
// is recorded: no script runs, nothing is allocated. Once one provider
// has a handshake script, it runs.
func TestHandshakeCostsNothingWithoutScripts(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	for _, name := range []string{"a", "b", "c"} {
		if _, err := st.CreateProvider(ctx, storage.Provider{Name: name, Active: true, MatchScript: "return true"}); err != nil {
			t.Fatal(err)
		}
	}
	d := newDispatcher(t, st, nil)
	t.Cleanup(func() { d.Close(ctx) })
	m := storagetest.NewMessage(t, time.Now(), "u")
	body := []byte(`{}`)
	allocs := testing.AllocsPerRun(100, func() {
		if a, err := d.Handshake(ctx, m, body); a != nil || err != nil {
			t.Fatalf("answered %v, err %v", a, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per request without handshake scripts", allocs)
	}

	p, err := st.CreateProvider(ctx, storage.Provider{Name: "h", Active: true, MatchScript: "return true", HandshakeScript: `RESPONSE.body = "hi"`})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := d.Handshake(ctx, m, body)
	if err != nil || a == nil || a.Provider.ID != p.ID || string(a.Response.Body) != "hi" {
		t.Fatalf("with a handshake script: %+v, %v", a, err)
	}
}
