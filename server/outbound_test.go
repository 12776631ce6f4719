package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// sink is a receiver of outbound requests.
type sink struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	paths  []string
	status int // answered to every request; 200 when 0
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		s.paths = append(s.paths, r.URL.Path)
		status := s.status
		s.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

func (s *sink) received() ([]map[string]any, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...), append([]string(nil), s.paths...)
}

func allowPrivate(o *server.Options) { o.AllowPrivateTargets = true }

type endpoint struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	URL          string          `json:"url"`
	Method       string          `json:"method"`
	Enabled      bool            `json:"enabled"`
	TimeoutMS    int             `json:"timeout_ms"`
	MsgKey       string          `json:"msg_key"`
	Language     string          `json:"language"`
	Concurrency  int             `json:"concurrency"`
	BodyTemplate string          `json:"body_template"`
	Retry        map[string]any  `json:"retry"`
	Verify       map[string]any  `json:"verify"`
	Auth         map[string]any  `json:"auth"`
	Signing      map[string]any  `json:"signing"`
	AutoDisable  map[string]any  `json:"auto_disable"`
	EventTypes   []string        `json:"event_types"`
	Raw          json.RawMessage `json:"-"`
}

type delivery struct {
	ID           string `json:"id"`
	EventID      string `json:"event_id"`
	EndpointID   string `json:"endpoint_id"`
	Status       string `json:"status"`
	AttemptCount int    `json:"attempt_count"`
	LastStatus   int    `json:"last_status"`
	LastError    string `json:"last_error"`
	Attempts     []struct {
		N        int    `json:"n"`
		Status   int    `json:"status"`
		Response string `json:"response"`
		Error    string `json:"error"`
	} `json:"attempts"`
	Event *struct {
		Type  string `json:"type"`
		Title string `json:"title"`
	} `json:"event"`
}

func (in *instance) endpoint(body map[string]any) endpoint {
	in.t.Helper()
	var e endpoint
	e.Raw = in.api("POST", "/endpoints", body, http.StatusCreated, &e)
	return e
}

// deliveries lists deliveries with a query such as "endpoint_id=...".
func (in *instance) deliveries(query string) []delivery {
	in.t.Helper()
	var out struct {
		Items []delivery `json:"items"`
	}
	in.api("GET", "/deliveries?"+query, nil, http.StatusOK, &out)
	return out.Items
}

// settled waits until an endpoint has n deliveries, none PENDING.
func (in *instance) settled(endpointID string, n int) []delivery {
	in.t.Helper()
	var ds []delivery
	eventually(in.t, "deliveries to settle", func() bool {
		ds = in.deliveries("endpoint_id=" + endpointID)
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.Status == "PENDING" {
				return false
			}
		}
		return true
	})
	return ds
}

