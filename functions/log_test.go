package functions_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
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

// at returns the records of level as maps of their attributes.
func (h *logRecords) at(level slog.Level) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.recs {
		if r.Level != level {
			continue
		}
		m := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

// A function that throws is logged once, at warn, with the message's,
// the provider's and the function's ids, and the error's first line with
// the provider's secrets hidden as the recorded error has them.
func TestFailedFunctionIsLoggedOnceAtWarn(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	setup(t, st, `throw new Error("no such order 42\nsecond line")`)
	logs := &logRecords{}
	d := newDispatcher(t, st, func(o *functions.Options) { o.Logger = slog.New(logs) })
	t.Cleanup(func() { d.Close(context.Background()) })
	m := storagetest.NewMessage(t, time.Now(), "u")
	if err := d.Accept(context.Background(), m, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(logs.at(slog.LevelWarn)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no warn line for the failed function")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, err := st.GetMessage(context.Background(), m.ID)
	if err != nil || got.Status != storage.StatusFailed {
		t.Fatalf("message %+v %v", got.Status, err)
	}
	warns := logs.at(slog.LevelWarn)
	if len(warns) != 1 {
		t.Fatalf("%d warn lines, want 1: %v", len(warns), warns)
	}
	w := warns[0]
	ex := got.Executions[0]
	if w["message_id"] != m.ID || w["provider"] != got.ProviderID || w["function"] != ex.FunctionID || w["name"] != "f" {
		t.Fatalf("warn line %v; message %s provider %s function %s", w, m.ID, got.ProviderID, ex.FunctionID)
	}
	if !strings.Contains(w["err"], "no such order 42") || strings.Contains(w["err"], "second line") {
		t.Fatalf("err %q: want the error's first line", w["err"])
	}
}
