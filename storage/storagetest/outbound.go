package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// Notify is the part of the store behind outbound delivery: what the
// outbound engine uses (notify.Store, endpoint edits and claims
// included), what the server alone uses (the purge of old deliveries and
// events), and the due index as storage.Store reads it.
type Notify interface {
	notify.Store
	PurgeDeliveries(ctx context.Context, cutoff time.Time, limit int) (int, error)
	DueDeliveries(ctx context.Context, now time.Time, take func(lane string) int, skip func(id string) bool) ([]storage.Delivery, error)
	CountPendingDeliveries(ctx context.Context, limit int) (int, error)
	PurgeIdempotency(ctx context.Context, now time.Time, limit int) (int, error)
}

// RunNotify runs the tests of endpoints, events, deliveries and settings
// against the backend that open returns.
func RunNotify(t *testing.T, open func(t *testing.T) Notify) {
	run(t, open, []test[Notify]{
		{"EndpointCRUD", testEndpointCRUD},
		{"EventTypes", testEventTypes},
		{"AppendEvent", testAppendEvent},
		{"DueDeliveries", testDueDeliveries},
		{"CountPendingDeliveries", testCountPendingDeliveries},
		{"RecordAttempt", testRecordAttempt},
		{"Replay", testReplay},
		{"ListDeliveries", testListDeliveries},
		{"PurgeDeliveries", testPurgeDeliveries},
		{"Settings", testSettings},
		{"ConcurrentAttempts", testConcurrentAttempts},
	})
}

