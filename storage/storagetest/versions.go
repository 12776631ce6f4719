package storagetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

func testScriptVersions(t *testing.T, s storage.Store) {
	p := must(s.CreateProvider(ctx(t), storage.Provider{Name: "p", MatchScript: "return 1"}))
	p.Description = "no script change"
	p = must(s.UpdateProvider(ctx(t), p))
	p.MatchScript = "return 2"
	p = must(s.UpdateProvider(ctx(t), p))
	// A rollback is a save of an old script: a new version.
	old := must(s.GetScriptVersion(ctx(t), p.ID, 1))
	p.MatchScript = old.Script
	p = must(s.UpdateProvider(ctx(t), p))
	if p.Version != 3 {
		t.Fatalf("provider version %d after two script changes, want 3", p.Version)
	}
	vs := must(s.ScriptVersions(ctx(t), p.ID))
	want := []string{"return 1", "return 2", "return 1"} // newest first
	if len(vs) != 3 {
		t.Fatalf("versions: %+v", vs)
	}
	for i, v := range vs {
		if v.Version != 3-i || v.Script != want[i] || v.SavedAt.IsZero() {
			t.Fatalf("version %d: %+v", i, v)
		}
	}

	f := must(s.CreateFunction(ctx(t), storage.Function{Name: "f", ProviderID: p.ID, Script: "LOG.info(1)"}))
	f.Script = "LOG.info(2)"
	f = must(s.UpdateFunction(ctx(t), f))
	fv := must(s.ScriptVersions(ctx(t), f.ID))
	if len(fv) != 2 || fv[0].Version != 2 || fv[0].Script != "LOG.info(2)" || fv[1].Script != "LOG.info(1)" {
		t.Fatalf("function versions: %+v", fv)
	}
	if _, err := s.GetScriptVersion(ctx(t), f.ID, 3); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := s.ScriptVersions(ctx(t), uuid.NewString()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("versions of nothing: %v", err)
	}

	check(s.DeleteFunction(ctx(t), f.ID))
	check(s.DeleteProvider(ctx(t), p.ID))
	if _, err := s.GetScriptVersion(ctx(t), p.ID, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("versions must go with their provider: %v", err)
	}
	if _, err := s.GetScriptVersion(ctx(t), f.ID, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("versions must go with their function: %v", err)
	}
}

func testFirstSeen(t *testing.T, s storage.Store) {
	if !must(s.FirstSeen(ctx(t), "a", time.Hour)) {
		t.Fatal("a new key must be first")
	}
	if must(s.FirstSeen(ctx(t), "a", time.Hour)) {
		t.Fatal("a key seen within its TTL must not be first")
	}
	if !must(s.FirstSeen(ctx(t), "b", time.Hour)) {
		t.Fatal("another key is first")
	}
	// A TTL of a nanosecond has ended by the next call.
	if !must(s.FirstSeen(ctx(t), "short", time.Nanosecond)) || !must(s.FirstSeen(ctx(t), "short", time.Hour)) {
		t.Fatal("an expired key must be first again")
	}
	if must(s.FirstSeen(ctx(t), "short", time.Hour)) {
		t.Fatal("the renewed key must not be first")
	}

	// Concurrent callers with one new key: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if must(s.FirstSeen(ctx(t), "race", time.Hour)) {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent callers saw a new key first, want 1", wins.Load())
	}
}

func testPurgeSeen(t *testing.T, s storage.Store) {
	must(s.FirstSeen(ctx(t), "hour", time.Hour))
	must(s.FirstSeen(ctx(t), "day", 24*time.Hour))
	if n := must(s.PurgeSeen(ctx(t), time.Now(), 100)); n != 0 {
		t.Fatalf("purged %d live keys", n)
	}
	if n := must(s.PurgeSeen(ctx(t), time.Now().Add(2*time.Hour), 100)); n != 1 {
		t.Fatalf("purged %d keys two hours on, want 1", n)
	}
	if must(s.FirstSeen(ctx(t), "day", time.Hour)) {
		t.Fatal("purging expired keys forgot a live one")
	}
	// A key renewed after expiry keeps its new expiry when the old index
	// entry is purged.
	must(s.FirstSeen(ctx(t), "renew", time.Nanosecond))
	must(s.FirstSeen(ctx(t), "renew", time.Hour))
	must(s.PurgeSeen(ctx(t), time.Now().Add(time.Minute), 100))
	if must(s.FirstSeen(ctx(t), "renew", time.Hour)) {
		t.Fatal("purge forgot a renewed key")
	}
	if n := must(s.PurgeSeen(ctx(t), time.Now().Add(48*time.Hour), 1)); n != 1 {
		t.Fatalf("limit 1 purged %d", n)
	}
}
