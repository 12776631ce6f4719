package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// TestPlainDeliveryCarriesIDAndTimestamp: an endpoint without a signing
// secret still gets webhook-id (the delivery's id, the same on the retry
// and on a replay) and webhook-timestamp (each attempt's Unix seconds),
// and no signature.
func TestPlainDeliveryCarriesIDAndTimestamp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Retry: storage.RetryPolicy{MaxAttempts: 3, IntervalMS: 100, Backoff: "fixed"}})
	e.publish(t, storage.Event{Type: "build.done"})
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliverySuccess || ds[0].AttemptCount != 2 {
		t.Fatalf("delivery: %+v, want SUCCESS at the second attempt", ds[0])
	}
	if _, err := e.eng.Replay(t.Context(), ds[0].ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return len(rc.requests()) == 3 }, "the replay")
	for i, r := range rc.requests() {
		if got := r.Header.Get("webhook-id"); got != ds[0].ID {
			t.Errorf("attempt %d: webhook-id %q, want the delivery's id %q", i+1, got, ds[0].ID)
		}
		ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		if err != nil || ts < r.At.Add(-time.Minute).Unix() || ts > r.At.Unix()+1 {
			t.Errorf("attempt %d: webhook-timestamp %q, want the attempt's Unix seconds (about %d)", i+1, r.Header.Get("webhook-timestamp"), r.At.Unix())
		}
		if s := r.Header.Get("webhook-signature"); s != "" {
			t.Errorf("attempt %d: an unsigned endpoint got webhook-signature %q", i+1, s)
		}
	}
}