// NewID returns a fresh UUIDv7 whose time is at's millisecond.
func NewID(t testing.TB, at time.Time) string {
	u, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	ms := uint64(at.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u.String()
}

// newDelivery returns a PENDING delivery created at `at`, in lane (the
// endpoint's id when lane is "").
func newDelivery(t testing.TB, at time.Time, endpointID, lane string) storage.Delivery {
	if lane == "" {
		lane = endpointID
	}
	return storage.Delivery{
		ID: NewID(t, at), EventType: "build.done", EndpointID: endpointID, Lane: lane,
		Status: storage.DeliveryPending, CreatedAt: at.UTC(), UpdatedAt: at.UTC(),
	}
}

// dueAt sets d's NextAt.
func dueAt(d storage.Delivery, at time.Time) storage.Delivery {
	d.NextAt = &at
	return d
}

// publish appends an event created at `at` with ds and returns it.
func publish(t *testing.T, s Notify, at time.Time, ds ...storage.Delivery) storage.Event {
	ev := storage.Event{ID: NewID(t, at), Type: "build.done", Time: at.UTC(), Title: "Build 7",
		Data: map[string]any{"n": 7.0, "big": json.Number("12345678901234567890")}, Source: "api"}
	for i := range ds {
		ds[i].EventID = ev.ID
	}
	check(s.AppendEvent(ctx(t), must(storage.EncodeEvent(ev)), ds))
	return ev
}

// finish records one attempt that moves d to status.
func finish(t *testing.T, s Notify, id, status string, at time.Time) storage.Delivery {
	return must(s.RecordAttempt(ctx(t), id, storage.Attempt{At: at, Status: 500}, storage.DeliveryUpdate{Status: status}))
}

func ids(ds []storage.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func sameIDs(got []storage.Delivery, want ...string) bool {
	return fmt.Sprint(ids(got)) == fmt.Sprint(want)
}

func fullEndpoint() storage.Endpoint {
	return storage.Endpoint{
		Name: "CI", Description: "builds", URL: "https://ci.example.com/hook", Method: "POST",
		EndpointHealth: storage.EndpointHealth{Enabled: true},
		EventTypes:     []string{"build.*"},
		Filter:         map[string]any{"data.branch": map[string]any{"$in": []any{"main", "release"}}, "data.attempt": map[string]any{"$gte": 2.0}},
		Headers:        map[string]string{"X-Env": "{{ .env }}"},
		Cookies:        map[string]string{"c": "1"},
		Auth:           storage.Auth{Type: "basic", Username: "bot", Password: "p4ssw0rd-plain", Token: "t0ken-plain"},
		Proxy:          "http://squid@proxy.example.com:3128", ProxyPassword: "proxy-pass-plain",
		TLS:          storage.TLS{CAPEM: "ca-pem", ClientCertPEM: "cert-pem", ClientKeyPEM: "key-pem-plain", ServerName: "ci.internal"},
		BodyTemplate: "{{ json . }}", BodyTemplates: map[string]string{"zh": `{"text": {{ json .title }}}`}, MsgKey: "text", ExtraBody: map[string]any{"channel": "#ci"},
		TimeoutMS: 5000, Retry: storage.RetryPolicy{MaxAttempts: 5, IntervalMS: 1000, Backoff: "exponential"},
		Verify: storage.Verify{Type: "status", Value: "200"}, Language: "en",
		Concurrency: 4, RateLimit: 2.5, AutoDisable: storage.AutoDisable{FailingForHours: 24, ConsecutiveFailures: 10},
		SigningSecret:   "whsec_current-plain",
		PreviousSecrets: []storage.OldSecret{{Secret: "whsec_old-plain", Expires: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)}},
	}
}

func testEndpointCRUD(t *testing.T, s Notify) {
	e := must(s.CreateEndpoint(ctx(t), fullEndpoint()))
	if u, err := uuid.Parse(e.ID); err != nil || u.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7", e.ID)
	}
	if e.CreatedAt.IsZero() || !e.UpdatedAt.Equal(e.CreatedAt) {
		t.Fatalf("created times: %v %v", e.CreatedAt, e.UpdatedAt)
	}
	got := must(s.GetEndpoint(ctx(t), e.ID))
	want := fullEndpoint()
	if got.Name != want.Name || got.URL != want.URL || got.Headers["X-Env"] != "{{ .env }}" || got.ExtraBody["channel"] != "#ci" ||
		got.Retry != want.Retry || got.Verify != want.Verify || got.AutoDisable != want.AutoDisable || got.RateLimit != 2.5 ||
		!got.Enabled || len(got.EventTypes) != 1 || !got.CreatedAt.Equal(e.CreatedAt) {
		t.Fatalf("get: %+v", got)
	}
	if !reflect.DeepEqual(got.Filter, want.Filter) {
		t.Fatalf("filter: got %#v, want %#v", got.Filter, want.Filter)
	}
	if !reflect.DeepEqual(got.BodyTemplates, want.BodyTemplates) {
		t.Fatalf("body_templates: got %#v, want %#v", got.BodyTemplates, want.BodyTemplates)
	}
	if !reflect.DeepEqual(got.Auth, want.Auth) || got.SigningSecret != want.SigningSecret ||
		got.Proxy != want.Proxy || got.ProxyPassword != want.ProxyPassword || got.TLS != want.TLS {
		t.Fatalf("secrets not returned opened: %+v %q", got.Auth, got.SigningSecret)
	}
	if len(got.PreviousSecrets) != 1 || got.PreviousSecrets[0].Secret != "whsec_old-plain" || !got.PreviousSecrets[0].Expires.Equal(want.PreviousSecrets[0].Expires) {
		t.Fatalf("previous secrets: %+v", got.PreviousSecrets)
	}

	second := must(s.CreateEndpoint(ctx(t), storage.Endpoint{Name: "second", URL: "https://b.example.com"}))
	list := must(s.ListEndpoints(ctx(t)))
	if len(list) != 2 || list[0].ID != e.ID || list[1].ID != second.ID || list[0].Auth.Password != want.Auth.Password {
		t.Fatalf("list, oldest first: %+v", list)
	}
	if list[1].SigningSecret != "" || list[1].PreviousSecrets != nil || list[1].Auth.Token != "" {
		t.Fatalf("endpoint without secrets came back with some: %+v", list[1])
	}

	// An update replaces everything but ID, CreatedAt and the health,
	// secrets included.
	upd := storage.Endpoint{
		ID: e.ID, Name: "CI2", URL: "https://ci2.example.com", Method: "PUT",
		Auth: storage.Auth{Type: "oauth2", TokenURL: "https://auth.example.com/token", ClientID: "switchyard",
			ClientSecret: "client-secret-plain", Scopes: []string{"hooks.write", "hooks.read"}},
		SigningSecret: "whsec_new", CreatedAt: time.Unix(1, 0),
	}
	res := must(s.UpdateEndpoint(ctx(t), upd))
	if res.ID != e.ID || !res.CreatedAt.Equal(e.CreatedAt) || res.UpdatedAt.Before(e.UpdatedAt) {
		t.Fatalf("update result: %+v", res)
	}
	got = must(s.GetEndpoint(ctx(t), e.ID))
	if got.Name != "CI2" || got.Method != "PUT" || got.Headers != nil || got.ExtraBody != nil || got.Filter != nil || got.BodyTemplates != nil || got.Retry.MaxAttempts != 0 || !got.Enabled ||
		!got.CreatedAt.Equal(e.CreatedAt) || !got.UpdatedAt.Equal(res.UpdatedAt) {
		t.Fatalf("after update: %+v", got)
	}
	if !reflect.DeepEqual(got.Auth, upd.Auth) || got.SigningSecret != "whsec_new" || len(got.PreviousSecrets) != 0 ||
		got.Proxy != "" || got.ProxyPassword != "" || got.TLS != (storage.TLS{}) {
		t.Fatalf("secrets after update: %+v %q %+v", got.Auth, got.SigningSecret, got.PreviousSecrets)
	}

	// Health changes touch nothing else.
	since := time.Now().Add(-time.Hour).UTC()
	h := storage.EndpointHealth{Enabled: false, DisabledReason: "failing for 24h", FailingSince: &since, ConsecutiveFailures: 3}
	hres := must(s.SetEndpointHealth(ctx(t), e.ID, h))
	for name, ep := range map[string]storage.Endpoint{"result": hres, "get": must(s.GetEndpoint(ctx(t), e.ID))} {
		if ep.Enabled || ep.DisabledReason != h.DisabledReason || ep.FailingSince == nil || !ep.FailingSince.Equal(since) || ep.ConsecutiveFailures != 3 {
			t.Fatalf("%s: health not recorded: %+v", name, ep.EndpointHealth)
		}
		if ep.Name != "CI2" || ep.URL != upd.URL || ep.Auth.ClientSecret != "client-secret-plain" || ep.SigningSecret != "whsec_new" || !ep.UpdatedAt.Equal(res.UpdatedAt) {
			t.Fatalf("%s: health change touched the configuration: %+v", name, ep)
		}
	}
	// An edit made from a stale read does not undo the health.
	stale := upd
	stale.Name, stale.EndpointHealth = "CI3", storage.EndpointHealth{Enabled: true}
	if ep := must(s.UpdateEndpoint(ctx(t), stale)); ep.Enabled || ep.ConsecutiveFailures != 3 || ep.Name != "CI3" {
		t.Fatalf("an update changed the health: %+v", ep)
	}
	if ep := must(s.GetEndpoint(ctx(t), e.ID)); ep.Enabled || ep.DisabledReason != h.DisabledReason || ep.Name != "CI3" {
		t.Fatalf("after a stale update: %+v", ep)
	}
	h = storage.EndpointHealth{Enabled: true}
	if ep := must(s.SetEndpointHealth(ctx(t), e.ID, h)); !ep.Enabled || ep.FailingSince != nil || ep.DisabledReason != "" || ep.ConsecutiveFailures != 0 {
		t.Fatalf("health not replaced: %+v", ep.EndpointHealth)
	}

	check(s.DeleteEndpoint(ctx(t), e.ID))
	for name, fn := range map[string]func() error{
		"get":           func() error { _, err := s.GetEndpoint(ctx(t), e.ID); return err },
		"second delete": func() error { return s.DeleteEndpoint(ctx(t), e.ID) },
		"update":        func() error { _, err := s.UpdateEndpoint(ctx(t), upd); return err },
		"health":        func() error { _, err := s.SetEndpointHealth(ctx(t), e.ID, h); return err },
		"malformed id":  func() error { _, err := s.GetEndpoint(ctx(t), "../etc"); return err },
	} {
		if err := fn(); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s after delete: want ErrNotFound, got %v", name, err)
		}
	}
	if list := must(s.ListEndpoints(ctx(t))); len(list) != 1 || list[0].ID != second.ID {
		t.Fatalf("list after delete: %+v", list)
	}
}

