package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/access"
)

const testPassword = "correct horse battery"

type userView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// user creates a user with the admin token and returns it with a personal
// API token.
func (in *instance) user(name, role string) (userView, string) {
	in.t.Helper()
	var u userView
	in.api("POST", "/users", map[string]any{"name": name, "role": role, "password": testPassword}, http.StatusCreated, &u)
	var tok struct {
		Token string `json:"token"`
	}
	in.api("POST", "/tokens", map[string]any{"name": "tests", "user_id": u.ID}, http.StatusCreated, &tok)
	return u, tok.Token
}

// as calls the API with another bearer token.
func (in *instance) as(token, method, path string, body []byte, header http.Header) (int, []byte) {
	in.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	for k, v := range header {
		h[k] = v
	}
	code, b, _ := in.do(method, "/api/v1"+path, body, h)
	return code, b
}

// TestEveryRoleAgainstEveryRoute calls every admin API route with a token
// of every role: a role without the route's permission gets 403, a role
// with it never does.
func TestEveryRoleAgainstEveryRoute(t *testing.T) {
	t.Parallel()
	in := start(t)
	tokens := map[string]string{"admin-token": testToken}
	roles := map[string]string{"admin-token": "admin"}
	for _, role := range access.Roles {
		_, tok := in.user("u-"+role, role)
		tokens[role], roles[role] = tok, role
	}
	fake := uuid.Must(uuid.NewV7()).String()
	n := 0
	for _, r := range server.Routes(in.srv) {
		if r.Path == "/logout" {
			continue // would end nothing for a token; tested with sessions
		}
		path := strings.NewReplacer(":id", fake, ":version", "1", ":name", "github").Replace(r.Path)
		for who, tok := range tokens {
			code, body := in.as(tok, r.Method, path, []byte(`{}`), nil)
			allowed := access.Allows(roles[who], r.Permission)
			if allowed && code == http.StatusForbidden {
				t.Errorf("%s %s as %s: 403 %s, but the role holds %s", r.Method, r.Path, who, body, r.Permission)
			}
			if !allowed && code != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d %s, want 403 (needs %s)", r.Method, r.Path, who, code, body, r.Permission)
			}
			n++
		}
	}
	if n < 5*45 {
		t.Fatalf("only %d role x route calls", n)
	}
	// Without credentials: 401 everywhere.
	for _, r := range server.Routes(in.srv) {
		code, _, _ := in.do(r.Method, "/api/v1"+r.Path, nil, nil)
		if code != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d", r.Method, r.Path, code)
		}
	}
}

func TestViewerSeesNoPayloadHeadersOrLogs(t *testing.T) {
	t.Parallel()
	in := start(t)
	_, viewer := in.user("vic", "viewer")
	_, operator := in.user("oli", "operator")
	p := in.provider("any", `LOG.info("match log"); return true`)
	in.function(p.ID, "f", "hook", `LOG.info("secret-ish log"); throw new Error("boom with token abc")`)
	_, a := in.send("hook?key=s3cret", []byte(`{"card": "4111"}`), true, http.Header{"X-Api-Key": {"k-123"}})

	code, body := in.as(viewer, "GET", "/messages/"+a.ID, nil, nil)
	if code != 200 || !strings.Contains(string(body), `"FAILED"`) {
		t.Fatalf("viewer detail: %d %s", code, body)
	}
	for _, secret := range []string{"k-123", "s3cret", "secret-ish log", "match log", "boom with token"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("viewer sees %q: %s", secret, body)
		}
	}
	if code, _ := in.as(viewer, "GET", "/messages/"+a.ID+"/payload", nil, nil); code != http.StatusForbidden {
		t.Fatalf("viewer payload: %d", code)
	}
	// Operators see headers, logs and errors, but no credential's value.
	code, body = in.as(operator, "GET", "/messages/"+a.ID, nil, nil)
	if code != 200 || strings.Contains(string(body), "k-123") || !strings.Contains(string(body), `"x-api-key":"[redacted]"`) ||
		!strings.Contains(string(body), "secret-ish log") {
		t.Fatalf("operator detail: %d %s", code, body)
	}
	if code, body := in.as(operator, "GET", "/messages/"+a.ID+"/payload", nil, nil); code != 200 || string(body) != `{"card": "4111"}` {
		t.Fatalf("operator payload: %d %s", code, body)
	}
}

