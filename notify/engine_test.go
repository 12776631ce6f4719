package notify_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// testSecret is a Standard Webhooks secret (32 bytes of 0x01).
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))

type env struct {
	store *bolt.Store
	eng   *notify.Engine
}

func newEnv(t *testing.T, allowPrivate bool) *env {
	t.Helper()
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "switchyard.db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the engines' (cleanups run last first)
	return &env{store: st, eng: startEngine(t, st, allowPrivate)}
}

// startEngine starts an engine on st, closed when the test ends.
func startEngine(t *testing.T, st notify.Store, allowPrivate bool) *notify.Engine {
	t.Helper()
	eg, err := egress.New(egress.Options{AllowPrivate: allowPrivate})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := notify.New(notify.Options{Store: st, Client: eg.HTTPClient(), Dial: eg.DialContext, Routes: eg, PollInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := eng.Close(ctx); err != nil {
			t.Error(err)
		}
		eg.CloseIdleConnections()
	})
	return eng
}

// endpoint normalises, stores and loads an endpoint.
func (e *env) endpoint(t *testing.T, ep storage.Endpoint) storage.Endpoint {
	t.Helper()
	ep.Enabled = true
	if ep.Name == "" {
		ep.Name = "test"
	}
	if ep.EventTypes == nil {
		ep.EventTypes = []string{"*"}
	}
	if err := notify.Normalize(&ep); err != nil {
		t.Fatal(err)
	}
	ep, err := e.store.CreateEndpoint(t.Context(), ep)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	return ep
}

func (e *env) publish(t *testing.T, ev storage.Event) (storage.Event, int) {
	t.Helper()
	ev, n, err := e.eng.Publish(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return ev, n
}

// deliveries lists an endpoint's deliveries.
func (e *env) deliveries(t *testing.T, endpointID string) []storage.Delivery {
	t.Helper()
	ds, _, err := e.store.ListDeliveries(t.Context(), storage.DeliveryFilter{EndpointID: endpointID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// settled waits until the endpoint has n deliveries, none PENDING.
func (e *env) settled(t *testing.T, endpointID string, n int) []storage.Delivery {
	t.Helper()
	var ds []storage.Delivery
	eventually(t, func() bool {
		ds = e.deliveries(t, endpointID)
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.Status == storage.DeliveryPending {
				return false
			}
		}
		return true
	}, "deliveries to settle")
	return ds
}

// eventually polls cond until it holds or 15 s pass.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// received is one request a receiver got.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is an httptest server that records requests and answers with
// respond (200 when nil).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Method, r.URL.RequestURI(), r.Header.Clone(), body, time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// verify checks a Standard Webhooks signature with the key of secret.
func verify(t *testing.T, secret string, r received) {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
		if sig == want {
			return
		}
	}
	t.Fatalf("no signature matches %s: %q", want, r.Header.Get("webhook-signature"))
}

func TestDeliverSignedEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL + "/hook", EventTypes: []string{"alarm.*"}, SigningSecret: testSecret,
		ExtraBody: map[string]any{"team": "ops"}})
	other := e.endpoint(t, storage.Endpoint{URL: rc.URL + "/other", EventTypes: []string{"build.*"}})

	ev, n := e.publish(t, storage.Event{Type: "alarm.host.lost", Title: "Host lost", Message: "db-1 is gone", Data: map[string]any{"host": "db-1"}})
	if n != 1 {
		t.Fatalf("deliveries: %d, want 1 (one endpoint subscribes)", n)
	}
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliverySuccess || ds[0].AttemptCount != 1 || ds[0].LastStatus != 200 {
		t.Fatalf("delivery: %+v", ds[0])
	}
	got := rc.requests()
	if len(got) != 1 || got[0].Path != "/hook" || got[0].Method != "POST" {
		t.Fatalf("requests: %+v", got)
	}
	r := got[0]
	if r.Header.Get("X-Switchyard-Event") != "alarm.host.lost" || r.Header.Get("webhook-id") != ds[0].ID ||
		r.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(r.Header.Get("User-Agent"), "Switchyard") {
		t.Fatalf("headers: %v", r.Header)
	}
	verify(t, testSecret, r)
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["id"] != ev.ID || body["type"] != "alarm.host.lost" || body["Msg"] != "Host lost\ndb-1 is gone" ||
		body["team"] != "ops" || body["data"].(map[string]any)["host"] != "db-1" {
		t.Fatalf("body: %s", r.Body)
	}
	if len(e.deliveries(t, other.ID)) != 0 {
		t.Fatal("an endpoint that does not subscribe got a delivery")
	}
	d, err := e.store.GetDelivery(t.Context(), ds[0].ID)
	if err != nil || len(d.Attempts) != 1 || d.Attempts[0].Status != 200 || d.Attempts[0].LatencyMS <= 0 {
		t.Fatalf("attempts: %+v %v", d.Attempts, err)
	}
	// An event nobody wants is not stored.
	if _, n := e.publish(t, storage.Event{Type: "nobody.cares"}); n != 0 {
		t.Fatalf("deliveries for an unsubscribed type: %d", n)
	}
}

func TestTemplatesHeadersAuthCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{
		URL: rc.URL + "/robot?host={{data.host}}", Method: "PUT",
		BodyTemplate: `{"text": "{{title}}: {{message}}", "n": {{data.n}}}`,
		Headers:      map[string]string{"X-Title": "{{title}}", "user-agent": "Bot/1", "X-Static": "v"},
		Cookies:      map[string]string{"session": "abc"},
		Auth:         storage.Auth{Type: "basic", Username: "u", Password: "p w"},
	})
	e.publish(t, storage.Event{Type: "t", Title: "Say \"hi\"\r\nX-Evil: 1", Message: "a\\b", Data: map[string]any{"host": "a b&c", "n": 3}})
	e.settled(t, ep.ID, 1)
	r := rc.requests()[0]
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	if body["text"] != "Say \"hi\"\r\nX-Evil: 1: a\\b" || body["n"] != float64(3) {
		t.Fatalf("body: %s", r.Body)
	}
	if r.Method != "PUT" || r.Path != "/robot?host=a+b%26c" {
		t.Fatalf("request line: %s %s", r.Method, r.Path)
	}
	if r.Header.Get("X-Title") != "Say \"hi\"X-Evil: 1" || r.Header.Get("X-Evil") != "" {
		t.Fatalf("header template: %q", r.Header.Get("X-Title"))
	}
	if r.Header.Get("User-Agent") != "Bot/1" || r.Header.Get("X-Static") != "v" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("static headers: %v", r.Header)
	}
	if r.Header.Get("Cookie") != "session=abc" || r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("u:p w")) {
		t.Fatalf("cookie/auth: %v", r.Header)
	}
	if r.Header.Get("webhook-signature") != "" {
		t.Fatal("signed without a secret")
	}
}

func TestRetriesThenFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, "boom")
	})
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, SigningSecret: testSecret,
		Retry: storage.RetryPolicy{MaxAttempts: 3, IntervalMS: 100, Backoff: "fixed"}})
	e.publish(t, storage.Event{Type: "x"})
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliveryFailed || ds[0].AttemptCount != 3 || ds[0].LastStatus != 500 {
		t.Fatalf("delivery: %+v", ds[0])
	}
	got := rc.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	for i, r := range got {
		if r.Header.Get("webhook-id") != ds[0].ID {
			t.Fatalf("attempt %d webhook-id %q, want the delivery's %q on every retry", i+1, r.Header.Get("webhook-id"), ds[0].ID)
		}
		verify(t, testSecret, r)
		if i > 0 && r.At.Sub(got[i-1].At) < 80*time.Millisecond {
			t.Fatalf("attempt %d came %v after the previous; the interval is 100 ms", i+1, r.At.Sub(got[i-1].At))
		}
	}
	d, _ := e.store.GetDelivery(t.Context(), ds[0].ID)
	if len(d.Attempts) != 3 || d.Attempts[2].Response != "boom" || d.Attempts[2].Error != "answered 500" {
		t.Fatalf("attempts: %+v", d.Attempts)
	}

	// Replay: the same delivery (same webhook-id) gets a fresh budget.
	rc.respond = nil
	if _, err := e.eng.Replay(t.Context(), ds[0].ID); err != nil {
		t.Fatal(err)
	}
	ds = e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliverySuccess || ds[0].AttemptCount != 4 {
		t.Fatalf("after replay: %+v", ds[0])
	}
	if got := rc.requests(); got[3].Header.Get("webhook-id") != ds[0].ID {
		t.Fatal("a replay changed the webhook-id")
	}
}