func testAppendEvent(t *testing.T, s Notify) {
	now := time.Now().UTC()
	ep := uuid.NewString()
	d1 := newDelivery(t, now, ep, "")
	d2 := newDelivery(t, now, "", "callback:hooks.example.com")
	d2.Callback = &storage.Callback{
		URL: "https://hooks.example.com/x", Method: "POST", Headers: map[string]string{"h": "v"}, TimeoutMS: 1000, Body: "{}",
		Auth: storage.Auth{Type: "basic", Username: "u", Password: "cb-password-plain", Token: "cb-token-plain"},
	}
	later := now.Add(time.Minute)
	d2.NextAt = &later
	ev := publish(t, s, now, d1, d2)

	got := must(s.GetEvent(ctx(t), ev.ID))
	if got.ID != ev.ID || got.Type != "build.done" || !got.Time.Equal(ev.Time) || got.Title != "Build 7" || got.Data["n"] != json.Number("7") || got.Source != "api" ||
		got.Data["big"] != json.Number("12345678901234567890") { // every digit, past 2^53
		t.Fatalf("event: %+v", got)
	}
	if data, err := storage.DecodeData(got.DataJSON); err != nil || !reflect.DeepEqual(data, got.Data) {
		t.Fatalf("event data as stored: %s (%v), want the data of %v", got.DataJSON, err, got.Data)
	}
	g1 := must(s.GetDelivery(ctx(t), d1.ID))
	if g1.EventID != ev.ID || g1.EndpointID != ep || g1.Lane != ep || g1.Status != storage.DeliveryPending || g1.AttemptCount != 0 ||
		g1.NextAt == nil || !g1.NextAt.Equal(d1.CreatedAt) || !g1.CreatedAt.Equal(d1.CreatedAt) || len(g1.Attempts) != 0 {
		t.Fatalf("delivery without NextAt must be due at its creation: %+v", g1)
	}
	g2 := must(s.GetDelivery(ctx(t), d2.ID))
	if g2.Callback == nil || !reflect.DeepEqual(g2.Callback.Auth, d2.Callback.Auth) || g2.Callback.URL != d2.Callback.URL || g2.Callback.Headers["h"] != "v" ||
		g2.Callback.Body != "{}" || g2.NextAt == nil || !g2.NextAt.Equal(later) || g2.EndpointID != "" {
		t.Fatalf("callback delivery: %+v %+v", g2, g2.Callback)
	}

	// Bad deliveries are refused and nothing of the event is written.
	for name, mod := range map[string]func(*storage.Delivery){
		"no lane":  func(d *storage.Delivery) { d.Lane = "" },
		"nul lane": func(d *storage.Delivery) { d.Lane = "a\x00b" },
	} {
		good := newDelivery(t, now, ep, "")
		bad := newDelivery(t, now, ep, "")
		mod(&bad)
		ev := storage.Event{ID: NewID(t, now), Type: "x", Time: now}
		if err := s.AppendEvent(ctx(t), storage.EncodedEvent{Event: ev}, []storage.Delivery{good, bad}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
		if _, err := s.GetEvent(ctx(t), ev.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: event written anyway: %v", name, err)
		}
		if _, err := s.GetDelivery(ctx(t), good.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: delivery written anyway: %v", name, err)
		}
	}
	if err := s.AppendEvent(ctx(t), storage.EncodedEvent{Event: storage.Event{ID: "not-an-id"}}, nil); err == nil {
		t.Error("event with a malformed id accepted")
	}
	for name, fn := range map[string]func() error{
		"event":        func() error { _, err := s.GetEvent(ctx(t), uuid.NewString()); return err },
		"delivery":     func() error { _, err := s.GetDelivery(ctx(t), uuid.NewString()); return err },
		"malformed id": func() error { _, err := s.GetDelivery(ctx(t), "nope"); return err },
	} {
		if err := fn(); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: want ErrNotFound, got %v", name, err)
		}
	}
}

