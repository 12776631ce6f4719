package functions_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// Patterns through the catalogue: refused when malformed (invalid) or
// overlapping another of the provider (conflict), routed with PATH_PARAMS
// once saved, the same after the catalogue is rebuilt from the store (a
// restart), and in a dry run.
func TestCataloguePatterns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	d := newDispatcher(t, st, nil)
	t.Cleanup(func() { d.Close(context.Background()) })
	cat := functions.NewCatalogue(st, d)

	p, err := cat.CreateProvider(ctx, storage.Provider{Name: "p", Active: true, MatchScript: "return true"})
	if err != nil {
		t.Fatal(err)
	}
	const script = `LOG.setMessage(JSON.stringify(PATH_PARAMS)); return PATH_PARAMS.repo`
	save := func(name, uri string) (storage.Function, error) {
		return cat.CreateFunction(ctx, storage.Function{Name: name, ProviderID: p.ID, URI: uri, Active: true, Script: script})
	}
	repo, err := save("repo", "/repos/{repo}/push/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := save("jira", "jira/*"); err != nil {
		t.Fatal(err)
	}
	if _, err := save("exact", "repos/main/push"); err != nil {
		t.Fatal(err)
	}
	if _, err := save("bad", "repos/{repo/push"); !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), "brace") {
		t.Fatalf("a malformed pattern: %v", err)
	}
	_, err = save("overlap", "repos/{name}/{action}")
	if !errors.Is(err, storage.ErrConflict) || !strings.Contains(err.Error(), `"repos/{repo}/push" of function "repo" (`+repo.ID+`)`) {
		t.Fatalf("an overlapping pattern: %v", err)
	}
	// Moving the other out of the way makes room; moving it back is refused.
	other, err := save("other", "repos/{name}/pull")
	if err != nil {
		t.Fatal(err)
	}
	other.URI = "repos/{name}/{action}"
	if _, err := cat.UpdateFunction(ctx, other); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("an update into overlap: %v", err)
	}

	run := func(d *functions.Dispatcher, uri string) storage.Outcome {
		t.Helper()
		o, _, err := d.AcceptAndProcess(ctx, storagetest.NewMessage(t, time.Now(), uri), []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return o.Outcome
	}
	check := func(d *functions.Dispatcher) {
		t.Helper()
		for uri, want := range map[string]string{
			"repos/switchyard/push":   `{"repo":"switchyard"}`,
			"repos/main/push":         `{}`,
			"jira/issue/12":           `{"*":"issue/12"}`,
			"repos/switchyard/pull":   `{"name":"switchyard"}`,
			"repos/a/b/push":          "", // %2F, decoded, is a "/"
			"jira":                    "",
			"repos/switchyard/push/x": "",
		} {
			o := run(d, uri)
			if want == "" {
				if o.Status != storage.StatusUnmatched {
					t.Errorf("%s: %s, want UNMATCHED", uri, o.Status)
				}
				continue
			}
			if o.Status != storage.StatusSuccess || o.Summary != want || len(o.Executions) != 1 {
				t.Errorf("%s: %s %q (%d executions), want %s", uri, o.Status, o.Summary, len(o.Executions), want)
			}
		}
	}
	check(d)
	restarted := newDispatcher(t, st, nil)
	t.Cleanup(func() { restarted.Close(context.Background()) })
	check(restarted)

	m := storagetest.NewMessage(t, time.Now(), "repos/flow/push")
	if _, _, err := d.AcceptAndProcess(ctx, m, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	res, err := d.DryRun(ctx, m.ID, functions.DryRunOptions{FunctionID: repo.ID, Script: `return "dry " + PATH_PARAMS.repo`})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Functions) != 1 || res.Functions[0].Result != "dry flow" || !res.Functions[0].Overridden {
		t.Fatalf("dry run: %+v", res.Functions)
	}
	if !strings.Contains(res.Logs[len(res.Logs)-1].Text, `matched the pattern "repos/{repo}/push"`) {
		t.Fatalf("dry run logs: %+v", res.Logs)
	}
}
