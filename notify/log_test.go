package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// logRecords is a slog handler that keeps every record.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

// with returns the records of level and message, as maps of their
// attributes.
func (h *logRecords) with(level slog.Level, msg string) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.recs {
		if r.Level != level || r.Message != msg {
			continue
		}
		m := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

// A delivery that fails for good is logged once at warn with its ids;
// its attempts before are logged at debug only. The endpoint the health
// rules then disable is logged once at warn, with its id and the reason.
func TestFailuresAreLoggedOnceAtWarn(t *testing.T) {
	t.Parallel()
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "switchyard.db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eg, err := egress.New(egress.Options{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecords{}
	eng, err := notify.New(notify.Options{Store: st, Client: eg.HTTPClient(), PollInterval: 20 * time.Millisecond, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eng.Close(ctx)
		eg.CloseIdleConnections()
	})
	e := &env{store: st, eng: eng}
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	ep := e.endpoint(t, storage.Endpoint{Name: "billing", URL: rc.URL,
		Retry:       storage.RetryPolicy{MaxAttempts: 3, IntervalMS: 100, Backoff: "fixed"},
		AutoDisable: storage.AutoDisable{ConsecutiveFailures: 1}})
	e.publish(t, storage.Event{Type: "order.paid"})
	ds := e.settled(t, ep.ID, 1)
	const disabled = "outbound endpoint disabled"
	eventually(t, func() bool { return len(logs.with(slog.LevelWarn, disabled)) > 0 }, "the endpoint disabled to be logged")

	failed := logs.with(slog.LevelWarn, "a delivery failed for good")
	if len(failed) != 1 {
		t.Fatalf("%d warn lines for the failed delivery, want 1: %v", len(failed), failed)
	}
	f := failed[0]
	if f["delivery"] != ds[0].ID || f["endpoint"] != ep.ID || f["name"] != "billing" || f["type"] != "order.paid" || f["status"] != "500" || f["err"] != "answered 500" {
		t.Fatalf("failed delivery line %v (delivery %s, endpoint %s)", f, ds[0].ID, ep.ID)
	}
	if retries := logs.with(slog.LevelDebug, "a delivery attempt failed; it will be retried"); len(retries) != 2 {
		t.Fatalf("%d debug lines for the retried attempts, want 2: %v", len(retries), retries)
	}
	off := logs.with(slog.LevelWarn, disabled)
	if len(off) != 1 || off[0]["endpoint"] != ep.ID || off[0]["name"] != "billing" || off[0]["reason"] == "" {
		t.Fatalf("disabled lines %v", off)
	}
}