func testDueDeliveries(t *testing.T, s Notify) {
	now := time.Now().UTC()
	at := func(d time.Duration) time.Time { return now.Add(d) }
	// "a" < "ab" < "b" < "c": a lane that prefixes another stays apart.
	a1 := dueAt(newDelivery(t, at(-3*time.Second), "", "a"), at(-3*time.Second))
	a2 := dueAt(newDelivery(t, at(-2*time.Second), "", "a"), at(-time.Second)) // created before a3, due after it
	a3 := dueAt(newDelivery(t, at(-time.Second), "", "a"), at(-2*time.Second))
	a4 := dueAt(newDelivery(t, at(-time.Second), "", "a"), at(time.Minute))
	ab := dueAt(newDelivery(t, at(-time.Second), "", "ab"), now) // due exactly now
	b1 := dueAt(newDelivery(t, at(-time.Second), "", "b"), at(time.Second))
	c1 := dueAt(newDelivery(t, at(-time.Second), "", "c"), at(-time.Second))
	c2 := newDelivery(t, at(-time.Hour), "", "c") // no NextAt: due at creation
	publish(t, s, at(-time.Hour), a1, a2, a3, a4, ab, b1, c1, c2)

	var asked []string
	got := must(s.DueDeliveries(ctx(t), now, func(lane string) int {
		asked = append(asked, lane)
		return map[string]int{"a": 2, "ab": 5, "c": 0}[lane]
	}, nil))
	if fmt.Sprint(asked) != "[a ab c]" {
		t.Fatalf("take asked for %v, want [a ab c] (b has nothing due)", asked)
	}
	if !sameIDs(got, a1.ID, a3.ID, ab.ID) {
		t.Fatalf("due: got %v, want a1 a3 ab", ids(got))
	}
	if got[0].Status != storage.DeliveryPending || got[0].Lane != "a" || got[0].NextAt == nil || !got[0].NextAt.Equal(a1.CreatedAt) {
		t.Fatalf("due delivery: %+v", got[0])
	}
	all := func(string) int { return 100 }
	if got := must(s.DueDeliveries(ctx(t), now, all, nil)); !sameIDs(got, a1.ID, a3.ID, a2.ID, ab.ID, c2.ID, c1.ID) {
		t.Fatalf("all due now: %v", ids(got))
	}
	if got := must(s.DueDeliveries(ctx(t), at(time.Hour), all, nil)); !sameIDs(got, a1.ID, a3.ID, a2.ID, a4.ID, ab.ID, b1.ID, c2.ID, c1.ID) {
		t.Fatalf("all due in an hour: %v", ids(got))
	}
	// Skipped deliveries are passed over and not counted: the lane's next
	// ones fill the take.
	skip := func(id string) bool { return id == a1.ID || id == ab.ID }
	if got := must(s.DueDeliveries(ctx(t), now, func(string) int { return 2 }, skip)); !sameIDs(got, a3.ID, a2.ID, c2.ID, c1.ID) {
		t.Fatalf("due with a1 and ab skipped, 2 a lane: %v", ids(got))
	}
	asked = nil
	if got := must(s.DueDeliveries(ctx(t), at(-2*time.Hour), func(l string) int { asked = append(asked, l); return 1 }, nil)); len(got) != 0 || len(asked) != 0 {
		t.Fatalf("nothing is due two hours ago: %v, asked %v", ids(got), asked)
	}
}

