package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// leakToken is a provider secret the scripts below try to leak.
const leakToken = "glpat-Zq7xLeakMe-8842"

// An operator may dry-run the saved scripts, not unsaved ones: running
// new code against the provider's secrets is an editor's power. Whoever
// runs it, no secret value comes back in a dry run's answer, and none is
// recorded in a real run's logs, errors or summary (issue 10, finding 2).
func TestDryRunRolesAndSecretRedaction(t *testing.T) {
	t.Parallel()
	in := start(t)
	tokens := map[string]string{"admin": testToken}
	for _, role := range []string{"viewer", "operator", "editor"} {
		_, tokens[role] = in.user("dry-"+role, role)
	}
	p := in.provider("gitlab", `LOG.info('match with ' + PROPERTIES.token); LOG.setMessage('seen ' + PROPERTIES.token); return true`,
		map[string]any{"secrets": map[string]string{"token": leakToken}, "properties": map[string]string{"team": "infra"}})
	in.function(p.ID, "saved", "leak", `
		LOG.info('token=' + PROPERTIES.token, {t: PROPERTIES.token});
		if (PAYLOAD.fail) throw new Error('bad ' + PROPERTIES.token);
		return {t: PROPERTIES.token, team: PROPERTIES.team}`)
	_, ok := in.send("leak", []byte(`{"fail": false}`), true, http.Header{"X-Gitlab-Token": {leakToken}})
	_, failed := in.send("leak", []byte(`{"fail": true}`), true, nil)

	// The real runs recorded no secret, whoever reads them.
	for _, id := range []string{ok.ID, failed.ID} {
		for _, role := range []string{"operator", "editor", "admin"} {
			code, body := in.as(tokens[role], "GET", "/messages/"+id, nil, nil)
			if code != http.StatusOK || strings.Contains(string(body), leakToken) {
				t.Errorf("GET /messages/%s as %s: %d, holds the secret: %s", id, role, code, body)
			}
			if !strings.Contains(string(body), "[secret:token]") {
				t.Errorf("GET /messages/%s as %s: no [secret:token] marker: %s", id, role, body)
			}
		}
	}
	code, body := in.as(tokens["operator"], "GET", "/messages?limit=10", nil, nil)
	if code != http.StatusOK || strings.Contains(string(body), leakToken) {
		t.Errorf("message list: %d %s", code, body)
	}

	leaky := `
		LOG.info('plain ' + PROPERTIES.token);
		LOG.warn(JSON.stringify(PROPERTIES));
		LOG.setMessage('summary ' + PROPERTIES.token);
		HTTP.request({url: 'https://ci.example.com/x?t=' + encodeURIComponent(PROPERTIES.token), method: 'POST',
			headers: {'X-Custom': PROPERTIES.token}, body: {t: PROPERTIES.token}});
		NOTIFY.send('leak', {title: 'x' + PROPERTIES.token + 'y'});
		if (PAYLOAD.fail) throw new Error('thrown ' + PROPERTIES.token);
		return {direct: PROPERTIES.token, nested: ['<' + PROPERTIES.token + '>'], [PROPERTIES.token]: 1}`
	unsaved := []map[string]any{
		{"provider_id": p.ID, "script": leaky},
		{"provider_id": p.ID, "match_script": `LOG.info(PROPERTIES.token); throw new Error('m ' + PROPERTIES.token)`},
	}
	for _, role := range []string{"viewer", "operator", "editor", "admin"} {
		for _, id := range []string{ok.ID, failed.ID} {
			// The saved scripts: every role that operates.
			code, body := in.as(tokens[role], "POST", "/messages/"+id+"/dry-run", nil, nil)
			want := map[string]int{"viewer": 403}[role]
			if want == 0 {
				want = http.StatusOK
			}
			if code != want {
				t.Fatalf("dry run of the saved scripts as %s: %d %s, want %d", role, code, body, want)
			}
			if code == http.StatusOK && (strings.Contains(string(body), leakToken) || !strings.Contains(string(body), "[secret:token]")) {
				t.Errorf("dry run of the saved scripts as %s leaks or lacks the marker: %s", role, body)
			}
			// Unsaved scripts: editors and admins only.
			for _, opts := range unsaved {
				code, body := in.as(tokens[role], "POST", "/messages/"+id+"/dry-run", jsonBody(t, opts), nil)
				switch role {
				case "viewer", "operator":
					if code != http.StatusForbidden || (role == "operator" && !strings.Contains(string(body), "editor")) {
						t.Errorf("unsaved dry run as %s: %d %s, want 403 saying the editor role is needed", role, code, body)
					}
					continue
				}
				if code != http.StatusOK {
					t.Fatalf("unsaved dry run as %s: %d %s", role, code, body)
				}
				if strings.Contains(string(body), leakToken) || strings.Contains(string(body), "glpat-Zq7xLeakMe") {
					t.Errorf("unsaved dry run as %s leaks the secret: %s", role, body)
				}
				var r dryRunAnswer
				if err := json.Unmarshal(body, &r); err != nil {
					t.Fatal(err)
				}
				if _, isScript := opts["script"]; isScript && strings.Count(string(body), "[secret:token]") < 8 {
					t.Errorf("unsaved dry run as %s: fewer markers than leaks: %s", role, body)
				}
			}
		}
	}
}

