package server

import (
	"testing"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// An endpoint saved before secret_headers existed has none listed: its
// credential-like headers are secret all the same, shown as the marker
// (notify's TestOldEndpointCredentialHeadersKeepTheirValues: the marker
// given back keeps their value).
func TestOldEndpointCredentialHeadersAreSecret(t *testing.T) {
	old := storage.Endpoint{Headers: map[string]string{"Authorization": "Bearer old-token", "X-Env": "prod"}, Cookies: map[string]string{"c": "v"}}
	v := viewEndpoint(old)
	if v.Headers["Authorization"] != notify.SecretMarker || v.Headers["X-Env"] != "prod" || v.Cookies["c"] != notify.SecretMarker {
		t.Fatalf("view: %+v %+v", v.Headers, v.Cookies)
	}
	if old.Headers["Authorization"] != "Bearer old-token" {
		t.Fatal("the view changed the endpoint")
	}
}
