package notify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The prefixes of Standard Webhooks keys: "whsec_" a symmetric secret (v1,
// HMAC-SHA256), "whsk_" an Ed25519 secret key (v1a) and "whpk_" its public
// key, which receivers verify with.
const (
	symmetricPrefix = "whsec_"
	secretKeyPrefix = "whsk_"
	publicKeyPrefix = "whpk_"
)

// GenerateV1a is the signing_secret value that asks for a fresh Ed25519
// key pair: the endpoint signs v1a with a secret key nobody is ever shown,
// and its answers give the public key.
const GenerateV1a = "generate:v1a"

// signKey is one Standard Webhooks signing key: an HMAC key (v1) or an
// Ed25519 secret key (v1a).
type signKey struct {
	hmac []byte
	ed   ed25519.PrivateKey
}

// SigningScheme names how secret signs requests: "v1" for a "whsec_"
// secret, "v1a" for a "whsk_" key, "" for anything else (which only feeds
// {{sign}}).
func SigningScheme(secret string) string {
	switch {
	case strings.HasPrefix(secret, symmetricPrefix):
		return "v1"
	case strings.HasPrefix(secret, secretKeyPrefix):
		return "v1a"
	}
	return ""
}

// SigningPublicKey is the "whpk_" public key of a "whsk_" signing secret,
// "" for any other secret.
func SigningPublicKey(secret string) string {
	k, err := edKey(secret)
	if err != nil {
		return ""
	}
	return publicKeyPrefix + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// parseSignKey reads a Standard Webhooks signing secret. ok is false for a
// secret of no Standard Webhooks kind; err says what is wrong with one that
// has a prefix but not the key it promises. Errors never hold the key.
func parseSignKey(s string) (k signKey, ok bool, err error) {
	switch SigningScheme(s) {
	case "v1":
		k.hmac, err = secretKey(s)
	case "v1a":
		k.ed, err = edKey(s)
	default:
		if strings.HasPrefix(s, publicKeyPrefix) {
			return k, false, errors.New("whpk_ is a public key, which receivers verify with; to sign v1a give the secret key (whsk_...), or generate:v1a for a new pair")
		}
		return k, false, nil
	}
	return k, true, err
}

// edKey decodes a Standard Webhooks Ed25519 secret key: "whsk_" and the
// base64 of 64 bytes, the seed then the public key (libsodium's
// crypto_sign_SECRETKEYBYTES layout, Go's ed25519.PrivateKey). The public
// half must be the seed's.
func edKey(s string) (ed25519.PrivateKey, error) {
	b64, ok := strings.CutPrefix(s, secretKeyPrefix)
	if !ok {
		return nil, errors.New("must start with whsk_ followed by base64 (a Standard Webhooks Ed25519 secret key)")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("the part after whsk_ is not valid base64")
	}
	if len(raw) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("an Ed25519 secret key must be %d bytes (the 32-byte seed, then the 32-byte public key, as libsodium writes it), got %d", ed25519.PrivateKeySize, len(raw))
	}
	k := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
	if !bytes.Equal(k[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
		return nil, errors.New("the last 32 bytes of the Ed25519 secret key are not the public key of its first 32 (the seed)")
	}
	return k, nil
}

// newEdSecret makes a fresh "whsk_" signing secret.
func newEdSecret() (string, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate an Ed25519 key: %w", err)
	}
	return secretKeyPrefix + base64.StdEncoding.EncodeToString(k), nil
}

// Standard Webhooks signing (https://www.standardwebhooks.com): the
// signed content of a request is id "." timestamp "." body; a v1 key signs
// it with base64(HMAC-SHA256(key, content)), sent as "v1,<signature>", a
// v1a key with base64(Ed25519(key, content)), sent as "v1a,<signature>".
// During a rotation one such value per active key, separated by spaces,
// whatever their kinds.
func signature(keys []signKey, id string, ts time.Time, body []byte) string {
	var sb strings.Builder
	unix := strconv.FormatInt(ts.Unix(), 10)
	var content []byte // built once, for the Ed25519 keys
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if k.ed != nil {
			if content == nil {
				content = make([]byte, 0, len(id)+len(unix)+len(body)+2)
				content = append(append(append(append(append(content, id...), '.'), unix...), '.'), body...)
			}
			sb.WriteString("v1a,")
			sb.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(k.ed, content)))
			continue
		}
		mac := hmac.New(sha256.New, k.hmac)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(unix))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sb.WriteString("v1,")
		sb.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return sb.String()
}

// robotSign is the {{sign}} of chat robots that sign a timestamp
// (DingTalk): base64(HMAC-SHA256(secret, timestampMillis "\n" secret)).
// The template's URL mode escapes it for a query string.
func robotSign(secret string, timestampMillis string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestampMillis + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
