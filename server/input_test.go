package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// goSpeak is what an error answer must never show: Go's type names and
// layouts, and bare decoder errors, which tell a caller nothing about what
// they sent.
var goSpeak = []string{"server.", "storage.", "notify.", "providerInput", "int64", "float64", "time.Time",
	"2006-01-02", "map[string]", "[]string", "*string", "Go value", "json:", "struct"}

// TestBadInputsAreRefusedClearly sends inputs that no real user sends
// (wrong JSON types, truncated bodies, huge numbers, NUL bytes, very long
// strings, bad ports and dates) to the admin API routes. Each must be a
// 400 whose error names the field, says nothing in Go's terms, and, like
// every JSON answer, carries nosniff and no-store.
func TestBadInputsAreRefusedClearly(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("p", "return true")
	f := in.function(p.ID, "f", "u", "return 1")
	var ep struct{ ID string }
	in.api("POST", "/endpoints", map[string]any{"name": "e", "url": "https://example.com/h", "event_types": []string{"*"}}, http.StatusCreated, &ep)
	var msg struct{ ID string }
	code, raw, _ := in.do("POST", "/webhooks/v1/u", []byte(`{}`), http.Header{"Content-Type": {"application/json"}})
	if code != http.StatusAccepted || json.Unmarshal(raw, &msg) != nil || msg.ID == "" {
		t.Fatalf("webhook: %d %s", code, raw)
	}

	provider := map[string]any{"name": "p2", "match_script": "return true"}
	function := map[string]any{"name": "f2", "provider_id": p.ID, "uri": "v", "script": "return 1"}
	endpoint := map[string]any{"name": "e2", "url": "https://example.com/h", "event_types": []string{"*"}}
	event := map[string]any{"type": "build.done"}
	user := map[string]any{"name": "ann", "password": "correct horse battery", "role": "viewer"}
	token := map[string]any{"name": "ci", "user_id": "x"}
	with := func(base map[string]any, kv ...any) []byte {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return jsonBody(t, m)
	}
	long := func(n int) string { return strings.Repeat("a", n) }
	const huge = json.Number("9223372036854775807")

	cases := []struct {
		name         string
		method, path string
		body         []byte
		want         []string // each must appear in the error
	}{
		// The body as a whole.
		{"empty body", "POST", "/providers", nil, []string{"empty"}},
		{"array body", "POST", "/providers", []byte(`[{"name": "x"}]`), []string{"JSON object", "array"}},
		{"string body", "POST", "/endpoints", []byte(`"x"`), []string{"JSON object", "string"}},
		{"null body", "POST", "/functions", []byte(`null`), []string{"JSON object"}},
		{"truncated body", "POST", "/providers", []byte(`{"name": "x", "match_scr`), []string{"ends before the JSON is complete"}},
		{"truncated after a value", "POST", "/providers", []byte(`{"name": "x"`), []string{"ends before the JSON is complete"}},
		{"not JSON", "POST", "/providers", []byte(`name=x`), []string{"not valid JSON", "byte"}},
		{"trailing data", "POST", "/providers", []byte(`{"name": "x"} {}`), []string{"after the JSON object"}},
		{"unknown field", "POST", "/providers", []byte(`{"name": "x", "nmae": "y"}`), []string{`"nmae"`}},

		// Wrong JSON types name the field and the JSON types.
		{"string as number", "POST", "/providers", []byte(`{"name": 5}`), []string{"name", "a string", "a number"}},
		{"array as object", "POST", "/providers", []byte(`{"properties": ["a"]}`), []string{"properties", "an object", "an array"}},
		{"nested type", "POST", "/endpoints", []byte(`{"retry": {"max_attempts": "3"}}`), []string{"retry.max_attempts", "a whole number", "a string"}},
		{"fraction as int", "POST", "/functions", []byte(`{"timeout_ms": 1.5}`), []string{"timeout_ms", "a whole number", "1.5"}},
		{"number beyond int64", "POST", "/providers", []byte(`{"match_timeout_ms": 1e400}`), []string{"match_timeout_ms"}},
		{"bool as string", "PUT", "/outbound", []byte(`{"paused": "yes"}`), []string{"paused", "true or false", "a string"}},
		{"map value type", "POST", "/providers", []byte(`{"secrets": {"k": 1}}`), []string{"secrets", "a string", "a number"}},

		// Numbers out of range, checked before any conversion.
		{"provider timeout max int64", "POST", "/providers", with(provider, "match_timeout_ms", huge), []string{"match_timeout_ms", "9223372036854775807"}},
		{"provider timeout that wrapped to 0.45 ms", "POST", "/providers", with(provider, "match_timeout_ms", 18446744073710), []string{"match_timeout_ms", "18446744073710"}},
		{"provider timeout negative", "POST", "/providers", with(provider, "match_timeout_ms", -5), []string{"match_timeout_ms"}},
		{"function timeout max int64", "POST", "/functions", with(function, "timeout_ms", huge), []string{"timeout_ms"}},
		{"function timeout update", "PUT", "/functions/" + f.ID, []byte(`{"timeout_ms": 9223372036854775807}`), []string{"timeout_ms"}},
		{"endpoint timeout max int64", "POST", "/endpoints", with(endpoint, "timeout_ms", huge), []string{"timeout_ms"}},
		{"retry interval max int64", "POST", "/endpoints", with(endpoint, "retry", map[string]any{"backoff": "fixed", "interval_ms": huge}), []string{"retry.interval_ms"}},
		{"failing_for_hours max int64", "POST", "/endpoints", with(endpoint, "auto_disable", map[string]any{"failing_for_hours": huge}), []string{"auto_disable.failing_for_hours"}},
		{"consecutive failures huge", "POST", "/endpoints", with(endpoint, "auto_disable", map[string]any{"consecutive_failures": huge}), []string{"auto_disable.consecutive_failures"}},
		{"rate_limit 1e308", "POST", "/endpoints", with(endpoint, "rate_limit", 1e308), []string{"rate_limit"}},
		{"concurrency huge", "POST", "/endpoints", with(endpoint, "concurrency", huge), []string{"concurrency"}},
		{"token lifetime huge", "POST", "/tokens", with(token, "expires_in_days", huge), []string{"expires_in_days"}},
		{"signature tolerance max int64", "POST", "/messages/" + msg.ID + "/signature-check", []byte(`{"secret": "s", "tolerance_seconds": 9223372036854775807}`), []string{"tolerance_seconds"}},

		// Names, URIs and types: control characters and lengths.
		{"provider name NUL", "POST", "/providers", with(provider, "name", "a\x00b"), []string{"name", "control character"}},
		{"provider name 70 KB", "POST", "/providers", with(provider, "name", long(70000)), []string{"name", "200"}},
		{"provider description 100 KB", "POST", "/providers", with(provider, "description", long(100000)), []string{"description"}},
		{"property name NUL", "POST", "/providers", with(provider, "properties", map[string]string{"a\x00": "v"}), []string{"properties"}},
		{"property name LF", "POST", "/providers", with(provider, "properties", map[string]string{"a\nb": "v"}), []string{"properties"}},
		{"property value NUL", "POST", "/providers", with(provider, "properties", map[string]string{"a": "v\x00"}), []string{"properties", `"a"`}},
		{"secret value 100 KB", "POST", "/providers", with(provider, "secrets", map[string]string{"k": long(100000)}), []string{"secrets", `"k"`}},
		{"function name CR", "POST", "/functions", with(function, "name", "a\rb"), []string{"name"}},
		{"function uri NUL", "POST", "/functions", with(function, "uri", "git/\x00push"), []string{"uri", "control character"}},
		{"function uri 3000", "POST", "/functions", with(function, "uri", long(3000)), []string{"uri", "2048"}},
		{"endpoint name NUL", "POST", "/endpoints", with(endpoint, "name", "e\x00"), []string{"name"}},
		{"endpoint url NUL", "POST", "/endpoints", with(endpoint, "url", "https://example.com/\x00"), []string{"url"}},
		{"endpoint url 70 KB host", "POST", "/endpoints", with(endpoint, "url", "https://"+long(70000)+".com/"), []string{"url", "2048"}},
		{"endpoint url 300 host", "POST", "/endpoints", with(endpoint, "url", "https://"+strings.Repeat("a.", 150)+"com/"), []string{"url", "253"}},
		{"endpoint url long label", "POST", "/endpoints", with(endpoint, "url", "https://"+long(100)+".com/"), []string{"url", "63"}},
		{"endpoint url 3000", "POST", "/endpoints", with(endpoint, "url", "https://example.com/"+long(3000)), []string{"url", "2048"}},
		{"endpoint port 99999", "POST", "/endpoints", with(endpoint, "url", "https://example.com:99999/"), []string{"url", "port", "65535"}},
		{"endpoint port 0", "POST", "/endpoints", with(endpoint, "url", "https://example.com:0/"), []string{"url", "port"}},
		{"endpoint scheme", "POST", "/endpoints", with(endpoint, "url", "ftp://example.com/"), []string{"url", "http"}},
		{"endpoint method NUL", "POST", "/endpoints", with(endpoint, "method", "POST\x00"), []string{"method"}},
		{"header value CRLF", "POST", "/endpoints", with(endpoint, "headers", map[string]string{"X-A": "a\r\nX-Injected: 1"}), []string{"header", `"X-A"`}},
		{"header value NUL", "POST", "/endpoints", with(endpoint, "headers", map[string]string{"X-A": "a\x00"}), []string{"header", `"X-A"`}},
		{"header name space", "POST", "/endpoints", with(endpoint, "headers", map[string]string{"X A": "a"}), []string{"header"}},
		{"header value 100 KB", "POST", "/endpoints", with(endpoint, "headers", map[string]string{"X-A": long(100000)}), []string{"header", `"X-A"`}},
		{"cookie value LF", "POST", "/endpoints", with(endpoint, "cookies", map[string]string{"c": "a\nb"}), []string{"cookie"}},
		{"event type pattern NUL", "POST", "/endpoints", with(endpoint, "event_types", []string{"a\x00*"}), []string{"event type"}},
		{"event type pattern 100 KB", "POST", "/endpoints", with(endpoint, "event_types", []string{long(100000)}), []string{"event type", "200"}},
		{"basic auth username NUL", "POST", "/endpoints", with(endpoint, "auth", map[string]any{"type": "basic", "username": "u\x00", "password": "p"}), []string{"auth", "username"}},
		{"bearer token NUL", "POST", "/endpoints", with(endpoint, "auth", map[string]any{"type": "bearer", "token": "t\x00"}), []string{"auth", "token"}},
		{"msg_key LF", "POST", "/endpoints", with(endpoint, "msg_key", "a\nb"), []string{"msg_key"}},

		// Events.
		{"event type NUL", "POST", "/events", with(event, "type", "build\x00done"), []string{"type", "control character"}},
		{"event type 100 KB", "POST", "/events", with(event, "type", long(100000)), []string{"type", "200"}},
		{"event type space", "POST", "/events", with(event, "type", "build done"), []string{"type"}},
		{"event type star", "POST", "/events", with(event, "type", "build.*"), []string{"type", "*"}},
		{"event title 100 KB", "POST", "/events", with(event, "title", long(100000)), []string{"title"}},
		{"event image LF", "POST", "/events", with(event, "image", "https://x/\n"), []string{"image"}},
		{"event message 2 MB", "POST", "/events", with(event, "message", long(1<<20)), []string{"message"}},
		{"event logo 3000", "POST", "/events", with(event, "logo", "https://x/"+long(3000)), []string{"logo"}},

		// Users and tokens.
		{"user name NUL", "POST", "/users", with(user, "name", "ann\x00"), []string{"name"}},
		{"user display name NUL", "POST", "/users", with(user, "display_name", "Ann\x00"), []string{"display_name"}},
		{"user display name 70 KB", "POST", "/users", with(user, "display_name", long(70000)), []string{"display_name"}},
		{"token name NUL", "POST", "/tokens", with(token, "name", "ci\x00"), []string{"name"}},

		// Query parameters, path parameters and dates.
		{"limit beyond int64", "GET", "/messages?limit=99999999999999999999", nil, []string{"limit", "500"}},
		{"limit negative", "GET", "/providers?limit=-1", nil, []string{"limit"}},
		{"since not a date", "GET", "/messages?since=yesterday", nil, []string{"since", "RFC 3339", "yesterday"}},
		{"until not a date", "GET", "/deliveries?until=2026-13-01", nil, []string{"until", "RFC 3339"}},
		{"audit since", "GET", "/audit?since=12%2F03%2F2026", nil, []string{"since", "RFC 3339"}},
		{"since after until", "GET", "/messages?since=2026-12-03T14:00:00Z&until=2026-12-01T00:00:00Z", nil, []string{"since", "until"}},
		{"cursor", "GET", "/providers?cursor=x", nil, []string{"cursor"}},
		{"message cursor", "GET", "/messages?cursor=x", nil, []string{"cursor", "next_cursor"}},
		{"delivery cursor", "GET", "/deliveries?cursor=x", nil, []string{"cursor", "next_cursor"}},
		{"audit cursor", "GET", "/audit?cursor=x", nil, []string{"cursor", "next_cursor"}},
		{"stats hours", "GET", "/stats?hours=99999999999999999999", nil, []string{"hours"}},
		{"version", "GET", "/providers/" + p.ID + "/versions/x", nil, []string{"version"}},
		{"replay since text", "POST", "/endpoints/" + ep.ID + "/replay", []byte(`{"since": "yesterday"}`), []string{"since", "RFC 3339", "yesterday"}},
		{"replay since number", "POST", "/endpoints/" + ep.ID + "/replay", []byte(`{"since": 5}`), []string{"since", "a string", "a number"}},
		{"replay until layout", "POST", "/endpoints/" + ep.ID + "/replay", []byte(`{"until": "2026-12-03 14:00"}`), []string{"until", "RFC 3339"}},
		{"replay range", "POST", "/endpoints/" + ep.ID + "/replay", []byte(`{"since": "2026-12-03T14:00:00Z", "until": "2026-12-01T00:00:00Z"}`), []string{"since", "until"}},
		{"login array", "POST", "/login", []byte(`[]`), []string{"JSON object"}},
	}
	h := http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := in.do(tc.method, "/api/v1"+tc.path, tc.body, h)
			if code != http.StatusBadRequest {
				t.Fatalf("%s %s: status %d, want 400: %.300s", tc.method, tc.path, code, body)
			}
			checkJSONHeaders(t, hdr)
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Fatalf("answer is not {\"error\": ...}: %.300s", body)
			}
			for _, w := range tc.want {
				if !strings.Contains(e.Error, w) {
					t.Errorf("error %q should say %q", e.Error, w)
				}
			}
			for _, g := range goSpeak {
				if strings.Contains(e.Error, g) {
					t.Errorf("error %q speaks Go (%q)", e.Error, g)
				}
			}
			if strings.HasSuffix(e.Error, "unexpected EOF") {
				t.Errorf("error %q is a bare decoder error", e.Error)
			}
			if len(e.Error) > 1000 {
				t.Errorf("error is %d bytes long: it must not echo the input whole", len(e.Error))
			}
		})
	}
}