func TestVerifyContains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			io.WriteString(w, `{"errcode":310000,"errmsg":"keywords not in content"}`)
			return
		}
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Verify: storage.Verify{Type: "contains", Value: `"errcode":0`},
		Retry: storage.RetryPolicy{MaxAttempts: 3, IntervalMS: 100, Backoff: "fixed"}})
	e.publish(t, storage.Event{Type: "x"})
	ds := e.settled(t, ep.ID, 1)
	d, _ := e.store.GetDelivery(t.Context(), ds[0].ID)
	if ds[0].Status != storage.DeliverySuccess || len(d.Attempts) != 2 || !strings.Contains(d.Attempts[0].Error, "does not contain") {
		t.Fatalf("a 200 with an error body must be retried: %+v", d.Attempts)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Retry: storage.RetryPolicy{MaxAttempts: 3, IntervalMS: 100, Backoff: "fixed"}})
	e.publish(t, storage.Event{Type: "x"})
	e.settled(t, ep.ID, 1)
	got := rc.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	if gap := got[1].At.Sub(got[0].At); gap < 950*time.Millisecond {
		t.Fatalf("retried %v after a 429 with Retry-After: 1", gap)
	}
}

func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	gone := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
	watcher := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{Name: "old", URL: gone.URL, EventTypes: []string{"alarm.*"}})
	w := e.endpoint(t, storage.Endpoint{URL: watcher.URL, EventTypes: []string{notify.EndpointDisabled}, Language: "zh"})
	e.publish(t, storage.Event{Type: "alarm.x"})
	e.settled(t, w.ID, 1)
	got, err := e.store.GetEndpoint(t.Context(), ep.ID)
	if err != nil || got.Enabled || !strings.Contains(got.DisabledReason, "410") {
		t.Fatalf("endpoint after 410: enabled %v, reason %q", got.Enabled, got.DisabledReason)
	}
	var body map[string]any
	json.Unmarshal(watcher.requests()[0].Body, &body)
	if body["type"] != notify.EndpointDisabled || body["title"] != "推送地址已停用" || body["data"].(map[string]any)["endpoint_id"] != ep.ID {
		t.Fatalf("endpoint.disabled event (zh): %v", body)
	}
	// The delivery is kept, not lost: it waits for the endpoint to be
	// enabled again.
	if ds := e.deliveries(t, ep.ID); len(ds) != 1 || ds[0].Status != storage.DeliveryPending {
		t.Fatalf("delivery to a gone endpoint: %+v", ds)
	}
	if _, n := e.publish(t, storage.Event{Type: "alarm.y"}); n != 0 {
		t.Fatal("a disabled endpoint got a new delivery")
	}
	if len(gone.requests()) != 1 {
		t.Fatalf("a disabled endpoint was called again: %d requests", len(gone.requests()))
	}
}

