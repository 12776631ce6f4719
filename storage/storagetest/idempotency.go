package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

// Idempotent is the part of the store behind idempotent publishing.
type Idempotent interface {
	AppendEventOnce(ctx context.Context, key storage.Idempotency, ev storage.EncodedEvent, ds []storage.Delivery) (storage.Idempotency, bool, error)
	PurgeIdempotency(ctx context.Context, now time.Time, limit int) (int, error)
	GetEvent(ctx context.Context, id string) (storage.EncodedEvent, error)
	GetDelivery(ctx context.Context, id string) (storage.DeliveryDetail, error)
}

// RunIdempotency runs the tests of idempotency keys. open returns, for
// one test, a function that returns a store over that test's data: the
// same store each time for a store of one process, a new node each time
// for a store that nodes share, so that the race runs across nodes.
func RunIdempotency(t *testing.T, open func(t *testing.T) func() Idempotent) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, node func() Idempotent)
	}{
		{"FirstWins", testIdempotencyFirstWins},
		{"Race", testIdempotencyRace},
		{"Expiry", testIdempotencyExpiry},
		{"Invalid", testIdempotencyInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer failed(t)
			tc.fn(t, open(t))
		})
	}
}

// keyedEvent is an event at `at` with one delivery to a fresh endpoint,
// and its idempotency record under key for window.
func keyedEvent(t *testing.T, key string, at time.Time, window time.Duration) (storage.Idempotency, storage.EncodedEvent, []storage.Delivery) {
	ev := storage.Event{ID: NewID(t, at), Type: "build.done", Time: at.UTC(), Title: "Build 7", Data: map[string]any{"n": 7.0}, Source: "api"}
	d := newDelivery(t, at, uuid.NewString(), "")
	d.EventID = ev.ID
	hash := sha256.Sum256([]byte("request of " + key))
	answer := must(json.Marshal(map[string]any{"id": ev.ID, "deliveries": 1}))
	rec := storage.Idempotency{Key: key, BodyHash: hash[:], EventID: ev.ID, Response: answer,
		CreatedAt: at.UTC(), ExpiresAt: at.Add(window).UTC()}
	return rec, must(storage.EncodeEvent(ev)), []storage.Delivery{d}
}