// CountPendingDeliveries counts what waits, due or not, and nothing that
// has ended; it stops at the limit.
func testCountPendingDeliveries(t *testing.T, s Notify) {
	now := time.Now().UTC()
	count := func(limit int) int { return must(s.CountPendingDeliveries(ctx(t), limit)) }
	if n := count(100); n != 0 {
		t.Fatalf("an empty store counts %d pending deliveries", n)
	}
	due := newDelivery(t, now, "", "a")
	later := dueAt(newDelivery(t, now, "", "a"), now.Add(time.Hour)) // a retry that waits
	ok := newDelivery(t, now, "", "b")
	failed := newDelivery(t, now, "", "c")
	publish(t, s, now, due, later, ok, failed)
	if n := count(100); n != 4 {
		t.Fatalf("4 published: %d pending", n)
	}
	finish(t, s, ok.ID, storage.DeliverySuccess, now)
	finish(t, s, failed.ID, storage.DeliveryFailed, now)
	if n := count(100); n != 2 {
		t.Fatalf("2 of 4 ended: %d pending", n)
	}
	if n := count(1); n != 1 {
		t.Fatalf("limit 1: %d", n)
	}
	must(s.ReplayDelivery(ctx(t), failed.ID, now))
	if n := count(100); n != 3 {
		t.Fatalf("a replayed delivery waits again: %d pending", n)
	}
}

func testRecordAttempt(t *testing.T, s Notify) {
	now := time.Now().UTC()
	ep := uuid.NewString()
	// Distinct times: ids made in one millisecond need not sort in order.
	d := newDelivery(t, now.Add(-3*time.Millisecond), ep, "")
	done := newDelivery(t, now.Add(-2*time.Millisecond), ep, "")
	failed := newDelivery(t, now.Add(-time.Millisecond), ep, "")
	publish(t, s, now, d, done, failed)
	all := func(string) int { return 100 }

	long := strings.Repeat("a", storage.MaxResponseExcerpt-1) + "é and more" // é straddles the limit
	next := now.Add(time.Minute)
	got := must(s.RecordAttempt(ctx(t), d.ID,
		storage.Attempt{N: 99, At: now, Status: 503, LatencyMS: 12.5, Response: long, Error: "503 Service Unavailable"},
		storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &next}))
	if got.Status != storage.DeliveryPending || got.AttemptCount != 1 || got.LastStatus != 503 || got.LastError != "503 Service Unavailable" ||
		got.NextAt == nil || !got.NextAt.Equal(next) || !got.UpdatedAt.Equal(now) {
		t.Fatalf("after a retryable failure: %+v", got)
	}
	if due := must(s.DueDeliveries(ctx(t), now, all, nil)); !sameIDs(due, done.ID, failed.ID) {
		t.Fatalf("a delivery to retry later is due now: %v", ids(due))
	}
	if due := must(s.DueDeliveries(ctx(t), next, all, nil)); !sameIDs(due, done.ID, failed.ID, d.ID) {
		t.Fatalf("due at its next attempt (once): %v", ids(due))
	}

	later := now.Add(2 * time.Minute)
	got = must(s.RecordAttempt(ctx(t), d.ID, storage.Attempt{At: later, Status: 200, Response: "ok"}, storage.DeliveryUpdate{Status: storage.DeliverySuccess}))
	if got.Status != storage.DeliverySuccess || got.AttemptCount != 2 || got.LastStatus != 200 || got.LastError != "" || got.NextAt != nil {
		t.Fatalf("after success: %+v", got)
	}
	det := must(s.GetDelivery(ctx(t), d.ID))
	if len(det.Attempts) != 2 || det.Attempts[0].N != 1 || det.Attempts[1].N != 2 || det.AttemptCount != 2 {
		t.Fatalf("attempts: %+v", det.Attempts)
	}
	a := det.Attempts[0]
	if len(a.Response) != storage.MaxResponseExcerpt-1 || !utf8.ValidString(a.Response) || !strings.HasPrefix(long, a.Response) {
		t.Fatalf("excerpt: %d bytes, valid UTF-8 %v", len(a.Response), utf8.ValidString(a.Response))
	}
	if !a.At.Equal(now) || a.Status != 503 || a.LatencyMS != 12.5 || a.Error != "503 Service Unavailable" || det.Attempts[1].Response != "ok" {
		t.Fatalf("attempt fields: %+v", a)
	}

	finish(t, s, done.ID, storage.DeliverySuccess, now)
	got = finish(t, s, failed.ID, storage.DeliveryFailed, now)
	if got.Status != storage.DeliveryFailed || got.NextAt != nil || got.LastStatus != 500 {
		t.Fatalf("after exhausting: %+v", got)
	}
	if due := must(s.DueDeliveries(ctx(t), now.Add(24*time.Hour), all, nil)); len(due) != 0 {
		t.Fatalf("finished deliveries still due: %v", ids(due))
	}
	for _, id := range []string{d.ID, failed.ID} {
		if _, err := s.RecordAttempt(ctx(t), id, storage.Attempt{At: now}, storage.DeliveryUpdate{Status: storage.DeliveryFailed}); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("attempt on a finished delivery: want ErrConflict, got %v", err)
		}
	}
	if n := len(must(s.GetDelivery(ctx(t), d.ID)).Attempts); n != 2 {
		t.Fatalf("refused attempt recorded anyway: %d attempts", n)
	}

	p := newDelivery(t, now, ep, "")
	publish(t, s, now, p)
	if _, err := s.RecordAttempt(ctx(t), p.ID, storage.Attempt{At: now}, storage.DeliveryUpdate{Status: storage.DeliveryPending}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("PENDING without NextAt: want ErrInvalid, got %v", err)
	}
	if _, err := s.RecordAttempt(ctx(t), uuid.NewString(), storage.Attempt{At: now}, storage.DeliveryUpdate{Status: storage.DeliverySuccess}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown delivery: want ErrNotFound, got %v", err)
	}
	if det := must(s.GetDelivery(ctx(t), p.ID)); det.AttemptCount != 0 || len(det.Attempts) != 0 || det.Status != storage.DeliveryPending {
		t.Fatalf("refused attempt changed the delivery: %+v", det)
	}
}

