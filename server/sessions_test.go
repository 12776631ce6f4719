package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// withCSRF returns a session's headers with its CSRF token added.
func withCSRF(cookie http.Header, csrf string) http.Header {
	h := cookie.Clone()
	h.Set("X-CSRF-Token", csrf)
	return h
}

// TestUserChangesEndTheirSessions: a password change, a disable (even
// when undone), a role change and a delete each end every session of
// the user; the old cookie gets 401, for an admin action too.
func TestUserChangesEndTheirSessions(t *testing.T) {
	t.Parallel()
	in := start(t)
	put := func(id string, body map[string]any) { in.api("PUT", "/users/"+id, body, http.StatusOK, nil) }
	for _, tc := range []struct {
		name   string
		change func(id string)
	}{
		{"password", func(id string) { put(id, map[string]any{"password": "another long password"}) }},
		{"disable-enable", func(id string) {
			put(id, map[string]any{"disabled": true})
			put(id, map[string]any{"disabled": false})
		}},
		{"role", func(id string) { put(id, map[string]any{"role": "editor"}) }},
		{"delete", func(id string) { in.api("DELETE", "/users/"+id, nil, http.StatusNoContent, nil) }},
	} {
		u, _ := in.user("adm-"+tc.name, "admin")
		cookie, csrf := in.session(u.Name, testPassword)
		other, _ := in.session(u.Name, testPassword)
		adminAction := func(n int) (int, []byte) {
			body := jsonBody(t, map[string]any{"name": fmt.Sprintf("made-by-%s-%d", tc.name, n), "role": "viewer", "password": testPassword})
			code, b, _ := in.do("POST", "/api/v1/users", body, withCSRF(cookie, csrf))
			return code, b
		}
		if code, body := adminAction(1); code != http.StatusCreated {
			t.Fatalf("%s: an admin action through the session before the change: %d %s", tc.name, code, body)
		}
		tc.change(u.ID)
		for i, h := range []http.Header{cookie, other} {
			if code, body, _ := in.do("GET", "/api/v1/me", nil, h); code != http.StatusUnauthorized {
				t.Errorf("%s: session %d after the change: GET /me %d %s, want 401", tc.name, i, code, body)
			}
		}
		if code, body := adminAction(2); code != http.StatusUnauthorized {
			t.Errorf("%s: an admin action through the old session: %d %s, want 401", tc.name, code, body)
		}
	}
}

// TestOwnPasswordChangeKeepsTheCurrentSession: changing one's own
// password ends one's other sessions, not the one that made the change.
func TestOwnPasswordChangeKeepsTheCurrentSession(t *testing.T) {
	t.Parallel()
	in := start(t)
	u, _ := in.user("ada", "admin")
	here, csrf := in.session("ada", testPassword)
	elsewhere, _ := in.session("ada", testPassword)
	body := jsonBody(t, map[string]any{"password": "a brand new password"})
	if code, b, _ := in.do("PUT", "/api/v1/users/"+u.ID, body, withCSRF(here, csrf)); code != http.StatusOK {
		t.Fatalf("own password change: %d %s", code, b)
	}
	if code, b, _ := in.do("GET", "/api/v1/me", nil, here); code != http.StatusOK {
		t.Fatalf("the session that changed the password: %d %s", code, b)
	}
	if code, _, _ := in.do("GET", "/api/v1/me", nil, elsewhere); code != http.StatusUnauthorized {
		t.Fatalf("another session after the password change: %d, want 401", code)
	}
	in.session("ada", "a brand new password")
}