func TestConsecutiveFailuresDisable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Retry: storage.RetryPolicy{MaxAttempts: 1},
		AutoDisable: storage.AutoDisable{ConsecutiveFailures: 2}})
	e.publish(t, storage.Event{Type: "x"})
	e.settled(t, ep.ID, 1)
	var got storage.Endpoint
	eventually(t, func() bool {
		got, _ = e.store.GetEndpoint(t.Context(), ep.ID)
		return got.ConsecutiveFailures == 1
	}, "the failure to be counted")
	if !got.Enabled || got.FailingSince == nil {
		t.Fatalf("after one failure: %+v", got.EndpointHealth)
	}
	e.publish(t, storage.Event{Type: "x"})
	e.settled(t, ep.ID, 2)
	eventually(t, func() bool {
		got, _ = e.store.GetEndpoint(t.Context(), ep.ID)
		return !got.Enabled
	}, "the endpoint to be disabled")
	if !strings.Contains(got.DisabledReason, "2 deliveries in a row failed") {
		t.Fatalf("reason: %q", got.DisabledReason)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Retry: storage.RetryPolicy{MaxAttempts: 1}})
	e.publish(t, storage.Event{Type: "x"})
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliveryFailed || ds[0].LastStatus != 302 || !strings.Contains(ds[0].LastError, "redirects are not followed") {
		t.Fatalf("delivery: %+v", ds[0])
	}
	if len(target.requests()) != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestEgressGuardRefusesLoopback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Retry: storage.RetryPolicy{MaxAttempts: 1}})
	e.publish(t, storage.Event{Type: "x"})
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliveryFailed || !strings.Contains(ds[0].LastError, "refused") {
		t.Fatalf("delivery to loopback without --allow-private-targets: %+v", ds[0])
	}
	if len(rc.requests()) != 0 {
		t.Fatal("the guard let a request through to loopback")
	}
}

func TestSlowEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	release := make(chan struct{})
	stall := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before the receiver's Close, which waits for its handlers
	healthy := newReceiver(t, nil)
	slow := e.endpoint(t, storage.Endpoint{URL: stall.URL, TimeoutMS: 120000, Concurrency: 2})
	fast := e.endpoint(t, storage.Endpoint{URL: healthy.URL})
	for range 20 {
		e.publish(t, storage.Event{Type: "x"})
	}
	e.settled(t, fast.ID, 20)
	if n := len(stall.requests()); n != 2 {
		t.Fatalf("the stalled endpoint has %d requests in flight, want its concurrency (2)", n)
	}
	for _, d := range e.deliveries(t, slow.ID) {
		if d.Status != storage.DeliveryPending {
			t.Fatalf("stalled delivery: %+v", d)
		}
	}
}

func TestPauseKeepsDeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL})
	if err := e.eng.SetPaused(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	e.publish(t, storage.Event{Type: "x"})
	// While paused the delivery is stored and waits: a few loop rounds
	// later nothing has been sent.
	start := notify.Rounds(e.eng)
	eventually(t, func() bool { return notify.Rounds(e.eng) > start+3 }, "loop rounds")
	if ds := e.deliveries(t, ep.ID); len(ds) != 1 || ds[0].Status != storage.DeliveryPending {
		t.Fatalf("paused: %+v", ds)
	}
	if v, _ := e.store.Setting(t.Context(), "outbound.paused"); string(v) != "true" {
		t.Fatalf("the pause is not stored: %q", v)
	}
	if err := e.eng.SetPaused(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	e.settled(t, ep.ID, 1)
	if len(rc.requests()) != 1 {
		t.Fatal("not delivered after resuming")
	}
}

func TestSigningSecretRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	newSecret := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, SigningSecret: newSecret,
		PreviousSecrets: []storage.OldSecret{{Secret: testSecret, Expires: time.Now().Add(time.Hour)}, {Secret: testSecret, Expires: time.Now().Add(-time.Hour)}}})
	e.publish(t, storage.Event{Type: "x"})
	e.settled(t, ep.ID, 1)
	r := rc.requests()[0]
	if n := len(strings.Fields(r.Header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures during a rotation, want 2 (the expired secret no longer signs)", n)
	}
	verify(t, newSecret, r)
	verify(t, testSecret, r)
}