func testReplay(t *testing.T, s Notify) {
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	e1, e2 := uuid.NewString(), uuid.NewString()
	// e1's deliveries 0..5; 4 succeeds, 5 stays PENDING, the rest fail.
	var d1 []storage.Delivery
	for i := range 6 {
		d1 = append(d1, newDelivery(t, at(i), e1, ""))
	}
	other := newDelivery(t, at(2), e2, "")
	publish(t, s, base, append([]storage.Delivery{other}, d1...)...)
	for i, d := range d1 {
		switch {
		case i == 4:
			finish(t, s, d.ID, storage.DeliverySuccess, at(10))
		case i < 4:
			finish(t, s, d.ID, storage.DeliveryFailed, at(10))
		}
	}
	finish(t, s, other.ID, storage.DeliveryFailed, at(10))

	now := base.Add(30 * time.Minute)
	if _, err := s.ReplayDelivery(ctx(t), d1[5].ID, now); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("replay of a PENDING delivery: want ErrConflict, got %v", err)
	}
	if _, err := s.ReplayDelivery(ctx(t), uuid.NewString(), now); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("replay of an unknown delivery: want ErrNotFound, got %v", err)
	}
	// A successful delivery can be replayed one by one.
	got := must(s.ReplayDelivery(ctx(t), d1[4].ID, now))
	if got.Status != storage.DeliveryPending || got.Base != 1 || got.AttemptCount != 1 || got.NextAt == nil || !got.NextAt.Equal(now) || !got.UpdatedAt.Equal(now) {
		t.Fatalf("replayed: %+v", got)
	}
	all := func(string) int { return 100 }
	if due := must(s.DueDeliveries(ctx(t), now, all, nil)); !sameIDs(due, d1[5].ID, d1[4].ID) {
		t.Fatalf("due after replay: %v", ids(due))
	}

	// Only e1's FAILED deliveries created in [at(1), at(3)).
	if n := must(s.ReplayFailed(ctx(t), e1, at(1), at(3), now)); n != 2 {
		t.Fatalf("replayed %d in range, want 2", n)
	}
	want := map[string]string{d1[0].ID: storage.DeliveryFailed, d1[1].ID: storage.DeliveryPending, d1[2].ID: storage.DeliveryPending, d1[3].ID: storage.DeliveryFailed, other.ID: storage.DeliveryFailed}
	for id, status := range want {
		d := must(s.GetDelivery(ctx(t), id))
		if d.Status != status {
			t.Fatalf("delivery %s: %s, want %s", id, d.Status, status)
		}
		if status == storage.DeliveryPending && (d.Base != 1 || d.NextAt == nil || !d.NextAt.Equal(now)) {
			t.Fatalf("replayed delivery: %+v", d)
		}
	}
	if due := must(s.DueDeliveries(ctx(t), now, all, nil)); len(due) != 4 {
		t.Fatalf("due after range replay: %v", ids(due))
	}
	// Zero bounds: every remaining FAILED one of e1, and nothing twice.
	if n := must(s.ReplayFailed(ctx(t), e1, time.Time{}, time.Time{}, now)); n != 2 {
		t.Fatalf("unbounded replay: %d, want 2", n)
	}
	if n := must(s.ReplayFailed(ctx(t), e1, time.Time{}, time.Time{}, now)); n != 0 {
		t.Fatalf("second unbounded replay: %d, want 0", n)
	}
	if d := must(s.GetDelivery(ctx(t), other.ID)); d.Status != storage.DeliveryFailed {
		t.Fatalf("another endpoint's delivery replayed: %+v", d)
	}
	// A replayed delivery counts its attempts on from Base.
	got = must(s.RecordAttempt(ctx(t), d1[0].ID, storage.Attempt{At: now}, storage.DeliveryUpdate{Status: storage.DeliveryFailed}))
	if got.AttemptCount != 2 || got.Base != 1 {
		t.Fatalf("attempt after replay: %+v", got)
	}
}

