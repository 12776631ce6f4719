package functions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// Every change through the catalogue is normalised, saved and published:
// the next message runs the new scripts with no reload by hand, and a
// change that does not normalise is refused and saves nothing.
func TestCatalogueSavesAndPublishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	d := newDispatcher(t, st, nil)
	t.Cleanup(func() { d.Close(context.Background()) })
	cat := functions.NewCatalogue(st, d)

	run := func(uri string) storage.Outcome {
		t.Helper()
		o, _, err := d.AcceptAndProcess(ctx, storagetest.NewMessage(t, time.Now(), uri), []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return o.Outcome
	}
	if o := run("u"); o.Status != storage.StatusUnmatched {
		t.Fatalf("before anything is saved: %s", o.Status)
	}
	p, err := cat.CreateProvider(ctx, storage.Provider{Name: "p", Active: true, MatchScript: "return true"})
	if err != nil {
		t.Fatal(err)
	}
	if p.MatchTimeoutMS == 0 {
		t.Fatal("the provider was not normalised (no default timeout)")
	}
	f, err := cat.CreateFunction(ctx, storage.Function{Name: "f", ProviderID: p.ID, URI: "/u/", Active: true, Script: `LOG.setMessage("v1"); return 1`})
	if err != nil {
		t.Fatal(err)
	}
	if f.URI != "u" {
		t.Fatalf("the function was not normalised: uri %q", f.URI)
	}
	if o := run("u"); o.Status != storage.StatusSuccess || o.Summary != "v1" {
		t.Fatalf("after create: %s %q", o.Status, o.Summary)
	}
	f.Script = `LOG.setMessage("v2"); return 1`
	if _, err := cat.UpdateFunction(ctx, f); err != nil {
		t.Fatal(err)
	}
	if o := run("u"); o.Summary != "v2" {
		t.Fatalf("after update: %q", o.Summary)
	}
	f.Script = "return ("
	if _, err := cat.UpdateFunction(ctx, f); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("a script that does not compile: %v", err)
	}
	if got, _ := st.GetFunction(ctx, f.ID); got.Script != `LOG.setMessage("v2"); return 1` {
		t.Fatalf("a refused script was saved: %q", got.Script)
	}
	p.Active = false
	if _, err := cat.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	if o := run("u"); o.Status != storage.StatusUnmatched {
		t.Fatalf("after the provider was made inactive: %s", o.Status)
	}
	if err := cat.DeleteFunction(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if err := cat.DeleteProvider(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	q, err := cat.CreateProvider(ctx, storage.Provider{Name: "q", Active: true, MatchScript: "return true"})
	if err != nil {
		t.Fatal(err)
	}
	if all, err := cat.ReorderProviders(ctx, []string{q.ID}); err != nil || len(all) != 1 {
		t.Fatalf("reorder: %v %v", all, err)
	}
}
