package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/npmtest"
	"github.com/switchyard-dev/switchyard/scripting/signature"
	"github.com/switchyard-dev/switchyard/server"
)

// These tests sign deliveries with Standard Webhooks v1a (Ed25519) and have
// receiver.mjs verify them with Node's crypto, an Ed25519 implementation
// other than Go's; the key pairs come from Node too (edkeys.mjs), so what
// a "whsk_" key is, is not only our own reading of it.

type edKeys struct {
	Secret string `json:"secret"`
	Public string `json:"public"`
}

// nodeEdKeys makes a whsk_/whpk_ key pair with Node's crypto.
func nodeEdKeys(t *testing.T) edKeys {
	t.Helper()
	var k edKeys
	npmtest.Node(t, "edkeys.mjs", map[string]any{}, &k)
	if !strings.HasPrefix(k.Secret, "whsk_") || !strings.HasPrefix(k.Public, "whpk_") {
		t.Fatalf("edkeys.mjs made %q... and %q", k.Secret[:min(5, len(k.Secret))], k.Public)
	}
	return k
}

// signingAnswer is the signing part of an endpoint as the API shows it.
type signingAnswer struct {
	Signing struct {
		Secret           bool   `json:"secret"`
		StandardWebhooks bool   `json:"standard_webhooks"`
		Type             string `json:"type"`
		PublicKey        string `json:"public_key"`
		RotatingUntil    any    `json:"rotating_until"`
	} `json:"signing"`
}

// secretPart is the part of a whsk_/whsec_ secret that must never show.
func secretPart(secret string) string {
	_, b64, _ := strings.Cut(secret, "_")
	return b64
}

func TestNotifyNpmV1aReceiverVerifies(t *testing.T) {
	t.Parallel()
	keys := nodeEdKeys(t)
	rcv := startV1aReceiver(t, keys.Public)
	var logs logBuffer
	in := start(t, allowLoopback, func(o *server.Options) { o.Logger = logs.logger() })

	var created signingAnswer
	raw := in.api("POST", "/endpoints", map[string]any{
		"name": "v1a receiver", "url": rcv.url, "event_types": []string{"alarm.*"},
		"signing_secret": keys.Secret, "retry": map[string]any{"max_attempts": 1},
	}, http.StatusCreated, &created)
	s := created.Signing
	if !s.Secret || !s.StandardWebhooks || s.Type != "v1a" || s.PublicKey != keys.Public {
		t.Fatalf("signing %+v, want v1a with public key %s", s, keys.Public)
	}
	var ep struct{ ID string }
	jsonUnmarshal(raw, &ep)

	var ids []string
	for _, title := range []string{"disk full", "ünï \"quoted\"\n\u2028 😀 </script>"} {
		ev := in.npmPublish(string(jsonBody(t, map[string]any{"type": "alarm.x", "title": title, "data": map[string]any{"t": title}})), 1)
		d := in.npmSettled(ev["id"].(string))
		rc := rcv.receipt(t, d.ID)
		if !rc.Verified || d.Status != "SUCCESS" || d.LastStatus != http.StatusNoContent {
			t.Errorf("%q: verified=%v (%s), delivery %s %d", title, rc.Verified, rc.Error, d.Status, d.LastStatus)
		}
		if sigs := strings.Fields(rc.Sig); len(sigs) != 1 || !strings.HasPrefix(sigs[0], "v1a,") {
			t.Errorf("webhook-signature %q, want one v1a entry", rc.Sig)
		}
		if rc.Body["title"] != title {
			t.Errorf("the verified body's title %q, want %q", rc.Body["title"], title)
		}
		ids = append(ids, d.ID)
	}

	// Signed with another key, the receiver refuses it.
	other := nodeEdKeys(t)
	in.api("PUT", "/endpoints/"+ep.ID, map[string]any{"signing_secret": ""}, http.StatusOK, nil) // no overlap with the first key
	in.api("PUT", "/endpoints/"+ep.ID, map[string]any{"signing_secret": other.Secret}, http.StatusOK, nil)
	ev := in.npmPublish(`{"type": "alarm.x", "title": "another key"}`, 1)
	d := in.npmSettled(ev["id"].(string))
	if rc := rcv.receipt(t, d.ID); rc.Verified || d.Status != "FAILED" || !strings.Contains(rc.Error, "No matching v1a signature") {
		t.Errorf("signed with another key: verified=%v (%s), delivery %s", rc.Verified, rc.Error, d.Status)
	}
	ids = append(ids, d.ID)

	// Neither secret shows in any answer or log.
	var answers []string
	answers = append(answers, string(raw))
	answers = append(answers, string(in.api("GET", "/endpoints/"+ep.ID, nil, http.StatusOK, nil)))
	answers = append(answers, string(in.api("GET", "/endpoints", nil, http.StatusOK, nil)))
	answers = append(answers, string(in.api("GET", "/audit", nil, http.StatusOK, nil)))
	for _, id := range ids {
		answers = append(answers, string(in.api("GET", "/deliveries/"+id, nil, http.StatusOK, nil)))
	}
	answers = append(answers, logs.String())
	for i, a := range answers {
		for _, secret := range []string{keys.Secret, other.Secret} {
			if strings.Contains(a, secretPart(secret)) || strings.Contains(a, secretPart(secret)[:43]) {
				t.Errorf("answer %d shows a secret key: %.300s", i, a)
			}
		}
	}
}