func testListDeliveries(t *testing.T, s Notify) {
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	e1, e2 := uuid.NewString(), uuid.NewString()
	var all []storage.Delivery
	var events []storage.Event
	for ev := range 3 {
		var ds []storage.Delivery
		for j := range 10 {
			i := ev*10 + j
			at := base.Add(time.Duration(i) * time.Second)
			var d storage.Delivery
			switch i % 3 {
			case 0:
				d = newDelivery(t, at, e1, "")
			case 1:
				d = newDelivery(t, at, e2, "")
			default:
				d = newDelivery(t, at, "", "callback:x.example.com")
			}
			ds = append(ds, d)
		}
		events = append(events, publish(t, s, base.Add(time.Duration(ev*10)*time.Second), ds...))
		all = append(all, ds...)
	}
	for i, d := range all {
		if i%2 == 0 {
			finish(t, s, d.ID, storage.DeliveryFailed, base)
		}
	}
	// Newest first, every delivery exactly once, with or without a filter.
	page := func(f storage.DeliveryFilter) []string {
		var seen []string
		for range 50 {
			items, next, err := s.ListDeliveries(ctx(t), f)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) > f.Limit {
				t.Fatalf("page of %d, limit %d", len(items), f.Limit)
			}
			seen = append(seen, ids(items)...)
			if next == "" {
				return seen
			}
			f.Cursor = next
		}
		t.Fatal("paging does not end")
		return nil
	}
	wantIDs := func(keep func(i int, d storage.Delivery) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(i, all[i]) {
				out = append(out, all[i].ID)
			}
		}
		return out
	}
	cases := map[string]struct {
		f    storage.DeliveryFilter
		keep func(i int, d storage.Delivery) bool
	}{
		"all":            {storage.DeliveryFilter{}, func(int, storage.Delivery) bool { return true }},
		"endpoint":       {storage.DeliveryFilter{EndpointID: e1}, func(i int, _ storage.Delivery) bool { return i%3 == 0 }},
		"event":          {storage.DeliveryFilter{EventID: events[1].ID}, func(i int, _ storage.Delivery) bool { return i >= 10 && i < 20 }},
		"status":         {storage.DeliveryFilter{Status: storage.DeliveryFailed}, func(i int, _ storage.Delivery) bool { return i%2 == 0 }},
		"pending":        {storage.DeliveryFilter{Status: storage.DeliveryPending}, func(i int, _ storage.Delivery) bool { return i%2 == 1 }},
		"endpoint+state": {storage.DeliveryFilter{EndpointID: e2, Status: storage.DeliveryFailed}, func(i int, _ storage.Delivery) bool { return i%3 == 1 && i%2 == 0 }},
		"time": {storage.DeliveryFilter{Since: base.Add(5 * time.Second), Until: base.Add(25 * time.Second)},
			func(i int, _ storage.Delivery) bool { return i >= 5 && i < 25 }},
		"endpoint+time": {storage.DeliveryFilter{EndpointID: e1, Since: base.Add(5 * time.Second), Until: base.Add(25 * time.Second)},
			func(i int, _ storage.Delivery) bool { return i >= 5 && i < 25 && i%3 == 0 }},
		"unknown endpoint": {storage.DeliveryFilter{EndpointID: uuid.NewString()}, func(int, storage.Delivery) bool { return false }},
	}
	for name, c := range cases {
		for _, limit := range []int{4, 100} {
			c.f.Limit = limit
			if got, want := page(c.f), wantIDs(c.keep); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, limit %d: got %d deliveries %v, want %d %v", name, limit, len(got), got, len(want), want)
			}
		}
	}
	items, next, err := s.ListDeliveries(ctx(t), storage.DeliveryFilter{})
	if err != nil || len(items) != 30 || next != "" {
		t.Fatalf("default limit: %d items, next %q, %v", len(items), next, err)
	}
	if items[0].ID != all[29].ID || items[0].Status != storage.DeliveryPending || items[1].Status != storage.DeliveryFailed {
		t.Fatalf("list items: %+v", items[:2])
	}
	if _, _, err := s.ListDeliveries(ctx(t), storage.DeliveryFilter{Cursor: "nope"}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("bad cursor: want ErrInvalid, got %v", err)
	}
}