func TestTestAndValidate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Switchyard-Event") == notify.ValidateType {
			w.WriteHeader(404)
		}
	})
	ep := storage.Endpoint{Name: "n", URL: rc.URL, EventTypes: []string{"*"}, EndpointHealth: storage.EndpointHealth{Enabled: true}}
	if err := notify.Normalize(&ep); err != nil {
		t.Fatal(err)
	}
	a, err := e.eng.Test(t.Context(), ep)
	if err != nil || a.Status != 200 {
		t.Fatalf("test: %+v %v", a, err)
	}
	if got := rc.requests()[0]; got.Header.Get("X-Switchyard-Event") != notify.TestType {
		t.Fatalf("test event type: %v", got.Header)
	}
	err = e.eng.Validate(t.Context(), ep)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("validate against a 404: %v", err)
	}
	if got := rc.requests()[1]; string(got.Body) != `{"Msg":"This is a validate message."}` {
		t.Fatalf("validate body: %s", got.Body)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, RateLimit: 5})
	start := time.Now()
	for range 10 {
		e.publish(t, storage.Event{Type: "x"})
	}
	e.settled(t, ep.ID, 10)
	// A burst of 5, then 5 per second: the last request cannot come
	// before ~1 s.
	got := rc.requests()
	if took := got[len(got)-1].At.Sub(start); took < 800*time.Millisecond {
		t.Fatalf("10 requests at 5/s took %v", took)
	}
}

func TestBadGatewaySlowsTheLane(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Retry: storage.RetryPolicy{MaxAttempts: 3, IntervalMS: 100, Backoff: "fixed"}})
	e.publish(t, storage.Event{Type: "x"})
	e.settled(t, ep.ID, 1)
	got := rc.requests()
	// The retry interval is 100 ms, but a 502 pauses the whole lane for
	// at least a second.
	if len(got) != 2 || got[1].At.Sub(got[0].At) < 950*time.Millisecond {
		t.Fatalf("requests %d, gap %v", len(got), got[len(got)-1].At.Sub(got[0].At))
	}
}

func TestConcurrentPublishDeliversEachOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Concurrency: 64, SigningSecret: testSecret})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 30 {
				if _, _, err := e.eng.Publish(context.Background(), storage.Event{Type: "x"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	e.settled(t, ep.ID, 300)
	// Every delivery succeeded at its first attempt, so each webhook-id
	// must have come exactly once: a round that read a delivery before
	// its outcome was written must not send it again.
	seen := map[string]int{}
	for _, r := range rc.requests() {
		seen[r.Header.Get("webhook-id")]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s sent %d times", id, n)
		}
	}
	if len(seen) != 300 {
		t.Fatalf("%d distinct deliveries received, want 300", len(seen))
	}
	// And the events they held in memory are let go.
	eventually(t, func() bool { return notify.CachedEvents(e.eng) == 0 }, "the event cache to empty")
}

func TestDeletedEndpointFailsItsPendingDeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	if err := e.eng.SetPaused(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL})
	e.publish(t, storage.Event{Type: "x"})
	if err := e.store.DeleteEndpoint(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.SetPaused(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliveryFailed || ds[0].LastError != "the endpoint was deleted" {
		t.Fatalf("delivery to a deleted endpoint: %+v", ds[0])
	}
	if len(rc.requests()) != 0 {
		t.Fatal("a deleted endpoint was called")
	}
}

// countedValue encodes as "v" and counts how often it is encoded.
type countedValue struct{ n *atomic.Int32 }

func (c countedValue) MarshalJSON() ([]byte, error) {
	c.n.Add(1)
	return []byte(`"v"`), nil
}

func TestEventDataIsEncodedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL})
	var n atomic.Int32
	e.publish(t, storage.Event{Type: "x", Data: map[string]any{"v": countedValue{&n}}})
	e.settled(t, ep.ID, 1)
	if got := n.Load(); got != 1 {
		t.Fatalf("the event's data was encoded %d times (cache, store, body), want once", got)
	}
	if body := rc.requests()[0].Body; !bytes.Contains(body, []byte(`"data":{"v":"v"}`)) {
		t.Fatalf("body: %s", body)
	}
}