func TestEndpointCRUDKeepsSecretsSecret(t *testing.T) {
	t.Parallel()
	in := start(t)
	e := in.endpoint(map[string]any{
		"name": "Ops", "url": "https://hooks.example.com/x", "event_types": []string{"alarm.*"},
		"auth":           map[string]any{"type": "basic", "username": "bot", "password": "pa55word-xyz"},
		"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	})
	if strings.Contains(string(e.Raw), "pa55word-xyz") || strings.Contains(string(e.Raw), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
		t.Fatalf("a secret came back: %s", e.Raw)
	}
	if e.Method != "POST" || e.TimeoutMS != 5000 || e.MsgKey != "Msg" || e.Language != "en" || e.Concurrency != 8 || !e.Enabled ||
		e.Retry["max_attempts"] != float64(8) || e.Retry["backoff"] != "exponential" || e.AutoDisable["failing_for_hours"] != float64(120) {
		t.Fatalf("defaults: %s", e.Raw)
	}
	if e.Auth["password_set"] != true || e.Auth["username"] != "bot" || e.Signing["standard_webhooks"] != true {
		t.Fatalf("secret flags: %v %v", e.Auth, e.Signing)
	}
	// PUT keeps what it leaves out, the password of a same-type auth
	// included, and rotating the secret keeps the old one for a while.
	var got endpoint
	raw := in.api("PUT", "/endpoints/"+e.ID, map[string]any{"name": "Ops 2", "auth": map[string]any{"type": "basic", "username": "bot2"},
		"signing_secret": "whsec_" + strings.Repeat("QUJD", 8)}, http.StatusOK, &got)
	if got.Name != "Ops 2" || got.URL != e.URL || got.Auth["password_set"] != true || got.Auth["username"] != "bot2" || got.Signing["rotating_until"] == nil {
		t.Fatalf("after PUT: %s", raw)
	}
	var list struct {
		Items []endpoint `json:"items"`
	}
	in.api("GET", "/endpoints", nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != e.ID {
		t.Fatalf("list: %+v", list.Items)
	}
	in.api("DELETE", "/endpoints/"+e.ID, nil, http.StatusNoContent, nil)
	in.api("GET", "/endpoints/"+e.ID, nil, http.StatusNotFound, nil)
}

func TestEndpointValidation(t *testing.T) {
	t.Parallel()
	in := start(t)
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "x", "url": "https://example.com/h", "event_types": []string{"*"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	cases := []struct {
		body map[string]any
		want string
	}{
		{base(map[string]any{"timeout_ms": 100}), "timeout_ms must be from 500 to 120000, got 100"},
		{base(map[string]any{"timeout_ms": 200000}), "timeout_ms must be from 500 to 120000"},
		{base(map[string]any{"extra_body": map[string]any{"Msg": "x"}}), `extra_body must not set "Msg"`},
		{base(map[string]any{"msg_key": "text", "extra_body": map[string]any{"text": 1}}), `extra_body must not set "text"`},
		{base(map[string]any{"url": "ftp://example.com"}), "url must start with http:// or https://"},
		{base(map[string]any{"url": "https://u:p@example.com"}), "must not carry credentials"},
		{base(map[string]any{"event_types": []string{}}), "event_types is required"},
		{base(map[string]any{"method": "TRACE"}), `method "TRACE" is not one of`},
		{base(map[string]any{"signing_secret": "whsec_!!"}), "signing_secret"},
		{base(map[string]any{"auth": map[string]any{"type": "bearer"}}), "bearer needs a token"},
		{base(map[string]any{"retry": map[string]any{"max_attempts": 99}}), "retry.max_attempts must be from 1 to 50"},
		{base(map[string]any{"verify": map[string]any{"type": "status", "value": "abc"}}), "verify.value must be an HTTP status"},
		{base(map[string]any{"language": "fr"}), `language "fr" is not one of en, zh`},
		{base(map[string]any{"body_template": `{"t": "{{nope}}"}`}), "body_template"},
		{base(map[string]any{"preset": "myspace"}), `no endpoint preset named "myspace"; the presets are dingtalk, discord, feishu, slack, teams, wecom`},
		{base(map[string]any{"template": "myspace"}), `no endpoint preset named "myspace"`},
		{base(map[string]any{"preset": "slack", "template": "slack"}), "send preset alone: template is its old name"},
		{base(map[string]any{"colour": "red"}), "unknown field"},
	}
	for _, c := range cases {
		var got struct{ Error string }
		in.api("POST", "/endpoints", c.body, http.StatusBadRequest, &got)
		if !strings.Contains(got.Error, c.want) {
			t.Errorf("%v: %q, want it to say %q", c.body, got.Error, c.want)
		}
	}
}

// TestEndpointPresetsAPI: the presets are listed, and an endpoint
// created from one gets its body and verify; "endpoint-templates" and
// "template" are their old names, still taken.
func TestEndpointPresetsAPI(t *testing.T) {
	t.Parallel()
	in := start(t)
	for _, name := range []struct{ route, field string }{{"/endpoint-presets", "preset"}, {"/endpoint-templates", "template"}} {
		var out struct {
			Items []struct {
				Name string `json:"name"`
				Body string `json:"body_template"`
			} `json:"items"`
		}
		in.api("GET", name.route, nil, http.StatusOK, &out)
		var names []string
		for _, p := range out.Items {
			names = append(names, p.Name)
		}
		if strings.Join(names, ",") != "dingtalk,discord,feishu,slack,teams,wecom" {
			t.Fatalf("presets: %v", names)
		}
		e := in.endpoint(map[string]any{"name": "chat " + name.field, "url": "https://example.com/dt", "event_types": []string{"*"}, name.field: "dingtalk"})
		if !strings.Contains(e.BodyTemplate, "markdown") || e.Verify["type"] != "contains" || e.Verify["value"] != `"errcode":0` {
			t.Fatalf("from the dingtalk preset: %s", e.Raw)
		}
		var got struct{ Error string }
		in.api("PUT", "/endpoints/"+e.ID, map[string]any{name.field: "slack"}, http.StatusBadRequest, &got)
		if !strings.Contains(got.Error, "preset applies on create only") {
			t.Fatalf("a preset on PUT: %q", got.Error)
		}
	}
}

func TestEventsAreDeliveredAndRetried(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "ops", "url": s.URL + "/in", "event_types": []string{"alarm.*"}})

	var pub struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Time       string `json:"time"`
		Deliveries int    `json:"deliveries"`
	}
	in.api("POST", "/events", map[string]any{"type": "alarm.disk_full", "title": "Disk full", "message": "db-1 at 99%",
		"data": map[string]any{"host": "db-1"}}, http.StatusAccepted, &pub)
	if pub.ID == "" || pub.Time == "" || pub.Deliveries != 1 {
		t.Fatalf("publish answer: %+v", pub)
	}
	ds := in.settled(e.ID, 1)
	if ds[0].Status != "SUCCESS" || ds[0].EventID != pub.ID {
		t.Fatalf("delivery: %+v", ds[0])
	}
	var d delivery
	in.api("GET", "/deliveries/"+ds[0].ID, nil, http.StatusOK, &d)
	if len(d.Attempts) != 1 || d.Attempts[0].Status != 200 || d.Event == nil || d.Event.Title != "Disk full" {
		t.Fatalf("detail: %+v", d)
	}
	bodies, _ := s.received()
	if bodies[0]["Msg"] != "Disk full\ndb-1 at 99%" || bodies[0]["type"] != "alarm.disk_full" {
		t.Fatalf("body: %v", bodies[0])
	}

	// Retry one delivery: same delivery, one more attempt.
	in.api("POST", "/deliveries/"+ds[0].ID+"/retry", nil, http.StatusAccepted, nil)
	eventually(t, "the retried delivery", func() bool {
		in.api("GET", "/deliveries/"+ds[0].ID, nil, http.StatusOK, &d)
		return d.Status == "SUCCESS" && d.AttemptCount == 2
	})
	in.api("GET", "/deliveries?status=LOST", nil, http.StatusBadRequest, nil)
	in.api("GET", "/deliveries/nope", nil, http.StatusNotFound, nil)
	in.api("POST", "/events", map[string]any{"title": "no type"}, http.StatusBadRequest, nil)
}

func TestReplayFailedRange(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	s.setStatus(500)
	e := in.endpoint(map[string]any{"name": "flaky", "url": s.URL, "event_types": []string{"*"},
		"retry": map[string]any{"max_attempts": 1}, "auto_disable": map[string]any{"consecutive_failures": 0}})
	for range 3 {
		in.api("POST", "/events", map[string]any{"type": "x"}, http.StatusAccepted, nil)
	}
	for _, d := range in.settled(e.ID, 3) {
		if d.Status != "FAILED" || d.LastStatus != 500 {
			t.Fatalf("delivery: %+v", d)
		}
	}
	s.setStatus(0)
	var out struct {
		Replayed int `json:"replayed"`
	}
	in.api("POST", "/endpoints/"+e.ID+"/replay", map[string]any{"since": time.Now().Add(-time.Hour)}, http.StatusAccepted, &out)
	if out.Replayed != 3 {
		t.Fatalf("replayed %d, want 3", out.Replayed)
	}
	for _, d := range in.settled(e.ID, 3) {
		if d.Status != "SUCCESS" || d.AttemptCount != 2 {
			t.Fatalf("after replay: %+v", d)
		}
	}
	in.api("POST", "/endpoints/"+e.ID+"/replay", map[string]any{"since": time.Now(), "until": time.Now().Add(-time.Hour)}, http.StatusBadRequest, nil)
}

func TestEndpointTestAndValidateOnCreate(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "ok", "url": s.URL, "event_types": []string{"*"}, "validate_on_create": true})
	bodies, _ := s.received()
	if len(bodies) != 1 || bodies[0]["Msg"] != "This is a validate message." || len(bodies[0]) != 1 {
		t.Fatalf("validate request: %v", bodies)
	}
	var a struct {
		Status    int     `json:"status"`
		LatencyMS float64 `json:"latency_ms"`
	}
	in.api("POST", "/endpoints/"+e.ID+"/test", nil, http.StatusOK, &a)
	if a.Status != 200 || a.LatencyMS <= 0 {
		t.Fatalf("test attempt: %+v", a)
	}
	s.setStatus(403)
	raw := in.api("POST", "/endpoints", map[string]any{"name": "no", "url": s.URL, "event_types": []string{"*"}, "validate_on_create": true}, http.StatusBadRequest, nil)
	if !strings.Contains(string(raw), "answered the VALIDATE request with 403, want 200") {
		t.Fatalf("refusal: %s", raw)
	}
	var list struct {
		Items []endpoint `json:"items"`
	}
	in.api("GET", "/endpoints", nil, http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Fatalf("an endpoint that failed validation was saved: %d endpoints", len(list.Items))
	}
}

func TestOutboundPauseSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, allowPrivate, func(o *server.Options) { o.DataDir = dir })
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "p", "url": s.URL, "event_types": []string{"*"}})
	var st struct {
		Paused bool `json:"paused"`
	}
	in.api("PUT", "/outbound", map[string]any{"paused": true}, http.StatusOK, &st)
	if !st.Paused {
		t.Fatal("not paused")
	}
	in.api("POST", "/events", map[string]any{"type": "x"}, http.StatusAccepted, nil)
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in = start(t, allowPrivate, func(o *server.Options) { o.DataDir = dir })
	in.api("GET", "/outbound", nil, http.StatusOK, &st)
	if !st.Paused {
		t.Fatal("the pause did not survive a restart")
	}
	if ds := in.deliveries("endpoint_id=" + e.ID); len(ds) != 1 || ds[0].Status != "PENDING" {
		t.Fatalf("while paused: %+v", ds)
	}
	in.api("PUT", "/outbound", map[string]any{"paused": false}, http.StatusOK, &st)
	if ds := in.settled(e.ID, 1); ds[0].Status != "SUCCESS" {
		t.Fatalf("after resuming: %+v", ds[0])
	}
	in.api("PUT", "/outbound", map[string]any{}, http.StatusBadRequest, nil)
}

