package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// credSink is a receiver that keeps each request's headers.
type credSink struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newCredSink(t *testing.T) *credSink {
	s := &credSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Clone())
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *credSink) requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.seen...)
}

// An edit that points an endpoint at another origin must send every
// stored credential again: an editor, who cannot read them, must not be
// able to have them sent to a host of their choosing, by the test route
// or by the next delivery. The signing secret may stay, and a new path on
// the same origin keeps them all.
func TestNewDestinationNeedsTheSecretsAgain(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	home, other := newCredSink(t), newCredSink(t)
	e := in.endpoint(map[string]any{"name": "billing", "url": home.URL + "/in", "event_types": []string{"*"},
		"auth":           map[string]any{"type": "basic", "username": "u", "password": "hunter2"},
		"headers":        map[string]string{"X-Api-Key": "k-123", "X-Team": "ops"},
		"secret_headers": []string{"X-Api-Key"},
		"cookies":        map[string]string{"session": "s-456"},
		"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})

	// To another host, keeping them: refused, naming each; nothing changed.
	code, body, _ := in.do("PUT", "/api/v1/endpoints/"+e.ID,
		jsonBody(t, map[string]any{"url": other.URL + "/in", "headers": map[string]string{"X-Api-Key": "[secret]", "X-Team": "ops"}}),
		http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}})
	want := "url: the destination changed from " + strings.ToLower(home.URL) + " to " + strings.ToLower(other.URL) +
		"; send auth.password, headers.X-Api-Key and cookies.session again (stored secrets are not sent to a new destination)"
	if code != http.StatusBadRequest || !strings.Contains(string(body), want) {
		t.Fatalf("PUT url only: %d %s, want 400 with %q", code, body, want)
	}
	// Sending some again is not enough.
	code, body, _ = in.do("PUT", "/api/v1/endpoints/"+e.ID,
		jsonBody(t, map[string]any{"url": other.URL + "/in", "auth": map[string]any{"type": "basic", "username": "u", "password": "p2"}}),
		http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "send headers.X-Api-Key and cookies.session again") {
		t.Fatalf("PUT with the password only: %d %s", code, body)
	}
	var got endpoint
	in.api("GET", "/endpoints/"+e.ID, nil, http.StatusOK, &got)
	if got.URL != home.URL+"/in" {
		t.Fatalf("url after refused edits: %s", got.URL)
	}
	in.api("POST", "/endpoints/"+e.ID+"/test", nil, http.StatusOK, nil)
	if n := len(other.requests()); n != 0 {
		t.Fatalf("the other host got %d requests", n)
	}
	if reqs := home.requests(); len(reqs) != 1 || reqs[0].Get("X-Api-Key") != "k-123" {
		t.Fatalf("home got %v", reqs)
	}

	// Another path on the same origin keeps them.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": home.URL + "/v2"}, http.StatusOK, nil)

	// With every credential sent again (the signing secret may stay),
	// the move is saved and the new host gets the new values.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": other.URL + "/in",
		"auth":    map[string]any{"type": "basic", "username": "u", "password": "p2"},
		"headers": map[string]string{"X-Api-Key": "k-new", "X-Team": "ops"},
		"cookies": map[string]string{"session": "s-new"}}, http.StatusOK, nil)
	in.api("POST", "/endpoints/"+e.ID+"/test", nil, http.StatusOK, nil)
	reqs := other.requests()
	if len(reqs) != 1 || reqs[0].Get("X-Api-Key") != "k-new" || !strings.Contains(reqs[0].Get("Cookie"), "session=s-new") ||
		reqs[0].Get("Authorization") == "" || reqs[0].Get("Webhook-Signature") == "" {
		t.Fatalf("the new host got %v", reqs)
	}

	// Dropping the credentials is a move too, with nothing to send again.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": home.URL + "/in",
		"auth": map[string]any{"type": "none"}, "headers": map[string]string{}, "cookies": map[string]string{}}, http.StatusOK, nil)
}