// stored says whether the event and its deliveries are in s, failing on
// a half-written one.
func stored(t *testing.T, s Idempotent, ev storage.EncodedEvent, ds []storage.Delivery) bool {
	t.Helper()
	_, err := s.GetEvent(ctx(t), ev.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	has := err == nil
	for _, d := range ds {
		_, err := s.GetDelivery(ctx(t), d.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if (err == nil) != has {
			t.Fatalf("event %s stored: %v, but its delivery %s: %v", ev.ID, has, d.ID, err == nil)
		}
	}
	return has
}

func sameRecord(got, want storage.Idempotency) error {
	if got.Key != want.Key || got.EventID != want.EventID || !bytes.Equal(got.BodyHash, want.BodyHash) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		return fmt.Errorf("record %+v, want %+v", got, want)
	}
	var g, w any
	if err := json.Unmarshal(got.Response, &g); err != nil {
		return fmt.Errorf("response %q: %w", got.Response, err)
	}
	check(json.Unmarshal(want.Response, &w))
	if fmt.Sprint(g) != fmt.Sprint(w) {
		return fmt.Errorf("response %s, want %s", got.Response, want.Response)
	}
	return nil
}

// The first publish with a key writes its event, deliveries and record;
// a repeat writes nothing and gets the first record back.
func testIdempotencyFirstWins(t *testing.T, node func() Idempotent) {
	s := node()
	now := time.Now().UTC()
	rec, ev, ds := keyedEvent(t, "order-42", now, time.Hour)
	got, first := must2(s.AppendEventOnce(ctx(t), rec, ev, ds))
	if !first {
		t.Fatal("a new key: want first")
	}
	if err := sameRecord(got, rec); err != nil {
		t.Fatal(err)
	}
	if !stored(t, s, ev, ds) {
		t.Fatal("first event not stored")
	}

	rec2, ev2, ds2 := keyedEvent(t, "order-42", now.Add(time.Second), time.Hour)
	rec2.BodyHash = []byte("another hash")
	got, first = must2(s.AppendEventOnce(ctx(t), rec2, ev2, ds2))
	if first {
		t.Fatal("a repeat: want not first")
	}
	if err := sameRecord(got, rec); err != nil {
		t.Fatalf("a repeat must get the first record: %v", err)
	}
	if stored(t, s, ev2, ds2) {
		t.Fatal("a repeat's event was stored")
	}

	// Another key is another event.
	rec3, ev3, ds3 := keyedEvent(t, "order-43", now, time.Hour)
	if _, first := must2(s.AppendEventOnce(ctx(t), rec3, ev3, ds3)); !first || !stored(t, s, ev3, ds3) {
		t.Fatal("another key: want first and stored")
	}
}

// Of concurrent publishes with one new key, on one node or several,
// exactly one writes its event; every other gets its record.
func testIdempotencyRace(t *testing.T, node func() Idempotent) {
	const n = 8
	nodes := []Idempotent{node(), node()}
	now := time.Now().UTC()
	type try struct {
		rec storage.Idempotency
		ev  storage.EncodedEvent
		ds  []storage.Delivery
	}
	tries := make([]try, n)
	for i := range tries {
		tries[i].rec, tries[i].ev, tries[i].ds = keyedEvent(t, "race", now, time.Hour)
	}
	type result struct {
		got   storage.Idempotency
		first bool
		err   error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := &results[i]
			r.got, r.first, r.err = nodes[i%len(nodes)].AppendEventOnce(context.Background(), tries[i].rec, tries[i].ev, tries[i].ds)
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, r := range results {
		check(r.err)
		if r.first {
			if winner >= 0 {
				t.Fatalf("publishes %d and %d both won the key", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no publish won the key")
	}
	for i, r := range results {
		if err := sameRecord(r.got, tries[winner].rec); err != nil {
			t.Errorf("publish %d: %v", i, err)
		}
		if got := stored(t, nodes[0], tries[i].ev, tries[i].ds); got != (i == winner) {
			t.Errorf("publish %d: event stored %v, want %v", i, got, i == winner)
		}
	}
}

// An expired record is replaced by the next publish with its key, and
// purged once its time is past.
func testIdempotencyExpiry(t *testing.T, node func() Idempotent) {
	s := node()
	now := time.Now().UTC()
	// Made two days ago for a day: expired, not yet purged.
	old, ev, ds := keyedEvent(t, "expired", now.Add(-48*time.Hour), 24*time.Hour)
	if _, first := must2(s.AppendEventOnce(ctx(t), old, ev, ds)); !first {
		t.Fatal("a new key: want first")
	}
	fresh, ev2, ds2 := keyedEvent(t, "expired", now, time.Hour)
	got, first := must2(s.AppendEventOnce(ctx(t), fresh, ev2, ds2))
	if !first || !stored(t, s, ev2, ds2) {
		t.Fatal("a key past its expiry must be taken again")
	}
	if err := sameRecord(got, fresh); err != nil {
		t.Fatal(err)
	}

	gone, ev3, ds3 := keyedEvent(t, "to-purge", now.Add(-48*time.Hour), 24*time.Hour)
	must2(s.AppendEventOnce(ctx(t), gone, ev3, ds3))
	if n := must(s.PurgeIdempotency(ctx(t), now, 100)); n != 1 {
		t.Fatalf("purged %d records at now, want the 1 expired", n)
	}
	// The fresh key is kept by that purge...
	again, ev4, ds4 := keyedEvent(t, "expired", now, time.Hour)
	if got, first := must2(s.AppendEventOnce(ctx(t), again, ev4, ds4)); first || got.EventID != fresh.EventID {
		t.Fatalf("a live key after a purge: first %v, event %s, want %s", first, got.EventID, fresh.EventID)
	}
	// ...and purged once its hour is over.
	if n := must(s.PurgeIdempotency(ctx(t), now.Add(2*time.Hour), 100)); n != 1 {
		t.Fatalf("purged %d records two hours on, want 1", n)
	}
	if n := must(s.PurgeIdempotency(ctx(t), now.Add(2*time.Hour), 100)); n != 0 {
		t.Fatalf("purged %d records twice", n)
	}
	if _, first := must2(s.AppendEventOnce(ctx(t), again, ev4, ds4)); !first {
		t.Fatal("a purged key must be new again")
	}
}

// Bad records are refused and nothing is written.
func testIdempotencyInvalid(t *testing.T, node func() Idempotent) {
	s := node()
	now := time.Now().UTC()
	for name, mod := range map[string]func(*storage.Idempotency){
		"empty key":       func(k *storage.Idempotency) { k.Key = "" },
		"long key":        func(k *storage.Idempotency) { k.Key = string(bytes.Repeat([]byte("k"), storage.MaxIdempotencyKey+1)) },
		"other event":     func(k *storage.Idempotency) { k.EventID = uuid.NewString() },
		"expired at once": func(k *storage.Idempotency) { k.ExpiresAt = k.CreatedAt },
		"response":        func(k *storage.Idempotency) { k.Response = []byte("{") },
	} {
		rec, ev, ds := keyedEvent(t, "bad-"+name, now, time.Hour)
		mod(&rec)
		if _, _, err := s.AppendEventOnce(ctx(t), rec, ev, ds); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
		if stored(t, s, ev, ds) {
			t.Errorf("%s: event written anyway", name)
		}
	}
}