func testPurgeDeliveries(t *testing.T, s Notify) {
	now := time.Now().UTC()
	old := now.Add(-8 * 24 * time.Hour)
	ep := uuid.NewString()
	oldFailed := newDelivery(t, old, ep, "")
	oldPending := newDelivery(t, old.Add(time.Second), ep, "")
	oldEv := publish(t, s, old, oldFailed, oldPending)
	finish(t, s, oldFailed.ID, storage.DeliveryFailed, old)
	next := now.Add(time.Minute)
	must(s.RecordAttempt(ctx(t), oldPending.ID, storage.Attempt{At: old}, storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &next}))
	fresh := newDelivery(t, now, ep, "")
	freshEv := publish(t, s, now, fresh)

	cutoff := now.Add(-7 * 24 * time.Hour)
	total := 0
	for range 10 {
		n := must(s.PurgeDeliveries(ctx(t), cutoff, 1))
		if n > 1 {
			t.Fatalf("purged %d with limit 1", n)
		}
		total += n
		if n < 1 {
			break
		}
	}
	if total != 3 {
		t.Fatalf("purged %d records, want 3 (two deliveries and their event)", total)
	}
	if n := must(s.PurgeDeliveries(ctx(t), cutoff, 100)); n != 0 {
		t.Fatalf("purged %d more", n)
	}
	for _, id := range []string{oldFailed.ID, oldPending.ID} {
		if _, err := s.GetDelivery(ctx(t), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("purged delivery still there: %v", err)
		}
	}
	if _, err := s.GetEvent(ctx(t), oldEv.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("purged event still there: %v", err)
	}
	must(s.GetEvent(ctx(t), freshEv.ID))
	if due := must(s.DueDeliveries(ctx(t), now.Add(time.Hour), func(string) int { return 100 }, nil)); !sameIDs(due, fresh.ID) {
		t.Fatalf("due index after purge: %v", ids(due))
	}
	if items, _ := must2(s.ListDeliveries(ctx(t), storage.DeliveryFilter{EndpointID: ep})); !sameIDs(items, fresh.ID) {
		t.Fatalf("endpoint index after purge: %v", ids(items))
	}
	if n := must(s.ReplayFailed(ctx(t), ep, time.Time{}, time.Time{}, now)); n != 0 {
		t.Fatalf("replayed %d purged deliveries", n)
	}
	// Recording the same ids again finds no attempts left behind.
	again := oldFailed
	again.Status = storage.DeliveryPending
	publish(t, s, old, again)
	if d := must(s.GetDelivery(ctx(t), again.ID)); len(d.Attempts) != 0 || d.AttemptCount != 0 {
		t.Fatalf("attempts outlived their delivery: %+v", d.Attempts)
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	check(err)
	return a, b
}

func testSettings(t *testing.T, s Notify) {
	if v := must(s.Setting(ctx(t), "paused")); v != nil {
		t.Fatalf("unset setting: %q", v)
	}
	in := []byte("true")
	check(s.PutSetting(ctx(t), "paused", in))
	in[0] = 'X'
	got := must(s.Setting(ctx(t), "paused"))
	if string(got) != "true" {
		t.Fatalf("setting: %q", got)
	}
	got[0] = 'Y'
	if got := must(s.Setting(ctx(t), "paused")); string(got) != "true" {
		t.Fatalf("setting changed through a returned slice: %q", got)
	}
	check(s.PutSetting(ctx(t), "paused", []byte("false")))
	if got := must(s.Setting(ctx(t), "paused")); string(got) != "false" {
		t.Fatalf("overwritten setting: %q", got)
	}
	if v := must(s.Setting(ctx(t), "other")); v != nil {
		t.Fatalf("other setting: %q", v)
	}
}

func testConcurrentAttempts(t *testing.T, s Notify) {
	const n, tries = 40, 4
	now := time.Now().UTC()
	var ds []storage.Delivery
	for i := range n {
		ds = append(ds, newDelivery(t, now, "", fmt.Sprint("lane-", i%5)))
	}
	publish(t, s, now, ds...)
	var wg sync.WaitGroup
	errs := make(chan error, n*tries)
	for _, d := range ds {
		wg.Go(func() {
			for i := range tries {
				u := storage.DeliveryUpdate{Status: storage.DeliveryPending}
				next := now.Add(time.Duration(i+1) * time.Minute)
				u.NextAt = &next
				if i == tries-1 {
					u = storage.DeliveryUpdate{Status: storage.DeliverySuccess}
				}
				_, err := s.RecordAttempt(context.Background(), d.ID, storage.Attempt{At: now, Response: d.ID}, u)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range ds {
		det := must(s.GetDelivery(ctx(t), d.ID))
		if det.Status != storage.DeliverySuccess || det.AttemptCount != tries || len(det.Attempts) != tries {
			t.Fatalf("delivery %s: %+v", d.ID, det)
		}
		for i, a := range det.Attempts {
			if a.N != i+1 || a.Response != d.ID {
				t.Fatalf("delivery %s attempt %d: %+v", d.ID, i, a)
			}
		}
	}
	if due := must(s.DueDeliveries(ctx(t), now.Add(time.Hour), func(string) int { return 1000 }, nil)); len(due) != 0 {
		t.Fatalf("%d deliveries still due", len(due))
	}
}
