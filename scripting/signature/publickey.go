package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Public-key algorithms of VerifyPublic.
const (
	Ed25519         = "ed25519"
	ECDSAP256SHA256 = "ecdsa-p256-sha256"
	RSASHA256       = "rsa-sha256"
	RSASHA1         = "rsa-sha1"
	RSAPSSSHA256    = "rsa-pss-sha256"
)

// PublicAlgorithms lists the algorithms VerifyPublic knows.
var PublicAlgorithms = []string{Ed25519, ECDSAP256SHA256, RSASHA256, RSASHA1, RSAPSSSHA256}

// maxPublicKey bounds the text of a public key: a PEM certificate chain
// is a few KiB; anything much larger is not a key.
const maxPublicKey = 64 << 10

// ParsePublicKey reads a public key as senders hand them out: PEM ("PUBLIC
// KEY", "RSA PUBLIC KEY" or a "CERTIFICATE", whose key is taken), the DER
// of a SubjectPublicKeyInfo in base64 (SendGrid), or the 32 bytes of an
// Ed25519 key in hex (Discord) or base64. The error never holds the key.
func ParsePublicKey(s string) (crypto.PublicKey, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxPublicKey {
		return nil, fmt.Errorf("is longer than %d KiB", maxPublicKey>>10)
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		return parsePEM(s)
	}
	raw, ok := DecodeBinary(s)
	if !ok {
		return nil, errors.New("is not PEM, hex or base64")
	}
	if len(raw) == ed25519.PublicKeySize {
		return ed25519.PublicKey(raw), nil
	}
	k, err := x509.ParsePKIXPublicKey(raw)
	if err != nil {
		return nil, errors.New("is neither 32 bytes (Ed25519) nor a DER public key")
	}
	return checkKey(k)
}

// parsePEM reads the first PEM block of s.
func parsePEM(s string) (crypto.PublicKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("is not valid PEM")
	}
	var k any
	var err error
	switch b.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(b.Bytes); err == nil {
			k = c.PublicKey
		}
	default:
		return nil, fmt.Errorf("is a PEM %q block, not a PUBLIC KEY or CERTIFICATE", truncate(b.Type, 40))
	}
	if err != nil {
		return nil, fmt.Errorf("is a PEM %s that does not parse: %w", b.Type, err)
	}
	return checkKey(k)
}

// checkKey keeps the key types VerifyPublic can use.
func checkKey(k any) (crypto.PublicKey, error) {
	switch k := k.(type) {
	case ed25519.PublicKey, *rsa.PublicKey:
		return k, nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return k, nil
		}
		return nil, fmt.Errorf("is an ECDSA key on %s (P-256 or P-384 expected)", k.Curve.Params().Name)
	}
	return nil, fmt.Errorf("is a %T key, not Ed25519, ECDSA or RSA", k)
}

// KeyType names a key's type for messages: "Ed25519", "ECDSA P-256", "RSA".
func KeyType(k crypto.PublicKey) string {
	switch k := k.(type) {
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return "RSA"
	}
	return fmt.Sprintf("%T", k)
}

// ErrKeyMismatch is wrapped by VerifyPublic's error when the key does not
// suit the algorithm.
var ErrKeyMismatch = errors.New("the key does not suit the algorithm")

// VerifyPublic reports whether sig is alg's signature of data under key.
// An ECDSA signature may be DER (ASN.1, as OpenSSL, Node and Java write
// it) or raw r||s (64 bytes, as JWS and WebCrypto write it). It returns
// an error only for an unknown algorithm or a key of the wrong type.
func VerifyPublic(alg string, key crypto.PublicKey, sig, data []byte) (bool, error) {
	mismatch := func() (bool, error) {
		return false, fmt.Errorf("%w: %s needs %s, got an %s key", ErrKeyMismatch, alg, wantKey[alg], KeyType(key))
	}
	switch alg {
	case Ed25519:
		k, ok := key.(ed25519.PublicKey)
		if !ok {
			return mismatch()
		}
		return ed25519.Verify(k, data, sig), nil
	case ECDSAP256SHA256:
		k, ok := key.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() {
			return mismatch()
		}
		d := sha256.Sum256(data)
		return VerifyECDSA(k, d[:], sig), nil
	case RSASHA256, RSASHA1, RSAPSSSHA256:
		k, ok := key.(*rsa.PublicKey)
		if !ok {
			return mismatch()
		}
		if alg == RSASHA1 {
			d := sha1.Sum(data)
			return rsa.VerifyPKCS1v15(k, crypto.SHA1, d[:], sig) == nil, nil
		}
		d := sha256.Sum256(data)
		if alg == RSAPSSSHA256 {
			return rsa.VerifyPSS(k, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil, nil
		}
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sig) == nil, nil
	}
	return false, fmt.Errorf("unknown algorithm %q (use %s)", truncate(alg, 40), strings.Join(PublicAlgorithms, ", "))
}

var wantKey = map[string]string{
	Ed25519: "an Ed25519 key", ECDSAP256SHA256: "an ECDSA P-256 key",
	RSASHA256: "an RSA key", RSASHA1: "an RSA key", RSAPSSSHA256: "an RSA key",
}

// VerifyECDSA checks an ECDSA signature of digest in DER or raw r||s form.
// A DER signature may happen to be as long as a raw one, so one of that
// length is tried both ways.
func VerifyECDSA(k *ecdsa.PublicKey, digest, sig []byte) bool {
	size := (k.Curve.Params().BitSize + 7) / 8
	if len(sig) == 2*size {
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if ecdsa.Verify(k, digest, r, s) {
			return true
		}
	}
	return ecdsa.VerifyASN1(k, digest, sig)
}

// DecodeBinary decodes a key or signature written in hex (only hex digits,
// an even number of them) or else in base64, standard or URL-safe, padded
// or not.
func DecodeBinary(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	if len(s)%2 == 0 && isHex(s) {
		b, err := hex.DecodeString(s)
		return b, err == nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower case letters; digits are unchanged
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// truncate cuts s to n bytes for a message.
func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
