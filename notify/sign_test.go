package notify

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// edPair is a fixed Ed25519 key pair as "whsk_" and "whpk_".
func edPair(seedByte byte) (secret, public string) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = seedByte
	}
	k := ed25519.NewKeyFromSeed(seed)
	return "whsk_" + base64.StdEncoding.EncodeToString(k), "whpk_" + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

func TestEdKeyParsing(t *testing.T) {
	good, pub := edPair(7)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(good, "whsk_"))
	otherSecret, _ := edPair(8)
	other, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(otherSecret, "whsk_"))
	// The seed of one key with the public half of another.
	mixed := "whsk_" + base64.StdEncoding.EncodeToString(append(append([]byte(nil), raw[:32]...), other[32:]...))
	cases := []struct {
		name, secret, want string
	}{
		{"valid", good, ""},
		{"not base64", "whsk_!!!!", "not valid base64"},
		{"seed only", "whsk_" + base64.StdEncoding.EncodeToString(raw[:32]), "must be 64 bytes (the 32-byte seed, then the 32-byte public key, as libsodium writes it), got 32"},
		{"too long", "whsk_" + base64.StdEncoding.EncodeToString(append(raw, 0)), "got 65"},
		{"public half not the seed's", mixed, "are not the public key of its first 32"},
		{"empty", "whsk_", "got 0"},
		{"a public key", pub, "whpk_ is a public key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := storage.Endpoint{Name: "x", URL: "https://example.com/h", EventTypes: []string{"*"}, SigningSecret: c.secret}
			err := Normalize(&e)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				if got := SigningPublicKey(c.secret); got != pub {
					t.Fatalf("public key %q, want %q", got, pub)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "signing_secret") {
				t.Fatalf("Normalize: %v, want an error saying %q", err, c.want)
			}
			if b64 := strings.TrimPrefix(c.secret, "whsk_"); len(b64) > 8 && strings.Contains(err.Error(), b64[:8]) {
				t.Fatalf("the error shows the key: %v", err)
			}
			if SigningPublicKey(c.secret) != "" {
				t.Fatal("a public key for a bad secret key")
			}
		})
	}
}

func TestSigningScheme(t *testing.T) {
	for secret, want := range map[string]string{"whsec_abc": "v1", "whsk_abc": "v1a", "SECxyz": "", "": "", "whpk_abc": ""} {
		if got := SigningScheme(secret); got != want {
			t.Errorf("SigningScheme(%q) = %q, want %q", secret, got, want)
		}
	}
	if SigningPublicKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") != "" {
		t.Error("a v1 secret has no public key")
	}
}

// During a rotation between kinds both keys sign, each under its own
// version, the current one first.
func TestSignatureMixedKinds(t *testing.T) {
	edSecret, edPublic := edPair(3)
	edK, _, err := parseSignKey(edSecret)
	if err != nil {
		t.Fatal(err)
	}
	hmacKey := []byte("0123456789abcdef0123456789abcdef")
	ts := time.Unix(1700000000, 0)
	body := []byte(`{"a":1}`)
	got := strings.Fields(signature([]signKey{edK, {hmac: hmacKey}}, "msg_1", ts, body))
	if len(got) != 2 || !strings.HasPrefix(got[0], "v1a,") || !strings.HasPrefix(got[1], "v1,") {
		t.Fatalf("signatures %q, want v1a then v1", got)
	}
	content := []byte("msg_1.1700000000." + string(body))
	pubRaw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(edPublic, "whpk_"))
	sig, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(got[0], "v1a,"))
	if !ed25519.Verify(ed25519.PublicKey(pubRaw), content, sig) {
		t.Error("the v1a signature does not verify with the public key")
	}
	mac := hmac.New(sha256.New, hmacKey)
	mac.Write(content)
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); got[1] != want {
		t.Errorf("v1 signature %q, want %q", got[1], want)
	}
}

// "generate:v1a" makes a fresh, valid key pair, and rotates like any new
// secret.
func TestGenerateV1a(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	e := storage.Endpoint{Name: "x", URL: "https://example.com/h", EventTypes: []string{"*"}, SigningSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	gen := GenerateV1a
	if err := (&EndpointChange{SigningSecret: &gen}).apply(&e, now); err != nil {
		t.Fatal(err)
	}
	if SigningScheme(e.SigningSecret) != "v1a" || SigningPublicKey(e.SigningSecret) == "" {
		t.Fatalf("generated %q is not a whsk_ key", e.SigningSecret[:5])
	}
	if err := Normalize(&e); err != nil {
		t.Fatalf("the generated key: %v", err)
	}
	if len(e.PreviousSecrets) != 1 || e.PreviousSecrets[0].Secret != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" {
		t.Fatalf("the v1 secret is not rotated out: %+v", len(e.PreviousSecrets))
	}
	first := e.SigningSecret
	if err := (&EndpointChange{SigningSecret: &gen}).apply(&e, now); err != nil {
		t.Fatal(err)
	}
	if e.SigningSecret == first || len(e.PreviousSecrets) != 2 {
		t.Fatal("generating again does not make a new key and rotate")
	}
}