func TestScriptsNotifyAndCallBack(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "chat", "url": s.URL + "/chat", "event_types": []string{"build.*"},
		"body_template": `{"text": "{{title}} ({{data.ref}})"}`})
	p := in.provider("any", "return true")
	in.function(p.ID, "notify", "ci/done", `
		NOTIFY.send("build.done", {title: "Build " + PAYLOAD.n, data: {ref: PAYLOAD.ref}});
		NOTIFY.webhook({url: "`+s.URL+`/callback", body: {task: PAYLOAD.n, ok: true}});
	`)
	code, a := in.send("ci/done", []byte(`{"n": 7, "ref": "refs/heads/main"}`), true, nil)
	if code != http.StatusOK || a.Status != "SUCCESS" {
		t.Fatalf("webhook: %d %+v", code, a)
	}
	in.settled(e.ID, 1)
	eventually(t, "the callback", func() bool {
		_, paths := s.received()
		return len(paths) == 2
	})
	bodies, paths := s.received()
	for i, p := range paths {
		switch p {
		case "/chat":
			if bodies[i]["text"] != "Build 7 (refs/heads/main)" {
				t.Fatalf("chat body: %v", bodies[i])
			}
		case "/callback":
			if bodies[i]["task"] != float64(7) || bodies[i]["ok"] != true {
				t.Fatalf("callback body: %v", bodies[i])
			}
		default:
			t.Fatalf("unexpected path %s", p)
		}
	}
	// The callback is recorded once its answer is in.
	eventually(t, "both deliveries recorded as SUCCESS", func() bool {
		return len(in.deliveries("status=SUCCESS")) == 2
	})
}

func TestFailedWebhookNotifiesSlack(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "slack", "url": s.URL, "event_types": []string{"message.failed", "message.unmatched"}, "template": "slack"})
	p := in.provider("GitHub", `return HTTP_HEADERS["x-github-event"] !== undefined`)
	in.function(p.ID, "deploy", "git/push", `throw new Error("deploy key rejected")`)
	if code, _ := in.send("git/push", []byte(`{}`), true, http.Header{"X-GitHub-Event": {"push"}}); code != http.StatusInternalServerError {
		t.Fatalf("failing webhook: %d", code)
	}
	in.send("git/push", []byte(`{}`), true, nil) // matches no provider
	ds := in.settled(e.ID, 2)
	for _, d := range ds {
		if d.Status != "SUCCESS" {
			t.Fatalf("delivery: %+v", d)
		}
	}
	bodies, _ := s.received()
	var texts []string
	for _, b := range bodies {
		texts = append(texts, b["text"].(string))
	}
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, "Webhook failed") || !strings.Contains(all, "deploy: Error: deploy key rejected") ||
		!strings.Contains(all, "Webhook not recognised") || !strings.Contains(all, "git/push") {
		t.Fatalf("slack texts: %q", texts)
	}
}

