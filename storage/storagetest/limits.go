package storagetest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Limits is what the server alone uses of the store to keep it bounded:
// the purge of old UNMATCHED messages and the measure of its size.
// (StripMessage and DeleteMessages are the dispatcher's: functions.Store.)
type Limits interface {
	PurgeUnmatched(ctx context.Context, cutoff time.Time, limit int) (int, error)
	StoreSize(ctx context.Context) (int64, error)
}

// testStripAndDrop: a message completed with Strip keeps its outcome
// and metadata but neither payload nor headers, while the others of its
// group commit keep theirs; a dropped message is gone, and dropping it
// again is harmless.
func testStripAndDrop(t *testing.T, s Functions) {
	done := storage.Outcome{Status: storage.StatusUnmatched, CompletedAt: time.Now(), Logs: []storage.LogLine{{Time: time.Now(), Level: "INFO", Text: "no provider matched"}}}
	strip, keep, drop := NewMessage(t, time.Now(), "a"), NewMessage(t, time.Now(), "k"), NewMessage(t, time.Now(), "b")
	for _, m := range []storage.Message{strip, keep, drop} {
		check(s.AppendMessage(ctx(t), m, []byte("secret body")))
	}
	var wg sync.WaitGroup
	for _, m := range []storage.Message{strip, keep} {
		wg.Go(func() {
			o := done
			o.Strip = m.ID == strip.ID
			check(s.CompleteMessage(ctx(t), m.ID, o))
		})
	}
	wg.Wait()
	if d := must(s.GetMessage(ctx(t), keep.ID)); d.Headers["x-test"] != "1" || string(must(s.GetPayload(ctx(t), keep.ID))) != "secret body" {
		t.Fatalf("a message completed without Strip lost its headers or payload: %+v", d)
	}
	d := must(s.GetMessage(ctx(t), strip.ID))
	if d.Status != storage.StatusUnmatched || len(d.Headers) != 0 || d.URI != "a" || len(d.Query["a"]) != 2 || len(d.Logs) != 1 {
		t.Fatalf("stripped message: %+v", d)
	}
	if _, err := s.GetPayload(ctx(t), strip.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("stripped message's payload: %v, want ErrNotFound", err)
	}
	if n := must(s.DeleteMessages(ctx(t), []string{drop.ID})); n != 1 {
		t.Fatalf("DeleteMessages of the dropped message deleted %d, want 1", n)
	}
	if _, err := s.GetMessage(ctx(t), drop.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("dropped message: %v, want ErrNotFound", err)
	}
	if _, err := s.GetPayload(ctx(t), drop.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("dropped message's payload: %v, want ErrNotFound", err)
	}
	if items, _ := must2(s.ListMessages(ctx(t), storage.MessageFilter{})); len(items) != 2 {
		t.Fatalf("list after strip and drop: %v", items)
	}
	if n := must(s.DeleteMessages(ctx(t), []string{drop.ID})); n != 0 { // gone already: no error
		t.Fatalf("DeleteMessages of a message gone deleted %d", n)
	}
}

// testPurgeUnmatched: only UNMATCHED messages older than the cutoff go,
// and the purge finds those completed after an earlier purge ran.
func testPurgeUnmatched(t *testing.T, s interface {
	Functions
	Limits
}) {
	day := 24 * time.Hour
	oldUnmatched := NewMessage(t, time.Now().Add(-2*day), "u")
	oldSuccess := NewMessage(t, time.Now().Add(-2*day+time.Minute), "u")
	oldPending := NewMessage(t, time.Now().Add(-2*day+2*time.Minute), "u")
	freshUnmatched := NewMessage(t, time.Now(), "u")
	for _, m := range []storage.Message{oldUnmatched, oldSuccess, oldPending, freshUnmatched} {
		check(s.AppendMessage(ctx(t), m, []byte("body")))
	}
	for m, status := range map[string]string{oldUnmatched.ID: storage.StatusUnmatched, oldSuccess.ID: storage.StatusSuccess, freshUnmatched.ID: storage.StatusUnmatched} {
		check(s.CompleteMessage(ctx(t), m, storage.Outcome{Status: status, CompletedAt: time.Now()}))
	}
	cutoff := time.Now().Add(-day)
	if n := must(s.PurgeUnmatched(ctx(t), cutoff, 100)); n != 1 {
		t.Fatalf("purged %d unmatched messages, want 1", n)
	}
	if _, err := s.GetMessage(ctx(t), oldUnmatched.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("old unmatched message: %v, want ErrNotFound", err)
	}
	if _, err := s.GetPayload(ctx(t), oldUnmatched.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("old unmatched payload: %v, want ErrNotFound", err)
	}
	for _, id := range []string{oldSuccess.ID, oldPending.ID, freshUnmatched.ID} {
		if _, err := s.GetMessage(ctx(t), id); err != nil {
			t.Fatalf("message %s purged: %v", id, err)
		}
	}
	// A later unmatched message, older than the next cutoff.
	later := NewMessage(t, time.Now().Add(-day/2), "u")
	check(s.AppendMessage(ctx(t), later, nil))
	check(s.CompleteMessage(ctx(t), later.ID, storage.Outcome{Status: storage.StatusUnmatched, CompletedAt: time.Now()}))
	if n := must(s.PurgeUnmatched(ctx(t), time.Now().Add(-time.Hour), 100)); n != 1 {
		t.Fatalf("second purge removed %d, want 1", n)
	}
	if _, err := s.GetMessage(ctx(t), freshUnmatched.ID); err != nil {
		t.Fatalf("fresh unmatched message purged: %v", err)
	}
}

// testStoreSize: the size grows with payloads and falls when they are
// purged, though the files do not shrink.
func testStoreSize(t *testing.T, s interface {
	Functions
	Limits
}) {
	const n, each = 4, 256 << 10
	before := must(s.StoreSize(ctx(t)))
	for i := range n {
		body := make([]byte, each)
		rand.Read(body) // incompressible
		check(s.AppendMessage(ctx(t), NewMessage(t, time.Now().Add(-48*time.Hour+time.Duration(i)*time.Millisecond), "u"), body))
	}
	full := must(s.StoreSize(ctx(t)))
	if full-before < n*each*9/10 {
		t.Fatalf("store size went from %d to %d after %d bytes of payloads", before, full, n*each)
	}
	if got := must(s.PurgeMessages(ctx(t), time.Now().Add(-time.Hour), 100)); got != n {
		t.Fatalf("purged %d, want %d", got, n)
	}
	after := must(s.StoreSize(ctx(t)))
	if full-after < n*each*9/10 {
		t.Fatalf("store size went from %d to %d when %d bytes of payloads were purged", full, after, n*each)
	}
}
