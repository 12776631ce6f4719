package providers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

func TestBuildCompilesOncePerVersion(t *testing.T) {
	t.Parallel()
	list := []storage.Provider{
		{ID: "a", Name: "a", Active: true, MatchScript: "return false", Version: 1},
		{ID: "b", Name: "b", Active: false, MatchScript: "return true", Version: 1},
		{ID: "c", Name: "c", Active: true, MatchScript: "return true", Version: 1, Properties: map[string]string{"p": "1"}, Secrets: map[string]string{"s": "2"}},
	}
	first, err := providers.Build(list, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Len() != 2 {
		t.Fatalf("inactive provider kept: %d", first.Len())
	}
	again, _ := providers.Build(list, first)
	res1, _ := first.Match(context.Background(), scripting.NewEngine(scripting.Limits{}), scripting.Request{}, nil)
	res2, _ := again.Match(context.Background(), scripting.NewEngine(scripting.Limits{}), scripting.Request{}, nil)
	if res1.Provider.Program != res2.Provider.Program {
		t.Fatal("an unchanged version was compiled again")
	}
	if res1.Provider.Env["p"] != "1" || res1.Provider.Env["s"] != "2" {
		t.Fatalf("PROPERTIES must hold properties and secrets: %v", res1.Provider.Env)
	}
	list[2].Version, list[2].MatchScript = 2, "return 1"
	changed, _ := providers.Build(list, first)
	res3, _ := changed.Match(context.Background(), scripting.NewEngine(scripting.Limits{}), scripting.Request{}, nil)
	if res3.Provider.Program == res1.Provider.Program {
		t.Fatal("a new version reused the old program")
	}
}

func TestMatchStopsAtFirstTruthyAndWhenContextEnds(t *testing.T) {
	t.Parallel()
	list := []storage.Provider{
		{ID: "a", Name: "a", Active: true, MatchScript: "LOG.info('a'); return 0", Version: 1},
		{ID: "b", Name: "b", Active: true, MatchScript: "LOG.setMessage('b won'); return 'yes'", Version: 1},
		{ID: "c", Name: "c", Active: true, MatchScript: "throw new Error('must not run')", Version: 1},
	}
	set, err := providers.Build(list, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng := scripting.NewEngine(scripting.Limits{})
	res, err := set.Match(context.Background(), eng, scripting.Request{}, nil)
	if err != nil || res.Provider == nil || res.Provider.ID != "b" || res.Summary != "b won" {
		t.Fatalf("%+v %v", res, err)
	}
	if len(res.Logs) != 1 || res.Logs[0].Source != "provider:a" || res.Logs[0].Text != "a" {
		t.Fatalf("logs %+v", res.Logs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := set.Match(ctx, eng, scripting.Request{}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	p := storage.Provider{Name: " GitHub ", MatchScript: "return true"}
	if err := providers.Normalize(&p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "GitHub" || p.MatchTimeoutMS != 1000 {
		t.Fatalf("defaults: %+v", p)
	}
	for _, bad := range []storage.Provider{
		{MatchScript: "return 1"},
		{Name: strings.Repeat("n", 201), MatchScript: "return 1"},
		{Name: "x"},
		{Name: "x", MatchScript: "return ("},
		{Name: "x", MatchScript: "return 1", MatchTimeoutMS: -5},
		{Name: "x", MatchScript: "return 1", MatchTimeoutMS: 10001},
	} {
		if err := providers.Normalize(&bad); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