// headerSink records the headers of every request it receives.
func headerSink(t *testing.T) (*httptest.Server, <-chan http.Header) {
	t.Helper()
	got := make(chan http.Header, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// receive waits for the next request's headers.
func receive(t *testing.T, got <-chan http.Header) http.Header {
	t.Helper()
	select {
	case h := <-got:
		return h
	case <-time.After(15 * time.Second):
		t.Fatal("no request within 15s")
		return nil
	}
}

// One rule hides credential-like header values everywhere (callbacks shown
// by the deliveries API included), and an endpoint's secret headers and
// cookies are write-only: sent, never returned (issue 10, finding 7).
func TestCredentialHeadersRedactedAndSecretHeadersSealed(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	_, operator := in.user("hdr-operator", "operator")
	_, editor := in.user("hdr-editor", "editor")
	srv, got := headerSink(t)

	// A script's callback with credentials in custom headers.
	p := in.provider("any", "return true")
	in.function(p.ID, "cb", "cb", `NOTIFY.webhook({url: '`+srv.URL+`/cb?access_token=cb-query-3&x=plain', headers: {'X-Auth-Token': 'cb-auth-token-1', 'Private-Token': 'cb-private-2', 'X-Trace': 'trace-ok'}})`)
	if code, a := in.send("cb", []byte(`{}`), true, nil); code != http.StatusOK || a.Status != "SUCCESS" {
		t.Fatalf("webhook: %d %+v", code, a)
	}
	if h := receive(t, got); h.Get("X-Auth-Token") != "cb-auth-token-1" || h.Get("Private-Token") != "cb-private-2" {
		t.Fatalf("callback sent without its headers: %v", h)
	}
	var ds []delivery
	eventually(t, "the callback recorded", func() bool { ds = in.deliveries("status=SUCCESS"); return len(ds) == 1 })
	for _, tok := range []string{operator, editor, testToken} {
		for _, path := range []string{"/deliveries/" + ds[0].ID, "/deliveries"} {
			code, body := in.as(tok, "GET", path, nil, nil)
			if code != http.StatusOK || strings.Contains(string(body), "cb-auth-token-1") || strings.Contains(string(body), "cb-private-2") || strings.Contains(string(body), "cb-query-3") {
				t.Errorf("GET %s: %d, shows a callback credential: %s", path, code, body)
			}
			if path != "/deliveries" && !strings.Contains(string(body), "trace-ok") {
				t.Errorf("GET %s: the plain header is gone: %s", path, body)
			}
		}
	}

	// An AMMDS-style endpoint: a bearer token in headers, a key in a
	// custom header marked secret, a session cookie.
	secrets := []string{"Bearer ammds-bearer-9", "custom-key-7", "cookie-sid-5"}
	e := in.endpoint(map[string]any{"name": "ammds", "url": srv.URL + "/ammds", "event_types": []string{"*"},
		"headers":        map[string]string{"Authorization": secrets[0], "X-Custom-Key": secrets[1], "X-Static": "static-ok"},
		"secret_headers": []string{"x-custom-key"},
		"cookies":        map[string]string{"sid": secrets[2]}})
	check := func(what string, body []byte) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(body), strings.TrimPrefix(s, "Bearer ")) {
				t.Errorf("%s shows %q: %s", what, s, body)
			}
		}
		var v struct {
			Headers       map[string]string `json:"headers"`
			SecretHeaders []string          `json:"secret_headers"`
			Cookies       map[string]string `json:"cookies"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if v.Headers["X-Static"] != "static-ok" || v.Headers["Authorization"] != "[secret]" || v.Headers["X-Custom-Key"] != "[secret]" ||
			v.Cookies["sid"] != "[secret]" || strings.Join(v.SecretHeaders, ",") != "Authorization,X-Custom-Key" {
			t.Errorf("%s: %s", what, body)
		}
	}
	check("POST /endpoints", e.Raw)
	for _, tok := range []string{operator, editor, testToken} {
		code, body := in.as(tok, "GET", "/endpoints/"+e.ID, nil, nil)
		if code != http.StatusOK {
			t.Fatalf("GET endpoint: %d %s", code, body)
		}
		check("GET /endpoints/{id}", body)
	}
	// Sent with the real values.
	deliver := func() http.Header {
		t.Helper()
		in.api("POST", "/events", map[string]any{"type": "t.x", "title": "x"}, http.StatusAccepted, nil)
		return receive(t, got)
	}
	if h := deliver(); h.Get("Authorization") != secrets[0] || h.Get("X-Custom-Key") != secrets[1] || h.Get("Cookie") != "sid="+secrets[2] || h.Get("X-Static") != "static-ok" {
		t.Fatalf("endpoint request headers: %v", h)
	}
	// An edit that sends back what it was shown keeps the stored values;
	// a new value replaces one.
	var shown map[string]any
	_, body := in.as(editor, "GET", "/endpoints/"+e.ID, nil, nil)
	if err := json.Unmarshal(body, &shown); err != nil {
		t.Fatal(err)
	}
	hdrs := shown["headers"].(map[string]any)
	hdrs["X-Static"] = "static-2"
	raw := in.api("PUT", "/endpoints/"+e.ID, map[string]any{"headers": hdrs, "cookies": shown["cookies"], "secret_headers": shown["secret_headers"]}, http.StatusOK, nil)
	if strings.Contains(string(raw), "ammds-bearer-9") {
		t.Fatalf("PUT answer: %s", raw)
	}
	if h := deliver(); h.Get("Authorization") != secrets[0] || h.Get("X-Custom-Key") != secrets[1] || h.Get("Cookie") != "sid="+secrets[2] || h.Get("X-Static") != "static-2" {
		t.Fatalf("after an edit that kept the secrets: %v", h)
	}
	hdrs["Authorization"] = "Bearer rotated-3"
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"headers": hdrs}, http.StatusOK, nil)
	if h := deliver(); h.Get("Authorization") != "Bearer rotated-3" || h.Get("X-Custom-Key") != secrets[1] {
		t.Fatalf("after a new token: %v", h)
	}
	// The marker for a header that has no stored value is refused.
	resp := in.api("PUT", "/endpoints/"+e.ID, map[string]any{"headers": map[string]string{"X-New-Token": "[secret]"}}, http.StatusBadRequest, nil)
	if !strings.Contains(string(resp), "X-New-Token") {
		t.Fatalf("marker without a value: %s", resp)
	}
}

// Unmarking a secret header does not reveal its stored value: it takes a
// new value in the same request.
func TestUnmarkingASecretHeaderNeedsANewValue(t *testing.T) {
	t.Parallel()
	in := start(t)
	var ep struct {
		ID      string            `json:"id"`
		Headers map[string]string `json:"headers"`
	}
	in.api("POST", "/endpoints", map[string]any{"name": "e", "url": "https://example.com/hook", "event_types": []string{"*"},
		"headers": map[string]string{"X-Key": "k1-very-secret"}, "secret_headers": []string{"X-Key"}}, 201, &ep)
	for _, body := range []map[string]any{
		{"secret_headers": []string{}},
		{"secret_headers": []string{}, "headers": map[string]string{"X-Key": "[secret]"}},
	} {
		b := in.api("PUT", "/endpoints/"+ep.ID, body, 400, nil)
		if !strings.Contains(string(b), "send its new value") || strings.Contains(string(b), "k1-very-secret") {
			t.Errorf("PUT %v: %s", body, b)
		}
	}
	in.api("GET", "/endpoints/"+ep.ID, nil, 200, &ep)
	if ep.Headers["X-Key"] != "[secret]" {
		t.Fatalf("after refused unmarking: %q", ep.Headers["X-Key"])
	}
	// With a new value it becomes a plain header.
	in.api("PUT", "/endpoints/"+ep.ID, map[string]any{"secret_headers": []string{}, "headers": map[string]string{"X-Key": "public"}}, 200, &ep)
	if ep.Headers["X-Key"] != "public" {
		t.Fatalf("unmarked with a new value: %q", ep.Headers["X-Key"])
	}
}

// Secrets holding characters that JavaScript escapes differently from Go
// (<, >, &, !, ', (, ), *) are still found in what a run records and in
// the sync answer an anonymous sender gets.
func TestSecretsRedactedInJavaScriptEscapes(t *testing.T) {
	t.Parallel()
	in := start(t)
	secrets := map[string]string{"s1": `Tok "quoted" <b>&amp; sp!(x)`, "q": `p&ss"wd`, "b": `a<b\c`}
	p := in.provider("any", "return true", map[string]any{"secrets": secrets})
	in.function(p.ID, "leak", "leak", `LOG.info(JSON.stringify(PROPERTIES)); LOG.info(encodeURIComponent(PROPERTIES.s1)); LOG.info(PROPERTIES);
		LOG.setMessage(JSON.stringify(PROPERTIES)); throw new Error('boom ' + JSON.stringify(PROPERTIES.s1) + encodeURI(PROPERTIES.q))`)
	code, body, _ := in.do("POST", "/webhooks/v1/leak", []byte(`{}`), http.Header{"Flex-Sync-Webhook": {"true"}})
	if code != 500 {
		t.Fatalf("sync: %d %s", code, body)
	}
	var a struct{ ID string }
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	detail := in.api("GET", "/messages/"+a.ID, nil, 200, nil)
	for _, where := range []string{string(body), string(detail)} {
		for name, v := range secrets {
			for _, part := range []string{v, `Tok \"quoted\" <b>`, "Tok%20%22quoted%22", `p&ss\"wd`, `a<b\\c`, "p&ss%22wd"} {
				if strings.Contains(where, part) {
					t.Errorf("secret %s (%q) leaks as %q in %s", name, v, part, where)
				}
			}
		}
	}
}

// Credential-like query parameters of an inbound webhook (?token=,
// ?access_token=) are hidden like credential-like headers.
func TestInboundQueryCredentialsRedacted(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.provider("any", "return true")
	code, a := in.send("q?access_token=q-secret-1&token=q-secret-2&page=2", []byte(`{}`), false, nil)
	if code != http.StatusAccepted {
		t.Fatalf("send: %d", code)
	}
	m := in.message(a.ID)
	if got := m.Query["access_token"]; len(got) != 1 || got[0] != "[redacted]" || m.Query["token"][0] != "[redacted]" || m.Query["page"][0] != "2" {
		t.Fatalf("query shown: %v", m.Query)
	}
}
