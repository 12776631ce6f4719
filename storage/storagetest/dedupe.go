package storagetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/scripting"
)

// Dedupe is the part of the store behind DEDUPE: what scripts use
// (scripting.Deduper), and the purge of expired keys, which the server
// runs.
type Dedupe interface {
	scripting.Deduper
	PurgeSeen(ctx context.Context, now time.Time, limit int) (int, error)
}

// RunDedupe runs the tests of DEDUPE keys against the backend that open
// returns.
func RunDedupe(t *testing.T, open func(t *testing.T) Dedupe) {
	run(t, open, []test[Dedupe]{
		{"FirstSeen", testFirstSeen},
		{"PurgeSeen", testPurgeSeen},
	})
}

func testFirstSeen(t *testing.T, s Dedupe) {
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

func testPurgeSeen(t *testing.T, s Dedupe) {
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
