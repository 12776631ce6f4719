package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// publishKeyed posts raw to POST /events with an Idempotency-Key header
// (none when key is ""). Safe to call from any goroutine.
func publishKeyed(url, key string, raw []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequest("POST", url+"/api/v1/events", bytes.NewReader(raw))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

type published struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Time       string `json:"time"`
	Title      string `json:"title"`
	Deliveries int    `json:"deliveries"`
}

func TestIdempotentPublish(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "ops", "url": s.URL + "/in", "event_types": []string{"alarm.*"}})

	send := func(key, raw string, want int) (published, http.Header, []byte) {
		t.Helper()
		code, body, h, err := publishKeyed(in.url, key, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Fatalf("publish %s (key %q): status %d, want %d: %s", raw, key, code, want, body)
		}
		var p published
		if code == http.StatusAccepted {
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("answer %s: %v", body, err)
			}
		}
		return p, h, body
	}

	const event = `{"type": "alarm.disk_full", "title": "Disk full", "data": {"host": "db-1", "pct": 99}}`
	first, h, firstBody := send("order-42", event, http.StatusAccepted)
	if first.ID == "" || first.Deliveries != 1 || h.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first publish: %+v, replayed %q", first, h.Get("Idempotent-Replayed"))
	}

	// The same request again: by header, laid out otherwise, and by the
	// body's id, with or without the header beside it.
	for name, c := range map[string]struct{ key, raw string }{
		"header":        {"order-42", event},
		"layout":        {"order-42", `{"data":{"pct":99,"host":"db-1"},"title":"Disk full","type":"alarm.disk_full"}`},
		"body id":       {"", `{"id": "order-42", "type": "alarm.disk_full", "title": "Disk full", "data": {"host": "db-1", "pct": 99}}`},
		"header and id": {"order-42", `{"id": "order-42", "type": "alarm.disk_full", "title": "Disk full", "data": {"host": "db-1", "pct": 99}}`},
	} {
		p, h, body := send(c.key, c.raw, http.StatusAccepted)
		if h.Get("Idempotent-Replayed") != "true" || p != first || !bytes.Equal(body, firstBody) {
			t.Errorf("%s: answer %s (replayed %q), want the first %s", name, body, h.Get("Idempotent-Replayed"), firstBody)
		}
	}

	// Another request with the key: refused, whatever form the key takes.
	for _, c := range []struct{ key, raw string }{
		{"order-42", `{"type": "alarm.disk_full", "title": "Disk FULL", "data": {"host": "db-1", "pct": 99}}`},
		{"", `{"id": "order-42", "type": "alarm.cpu", "title": "CPU"}`},
	} {
		if _, _, body := send(c.key, c.raw, http.StatusConflict); !strings.Contains(string(body), "another request") {
			t.Errorf("conflict answer: %s", body)
		}
	}

	// Bad keys.
	for name, c := range map[string]struct{ key, raw string }{
		"header and id differ": {"order-42", `{"id": "order-43", "type": "alarm.x"}`},
		"too long":             {strings.Repeat("k", 256), `{"type": "alarm.x"}`},
		"not printable":        {"", `{"id": "a\tb", "type": "alarm.x"}`},
		"not ascii":            {"", `{"id": "clé", "type": "alarm.x"}`},
	} {
		if _, _, body := send(c.key, c.raw, http.StatusBadRequest); len(body) == 0 {
			t.Errorf("%s: empty answer", name)
		}
	}
	send(strings.Repeat("k", 255), `{"type": "nothing.wants.this"}`, http.StatusAccepted)

	// Nothing more was delivered: one delivery, one request received.
	ds := in.settled(e.ID, 1)
	if ds[0].EventID != first.ID {
		t.Fatalf("delivery of event %s, want %s", ds[0].EventID, first.ID)
	}
	if bodies, _ := s.received(); len(bodies) != 1 {
		t.Fatalf("the receiver got %d requests, want 1", len(bodies))
	}

	// An event no endpoint wants is answered again all the same.
	none, _, _ := send("quiet-1", `{"type": "nobody.listens"}`, http.StatusAccepted)
	again, h, _ := send("quiet-1", `{"type": "nobody.listens"}`, http.StatusAccepted)
	if none.Deliveries != 0 || again != none || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("unwanted event: first %+v, repeat %+v", none, again)
	}
}

