package scripting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// memDedupe is an in-memory Deduper.
type memDedupe struct {
	mu   sync.Mutex
	seen map[string]time.Duration
	err  error
}

func (m *memDedupe) FirstSeen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	if _, ok := m.seen[key]; ok {
		return false, nil
	}
	m.seen[key] = ttl
	return true, nil
}

// memPublisher records published events.
type memPublisher struct {
	events   []EventFields
	types    []string
	webhooks []*WebhookRequest
}

func (p *memPublisher) Publish(_ context.Context, t string, fields EventFields) (string, error) {
	p.types, p.events = append(p.types, t), append(p.events, fields)
	return "evt_1", nil
}

func (p *memPublisher) Webhook(_ context.Context, req *WebhookRequest) (string, error) {
	p.webhooks = append(p.webhooks, req)
	return "dlv_1", nil
}

func TestDedupeFirst(t *testing.T) {
	t.Parallel()
	d := &memDedupe{seen: map[string]time.Duration{}}
	req := &Request{Effects: &Effects{Dedupe: d}, Scope: "function:f1"}
	v := mustValue(t, `return [DEDUPE.first("k"), DEDUPE.first("k", 60), DEDUPE.first("other", "3600")]`, req)
	if got := v.([]any); got[0] != true || got[1] != false || got[2] != true {
		t.Fatalf("first/again/other: %v", got)
	}
	// Keys are kept per scope; the default TTL is a day.
	if ttl, ok := d.seen["function:f1\x00k"]; !ok || ttl != DefaultDedupeTTL {
		t.Fatalf("stored keys: %v", d.seen)
	}
	if d.seen["function:f1\x00other"] != time.Hour {
		t.Fatalf("ttl from a numeric string: %v", d.seen)
	}
	other := &Request{Effects: req.Effects, Scope: "function:f2"}
	if v := mustValue(t, `return DEDUPE.first("k")`, other); v != true {
		t.Fatal("another script's keys must not be seen")
	}

	for _, src := range []string{
		`DEDUPE.first("")`, `DEDUPE.first()`, `DEDUPE.first(42)`, `DEDUPE.first(Symbol("k"))`,
		`DEDUPE.first("k", 0)`, `DEDUPE.first("k", -1)`, `DEDUPE.first("k", NaN)`, `DEDUPE.first("k", 1e12)`,
		`DEDUPE.first("x".repeat(2000))`,
	} {
		res := runScript(t, src, req)
		if res.Err == nil || !strings.Contains(res.Err.Error(), "TypeError: DEDUPE.first") {
			t.Errorf("%s: %v", src, res.Err)
		}
	}
	d.err = errors.New("disk full")
	res := runScript(t, `try { DEDUPE.first("z") } catch (e) { return e.message }`, req)
	if res.Value != "DEDUPE.first: disk full" {
		t.Fatalf("store error: %v %v", res.Value, res.Err)
	}
	res = runScript(t, `DEDUPE.first("z")`, &Request{})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "not available") {
		t.Fatalf("without a store: %v", res.Err)
	}
}