// Rotating from a v1 secret to a generated v1a key signs with both for
// the overlap: a receiver still on v1 (the standardwebhooks library, which
// passes over the v1a entry) and one already on v1a both verify.
func TestNotifyNpmRotationFromV1ToGeneratedV1a(t *testing.T) {
	t.Parallel()
	oldSecret := newWhsec(t)
	v1 := startNpmReceiver(t, oldSecret)
	in := start(t, allowLoopback)
	epID := in.npmEndpoint(map[string]any{
		"name": "rotating to v1a", "url": v1.url, "event_types": []string{"alarm.*"},
		"signing_secret": oldSecret, "retry": map[string]any{"max_attempts": 1},
	})
	check := func(rcv *npmReceiver, what string, wantSigs ...string) {
		t.Helper()
		ev := in.npmPublish(fmt.Sprintf(`{"type": "alarm.rotation", "title": %q}`, what), 1)
		d := in.npmSettled(ev["id"].(string))
		rc := rcv.receipt(t, d.ID)
		if !rc.Verified || d.Status != "SUCCESS" {
			t.Errorf("%s: verified=%v (%s), delivery %s %d", what, rc.Verified, rc.Error, d.Status, d.LastStatus)
		}
		sigs := strings.Fields(rc.Sig)
		if len(sigs) != len(wantSigs) {
			t.Fatalf("%s: webhook-signature %q, want versions %v", what, rc.Sig, wantSigs)
		}
		for i, v := range wantSigs {
			if !strings.HasPrefix(sigs[i], v+",") {
				t.Errorf("%s: signature %d is %q, want version %s", what, i, sigs[i], v)
			}
		}
	}
	check(v1, "before rotation", "v1")

	var rotated signingAnswer
	raw := in.api("PUT", "/endpoints/"+epID, map[string]any{"signing_secret": "generate:v1a"}, http.StatusOK, &rotated)
	s := rotated.Signing
	if s.Type != "v1a" || !strings.HasPrefix(s.PublicKey, "whpk_") || s.RotatingUntil == nil {
		t.Fatalf("after generate:v1a: %s", raw)
	}
	if strings.Contains(string(raw), "whsk_") || strings.Contains(string(raw), secretPart(oldSecret)) {
		t.Fatalf("a secret came back: %s", raw)
	}
	check(v1, "overlap, receiver on v1", "v1a", "v1")

	// The public key the API gives is all a receiver needs.
	v1a := startV1aReceiver(t, s.PublicKey)
	in.api("PUT", "/endpoints/"+epID, map[string]any{"url": v1a.url}, http.StatusOK, nil)
	check(v1a, "overlap, receiver on v1a", "v1a", "v1")

	// The public key is no signing secret: a clear 400, and the endpoint
	// keeps its key.
	var bad struct{ Error string }
	in.api("PUT", "/endpoints/"+epID, map[string]any{"signing_secret": s.PublicKey}, http.StatusBadRequest, &bad)
	if !strings.Contains(bad.Error, "whpk_ is a public key") {
		t.Errorf("a whpk_ signing_secret: %q", bad.Error)
	}
	check(v1a, "after a refused change", "v1a", "v1")
}

