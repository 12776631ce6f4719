package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// rawSink is a receiver that keeps each body's bytes as they arrived, so
// a test sees numbers as written, not as a float64 decoder reads them.
func rawSink(t *testing.T) (*httptest.Server, <-chan string) {
	got := make(chan string, 16)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	t.Cleanup(s.Close)
	return s, got
}

// An integer past 2^53 in event data keeps every digit: in the default
// body, in a template, in a filter's comparison and in the idempotency
// hash (a repeat with a neighbouring number is another request, not a
// replay of the first).
func TestEventNumbersKeepEveryDigit(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s, got := rawSink(t)
	in.endpoint(map[string]any{"name": "plain", "url": s.URL + "/plain", "event_types": []string{"order.*"},
		"filter": map[string]any{"data.id": map[string]any{"$gt": 1e19}}})
	in.endpoint(map[string]any{"name": "templated", "url": s.URL + "/templated", "event_types": []string{"order.*"},
		"filter":        map[string]any{"data.id": map[string]any{"$gt": 1e19}},
		"body_template": `{"order": {{data.id}}, "text": "order {{data.id}}"}`})

	const big = `{"type": "order.paid", "data": {"id": 12345678901234567890}}`
	code, body, h, err := publishKeyed(in.url, "order-1", []byte(big))
	if err != nil || code != http.StatusAccepted || !strings.Contains(string(body), `"id":12345678901234567890`) ||
		!strings.Contains(string(body), `"deliveries":2`) || h.Get("Idempotent-Replayed") != "" {
		t.Fatalf("publish: %d %s %v", code, body, err)
	}
	var bodies []string
	for range 2 {
		bodies = append(bodies, <-got)
	}
	all := strings.Join(bodies, "\n")
	for _, want := range []string{`"id":12345678901234567890`, `"order": 12345678901234567890`, `"text": "order 12345678901234567890"`} {
		if !strings.Contains(all, want) {
			t.Fatalf("received %s, want %s in it", all, want)
		}
	}

	// The filter compares numerically: 9e18 is not over 1e19.
	code, body, _, err = publishKeyed(in.url, "", []byte(`{"type": "order.paid", "data": {"id": 9000000000000000001}}`))
	if err != nil || code != http.StatusAccepted || !strings.Contains(string(body), `"deliveries":0`) {
		t.Fatalf("publish under the filter: %d %s %v", code, body, err)
	}

	// The same body again is a replay; a neighbouring number (the same
	// float64) is another request under the same key.
	code, body, h, err = publishKeyed(in.url, "order-1", []byte(big))
	if err != nil || code != http.StatusAccepted || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat: %d %s %v", code, body, err)
	}
	code, body, _, err = publishKeyed(in.url, "order-1", []byte(`{"type": "order.paid", "data": {"id": 12345678901234567891}}`))
	if err != nil || code != http.StatusConflict {
		t.Fatalf("repeat with another number: %d %s %v, want 409", code, body, err)
	}

	// Another way to write the same number is the same request.
	for _, raw := range []string{`{"type": "order.paid", "data": {"n": 1.50, "id": 7}}`, `{"type": "order.paid", "data": {"id": 7, "n": 15e-1}}`} {
		code, body, h, err = publishKeyed(in.url, "order-2", []byte(raw))
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("publish %s: %d %s %v", raw, code, body, err)
		}
	}
	if h.Get("Idempotent-Replayed") != "true" {
		t.Fatal("1.50 and 15e-1 are not the same request")
	}

	// What is delivered can be read back from the store with every digit.
	ds := in.deliveries("")
	if len(ds) == 0 {
		t.Fatal("no deliveries listed")
	}
	raw := in.api("GET", "/deliveries/"+ds[0].ID, nil, http.StatusOK, nil)
	if !strings.Contains(string(raw), `"id":12345678901234567890`) {
		t.Fatalf("GET /deliveries/{id}: %s, want the event's data with every digit", raw)
	}
}

// A number past float64's range, or data that is not an object, is
// refused with where it is.
func TestEventDataErrorsNameThePath(t *testing.T) {
	t.Parallel()
	in := start(t)
	for raw, want := range map[string]string{
		`{"type": "a.b", "data": {"x": 1e400}}`:                                    "data.x: number 1e400 is out of range",
		`{"type": "a.b", "data": {"list": [1, {"y": -2e999}]}}`:                    "data.list.1.y: number -2e999 is out of range",
		`{"type": "a.b", "data": {"n": 1.` + strings.Repeat("3", 200) + `7}}`:      "data.n: a number of at most 100 characters, got 203",
		`{"type": "a.b", "data": {"list": [1, ` + strings.Repeat("9", 101) + `]}}`: "data.list.1: a number of at most 100 characters, got 101",
		`{"type": "a.b", "data": [1]}`:                                             "data must be an object, got an array",
		`{"type": "a.b", "data": {"x": 1}, "id": ""}`:                              "id must not be empty",
	} {
		code, body, _, err := publishKeyed(in.url, "", []byte(raw))
		if err != nil || code != http.StatusBadRequest || !strings.Contains(string(body), want) {
			t.Errorf("publish %s: %d %s %v, want 400 with %q", raw, code, body, err, want)
		}
	}
}