func TestOldDeliveriesArePurged(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate, func(o *server.Options) {
		o.Retention = 300 * time.Millisecond
		o.PurgeInterval = 50 * time.Millisecond
	})
	s := newSink(t)
	e := in.endpoint(map[string]any{"name": "p", "url": s.URL, "event_types": []string{"*"}})
	in.api("POST", "/events", map[string]any{"type": "x"}, http.StatusAccepted, nil)
	ds := in.settled(e.ID, 1)
	eventually(t, "the old delivery purged", func() bool {
		code, _, _ := in.do("GET", "/api/v1/deliveries/"+ds[0].ID, nil, http.Header{"Authorization": {"Bearer " + testToken}})
		return code == http.StatusNotFound
	})
	if got := in.deliveries("endpoint_id=" + e.ID); len(got) != 0 {
		t.Fatalf("deliveries after the purge: %+v", got)
	}
}

func TestEngineDisablingIsAudited(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	s.setStatus(http.StatusGone)
	e := in.endpoint(map[string]any{"name": "gone", "url": s.URL, "event_types": []string{"*"}})
	in.api("POST", "/events", map[string]any{"type": "x"}, http.StatusAccepted, nil)
	var out struct {
		Items []struct {
			Actor, Action, Target, Detail string
		} `json:"items"`
	}
	eventually(t, "the audit entry", func() bool {
		in.api("GET", "/audit?actor=system", nil, http.StatusOK, &out)
		return len(out.Items) == 1
	})
	if it := out.Items[0]; it.Action != "endpoint.disable" || it.Target != e.ID || !strings.Contains(it.Detail, "410") {
		t.Fatalf("audit entry: %+v", it)
	}
	// A script save names the version it made.
	p := in.provider("p", "return true")
	in.api("PUT", "/providers/"+p.ID, map[string]any{"match_script": "return false"}, http.StatusOK, nil)
	in.api("GET", "/audit?action=provider.update", nil, http.StatusOK, &out)
	if len(out.Items) != 1 || out.Items[0].Detail != "p: script saved as version 2" {
		t.Fatalf("provider.update entry: %+v", out.Items)
	}
}

// An endpoint the egress guard will refuse (loopback, a private address,
// a name that resolves only to such) is saved with a warning saying so;
// with --allow-private-targets, or a public address, there is none.
func TestEndpointWarnsWhenTheGuardWillRefuseIt(t *testing.T) {
	t.Parallel()
	type saved struct {
		ID       string   `json:"id"`
		Warnings []string `json:"warnings"`
	}
	in := start(t)
	for _, url := range []string{"http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest"} {
		var s saved
		in.api("POST", "/endpoints", map[string]any{"name": "e " + url, "url": url, "event_types": []string{"*"}}, 201, &s)
		if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "will be refused") || !strings.Contains(s.Warnings[0], "--allow-private-targets") {
			t.Errorf("%s: warnings %q", url, s.Warnings)
		}
		var u saved
		in.api("PUT", "/endpoints/"+s.ID, map[string]any{"description": "edited"}, 200, &u)
		if len(u.Warnings) != 1 {
			t.Errorf("%s, edited: warnings %q", url, u.Warnings)
		}
	}
	var s saved
	in.api("POST", "/endpoints", map[string]any{"name": "public", "url": "https://93.184.215.14/hook", "event_types": []string{"*"}}, 201, &s)
	if len(s.Warnings) != 0 {
		t.Errorf("a public address: warnings %q", s.Warnings)
	}
	open := start(t, func(o *server.Options) { o.AllowPrivateTargets = true })
	open.api("POST", "/endpoints", map[string]any{"name": "e", "url": "http://127.0.0.1:9/hook", "event_types": []string{"*"}}, 201, &s)
	if len(s.Warnings) != 0 {
		t.Errorf("with --allow-private-targets: warnings %q", s.Warnings)
	}
}