// Bad whsk_ keys are refused at save with a 400 that says why and never
// echoes the key.
func TestV1aBadKeysAreRefused(t *testing.T) {
	t.Parallel()
	in := start(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	cases := []struct {
		name, secret, want string
	}{
		{"seed only", "whsk_" + b64(priv.Seed()), "an Ed25519 secret key must be 64 bytes (the 32-byte seed, then the 32-byte public key, as libsodium writes it), got 32"},
		{"public half of another key", "whsk_" + b64(append(priv.Seed(), other[32:]...)), "the last 32 bytes of the Ed25519 secret key are not the public key of its first 32 (the seed)"},
		{"not base64", "whsk_" + strings.Repeat("*", 88), "the part after whsk_ is not valid base64"},
		{"public key", "whpk_" + b64(priv.Public().(ed25519.PublicKey)), "whpk_ is a public key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got struct{ Error string }
			in.api("POST", "/endpoints", map[string]any{"name": "bad " + c.name, "url": "https://example.com/h", "event_types": []string{"*"}, "signing_secret": c.secret},
				http.StatusBadRequest, &got)
			if !strings.Contains(got.Error, "signing_secret") || !strings.Contains(got.Error, c.want) {
				t.Errorf("error %q, want it to say %q", got.Error, c.want)
			}
			if strings.Contains(got.Error, c.secret[5:20]) {
				t.Errorf("the error echoes the key: %q", got.Error)
			}
		})
	}
}

// Switchyard's own inbound check (STANDARD.verify's, scripting/signature)
// accepts what its outbound engine signs with a generated v1a key, given
// only the public key from the endpoint's answer.
func TestV1aDeliveryPassesInboundStandardVerify(t *testing.T) {
	t.Parallel()
	type request struct {
		header http.Header
		body   []byte
	}
	got := make(chan request, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- request{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	in := start(t, allowLoopback)
	var ep signingAnswer
	in.api("POST", "/endpoints", map[string]any{"name": "self", "url": rcv.URL, "event_types": []string{"*"}, "signing_secret": "generate:v1a"},
		http.StatusCreated, &ep)
	if ep.Signing.Type != "v1a" || ep.Signing.PublicKey == "" {
		t.Fatalf("signing %+v", ep.Signing)
	}
	in.npmPublish(`{"type": "build.done", "title": "checked by our own verifier"}`, 1)
	var r request
	select {
	case r = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery within 30s")
	}
	h := map[string]string{}
	for k := range r.header {
		h[strings.ToLower(k)] = r.header.Get(k)
	}
	if ok, why := signature.Verify(signature.Standard, h, r.body, ep.Signing.PublicKey, 5*time.Minute, time.Now()); !ok {
		t.Fatalf("STANDARD.verify with the public key: %s", why)
	}
	other := nodeEdKeys(t)
	if ok, _ := signature.Verify(signature.Standard, h, r.body, other.Public, 5*time.Minute, time.Now()); ok {
		t.Fatal("another public key verifies")
	}
	if ok, _ := signature.Verify(signature.Standard, h, append(r.body, ' '), ep.Signing.PublicKey, 5*time.Minute, time.Now()); ok {
		t.Fatal("a changed body verifies")
	}
}
