package e2e

import (
	"strings"
	"testing"
)

// TestEndpointV1aKeyPair generates an Ed25519 (v1a) key pair from the
// endpoint form; the server makes it, and the endpoint's page shows the
// public key the API gives, never a secret key.
func TestEndpointV1aKeyPair(t *testing.T) {
	ctx, in := signedIn(t, 1280, 900)
	newEndpoint(t, ctx, in, `input[name="url"]`, "Signed v1a", "https://hooks.example.com/v1a", "alarm.*")
	clickText(t, ctx, "Generate an Ed25519 (v1a) key pair")
	waitJS(t, ctx, "the generate request in the field", `document.querySelector('input[name="signing_secret"]').value === "generate:v1a"`)
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the public key on the endpoint page", `!!document.querySelector("code.ob-public-key")`)

	var list struct {
		Items []struct {
			Signing struct {
				Type      string `json:"type"`
				PublicKey string `json:"public_key"`
			} `json:"signing"`
		} `json:"items"`
	}
	in.api("GET", "/endpoints", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].Signing.Type != "v1a" || !strings.HasPrefix(list.Items[0].Signing.PublicKey, "whpk_") {
		t.Fatalf("endpoints: %+v", list.Items)
	}
	shown := textOf(t, ctx, "code.ob-public-key")
	page := textOf(t, ctx, "main")
	if shown != list.Items[0].Signing.PublicKey {
		t.Errorf("the page shows %q, the API %q", shown, list.Items[0].Signing.PublicKey)
	}
	if strings.Contains(page, "whsk_") {
		t.Error("the page shows a secret key")
	}
	checkA11y(t, ctx, "endpoint with a v1a key")
}
