package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// An endpoint saved before secret_headers existed has none listed: its
// credential-like headers are secret all the same (the API shows them as
// the marker), and the marker given back keeps their value.
func TestOldEndpointCredentialHeadersKeepTheirValues(t *testing.T) {
	old := storage.Endpoint{Headers: map[string]string{"Authorization": "Bearer old-token", "X-Env": "prod"}, Cookies: map[string]string{"c": "v"}}
	ch := EndpointChange{Headers: &map[string]string{"Authorization": SecretMarker, "X-Env": "dev"}}
	e := old
	if err := ch.apply(&e, e.CreatedAt); err != nil || e.Headers["Authorization"] != "Bearer old-token" || e.Headers["X-Env"] != "dev" {
		t.Fatalf("apply: %v %+v", err, e.Headers)
	}
	ch = EndpointChange{Headers: &map[string]string{"X-Env": SecretMarker}}
	if err := ch.apply(&e, e.CreatedAt); err == nil || !strings.Contains(err.Error(), "X-Env") {
		t.Fatalf("the marker for a plain header: %v", err)
	}
}

// A new signing secret keeps the old one signing for RotationGrace;
// secrets past their grace are dropped, and an empty secret ends signing
// at once.
func TestSigningSecretRotation(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	e := storage.Endpoint{SigningSecret: "whsec_b", PreviousSecrets: []storage.OldSecret{
		{Secret: "whsec_gone", Expires: now.Add(-time.Minute)}, {Secret: "whsec_a", Expires: now.Add(time.Hour)},
	}}
	next := "whsec_c"
	if err := (&EndpointChange{SigningSecret: &next}).apply(&e, now); err != nil {
		t.Fatal(err)
	}
	want := []storage.OldSecret{{Secret: "whsec_a", Expires: now.Add(time.Hour)}, {Secret: "whsec_b", Expires: now.Add(RotationGrace)}}
	if e.SigningSecret != next || len(e.PreviousSecrets) != 2 || e.PreviousSecrets[0] != want[0] || e.PreviousSecrets[1] != want[1] {
		t.Fatalf("after a rotation: %q %+v", e.SigningSecret, e.PreviousSecrets)
	}
	same := next
	if err := (&EndpointChange{SigningSecret: &same}).apply(&e, now); err != nil || len(e.PreviousSecrets) != 2 {
		t.Fatalf("the same secret again: %v %+v", err, e.PreviousSecrets)
	}
	none := ""
	if err := (&EndpointChange{SigningSecret: &none}).apply(&e, now); err != nil || e.SigningSecret != "" || e.PreviousSecrets != nil {
		t.Fatalf("no secret: %v %q %+v", err, e.SigningSecret, e.PreviousSecrets)
	}
}

// Turning an endpoint back on clears what disabled it; turning it off
// says an operator did, unless a reason is already there.
func TestEnableClearsHealth(t *testing.T) {
	since := time.Now()
	e := storage.Endpoint{EndpointHealth: storage.EndpointHealth{DisabledReason: "failing", FailingSince: &since, ConsecutiveFailures: 9}}
	on, off := true, false
	if err := (&EndpointChange{Enabled: &on}).apply(&e, since); err != nil || !e.Enabled || e.DisabledReason != "" || e.FailingSince != nil || e.ConsecutiveFailures != 0 {
		t.Fatalf("enabled: %v %+v", err, e.EndpointHealth)
	}
	if err := (&EndpointChange{Enabled: &off}).apply(&e, since); err != nil || e.Enabled || e.DisabledReason != "disabled by an operator" {
		t.Fatalf("disabled: %v %+v", err, e.EndpointHealth)
	}
}
