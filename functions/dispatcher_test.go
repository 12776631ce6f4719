package functions_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

func newStore(t *testing.T) *bolt.Store {
	t.Helper()
	sealer, _ := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newDispatcher(t *testing.T, st functions.Store, edit func(*functions.Options)) *functions.Dispatcher {
	t.Helper()
	opts := functions.Options{Store: st, Engine: scripting.NewEngine(scripting.Limits{}), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(&opts)
	}
	d, err := functions.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return d
}

func setup(t *testing.T, st storage.Store, script string) {
	t.Helper()
	ctx := context.Background()
	p, err := st.CreateProvider(ctx, storage.Provider{Name: "p", Active: true, MatchScript: "return true", MatchTimeoutMS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateFunction(ctx, storage.Function{Name: "f", ProviderID: p.ID, URI: "u", Active: true, Script: script, TimeoutMS: 5000}); err != nil {
		t.Fatal(err)
	}
}

func waitAllDone(t *testing.T, st storage.Store, ids []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range ids {
		for {
			d, err := st.GetMessage(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status == storage.StatusSuccess {
				break
			}
			if d.Status != storage.StatusPending || time.Now().After(deadline) {
				t.Fatalf("message %s: %s", id, d.Status)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// A queue far smaller than the burst: what does not fit waits in the store
// and is swept in; every message still runs exactly to SUCCESS.
func TestOverflowGoesThroughTheStore(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	setup(t, st, "return 1")
	d := newDispatcher(t, st, func(o *functions.Options) { o.QueueSize = 2; o.Workers = 1 })
	t.Cleanup(func() { d.Close(context.Background()) })
	var ids []string
	for i := range 300 {
		m := storagetest.NewMessage(t, time.Now(), "u")
		if err := d.Accept(context.Background(), m, []byte(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	waitAllDone(t, st, ids)
	if n := d.QueueDepth(); n != 0 {
		t.Fatalf("queue depth %d after everything ran", n)
	}
}

// A message that waits in the store without this dispatcher knowing of
// it (one another node left behind) is swept in within SweepInterval.
func TestPeriodicSweep(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	setup(t, st, "return 1")
	d := newDispatcher(t, st, func(o *functions.Options) { o.SweepInterval = 50 * time.Millisecond })
	t.Cleanup(func() { d.Close(context.Background()) })
	m := storagetest.NewMessage(t, time.Now(), "u")
	m.Status = storage.StatusPending
	if err := st.AppendMessage(context.Background(), m, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitAllDone(t, st, []string{m.ID})
}

// Large bodies do not ride the queue; they are read back from the store.
func TestLargePayloadReadBack(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	setup(t, st, `if (PAYLOAD.big.length !== 1000) throw new Error("short"); return 1`)
	d := newDispatcher(t, st, func(o *functions.Options) { o.InlinePayload = 10 })
	t.Cleanup(func() { d.Close(context.Background()) })
	m := storagetest.NewMessage(t, time.Now(), "u")
	body := []byte(`{"big":"` + string(bytes.Repeat([]byte("x"), 1000)) + `"}`)
	if err := d.Accept(context.Background(), m, body); err != nil {
		t.Fatal(err)
	}
	waitAllDone(t, st, []string{m.ID})
}

// Close interrupts a script that outlives the grace period and leaves its
// message PENDING for the next start, where it runs again.
func TestCloseLeavesUnfinishedMessagesPending(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	setup(t, st, `if (PAYLOAD.hang) { while (true) {} } return 1`)
	d := newDispatcher(t, st, nil)
	m := storagetest.NewMessage(t, time.Now(), "u")
	if err := d.Accept(context.Background(), m, []byte(`{"hang": true}`)); err != nil {
		t.Fatal(err)
	}
	// Wait until the script is running: the queue is drained.
	deadline := time.Now().Add(5 * time.Second)
	for d.QueueDepth() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	d.Close(ctx)
	if time.Since(start) > 5*time.Second {
		t.Fatal("Close did not interrupt the running script")
	}
	got, err := st.GetMessage(context.Background(), m.ID)
	if err != nil || got.Status != storage.StatusPending {
		t.Fatalf("after Close: %s %v, want PENDING", got.Status, err)
	}
	if err := d.Accept(context.Background(), storagetest.NewMessage(t, time.Now(), "u"), nil); err != functions.ErrStopping {
		t.Fatalf("Accept after Close: %v, want ErrStopping", err)
	}
}

func TestReloadSeesChanges(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	d := newDispatcher(t, st, nil)
	t.Cleanup(func() { d.Close(context.Background()) })
	m := storagetest.NewMessage(t, time.Now(), "u")
	o, _, err := d.AcceptAndProcess(context.Background(), m, nil)
	if err != nil || o.Status != storage.StatusUnmatched {
		t.Fatalf("no providers: %+v %v", o, err)
	}
	setup(t, st, "return 1")
	if err := d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	o, _, err = d.AcceptAndProcess(context.Background(), storagetest.NewMessage(t, time.Now(), "u"), nil)
	if err != nil || o.Status != storage.StatusSuccess || len(o.Executions) != 1 {
		t.Fatalf("after reload: %+v %v", o, err)
	}
}