type sessionsView struct {
	Items []struct {
		ID        string    `json:"id"`
		Current   bool      `json:"current"`
		CreatedAt time.Time `json:"created_at"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"items"`
}

// TestEndingSessions: a user lists their sessions (the current one
// marked, no secret shown), ends one or all the others; another user
// cannot end them; an admin ends all of a user's sessions.
func TestEndingSessions(t *testing.T) {
	t.Parallel()
	in := start(t)
	sam, _ := in.user("sam", "operator")
	in.user("tim", "operator")
	a, csrfA := in.session("sam", testPassword)
	b, csrfB := in.session("sam", testPassword)
	c, _ := in.session("sam", testPassword)
	tim, csrfTim := in.session("tim", testPassword)
	works := func(h http.Header) bool {
		code, _, _ := in.do("GET", "/api/v1/me", nil, h)
		return code == http.StatusOK
	}

	code, raw, _ := in.do("GET", "/api/v1/sessions", nil, a)
	if code != http.StatusOK {
		t.Fatalf("list: %d %s", code, raw)
	}
	for _, secret := range []string{cookieValue(a), cookieValue(b), cookieValue(c), csrfA, csrfB, "csrf"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the session list shows a secret (%q): %s", secret, raw)
		}
	}
	var list sessionsView
	if err := jsonUnmarshal(raw, &list); err != nil || len(list.Items) != 3 {
		t.Fatalf("list: %s %v", raw, err)
	}
	current, others := "", []string{}
	for _, s := range list.Items {
		if s.ID == "" || s.CreatedAt.IsZero() || !s.ExpiresAt.After(s.CreatedAt) {
			t.Fatalf("listed session: %+v", s)
		}
		if s.Current {
			current = s.ID
		} else {
			others = append(others, s.ID)
		}
	}
	if current == "" || len(others) != 2 {
		t.Fatalf("want one current session and two others: %s", raw)
	}

	// Another user cannot end sam's session; a session cannot be ended
	// with GET or without the CSRF token.
	if code, body, _ := in.do("DELETE", "/api/v1/sessions/"+others[0], nil, withCSRF(tim, csrfTim)); code != http.StatusNotFound {
		t.Fatalf("tim ends sam's session: %d %s, want 404", code, body)
	}
	if code, _, _ := in.do("DELETE", "/api/v1/sessions/"+others[0], nil, a); code != http.StatusForbidden {
		t.Fatalf("ending a session without the CSRF token: %d, want 403", code)
	}
	if !works(b) || !works(c) {
		t.Fatal("refused attempts ended a session")
	}

	// Sam ends one other session, then all the others.
	if code, body, _ := in.do("DELETE", "/api/v1/sessions/"+others[0], nil, withCSRF(a, csrfA)); code != http.StatusNoContent {
		t.Fatalf("end one session: %d %s", code, body)
	}
	if n := btoi(works(b)) + btoi(works(c)); n != 1 {
		t.Fatalf("after ending one of two other sessions, %d still work", n)
	}
	code, raw, _ = in.do("POST", "/api/v1/sessions/end-others", nil, withCSRF(a, csrfA))
	if code != http.StatusOK || !strings.Contains(string(raw), `"ended":1`) {
		t.Fatalf("end the others: %d %s", code, raw)
	}
	if works(b) || works(c) || !works(a) {
		t.Fatalf("after end-others: a %v, b %v, c %v; want only a", works(a), works(b), works(c))
	}

	// An admin ends every session of sam; a non-admin may not.
	if code, _, _ := in.do("DELETE", "/api/v1/users/"+sam.ID+"/sessions", nil, withCSRF(tim, csrfTim)); code != http.StatusForbidden {
		t.Fatalf("a non-admin ends sam's sessions: %d, want 403", code)
	}
	var ended struct {
		Ended int `json:"ended"`
	}
	in.api("DELETE", "/users/"+sam.ID+"/sessions", nil, http.StatusOK, &ended)
	if ended.Ended != 1 || works(a) {
		t.Fatalf("admin ended %d sessions; sam's last one works: %v", ended.Ended, works(a))
	}
	if !works(tim) {
		t.Fatal("ending sam's sessions ended tim's")
	}
	var audit struct {
		Items []struct {
			Action string `json:"action"`
			Target string `json:"target"`
		} `json:"items"`
	}
	in.api("GET", "/audit?action=session.", nil, http.StatusOK, &audit)
	got := map[string]bool{}
	for _, e := range audit.Items {
		got[e.Action] = true
	}
	in.api("GET", "/audit?action=user.end_sessions", nil, http.StatusOK, &audit)
	for _, e := range audit.Items {
		got[e.Action] = e.Target == sam.ID
	}
	for _, want := range []string{"session.end", "session.end_others", "user.end_sessions"} {
		if !got[want] {
			t.Errorf("no audit entry %s: %v", want, got)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cookieValue is the secret of a session's cookie header.
func cookieValue(h http.Header) string {
	_, v, _ := strings.Cut(h.Get("Cookie"), "=")
	return v
}
