package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// A test of an endpoint whose host does not resolve says so without the
// internal DNS resolver's address.
func TestUnresolvedHostHidesTheResolver(t *testing.T) {
	t.Parallel()
	in := start(t)
	var a struct {
		Error string `json:"error"`
	}
	in.api("POST", "/endpoints/test", map[string]any{"name": "draft", "url": "http://nothing-here.invalid/hook", "event_types": []string{"*"}},
		http.StatusOK, &a)
	if !strings.Contains(a.Error, "the host nothing-here.invalid did not resolve (") || regexp.MustCompile(`:\d+\b| on `).MatchString(a.Error) {
		t.Fatalf("attempt error %q, want the host and no resolver", a.Error)
	}
}
