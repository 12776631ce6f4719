package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingSink records each request's path, headers and body, and answers
// 500 to the first `fail` requests, 200 after.
type recordingSink struct {
	*httptest.Server
	mu   sync.Mutex
	got  []sunk
	fail int
}

type sunk struct {
	path   string
	header http.Header
	body   map[string]any
	at     time.Time
}

func newRecordingSink(t *testing.T, fail int) *recordingSink {
	s := &recordingSink{fail: fail}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		s.mu.Lock()
		s.got = append(s.got, sunk{r.URL.Path, r.Header.Clone(), body, time.Now()})
		n := len(s.got)
		s.mu.Unlock()
		if n <= s.fail {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *recordingSink) requests(path string) []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunk
	for _, r := range s.got {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestUnsignedDeliveryHasIDAndTimestamp: through the API, an endpoint
// without a signing secret gets webhook-id (the delivery's id, the same
// when the receiver's 500 is retried) and webhook-timestamp.
func TestUnsignedDeliveryHasIDAndTimestamp(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newRecordingSink(t, 1)
	e := in.endpoint(map[string]any{"name": "plain", "url": s.URL + "/plain", "event_types": []string{"build.*"},
		"retry": map[string]any{"max_attempts": 3, "interval_ms": 100, "backoff": "fixed"}})
	in.api("POST", "/events", map[string]any{"type": "build.done", "title": "Build done"}, http.StatusAccepted, nil)
	ds := in.settled(e.ID, 1)
	if ds[0].Status != "SUCCESS" || ds[0].AttemptCount != 2 {
		t.Fatalf("delivery: %+v, want SUCCESS at the second attempt", ds[0])
	}
	got := s.requests("/plain")
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	for i, r := range got {
		if id := r.header.Get("webhook-id"); id != ds[0].ID {
			t.Errorf("attempt %d: webhook-id %q, want the delivery's id %q", i+1, id, ds[0].ID)
		}
		ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
		if err != nil || ts < r.at.Add(-time.Minute).Unix() || ts > r.at.Unix()+1 {
			t.Errorf("attempt %d: webhook-timestamp %q, want the attempt's Unix seconds", i+1, r.header.Get("webhook-timestamp"))
		}
		if r.header.Get("webhook-signature") != "" {
			t.Errorf("attempt %d: unsigned endpoint got a signature", i+1)
		}
	}
}

// TestSystemEventsOnSuccessAndTimeout: a task system's "on success" and
// "on failure" callbacks. message.succeeded reaches only the endpoint
// that names it (not "*"); a function that runs until its timeout
// publishes message.failed like one that throws.
func TestSystemEventsOnSuccessAndTimeout(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newRecordingSink(t, 0)
	onSuccess := in.endpoint(map[string]any{"name": "on success", "url": s.URL + "/success", "event_types": []string{"message.succeeded"}})
	onFailure := in.endpoint(map[string]any{"name": "on failure", "url": s.URL + "/failure", "event_types": []string{"message.failed"}})
	everything := in.endpoint(map[string]any{"name": "everything", "url": s.URL + "/all", "event_types": []string{"*"}})
	p := in.provider("CI", `return true`)
	in.function(p.ID, "build", "ci/build", `LOG.setMessage("built " + PAYLOAD.n)`)
	in.function(p.ID, "spin", "ci/spin", `for (;;) {}`, map[string]any{"timeout_ms": 200})

	code, ok := in.send("ci/build", []byte(`{"n": 42}`), true, nil)
	if code != http.StatusOK || ok.Status != "SUCCESS" {
		t.Fatalf("build webhook: %d %+v", code, ok)
	}
	code, spun := in.send("ci/spin", []byte(`{}`), true, nil)
	if code != http.StatusInternalServerError || spun.Status != "FAILED" || len(spun.Functions) != 1 || !strings.Contains(spun.Functions[0].Error, "timed out") {
		t.Fatalf("spinning webhook: %d %+v, want 500, FAILED, timed out", code, spun)
	}

	// The synchronous path records (and publishes) before it answers, so
	// every delivery exists by now.
	in.settled(onSuccess.ID, 1)
	in.settled(onFailure.ID, 1)
	if ds := in.settled(everything.ID, 1); ds[0].Status != "SUCCESS" {
		t.Fatalf("everything's delivery: %+v", ds[0])
	}
	if r := s.requests("/all"); len(r) != 1 || r[0].body["type"] != "message.failed" {
		t.Fatalf("the * endpoint got %+v, want only message.failed", r)
	}

	succ := s.requests("/success")[0]
	d, _ := succ.body["data"].(map[string]any)
	fns, _ := d["functions"].([]any)
	if succ.body["type"] != "message.succeeded" || succ.body["title"] != "Webhook processed" || succ.header.Get("X-Switchyard-Event") != "message.succeeded" ||
		d["message_id"] != ok.ID || d["uri"] != "ci/build" || d["provider_name"] != "CI" || d["status"] != "SUCCESS" || d["summary"] != "built 42" || len(fns) != 1 {
		t.Fatalf("message.succeeded: %v", succ.body)
	}
	if f, _ := fns[0].(map[string]any); f["function_name"] != "build" || f["function_id"] == "" {
		t.Fatalf("data.functions: %v", fns)
	}

	fail := s.requests("/failure")[0]
	d, _ = fail.body["data"].(map[string]any)
	errText, _ := d["error"].(string)
	if fail.body["type"] != "message.failed" || d["message_id"] != spun.ID || errText != "spin: script timed out after 200ms" {
		t.Fatalf("message.failed of a timeout: %v", fail.body)
	}
}