// session signs in and returns the cookie header and the CSRF token.
func (in *instance) session(name, password string) (http.Header, string) {
	in.t.Helper()
	code, body, h := in.do("POST", "/api/v1/login", jsonBody(in.t, map[string]string{"name": name, "password": password}),
		http.Header{"Content-Type": {"application/json"}})
	if code != http.StatusOK {
		in.t.Fatalf("login %s: %d %s", name, code, body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
		Role string `json:"role"`
	}
	if err := jsonUnmarshal(body, &me); err != nil || me.CSRF == "" {
		in.t.Fatalf("login answer %s: %v", body, err)
	}
	cookie := h.Get("Set-Cookie")
	for _, want := range []string{"switchyard_session=", "HttpOnly", "SameSite=Strict", "Secure", "Path=/"} {
		if !strings.Contains(cookie, want) {
			in.t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
	value, _, _ := strings.Cut(cookie, ";")
	return http.Header{"Cookie": {value}, "Content-Type": {"application/json"}}, me.CSRF
}

func TestSessionsAndCSRF(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.user("ed", "editor")
	cookie, csrf := in.session("ED", testPassword) // names are case-insensitive

	code, body, _ := in.do("GET", "/api/v1/me", nil, cookie)
	if code != 200 || !strings.Contains(string(body), `"role":"editor"`) || !strings.Contains(string(body), csrf) {
		t.Fatalf("me: %d %s", code, body)
	}
	provider := jsonBody(t, map[string]any{"name": "p", "match_script": "return true"})
	// A change without the CSRF token is refused; with it, made.
	if code, body, _ := in.do("POST", "/api/v1/providers", provider, cookie); code != http.StatusForbidden || !strings.Contains(string(body), "X-CSRF-Token") {
		t.Fatalf("without CSRF: %d %s", code, body)
	}
	withCSRF := cookie.Clone()
	withCSRF.Set("X-CSRF-Token", csrf)
	if code, body, _ := in.do("POST", "/api/v1/providers", provider, withCSRF); code != http.StatusCreated {
		t.Fatalf("with CSRF: %d %s", code, body)
	}
	wrong := withCSRF.Clone()
	wrong.Set("X-CSRF-Token", csrf+"x")
	if code, _, _ := in.do("POST", "/api/v1/providers", provider, wrong); code != http.StatusForbidden {
		t.Fatalf("wrong CSRF: %d", code)
	}
	cross := withCSRF.Clone()
	cross.Set("Origin", "https://evil.example")
	if code, _, _ := in.do("POST", "/api/v1/providers", provider, cross); code != http.StatusForbidden {
		t.Fatalf("cross-origin: %d", code)
	}
	// Logout ends the session.
	if code, _, _ := in.do("POST", "/api/v1/logout", nil, withCSRF); code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	if code, _, _ := in.do("GET", "/api/v1/me", nil, cookie); code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", code)
	}
}

func TestLoginFailuresAndRateLimit(t *testing.T) {
	t.Parallel()
	in := start(t)
	// A stopped clock: the buckets must not refill while slow password
	// checks (bcrypt under -race on a busy machine) run.
	frozen := time.Now()
	server.SetLoginLimiter(in.srv, 0, func() time.Time { return frozen })
	u, tok := in.user("dora", "operator")
	bad := jsonBody(t, map[string]string{"name": "dora", "password": "wrong password!"})
	h := http.Header{"Content-Type": {"application/json"}}
	code, body, _ := in.do("POST", "/api/v1/login", bad, h)
	if code != http.StatusUnauthorized || !strings.Contains(string(body), "wrong name or password") {
		t.Fatalf("wrong password: %d %s", code, body)
	}
	code, body, _ = in.do("POST", "/api/v1/login", jsonBody(t, map[string]string{"name": "nobody", "password": "x"}), h)
	if code != http.StatusUnauthorized || !strings.Contains(string(body), "wrong name or password") {
		t.Fatalf("unknown name: %d %s", code, body)
	}
	limited := false
	for range 12 {
		if code, _, hdr := in.do("POST", "/api/v1/login", bad, h); code == http.StatusTooManyRequests {
			limited = hdr.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Fatal("12 more failed sign-ins were not rate limited")
	}
	// A disabled user's token stops working.
	in.api("PUT", "/users/"+u.ID, map[string]any{"disabled": true}, http.StatusOK, nil)
	if code, _ := in.as(tok, "GET", "/messages", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("disabled user's token: %d", code)
	}
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	in := start(t)
	_, editor := in.user("eve", "editor")
	_, viewer := in.user("val", "viewer")
	code, body := in.as(editor, "POST", "/providers", jsonBody(t, map[string]any{"name": "GitHub", "match_script": "return true"}), nil)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var p struct{ ID string }
	jsonUnmarshal(body, &p)
	code, body = in.as(editor, "POST", "/endpoints", jsonBody(t, map[string]any{"name": "e", "url": "https://example.com", "event_types": []string{"*"}}), nil)
	if code != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", code, body)
	}
	var e struct{ ID string }
	jsonUnmarshal(body, &e)
	in.as(editor, "PUT", "/endpoints/"+e.ID, []byte(`{"enabled": false}`), nil)
	in.as(editor, "GET", "/providers", nil, nil) // reads are not audited

	var out struct {
		Items []struct {
			Actor  string `json:"actor"`
			Action string `json:"action"`
			Target string `json:"target"`
			Detail string `json:"detail"`
		} `json:"items"`
	}
	in.api("GET", "/audit?actor=eve", nil, http.StatusOK, &out)
	var got []string
	for _, it := range out.Items {
		got = append(got, it.Action+" "+it.Target+" "+it.Detail)
	}
	want := []string{"endpoint.disable " + e.ID + " e", "endpoint.create " + e.ID + " e", "provider.create " + p.ID + " GitHub"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit:\n got %q\nwant %q", got, want)
	}
	in.api("GET", "/audit?action=user.", nil, http.StatusOK, &out)
	var actions []string
	for _, it := range out.Items {
		actions = append(actions, it.Actor+":"+it.Action)
	}
	if strings.Join(actions, ",") != "admin-token:user.create,admin-token:user.create" {
		t.Fatalf("user actions (newest first): %v", actions)
	}
	if code, _ := in.as(viewer, "GET", "/audit", nil, nil); code != http.StatusForbidden {
		t.Fatalf("viewer reads the audit log: %d", code)
	}
}

func TestViewerSeesNoEndpointCredentials(t *testing.T) {
	t.Parallel()
	in := start(t)
	_, viewer := in.user("vera", "viewer")
	in.api("POST", "/endpoints", map[string]any{"name": "slack", "url": "https://hooks.slack.com/services/T0/B0/SECRETPATH",
		"event_types": []string{"*"}, "headers": map[string]string{"X-Api-Key": "k-999"}, "cookies": map[string]string{"s": "c-888"}}, http.StatusCreated, nil)
	code, body := in.as(viewer, "GET", "/endpoints", nil, nil)
	if code != 200 || !strings.Contains(string(body), "hooks.slack.com") {
		t.Fatalf("viewer list: %d %s", code, body)
	}
	for _, secret := range []string{"SECRETPATH", "k-999", "c-888"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("viewer sees %q: %s", secret, body)
		}
	}
}

func TestOldAuditEntriesArePurged(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) {
		o.AuditRetention = 300 * time.Millisecond
		o.PurgeInterval = 50 * time.Millisecond
	})
	in.provider("p", "return true")
	var out struct {
		Items []struct{ Action string } `json:"items"`
	}
	in.api("GET", "/audit", nil, http.StatusOK, &out)
	if len(out.Items) != 1 {
		t.Fatalf("audit before the purge: %+v", out.Items)
	}
	eventually(t, "the entry purged", func() bool {
		in.api("GET", "/audit", nil, http.StatusOK, &out)
		return len(out.Items) == 0
	})
}