func TestNotifySend(t *testing.T) {
	t.Parallel()
	p := &memPublisher{}
	req := &Request{Effects: &Effects{Notify: p}}
	v := mustValue(t, `return NOTIFY.send("build.failed", {title: "Build", data: {n: 1, when: new Date(0), f: function(){}}})`, req)
	if v != "evt_1" || p.types[0] != "build.failed" {
		t.Fatalf("id %v, types %v", v, p.types)
	}
	data := p.events[0].Data
	if p.events[0].Title != "Build" || data["n"] != float64(1) || data["when"] != "1970-01-01T00:00:00.000Z" || data["f"] != nil {
		t.Fatalf("fields pass through JSON: %#v", p.events[0])
	}
	mustValue(t, `NOTIFY.send("x")`, req)
	if !p.events[1].IsZero() {
		t.Fatalf("no fields: %v", p.events[1])
	}
	for _, src := range []string{`NOTIFY.send()`, `NOTIFY.send("")`, `NOTIFY.send("t", 5)`, `var o = {}; o.o = o; NOTIFY.send("t", o)`, `NOTIFY.send("t", {titel: "typo"})`} {
		if res := runScript(t, src, req); res.Err == nil || !strings.Contains(res.Err.Error(), "TypeError: NOTIFY.send") {
			t.Errorf("%s: %v", src, res.Err)
		}
	}
	// A field of the wrong type is an Error that names it, as the engine's
	// refusals are; null stands for none.
	for src, want := range map[string]string{
		`NOTIFY.send("t", {title: 5})`:        "Error: NOTIFY.send: title must be a string",
		`NOTIFY.send("t", {data: [1]})`:       "Error: NOTIFY.send: data must be an object",
		`NOTIFY.send("t", {sub_title: true})`: "Error: NOTIFY.send: sub_title must be a string",
	} {
		if res := runScript(t, src, req); res.Err == nil || !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, res.Err, want)
		}
	}
	mustValue(t, `NOTIFY.send("t", {title: null, data: null})`, req)
	if f := p.events[len(p.events)-1]; !f.IsZero() {
		t.Fatalf("null fields: %v", f)
	}
	if res := runScript(t, `NOTIFY.send("t")`, &Request{}); res.Err == nil || !strings.Contains(res.Err.Error(), "not available") {
		t.Fatalf("without a publisher: %v", res.Err)
	}
}

func TestNotifyWebhook(t *testing.T) {
	t.Parallel()
	p := &memPublisher{}
	req := &Request{Effects: &Effects{Notify: p}}
	v := mustValue(t, `return NOTIFY.webhook({url: "https://ci.example/cb?token=s3cret", headers: {"X-Task": "7"},
		cookies: {session: "abc"}, auth: {type: "bearer", token: "tok"}, timeout: 2000, body: {ok: true, n: 2}})`, req)
	if v != "dlv_1" || len(p.webhooks) != 1 {
		t.Fatalf("id %v, %d webhooks", v, len(p.webhooks))
	}
	w := p.webhooks[0]
	if w.URL != "https://ci.example/cb?token=s3cret" || w.Method != "POST" || w.Timeout != 2*time.Second ||
		w.Headers["X-Task"] != "7" || w.Headers["Content-Type"] != "application/json" || w.Cookies["session"] != "abc" ||
		w.Auth != (WebhookAuth{Type: "bearer", Token: "tok"}) || string(w.Body) != `{"ok":true,"n":2}` {
		t.Fatalf("request: %+v", w)
	}
	res := runScript(t, `NOTIFY.webhook({url: "http://h/x", method: "put", body: "plain"})`, req)
	if res.Err != nil || p.webhooks[1].Method != "PUT" || string(p.webhooks[1].Body) != "plain" || p.webhooks[1].Headers != nil {
		t.Fatalf("string body: %v %+v", res.Err, p.webhooks[1])
	}
	// The log line never shows the query, which often carries a token.
	if strings.Contains(fmt.Sprint(res.Logs), "s3cret") {
		t.Fatalf("token in logs: %v", res.Logs)
	}
	for _, src := range []string{`NOTIFY.webhook()`, `NOTIFY.webhook({})`, `NOTIFY.webhook({url: "ftp://x"})`,
		`NOTIFY.webhook({url: "http://h", urll: 1})`, `NOTIFY.webhook({url: "http://h", auth: {type: "digest"}})`,
		`NOTIFY.webhook({url: "http://h", auth: {type: "basic", password: 5}})`, `NOTIFY.webhook({url: "http://h", method: "TRACE"})`} {
		if res := runScript(t, src, req); res.Err == nil || !strings.Contains(res.Err.Error(), "TypeError: NOTIFY.webhook") {
			t.Errorf("%s: %v", src, res.Err)
		}
	}
	if res := runScript(t, `NOTIFY.webhook({url: "http://h"})`, &Request{}); res.Err == nil || !strings.Contains(res.Err.Error(), "not available") {
		t.Fatalf("without a publisher: %v", res.Err)
	}
}
