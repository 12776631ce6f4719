package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// Concurrent appends share commits.
func TestGroupCommitShares(t *testing.T) {
	s := openTest(t)
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			m := storagetest.NewMessage(t, time.Now(), "c")
			errs <- s.AppendMessage(context.Background(), m, []byte(m.ID))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := s.WriterStats()
	if st.Writes != n || st.Commits >= st.Writes || st.CommitSeconds <= 0 {
		t.Fatalf("%d concurrent appends: %+v (want fewer commits than writes)", n, st)
	}
	t.Logf("%d appends in %d commits", st.Writes, st.Commits)
}

func appendOp(t *testing.T, headers string) *writeOp {
	m := storagetest.NewMessage(t, time.Now(), "g")
	op := &writeOp{id: uuid.MustParse(m.ID), done: make(chan error, 1), append: &appendRow{
		receivedAt: nanos(m.ReceivedAt), method: "POST", uri: "g", body: []byte("b"),
	}}
	if headers != "" {
		op.append.headers = json.RawMessage(headers)
	}
	return op
}

// A row PostgreSQL refuses fails its own caller only: the group is written
// again row by row.
func TestGroupCommitBadRowFailsAlone(t *testing.T) {
	s := openTest(t)
	good1, bad, good2 := appendOp(t, `{"a":"1"}`), appendOp(t, `{"broken`), appendOp(t, "")
	done := &writeOp{id: uuid.Must(uuid.NewV7()), done: make(chan error, 1), complete: &completeRow{status: storage.StatusSuccess}}
	before := s.WriterStats()
	s.commit([]*writeOp{good1, bad, good2, done})
	if err := <-bad.done; !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("bad row: want ErrInvalid, got %v", err)
	}
	for _, op := range []*writeOp{good1, good2} {
		if err := <-op.done; err != nil {
			t.Errorf("good row failed with the bad one: %v", err)
		}
		if _, err := s.GetPayload(context.Background(), op.id.String()); err != nil {
			t.Errorf("good row not written: %v", err)
		}
	}
	if err := <-done.done; !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("completion of an unknown message: want ErrNotFound, got %v", err)
	}
	if _, err := s.GetMessage(context.Background(), bad.id.String()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("bad row written: %v", err)
	}
	// The group's transaction and the bad row's roll back; the three
	// others commit one by one.
	if st := s.WriterStats(); st.Commits-before.Commits != 3 || st.Writes-before.Writes != 3 {
		t.Errorf("a failed group retried row by row: %+v after %+v, want 3 more commits of one row", st, before)
	}
}

// A group ends before a second row of a message already in it, which
// starts the next group: rows of one message commit in the order queued.
func TestGatherCutsAtARepeatedMessage(t *testing.T) {
	op := func(id uuid.UUID) *writeOp { return &writeOp{id: id} }
	a, b, c := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	appendA, completeA, appendB, appendC := op(a), op(a), op(b), op(c)
	ch := make(chan *writeOp, 8)
	for _, o := range []*writeOp{appendB, completeA, appendC} {
		ch <- o
	}
	group, next := gather(appendA, ch)
	if len(group) != 2 || group[0] != appendA || group[1] != appendB || next != completeA {
		t.Fatalf("first group %v, next %v: want [appendA appendB], completeA", group, next)
	}
	group, next = gather(next, ch)
	if len(group) != 2 || group[0] != completeA || group[1] != appendC || next != nil {
		t.Fatalf("second group %v, next %v: want [completeA appendC], none", group, next)
	}
	close(ch)
	if group, next = gather(appendA, ch); len(group) != 1 || next != nil {
		t.Fatalf("after close: %v %v", group, next)
	}
	full := make(chan *writeOp, maxGroup+1)
	for range maxGroup + 1 {
		full <- op(uuid.Must(uuid.NewV7()))
	}
	if group, _ = gather(<-full, full); len(group) != maxGroup || len(full) != 1 {
		t.Fatalf("a group of %d, %d left queued: want %d and 1", len(group), len(full), maxGroup)
	}
}

