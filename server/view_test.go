package server

import (
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// An endpoint saved before secret_headers existed has none listed: its
// credential-like headers are secret all the same, shown as the marker,
// and the marker given back keeps their value.
func TestOldEndpointCredentialHeadersAreSecret(t *testing.T) {
	old := storage.Endpoint{Headers: map[string]string{"Authorization": "Bearer old-token", "X-Env": "prod"}, Cookies: map[string]string{"c": "v"}}
	v := viewEndpoint(old)
	if v.Headers["Authorization"] != secretMarker || v.Headers["X-Env"] != "prod" || v.Cookies["c"] != secretMarker {
		t.Fatalf("view: %+v %+v", v.Headers, v.Cookies)
	}
	if old.Headers["Authorization"] != "Bearer old-token" {
		t.Fatal("the view changed the endpoint")
	}
	in := endpointInput{Headers: &map[string]string{"Authorization": secretMarker, "X-Env": "dev"}}
	e := old
	if err := in.apply(&e, e.CreatedAt); err != nil || e.Headers["Authorization"] != "Bearer old-token" || e.Headers["X-Env"] != "dev" {
		t.Fatalf("apply: %v %+v", err, e.Headers)
	}
	in = endpointInput{Headers: &map[string]string{"X-Env": secretMarker}}
	if err := in.apply(&e, e.CreatedAt); err == nil || !strings.Contains(err.Error(), "X-Env") {
		t.Fatalf("the marker for a plain header: %v", err)
	}
}