// POST /endpoints/test sends a test event to an unsaved endpoint, checks
// its body as a create does, and stores nothing.
func TestTestUnsavedEndpoint(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	body := map[string]any{"name": "draft", "url": s.URL + "/hook", "event_types": []string{"*"}, "msg_key": "text"}
	var a struct {
		N         int     `json:"n"`
		At        string  `json:"at"`
		Status    int     `json:"status"`
		LatencyMS float64 `json:"latency_ms"`
		Error     string  `json:"error"`
	}
	in.api("POST", "/endpoints/test", body, http.StatusOK, &a)
	if a.Status != 200 || a.LatencyMS <= 0 || a.At == "" || a.Error != "" {
		t.Fatalf("attempt: %+v", a)
	}
	bodies, paths := s.received()
	if len(bodies) != 1 || paths[0] != "/hook" || bodies[0]["type"] != "switchyard.test" {
		t.Fatalf("the receiver got %v at %v", bodies, paths)
	}
	if data, _ := bodies[0]["data"].(map[string]any); data["endpoint_name"] != "draft" {
		t.Fatalf("test event: %v", bodies[0])
	}

	// A receiver's refusal is an attempt, not an error.
	s.setStatus(http.StatusTeapot)
	in.api("POST", "/endpoints/test", body, http.StatusOK, &a)
	if a.Status != http.StatusTeapot {
		t.Fatalf("refused attempt: %+v", a)
	}

	// Nothing stored: no endpoint, no delivery.
	var list struct {
		Items []endpoint `json:"items"`
	}
	in.api("GET", "/endpoints", nil, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a tested endpoint was saved: %+v", list.Items)
	}
	if ds := in.deliveries(""); len(ds) != 0 {
		t.Fatalf("a test made deliveries: %+v", ds)
	}

	// The audit log names it.
	var audit struct {
		Items []struct{ Action, Detail string } `json:"items"`
	}
	in.api("GET", "/audit?action=endpoint.test_unsaved", nil, http.StatusOK, &audit)
	if len(audit.Items) != 2 || audit.Items[0].Detail != "draft" {
		t.Fatalf("audit: %+v", audit.Items)
	}

	// A body a create refuses is refused the same way, before anything is sent.
	for name, bad := range map[string]map[string]any{
		"no url":       {"name": "x", "event_types": []string{"*"}},
		"bad url":      {"name": "x", "url": "ftp://example.com", "event_types": []string{"*"}},
		"no preset":    {"preset": "nope", "name": "x", "url": s.URL},
		"bad filter":   {"name": "x", "url": s.URL, "event_types": []string{"*"}, "filter": map[string]any{"data.x": map[string]any{"$nope": 1}}},
		"bad template": {"name": "x", "url": s.URL, "event_types": []string{"*"}, "body_template": "{{"},
		"unknown key":  {"name": "x", "url": s.URL, "nope": true},
	} {
		created := in.api("POST", "/endpoints", bad, http.StatusBadRequest, nil)
		tested := in.api("POST", "/endpoints/test", bad, http.StatusBadRequest, nil)
		if string(created) != string(tested) {
			t.Errorf("%s: create answered %s, test %s", name, created, tested)
		}
	}
	if got, _ := s.received(); len(got) != 2 {
		t.Fatalf("a refused body was sent: %d requests", len(got))
	}

	// Editors and admins only.
	raw, _ := json.Marshal(body)
	for _, role := range []string{"viewer", "operator"} {
		_, tok := in.user(role+"-user", role)
		if code, b := in.as(tok, "POST", "/endpoints/test", raw, nil); code != http.StatusForbidden {
			t.Fatalf("%s: %d %s", role, code, b)
		}
	}
	if got, _ := s.received(); len(got) != 2 {
		t.Fatalf("a forbidden test was sent: %d requests", len(got))
	}
}

// An unsaved endpoint's test goes through the egress guard as deliveries
// do: a loopback receiver is refused without --allow-private-targets.
func TestTestUnsavedEndpointIsGuarded(t *testing.T) {
	t.Parallel()
	in := start(t)
	s := newSink(t)
	var a struct {
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	in.api("POST", "/endpoints/test", map[string]any{"name": "draft", "url": s.URL, "event_types": []string{"*"}}, http.StatusOK, &a)
	if a.Status != 0 || a.Error == "" {
		t.Fatalf("attempt: %+v", a)
	}
	if got, _ := s.received(); len(got) != 0 {
		t.Fatalf("the guard let a test through: %v", got)
	}
}