// A delivery that a previous run left due reads its event from the store
// (it is not in the new engine's memory) and sends the data it was
// published with, as the default body and through a template.
func TestDeliveryLeftByAPreviousRunSendsItsEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	plain := e.endpoint(t, storage.Endpoint{URL: rc.URL + "/plain", EventTypes: []string{"alarm.*"}})
	tmpl := e.endpoint(t, storage.Endpoint{URL: rc.URL + "/tmpl", EventTypes: []string{"alarm.*"}, BodyTemplate: `{"host": {{data.host}}}`})
	if err := e.eng.SetPaused(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"host": "db-1", "n": 3.0, "tags": []any{"a", "b"}, "nested": map[string]any{"<": ">"}}
	ev, _ := e.publish(t, storage.Event{Type: "alarm.x", Title: "Host lost", Message: "db-1", Data: data})
	// The first engine stays paused in memory; a second one on the same
	// store, as after a restart, resumes.
	next := startEngine(t, e.store, true)
	if err := next.SetPaused(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	e.settled(t, plain.ID, 1)
	e.settled(t, tmpl.ID, 1)
	for _, r := range rc.requests() {
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("%s: %s: %v", r.Path, r.Body, err)
		}
		switch r.Path {
		case "/plain":
			if !reflect.DeepEqual(body["data"], data) || body["id"] != ev.ID || body["Msg"] != "Host lost\ndb-1" {
				t.Fatalf("default body of a delivery whose event was read back: %s", r.Body)
			}
		case "/tmpl":
			if body["host"] != "db-1" {
				t.Fatalf("template body of a delivery whose event was read back: %s", r.Body)
			}
		}
	}
}

// verifyV1a checks a Standard Webhooks v1a signature with the public key
// ("whpk_...").
func verifyV1a(t *testing.T, public string, r received) {
	t.Helper()
	pub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(public, "whpk_"))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key %q: %v", public, err)
	}
	content := []byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body))
	for _, entry := range strings.Fields(r.Header.Get("webhook-signature")) {
		if b64, ok := strings.CutPrefix(entry, "v1a,"); ok {
			if sig, err := base64.StdEncoding.DecodeString(b64); err == nil && ed25519.Verify(pub, content, sig) {
				return
			}
		}
	}
	t.Fatalf("no v1a signature verifies with %s: %q", public, r.Header.Get("webhook-signature"))
}

// A whsk_ key signs v1a; rotating to it from a whsec_ secret signs with
// both, each under its version, the new key first.
func TestV1aSigningAndMixedRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, nil)
	seed := bytes.Repeat([]byte{9}, ed25519.SeedSize)
	k := ed25519.NewKeyFromSeed(seed)
	secret := "whsk_" + base64.StdEncoding.EncodeToString(k)
	public := "whpk_" + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))

	plain := e.endpoint(t, storage.Endpoint{URL: rc.URL + "/v1a", EventTypes: []string{"a"}, SigningSecret: secret})
	mixed := e.endpoint(t, storage.Endpoint{URL: rc.URL + "/mixed", EventTypes: []string{"b"}, SigningSecret: secret,
		PreviousSecrets: []storage.OldSecret{{Secret: testSecret, Expires: time.Now().Add(time.Hour)}}})

	e.publish(t, storage.Event{Type: "a", Title: "v1a only"})
	e.settled(t, plain.ID, 1)
	e.publish(t, storage.Event{Type: "b", Title: "rotating"})
	e.settled(t, mixed.ID, 1)
	byPath := map[string]received{}
	for _, r := range rc.requests() {
		byPath[r.Path] = r
	}
	r := byPath["/v1a"]
	if sigs := strings.Fields(r.Header.Get("webhook-signature")); len(sigs) != 1 || !strings.HasPrefix(sigs[0], "v1a,") {
		t.Fatalf("webhook-signature %q, want one v1a entry", sigs)
	}
	verifyV1a(t, public, r)
	r = byPath["/mixed"]
	sigs := strings.Fields(r.Header.Get("webhook-signature"))
	if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1a,") || !strings.HasPrefix(sigs[1], "v1,") {
		t.Fatalf("webhook-signature %q, want v1a (new) then v1 (old)", sigs)
	}
	verifyV1a(t, public, r)
	verify(t, testSecret, r)
	for _, r := range rc.requests() {
		if strings.Contains(r.Header.Get("webhook-signature"), strings.TrimPrefix(secret, "whsk_")[:16]) {
			t.Fatal("the secret key travels in a request")
		}
	}
}