// A 401 says which credential failed and why.
func TestUnauthorizedSaysWhy(t *testing.T) {
	t.Parallel()
	in := start(t)
	for _, c := range []struct {
		header http.Header
		want   string
	}{
		{nil, "sign in, or send a bearer token"},
		{http.Header{"Authorization": {"Basic YTpi"}}, "the Authorization header must be"},
		{http.Header{"Authorization": {"Bearer nope"}}, "this bearer token is not valid"},
		{http.Header{"Authorization": {"Bearer sy_pat_revokedormistyped"}}, "this API token is not valid: it was revoked, or it is mistyped"},
		{http.Header{"Cookie": {"switchyard_session=gone"}}, "your session has ended"},
	} {
		code, body, h := in.do("GET", "/api/v1/providers", nil, c.header)
		if code != http.StatusUnauthorized || !strings.Contains(string(body), c.want) || h.Get("WWW-Authenticate") == "" {
			t.Errorf("%v: %d %s (WWW-Authenticate %q)", c.header, code, body, h.Get("WWW-Authenticate"))
		}
	}
}

// TestCreateUserNeedsRole: POST /users makes no viewer of a body without
// a role; it says which roles there are. PUT keeps the role it does not
// name.
func TestCreateUserNeedsRole(t *testing.T) {
	t.Parallel()
	in := start(t)
	for _, body := range []map[string]any{
		{"name": "ann", "password": testPassword},
		{"name": "ann", "password": testPassword, "role": ""},
	} {
		b := in.api("POST", "/users", body, http.StatusBadRequest, nil)
		if !strings.Contains(string(b), "role is required: one of admin, editor, operator, viewer") {
			t.Errorf("POST /users %v: %s", body, b)
		}
	}
	u, _ := in.user("ann", "editor")
	var got userView
	in.api("PUT", "/users/"+u.ID, map[string]any{"display_name": "Ann"}, http.StatusOK, &got)
	if got.Role != "editor" {
		t.Errorf("PUT without a role changed it: %+v", got)
	}
}