// Two appends of one id: one is written, the other is a conflict.
func TestGroupCommitSameIDTwice(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for range 20 {
		m := storagetest.NewMessage(t, time.Now(), "o")
		var wg sync.WaitGroup
		var appendErr, againErr error
		wg.Go(func() { appendErr = s.AppendMessage(ctx, m, []byte("x")) })
		wg.Go(func() { againErr = s.AppendMessage(ctx, m, []byte("y")) })
		wg.Wait()
		if (appendErr == nil) == (againErr == nil) {
			t.Fatalf("two appends of one id: %v, %v (want one conflict)", appendErr, againErr)
		}
		if err := errors.Join(appendErr, againErr); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("second append: want ErrConflict, got %v", err)
		}
	}
}

// Text that PostgreSQL's text cannot hold is stored as U+FFFD; documents
// (json) and bodies keep every byte.
func TestUnstorableText(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m := storagetest.NewMessage(t, time.Now(), "a\x00b\xffc")
	m.Headers = map[string]string{"x-nul": "v\x00w"}
	body := []byte("\x00\xff\xfe binary")
	if err := s.AppendMessage(ctx, m, body); err != nil {
		t.Fatal(err)
	}
	o := storage.Outcome{Status: storage.StatusSuccess, Summary: "sum\x00mary", CompletedAt: time.Now(),
		Logs: []storage.LogLine{{Time: time.Now(), Level: "INFO", Text: "nul \x00 here"}}}
	if err := s.CompleteMessage(ctx, m.ID, o); err != nil {
		t.Fatal(err)
	}
	d, err := s.GetMessage(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.URI != "a\uFFFDb\uFFFDc" || d.Summary != "sum\uFFFDmary" || d.Headers["x-nul"] != "v\x00w" || d.Logs[0].Text != "nul \x00 here" {
		t.Fatalf("stored: uri %q summary %q headers %q logs %q", d.URI, d.Summary, d.Headers, d.Logs[0].Text)
	}
	if got, err := s.GetPayload(ctx, m.ID); err != nil || string(got) != string(body) {
		t.Fatalf("payload: %q %v", got, err)
	}
	if page, _, err := s.ListMessages(ctx, storage.MessageFilter{URI: "a\x00b\xffc"}); err != nil || len(page) != 1 {
		t.Fatalf("list by the URI as sent: %v %v", page, err)
	}

	now := time.Now()
	dl := storage.Delivery{ID: storagetest.NewID(t, now), Lane: "l", CreatedAt: now}
	if err := s.AppendEvent(ctx, encoded(t, storage.Event{ID: storagetest.NewID(t, now), Type: "t", Title: "t\x00", Data: map[string]any{"k": "\x00"}}), []storage.Delivery{dl}); err != nil {
		t.Fatal(err)
	}
	response := "\x00\x01binary answer"
	if _, err := s.RecordAttempt(ctx, dl.ID, storage.Attempt{At: now, Status: 200, Response: response, Error: "e\x00"}, storage.DeliveryUpdate{Status: storage.DeliverySuccess}); err != nil {
		t.Fatal(err)
	}
	det, err := s.GetDelivery(ctx, dl.ID)
	if err != nil || det.Attempts[0].Response != response || det.LastError != "e\uFFFD" {
		t.Fatalf("attempt: %+v %v", det, err)
	}
}

// Every request the pool sends is counted once: an append is one batch,
// a read one statement, a transaction its statements plus BEGIN and COMMIT.
func TestRoundTripsCounted(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	appendOne := func() {
		m := storagetest.NewMessage(t, time.Now(), "rt")
		if err := s.AppendMessage(ctx, m, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	appendOne() // the first may prepare its statements
	for _, c := range []struct {
		name string
		want uint64
		do   func()
	}{
		{"append", 1, appendOne},
		{"statement", 1, func() {
			if _, err := s.pool.Exec(ctx, `SELECT 1`); err != nil {
				t.Fatal(err)
			}
		}},
		{"transaction", 3, func() {
			if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `SELECT 1`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		before := s.RoundTrips()
		c.do()
		if got := s.RoundTrips() - before; got != c.want {
			t.Errorf("%s: %d round trips counted, want %d", c.name, got, c.want)
		}
	}
}
