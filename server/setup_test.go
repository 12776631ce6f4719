package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// setupBody is a POST /api/v1/setup body.
func setupBody(t *testing.T, token, name, password string) []byte {
	return jsonBody(t, map[string]string{"admin_token": token, "name": name, "password": password})
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// setupNeeded asks GET /api/v1/setup, without credentials.
func (in *instance) setupNeeded() bool {
	in.t.Helper()
	code, body, _ := in.do("GET", "/api/v1/setup", nil, nil)
	var st struct {
		Needed *bool `json:"needed"`
	}
	if code != http.StatusOK || jsonUnmarshal(body, &st) != nil || st.Needed == nil {
		in.t.Fatalf("GET /setup: %d %s", code, body)
	}
	return *st.Needed
}

func TestSetupCreatesTheFirstAdmin(t *testing.T) {
	t.Parallel()
	in := start(t)
	if !in.setupNeeded() {
		t.Fatal("a store without users: setup not needed")
	}

	refused := []struct {
		name   string
		body   []byte
		header http.Header
		status int
		says   string
	}{
		{"not JSON", []byte("admin_token=x"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, http.StatusUnsupportedMediaType, "JSON"},
		{"another site", setupBody(t, testToken, "ada", testPassword), http.Header{"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}}, http.StatusForbidden, "cross-origin"},
		{"wrong token", setupBody(t, "not-the-token", "ada", testPassword), jsonHeader, http.StatusUnauthorized, "admin_token: "},
		{"no token", setupBody(t, "", "ada", testPassword), jsonHeader, http.StatusUnauthorized, "admin_token: "},
		{"weak password", setupBody(t, testToken, "ada", "short"), jsonHeader, http.StatusBadRequest, "at least 10 characters"},
		{"bad name", setupBody(t, testToken, "a b", testPassword), jsonHeader, http.StatusBadRequest, "name may hold"},
		{"no name", setupBody(t, testToken, "", testPassword), jsonHeader, http.StatusBadRequest, "name is required"},
		{"unknown field", []byte(`{"admin_token": "x", "name": "ada", "password": "correct horse battery", "role": "viewer"}`), jsonHeader, http.StatusBadRequest, "role"},
	}
	for _, tc := range refused {
		code, body, _ := in.do("POST", "/api/v1/setup", tc.body, tc.header)
		if code != tc.status || !strings.Contains(string(body), tc.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tc.name, code, body, tc.status, tc.says)
		}
	}
	if !in.setupNeeded() {
		t.Fatal("refused setups made a user")
	}

	code, body, h := in.do("POST", "/api/v1/setup", setupBody(t, " "+testToken+"\n", "ada", testPassword), jsonHeader)
	if code != http.StatusCreated {
		t.Fatalf("setup: %d %s", code, body)
	}
	var me struct {
		Name        string   `json:"name"`
		Role        string   `json:"role"`
		Via         string   `json:"via"`
		CSRF        string   `json:"csrf_token"`
		Permissions []string `json:"permissions"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := jsonUnmarshal(body, &me); err != nil || me.Name != "ada" || me.Role != "admin" || me.Via != "session" || me.CSRF == "" ||
		!slices.Contains(me.Permissions, "admin") || me.User.ID == "" {
		t.Fatalf("setup answer: %s (%v)", body, err)
	}
	cookie := h.Get("Set-Cookie")
	for _, want := range []string{"switchyard_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
	// The cookie is a session of the new admin.
	code, body, _ = in.do("GET", "/api/v1/me", nil, http.Header{"Cookie": {strings.Split(cookie, ";")[0]}})
	if code != http.StatusOK || !strings.Contains(string(body), `"role":"admin"`) || !strings.Contains(string(body), `"name":"ada"`) {
		t.Fatalf("me with the setup's cookie: %d %s", code, body)
	}
	// And the admin signs in with the password chosen.
	in.session("ada", testPassword)

	if in.setupNeeded() {
		t.Fatal("setup still needed after it")
	}
	for _, token := range []string{testToken, "wrong"} {
		code, body, _ = in.do("POST", "/api/v1/setup", setupBody(t, token, "bob", testPassword), jsonHeader)
		if code != http.StatusConflict || !strings.Contains(string(body), "setup is done; sign in") {
			t.Fatalf("a second setup (token %q): %d %s", token, code, body)
		}
	}
	var users struct {
		Items []userView `json:"items"`
	}
	in.api("GET", "/users", nil, http.StatusOK, &users)
	if len(users.Items) != 1 || users.Items[0].Name != "ada" || users.Items[0].Role != "admin" {
		t.Fatalf("users: %+v", users.Items)
	}

	// Audited: the creation, by the new admin, and the wrong tokens.
	var audit struct {
		Items []struct {
			Actor  string `json:"actor"`
			Action string `json:"action"`
			Target string `json:"target"`
		} `json:"items"`
	}
	in.api("GET", "/audit?limit=100", nil, http.StatusOK, &audit)
	var created, failed int
	for _, e := range audit.Items {
		switch e.Action {
		case "user.setup":
			created++
			if e.Actor != "ada" || e.Target != me.User.ID {
				t.Errorf("user.setup entry: %+v", e)
			}
		case "user.setup_failed":
			failed++
		}
	}
	if created != 1 || failed != 2 {
		t.Fatalf("audit: %d user.setup, %d user.setup_failed: %+v", created, failed, audit.Items)
	}
}

func TestSetupNotNeededWithAUser(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.user("ada", "viewer")
	if in.setupNeeded() {
		t.Fatal("setup needed with a user")
	}
	code, body, _ := in.do("POST", "/api/v1/setup", setupBody(t, testToken, "eve", testPassword), jsonHeader)
	if code != http.StatusConflict {
		t.Fatalf("setup with a user: %d %s", code, body)
	}
}

// TestSetupWrongTokensAreLimited: guessing the admin token meets the
// sign-in limits; once limited, even the right token waits.
func TestSetupWrongTokensAreLimited(t *testing.T) {
	t.Parallel()
	in := start(t)
	frozen := time.Now()
	server.SetLoginLimiter(in.srv, 0, func() time.Time { return frozen })
	limited := false
	for i := range 12 {
		code, body, h := in.do("POST", "/api/v1/setup", setupBody(t, fmt.Sprintf("guess-%d", i), "ada", testPassword), jsonHeader)
		if code == http.StatusTooManyRequests {
			if h.Get("Retry-After") == "" {
				t.Fatalf("429 without Retry-After: %s", body)
			}
			limited = true
			break
		}
		if code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, code, body)
		}
	}
	if !limited {
		t.Fatal("12 wrong admin tokens were not limited")
	}
	code, body, _ := in.do("POST", "/api/v1/setup", setupBody(t, testToken, "ada", testPassword), jsonHeader)
	if code != http.StatusTooManyRequests {
		t.Fatalf("the right token while limited: %d %s", code, body)
	}
	if !in.setupNeeded() {
		t.Fatal("a limited setup made a user")
	}
}

// Wrong tokens from many addresses do not lock setup for the admin at
// another address: each address has its own allowance.
func TestSetupCannotBeLockedForEveryone(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") })
	frozen := time.Now()
	server.SetLoginLimiter(in.srv, 0, func() time.Time { return frozen })
	from := func(addr string) http.Header {
		return http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {addr}}
	}
	for i := range 40 {
		code, body, _ := in.do("POST", "/api/v1/setup", setupBody(t, "wrong", "ada", testPassword), from(fmt.Sprintf("203.0.113.%d", i+1)))
		if code != http.StatusUnauthorized {
			t.Fatalf("guess %d from its own address: %d %s", i, code, body)
		}
	}
	if code, body, _ := in.do("POST", "/api/v1/setup", setupBody(t, testToken, "ada", testPassword), from("198.51.100.7")); code != http.StatusCreated {
		t.Fatalf("the right token from another address after 40 guesses elsewhere: %d %s", code, body)
	}
}

// TestSetupRace: setups sent together to one node create exactly one
// user; every other one is told setup is done.
func TestSetupRace(t *testing.T) {
	t.Parallel()
	in := start(t)
	setupRace(t, in, in)
}

// TestPostgresSetupRaceOnTwoNodes: setups sent together to two nodes
// sharing a PostgreSQL store create exactly one user.
func TestPostgresSetupRaceOnTwoNodes(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	a, b := start(t, pg), start(t, pg)
	setupRace(t, a, b)
}

// setupRace sends setups to nodes a and b at once: one must answer 201
// and make the one user, the others 409.
func setupRace(t *testing.T, a, b *instance) {
	t.Helper()
	const n = 6
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		node := a
		if i%2 == 1 {
			node = b
		}
		wg.Go(func() {
			<-start
			codes[i], _, _ = node.do("POST", "/api/v1/setup", setupBody(t, testToken, fmt.Sprintf("admin-%d", i), testPassword), jsonHeader)
		})
	}
	close(start)
	wg.Wait()
	in := a
	created := 0
	for i, code := range codes {
		switch code {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("setup %d: %d", i, code)
		}
	}
	var users struct {
		Items []userView `json:"items"`
	}
	in.api("GET", "/users", nil, http.StatusOK, &users)
	if created != 1 || len(users.Items) != 1 || users.Items[0].Role != "admin" {
		t.Fatalf("%d setups answered 201; users: %+v", created, users.Items)
	}
}

// TestSetupOnAnotherNode: while another node holds the store's setup
// lock (it is creating the first user), a setup here is told to sign in
// and creates nothing; once released, setup works.
func TestSetupOnAnotherNode(t *testing.T) {
	t.Parallel()
	in := start(t)
	unlock, ok, err := server.HoldJob(in.srv, server.SetupLock)
	if err != nil || !ok {
		t.Fatalf("take the setup lock: %v %v", ok, err)
	}
	code, body, _ := in.do("POST", "/api/v1/setup", setupBody(t, testToken, "ada", testPassword), jsonHeader)
	if code != http.StatusConflict || !strings.Contains(string(body), "another node") {
		t.Fatalf("setup while another node holds the lock: %d %s", code, body)
	}
	if !in.setupNeeded() {
		t.Fatal("a setup that could not lock made a user")
	}
	unlock()
	if code, body, _ := in.do("POST", "/api/v1/setup", setupBody(t, testToken, "ada", testPassword), jsonHeader); code != http.StatusCreated {
		t.Fatalf("setup after the lock's release: %d %s", code, body)
	}
}

// TestEveryAPIRouteIsListed: the router serves under /api/v1 exactly the
// admin routes (which the permission tests walk) and the public ones.
func TestEveryAPIRouteIsListed(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.setupNeeded() // Run has started: stopping it now is a clean stop
	var want []string
	for _, r := range append(server.Routes(in.srv), server.PublicRoutes(in.srv)...) {
		want = append(want, r.Method+" /api/v1"+r.Path)
	}
	var got []string
	for _, r := range server.ServedRoutes(in.srv) {
		// (The group's own catch-all answers 404s, behind authentication.)
		if strings.Contains(r, " /api/v1/") && !strings.HasSuffix(r, "/*") {
			got = append(got, r)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, slices.Compact(want)) {
		t.Fatalf("served:\n%s\nlisted:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The public routes need no credential.
	for _, r := range server.PublicRoutes(in.srv) {
		if r.Permission != "" || r.Action != "" {
			t.Errorf("public route %s %s has a permission or an action", r.Method, r.Path)
		}
	}
}