// TestMessageSucceededOnlyToExactNames: message.succeeded reaches the
// endpoints that name it, in their language, and no wildcard endpoint;
// message.failed still reaches the wildcards.
func TestMessageSucceededOnlyToExactNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	exact := e.endpoint(t, storage.Endpoint{Name: "exact", URL: rc.URL + "/exact", EventTypes: []string{"message.succeeded"}})
	zh := e.endpoint(t, storage.Endpoint{Name: "zh", URL: rc.URL + "/zh", EventTypes: []string{"build.*", "message.succeeded"}, Language: "zh"})
	star := e.endpoint(t, storage.Endpoint{Name: "star", URL: rc.URL + "/star", EventTypes: []string{"*"}})
	prefix := e.endpoint(t, storage.Endpoint{Name: "prefix", URL: rc.URL + "/prefix", EventTypes: []string{"message.*", "*.succeeded"}})

	m := storage.Message{ID: "m-1", URI: "ci/build", Method: "POST", RemoteAddr: "203.0.113.7"}
	ok := storage.Outcome{Status: storage.StatusSuccess, ProviderID: "p1", ProviderName: "CI", Summary: "built 42", DurationMS: 12.5,
		Executions: []storage.Execution{
			{FunctionID: "f1", FunctionName: "build", Status: storage.StatusSuccess, DurationMS: 7},
			{FunctionID: "f2", FunctionName: "notify", Status: storage.StatusSuccess, DurationMS: 3},
		}}
	e.eng.Finished(t.Context(), m, ok) // Publish is durable before Finished returns
	// A handshake's SUCCESS ran no function: no event.
	e.eng.Finished(t.Context(), storage.Message{ID: "m-2", URI: "ci/build"}, storage.Outcome{Status: storage.StatusSuccess, ProviderID: "p1", ProviderName: "CI"})

	for _, ep := range []storage.Endpoint{star, prefix} {
		if ds := e.deliveries(t, ep.ID); len(ds) != 0 {
			t.Errorf("endpoint %s (%q) got %d deliveries of message.succeeded, want none", ep.Name, ep.EventTypes, len(ds))
		}
	}
	e.settled(t, exact.ID, 1)
	e.settled(t, zh.ID, 1)
	byPath := map[string]received{}
	for _, r := range rc.requests() {
		byPath[r.Path] = r
	}
	var body struct {
		Type, Title, Message string
		Data                 map[string]any
	}
	if err := json.Unmarshal(byPath["/exact"].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != notify.MessageSucceeded || body.Title != "Webhook processed" || body.Message != "A webhook to ci/build from CI was processed: built 42" {
		t.Errorf("en body: %s", byPath["/exact"].Body)
	}
	d := body.Data
	fns, _ := d["functions"].([]any)
	if d["message_id"] != "m-1" || d["uri"] != "ci/build" || d["method"] != "POST" || d["remote_addr"] != "203.0.113.7" ||
		d["status"] != storage.StatusSuccess || d["provider_id"] != "p1" || d["provider_name"] != "CI" || d["summary"] != "built 42" ||
		d["duration_ms"] != 12.5 || len(fns) != 2 {
		t.Errorf("data: %v", d)
	} else if f := fns[0].(map[string]any); f["function_id"] != "f1" || f["function_name"] != "build" || f["duration_ms"] != 7.0 {
		t.Errorf("data.functions[0]: %v", f)
	}
	if err := json.Unmarshal(byPath["/zh"].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Title != "Webhook 处理成功" || !strings.Contains(body.Message, "处理成功：built 42") {
		t.Errorf("zh body: %s", byPath["/zh"].Body)
	}

	// message.failed is not exact-only: the wildcards get it.
	e.eng.Finished(t.Context(), m, storage.Outcome{Status: storage.StatusFailed, ProviderName: "CI",
		Executions: []storage.Execution{{FunctionName: "build", Status: storage.StatusFailed, Error: "boom"}}})
	e.settled(t, star.ID, 1)
	e.settled(t, prefix.ID, 1)
	if ds := e.deliveries(t, exact.ID); len(ds) != 1 {
		t.Errorf("the exact endpoint has %d deliveries, want only its message.succeeded", len(ds))
	}
}

// TestMessageSucceededFollowsEndpointChanges: whether anyone names
// message.succeeded is kept with each endpoint snapshot: naming it,
// disabling, enabling and deleting the endpoint are seen at once.
func TestMessageSucceededFollowsEndpointChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	m := storage.Message{ID: "m", URI: "u"}
	o := storage.Outcome{Status: storage.StatusSuccess, Executions: []storage.Execution{{FunctionName: "f", Status: storage.StatusSuccess}}}
	events := func() int { // every delivery of every endpoint
		t.Helper()
		ds, _, err := e.store.ListDeliveries(t.Context(), storage.DeliveryFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}

	e.endpoint(t, storage.Endpoint{URL: rc.URL, EventTypes: []string{"*"}})
	e.eng.Finished(t.Context(), m, o)
	if n := events(); n != 0 {
		t.Fatalf("%d deliveries with only a wildcard endpoint, want none", n)
	}
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, EventTypes: []string{notify.MessageSucceeded}})
	e.eng.Finished(t.Context(), m, o)
	if n := events(); n != 1 {
		t.Fatalf("%d deliveries once an endpoint names message.succeeded, want 1", n)
	}
	off, on := false, true
	if _, err := e.eng.UpdateEndpoint(t.Context(), ep.ID, notify.EndpointChange{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	e.eng.Finished(t.Context(), m, o)
	if n := events(); n != 1 {
		t.Fatalf("%d deliveries after the endpoint was disabled, want still 1", n)
	}
	if _, err := e.eng.UpdateEndpoint(t.Context(), ep.ID, notify.EndpointChange{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	e.eng.Finished(t.Context(), m, o)
	if n := events(); n != 2 {
		t.Fatalf("%d deliveries after the endpoint was enabled again, want 2", n)
	}
	if err := e.eng.DeleteEndpoint(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	e.eng.Finished(t.Context(), m, o)
	if n := events(); n != 2 {
		t.Fatalf("%d deliveries after the endpoint was deleted, want still 2", n)
	}
}

// BenchmarkFinishedSuccessUnwanted is what a message that ends SUCCESS
// costs the outbound engine while 20 endpoints exist, subscribed to
// wildcards and other types, but none names message.succeeded (the
// dispatcher calls Finished for every message it records).
func BenchmarkFinishedSuccessUnwanted(b *testing.B) {
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(b.TempDir(), "switchyard.db"), sealer)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range 20 {
		ep := storage.Endpoint{Name: fmt.Sprintf("ep%d", i), URL: "https://example.com/hook",
			EventTypes: []string{"*", "message.*", fmt.Sprintf("alarm.%d.*", i)}}
		ep.Enabled = true
		if err := notify.Normalize(&ep); err != nil {
			b.Fatal(err)
		}
		if _, err := st.CreateEndpoint(b.Context(), ep); err != nil {
			b.Fatal(err)
		}
	}
	eng, err := notify.New(notify.Options{Store: st, Client: http.DefaultClient, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer eng.Close(context.Background())
	m := storage.Message{ID: "m", URI: "u"}
	o := storage.Outcome{Status: storage.StatusSuccess, Executions: []storage.Execution{{FunctionName: "f", Status: storage.StatusSuccess}}}
	b.ReportAllocs()
	for b.Loop() {
		eng.Finished(b.Context(), m, o)
	}
}
