package notify

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// fakeClaims hands out the deliveries it is given once, and notes what
// is released.
type fakeClaims struct {
	mu       sync.Mutex
	due      []storage.Delivery
	released []string
}

func (f *fakeClaims) ClaimDue(_ context.Context, _ time.Time, take func(string) int) ([]storage.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []storage.Delivery
	for _, d := range f.due {
		if take(d.Lane) > 0 {
			out = append(out, d)
		}
	}
	f.due = nil
	return out, nil
}

func (f *fakeClaims) ReleaseDeliveries(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, ids...)
	return nil
}

// A delivery whose attempt has written its outcome (so the store's claim
// ended) but is still in hand here, as while the health stage runs, can
// be claimed again by a scan, for instance after a replay. That new claim
// goes back, and another scan is asked for; kept, it would stay claimed
// and never start (TestRetriesThenFails once timed out on it).
func TestScanGivesBackADeliveryStillInHand(t *testing.T) {
	d := storage.Delivery{ID: "d1", Lane: "callback:x", Status: storage.DeliveryPending}
	claims := &fakeClaims{due: []storage.Delivery{d}}
	var started []string
	s := newScheduler(claims, &endpoints{}, func(d storage.Delivery, _ *lane) { started = append(started, d.ID) },
		slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour, 10)
	s.inflight[d.ID] = struct{}{}

	if got := s.scanStore(t.Context(), time.Now(), 1); len(got) != 0 {
		t.Fatalf("started %d deliveries still in hand", len(got))
	}
	if !slices.Equal(claims.released, []string{d.ID}) {
		t.Fatalf("released %v, want the claim on %s given back", claims.released, d.ID)
	}
	if !s.scan.Load() {
		t.Fatal("no scan asked for after giving a due delivery back")
	}

	// Once recorded, the next scan starts it.
	s.recorded(d.ID)
	claims.due = []storage.Delivery{d}
	s.fill(t.Context())
	if !slices.Equal(started, []string{d.ID}) {
		t.Fatalf("started %v after it was recorded, want %s", started, d.ID)
	}
}