// Identical publishes at once make one event and one delivery; every
// answer names that event and all but one say they are replays.
func TestIdempotentPublishRace(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "ops", "url": s.URL + "/in", "event_types": []string{"alarm.*"}})
	raceKeyed(t, []*instance{in}, s, e.ID)
}

// The same on two nodes sharing a PostgreSQL store.
func TestIdempotentPublishRaceAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	a := start(t, pg, allowPrivate)
	b := start(t, pg, allowPrivate)
	s := newSink(t)
	e := a.endpoint(map[string]any{"name": "ops", "url": s.URL + "/in", "event_types": []string{"alarm.*"}})
	var warmups int
	within(t, 5*time.Second, "B sees the endpoint created on A", func() bool {
		var pub published
		b.api("POST", "/events", map[string]any{"type": "alarm.warmup"}, http.StatusAccepted, &pub)
		warmups += pub.Deliveries
		return pub.Deliveries == 1
	})
	raceKeyed(t, []*instance{a, b}, s, e.ID)
	a.settled(e.ID, warmups+1)
}

// raceKeyed sends 8 identical keyed publishes at once, spread over nodes,
// to endpoint endpointID that sink serves.
func raceKeyed(t *testing.T, nodes []*instance, s *sink, endpointID string) {
	t.Helper()
	const n = 8
	type answer struct {
		code     int
		body     []byte
		replayed bool
		err      error
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a := &answers[i]
			var h http.Header
			a.code, a.body, h, a.err = publishKeyed(nodes[i%len(nodes)].url, "race-1", []byte(`{"type": "alarm.race", "title": "once"}`))
			if h != nil {
				a.replayed = h.Get("Idempotent-Replayed") == "true"
			}
		}()
	}
	close(start)
	wg.Wait()
	var firsts int
	ids := map[string]bool{}
	for i, a := range answers {
		if a.err != nil || a.code != http.StatusAccepted {
			t.Fatalf("publish %d: %d %s %v", i, a.code, a.body, a.err)
		}
		var p published
		if err := json.Unmarshal(a.body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Deliveries != 1 {
			t.Fatalf("publish %d: %s, want 1 delivery", i, a.body)
		}
		ids[p.ID] = true
		if !a.replayed {
			firsts++
		}
	}
	if firsts != 1 || len(ids) != 1 {
		t.Fatalf("%d first answers and %d event ids, want 1 and 1: %s", firsts, len(ids), fmt.Sprint(ids))
	}
	var raced []delivery
	eventually(t, "the raced event's delivery", func() bool {
		for id := range ids {
			raced = nodes[0].deliveries("event_id=" + id)
		}
		return len(raced) == 1 && raced[0].Status == "SUCCESS"
	})
	if raced[0].EndpointID != endpointID {
		t.Fatalf("delivery %+v, want to endpoint %s", raced[0], endpointID)
	}
	bodies, _ := s.received()
	got := 0
	for _, b := range bodies {
		if b["type"] == "alarm.race" {
			got++
		}
	}
	if got != 1 {
		t.Fatalf("the receiver got the raced event %d times, want 1", got)
	}
}

// Past its window a key is forgotten: a publish with it, even of
// another request, makes a new event. (The window here is 1 ns, so any
// repeat comes after it.)
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate, func(o *server.Options) { o.IdempotencyWindow = time.Nanosecond })
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "ops", "url": s.URL + "/in", "event_types": []string{"alarm.*"}})
	var ids []string
	for _, raw := range []string{`{"type": "alarm.a"}`, `{"type": "alarm.a"}`, `{"type": "alarm.b"}`} {
		code, body, h, err := publishKeyed(in.url, "short-lived", []byte(raw))
		if err != nil || code != http.StatusAccepted || h.Get("Idempotent-Replayed") != "" {
			t.Fatalf("publish %s: %d %s %v (replayed %q)", raw, code, body, err, h.Get("Idempotent-Replayed"))
		}
		var p published
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Fatalf("event ids %v, want three events", ids)
	}
	in.settled(e.ID, 3)
}