// TestJSONAnswersCarrySafetyHeaders: answers of every kind (success, not
// found, unauthorised, the login, an unknown path) carry nosniff and
// no-store.
func TestJSONAnswersCarrySafetyHeaders(t *testing.T) {
	t.Parallel()
	in := start(t)
	auth := http.Header{"Authorization": {"Bearer " + testToken}}
	for _, r := range []struct {
		method, path string
		header       http.Header
		want         int
	}{
		{"GET", "/api/v1/providers", auth, http.StatusOK},
		{"GET", "/api/v1/providers/nope", auth, http.StatusNotFound},
		{"GET", "/api/v1/providers", nil, http.StatusUnauthorized},
		{"GET", "/api/v1/no-such-route", auth, http.StatusNotFound},
		{"POST", "/api/v1/login", nil, http.StatusUnsupportedMediaType}, // JSON only
		{"GET", "/healthz", nil, http.StatusOK},
		{"GET", "/readyz", nil, http.StatusOK},
	} {
		code, body, hdr := in.do(r.method, r.path, nil, r.header)
		if code != r.want {
			t.Errorf("%s %s: status %d, want %d: %s", r.method, r.path, code, r.want, body)
			continue
		}
		t.Run(r.method+r.path, func(t *testing.T) { checkJSONHeaders(t, hdr) })
	}
}

func checkJSONHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
}
