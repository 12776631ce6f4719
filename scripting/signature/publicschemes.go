package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
)

// discordKey reads the application's public key as Discord's developer
// portal shows it: 64 hex digits (base64 and PEM work too).
func discordKey(key string) (crypto.PublicKey, bool, error) {
	k, err := ParsePublicKey(key)
	if err != nil {
		return nil, true, err
	}
	if _, ok := k.(ed25519.PublicKey); !ok {
		return nil, true, errors.New("is an " + KeyType(k) + " key, not Ed25519 (Discord's key is 64 hex digits)")
	}
	return k, true, nil
}

// checkDiscord: X-Signature-Ed25519 is the hex Ed25519 signature of
// X-Signature-Timestamp followed by the body (Discord, "Interactions",
// security and authorization).
func checkDiscord(s *Request) string {
	ts, t, v, why := timedHeaders(s, "x-signature-timestamp", "x-signature-ed25519")
	if why != "" {
		return why
	}
	sig, err := hex.DecodeString(v)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "X-Signature-Ed25519 is malformed (want 128 hex digits)"
	}
	if !ed25519.Verify(s.Public.(ed25519.PublicKey), signedContent(ts, s.Body), sig) {
		return "X-Signature-Ed25519 does not match"
	}
	return s.fresh(t)
}

// sendGridKey reads the verification key SendGrid's Event Webhook settings
// show: the base64 DER of an ECDSA P-256 public key (PEM works too).
func sendGridKey(key string) (crypto.PublicKey, bool, error) {
	k, err := ParsePublicKey(key)
	if err != nil {
		return nil, true, err
	}
	if ec, ok := k.(*ecdsa.PublicKey); !ok || ec.Curve != elliptic.P256() {
		return nil, true, errors.New("is an " + KeyType(k) + " key, not ECDSA P-256 (SendGrid's verification key is base64 DER)")
	}
	return k, true, nil
}

// checkSendGrid: X-Twilio-Email-Event-Webhook-Signature is the base64 DER
// ECDSA P-256 SHA-256 signature of X-Twilio-Email-Event-Webhook-Timestamp
// followed by the body (SendGrid, "Event Webhook Security Features").
func checkSendGrid(s *Request) string {
	ts, t, v, why := timedHeaders(s, "x-twilio-email-event-webhook-timestamp", "x-twilio-email-event-webhook-signature")
	if why != "" {
		return why
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sig) == 0 {
		return "X-Twilio-Email-Event-Webhook-Signature is malformed (want base64)"
	}
	d := sha256.Sum256(signedContent(ts, s.Body))
	if !ecdsa.VerifyASN1(s.Public.(*ecdsa.PublicKey), d[:], sig) {
		return "X-Twilio-Email-Event-Webhook-Signature does not match"
	}
	return s.fresh(t)
}
