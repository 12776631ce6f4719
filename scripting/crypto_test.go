package scripting

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/switchyard-dev/switchyard/internal/npmtest"
	"github.com/switchyard-dev/switchyard/notify/egress"
)

// nodeCrypto is what testdata/npm/crypto.mjs makes: keys and signatures
// from Node's crypto, JWTs and a JWKS from jose.
type nodeCrypto struct {
	Keys     map[string]string `json:"keys"`
	Sigs     map[string]string `json:"sigs"`
	Discord  nodeSender        `json:"discord"`
	SendGrid nodeSender        `json:"sendgrid"`
	Standard nodeSender        `json:"standard"`
	JWT      struct {
		Secret     string            `json:"secret"`
		Tokens     map[string]string `json:"tokens"`
		PublicKeys map[string]string `json:"public_keys"`
		JWKS       json.RawMessage   `json:"jwks"`
		Bad        map[string]string `json:"bad"`
	} `json:"jwt"`
	Claims map[string]any `json:"claims"`
}

type nodeSender struct {
	PublicKey string            `json:"public_key"`
	Headers   map[string]string `json:"headers"`
}

// cryptoData is the data crypto.mjs signs: not valid UTF-8, so that the
// raw body (FLX_PRISTINE_PAYLOAD) is what must be verified.
var cryptoData = []byte("{\"event\":\"ping\",\"bin\":\"\xff\xfe\x00\"}")

// runCryptoNode runs crypto.mjs once with the clock at at.
func runCryptoNode(t *testing.T, at time.Time) *nodeCrypto {
	t.Helper()
	var out nodeCrypto
	npmtest.Node(t, "crypto.mjs", map[string]any{"data": cryptoData, "now": at.Unix(), "id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}, &out)
	return &out
}

// scriptValue runs src with props as PROPERTIES against the crypto data.
func scriptValue(t *testing.T, src string, props map[string]string, headers map[string]string) Result {
	t.Helper()
	return runScript(t, src, &Request{Body: cryptoData, Properties: props, Headers: headers})
}

// TestCryptoVerify checks CRYPTO.verify against keys and signatures made by
// Node's crypto, in every key and signature form, and spoiled.
func TestCryptoVerify(t *testing.T) {
	setClock(t, time.Now())
	n := runCryptoNode(t, now())
	k, s := n.Keys, n.Sigs
	tests := []struct {
		alg, key, sig string
	}{
		{"ed25519", k["ed25519_pem"], s["ed25519_hex"]},
		{"ed25519", k["ed25519_hex"], s["ed25519_base64"]},
		{"Ed25519", k["ed25519_base64"], s["ed25519_hex"]},
		{"ecdsa-p256-sha256", k["p256_pem"], s["ecdsa_der_base64"]},
		{"ecdsa-p256-sha256", k["p256_der_base64"], s["ecdsa_der_hex"]},
		{"ecdsa-p256-sha256", k["p256_pem"], s["ecdsa_raw_base64"]},
		{"rsa-sha256", k["rsa_pem"], s["rsa_sha256"]},
		{"rsa-sha256", k["rsa_pkcs1_pem"], s["rsa_sha256"]},
		{"rsa-sha1", k["rsa_pem"], s["rsa_sha1"]},
		{"rsa-pss-sha256", k["rsa_pem"], s["rsa_pss_sha256"]},
		{"rsa-pss-sha256", k["rsa_pem"], s["rsa_pss_sha256_hash_salt"]},
	}
	src := `return [CRYPTO.verify(PROPERTIES.alg, PROPERTIES.key, PROPERTIES.sig, FLX_PRISTINE_PAYLOAD),
		CRYPTO.verify(PROPERTIES.alg, PROPERTIES.key, PROPERTIES.sig, FLX_PRISTINE_PAYLOAD + " "),
		CRYPTO.verify(PROPERTIES.alg, PROPERTIES.key, PROPERTIES.bad, FLX_PRISTINE_PAYLOAD),
		CRYPTO.verify(PROPERTIES.alg, PROPERTIES.key, "not a signature!", FLX_PRISTINE_PAYLOAD)].join()`
	for _, tc := range tests {
		bad := []byte(tc.sig)
		bad[len(bad)/2] ^= 1 // still hex or base64, and wrong
		props := map[string]string{"alg": tc.alg, "key": tc.key, "sig": tc.sig, "bad": string(bad)}
		res := scriptValue(t, src, props, nil)
		if res.Err != nil || res.Value != "true,false,false,false" {
			t.Errorf("%s with %.30q and %.20q: got %v, %v; want true,false,false,false", tc.alg, tc.key, tc.sig, res.Value, res.Err)
		}
	}
	// Bytes in: an ArrayBuffer or a Uint8Array of the same data.
	props := map[string]string{"key": k["ed25519_hex"], "sig": s["ed25519_hex"], "data": base64.StdEncoding.EncodeToString(cryptoData)}
	res := scriptValue(t, `var b = Uint8Array.from(atobBytes(PROPERTIES.data));
		function atobBytes(s) { var m = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", out = [], bits = 0, acc = 0;
			for (var c of s.replace(/=+$/, "")) { acc = acc << 6 | m.indexOf(c); bits += 6; if (bits >= 8) { bits -= 8; out.push(acc >> bits & 255) } } return out }
		return CRYPTO.verify("ed25519", PROPERTIES.key, PROPERTIES.sig, b) && CRYPTO.verify("ed25519", PROPERTIES.key, PROPERTIES.sig, b.buffer)`, props, nil)
	if res.Err != nil || res.Value != true {
		t.Errorf("bytes: got %v, %v", res.Value, res.Err)
	}
}

// TestCryptoVerifyErrors checks that a misconfiguration throws a TypeError
// that names the problem and never the key.
func TestCryptoVerifyErrors(t *testing.T) {
	t.Parallel()
	pem := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAawN0NakA8/4tPaiDJZpoBkftIroe2MH0PxloK1ztRGE=\n-----END PUBLIC KEY-----\n"
	tests := []struct{ call, err string }{
		{`CRYPTO.verify("md5", PROPERTIES.pem, "00", "x")`, `TypeError: CRYPTO.verify: unknown algorithm "md5" (use ed25519, ecdsa-p256-sha256, rsa-sha256, rsa-sha1, rsa-pss-sha256)`},
		{`CRYPTO.verify(undefined, PROPERTIES.pem, "00", "x")`, `TypeError: CRYPTO.verify: unknown algorithm undefined`},
		{`CRYPTO.verify("ed25519", undefined, "00", "x")`, `TypeError: CRYPTO.verify: the public key must be a non-empty string, got undefined`},
		{`CRYPTO.verify("ed25519", "zz not a key", "00", "x")`, `TypeError: CRYPTO.verify: the public key is not PEM, hex or base64`},
		{`CRYPTO.verify("ed25519", "abcd", "00", "x")`, `TypeError: CRYPTO.verify: the public key is neither 32 bytes (Ed25519) nor a DER public key`},
		{`CRYPTO.verify("ed25519", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "00", "x")`, `TypeError: CRYPTO.verify: the public key is a PEM PUBLIC KEY that does not parse`},
		{`CRYPTO.verify("ed25519", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "00", "x")`, `TypeError: CRYPTO.verify: the public key is a PEM "PRIVATE KEY" block`},
		{`CRYPTO.verify("rsa-sha256", PROPERTIES.pem, "00", "x")`, `TypeError: CRYPTO.verify: the key does not suit the algorithm: rsa-sha256 needs an RSA key, got an Ed25519 key`},
		{`CRYPTO.verify("ed25519", PROPERTIES.pem, 42, "x")`, `TypeError: CRYPTO.verify: the signature must be a string (hex or base64), got a number`},
		{`CRYPTO.verify("ed25519", PROPERTIES.pem, "00", {})`, `TypeError: CRYPTO.verify: data must be a string, an ArrayBuffer or a Uint8Array, got an object`},
		{`CRYPTO.sha256(null)`, `TypeError: CRYPTO.sha256: data must be a string, an ArrayBuffer or a Uint8Array, got null`},
		{`CRYPTO.sha1("x", "latin1")`, `TypeError: CRYPTO.sha1: unsupported encoding "latin1" (use hex or base64)`},
	}
	for _, tc := range tests {
		res := runScript(t, "return "+tc.call, &Request{Properties: map[string]string{"pem": pem}})
		var se *ScriptError
		if !errors.As(res.Err, &se) || !strings.HasPrefix(se.Message, tc.err) {
			t.Errorf("%s: got %v, %v; want %q", tc.call, res.Value, res.Err, tc.err)
		}
		if se != nil && strings.Contains(se.Message, "MCowBQYDK2Vw") {
			t.Errorf("%s: the error shows the key: %s", tc.call, se.Message)
		}
	}
}

// TestCryptoHashes checks CRYPTO.sha1/sha256/sha512 against Go's and
// randomUUID's form.
func TestCryptoHashes(t *testing.T) {
	t.Parallel()
	s1, s256, s512 := sha1.Sum(cryptoData), sha256.Sum256(cryptoData), sha512.Sum512(cryptoData)
	want := strings.Join([]string{hex.EncodeToString(s1[:]), base64.StdEncoding.EncodeToString(s256[:]),
		hex.EncodeToString(s512[:]), hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("é")); return s[:] }())}, ",")
	res := scriptValue(t, `return [CRYPTO.sha1(FLX_PRISTINE_PAYLOAD), CRYPTO.sha256(FLX_PRISTINE_PAYLOAD, "base64"),
		CRYPTO.sha512(FLX_PRISTINE_PAYLOAD, "hex"), CRYPTO.sha256("é")].join()`, nil, nil)
	if res.Err != nil || res.Value != want {
		t.Errorf("got %v, %v\nwant %s", res.Value, res.Err, want)
	}
	res = scriptValue(t, `var a = CRYPTO.randomUUID(), b = CRYPTO.randomUUID(); return a === b ? "same" : a`, nil, nil)
	if s, _ := res.Value.(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(s) {
		t.Errorf("randomUUID: got %v, %v", res.Value, res.Err)
	}
}

// TestPublicKeySenders checks DISCORD.verify, SENDGRID.verify and
// STANDARD.verify's v1a against requests signed by Node's crypto as the
// senders document it, and the same requests spoiled.
func TestPublicKeySenders(t *testing.T) {
	at := time.Now()
	setClock(t, at)
	n := runCryptoNode(t, at)
	whsec := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	tests := []struct {
		global string
		s      nodeSender
		sig    string // the signature header
	}{
		{"DISCORD", n.Discord, "x-signature-ed25519"},
		{"SENDGRID", n.SendGrid, "x-twilio-email-event-webhook-signature"},
		{"STANDARD", n.Standard, "webhook-signature"},
	}
	for _, tc := range tests {
		checkVerify(t, tc.global, verifyCase{name: tc.global + " signed", headers: tc.s.Headers, body: cryptoData, secret: tc.s.PublicKey, want: true})
		checkVerify(t, tc.global, verifyCase{name: tc.global + " other body", headers: tc.s.Headers, body: append([]byte(" "), cryptoData...), secret: tc.s.PublicKey, want: false})
		spoiled := map[string]string{}
		for k, v := range tc.s.Headers {
			spoiled[k] = v
		}
		// Change the signature's first character (after "v1a," and the
		// like) to another digit, which carries whole bits in hex and
		// base64 alike; a
		// character near the end of base64 may carry only padding bits,
		// which decoders ignore (the spoiled signature then still held:
		// a flake, once).
		v := spoiled[tc.sig]
		at := strings.LastIndex(v, ",") + 1
		repl := "0" // a digit: hex ignores case, so "a" to "A" is no change
		if v[at] == '0' {
			repl = "1"
		}
		spoiled[tc.sig] = v[:at] + repl + v[at+1:]
		checkVerify(t, tc.global, verifyCase{name: tc.global + " spoiled", headers: spoiled, body: cryptoData, secret: tc.s.PublicKey, want: false})
		delete(spoiled, tc.sig)
		checkVerify(t, tc.global, verifyCase{name: tc.global + " unsigned", headers: spoiled, body: cryptoData, secret: tc.s.PublicKey, want: false})
	}
	// Ten minutes later the timestamps are stale, unless the tolerance
	// allows it.
	setClock(t, at.Add(10*time.Minute))
	for _, tc := range tests {
		checkVerify(t, tc.global, verifyCase{name: tc.global + " stale", headers: tc.s.Headers, body: cryptoData, secret: tc.s.PublicKey, want: false})
		checkVerify(t, tc.global, verifyCase{name: tc.global + " tolerated", headers: tc.s.Headers, body: cryptoData, secret: tc.s.PublicKey, args: ", 900", want: true})
	}
	setClock(t, at)

	// STANDARD takes a list mixing whsec_ secrets and whpk_ keys; v1
	// entries are checked with the secrets, v1a entries with the keys.
	props := map[string]string{"pk": n.Standard.PublicKey, "sec": whsec}
	res := scriptValue(t, `return [STANDARD.verify([PROPERTIES.sec, PROPERTIES.pk]), STANDARD.verify([PROPERTIES.sec]),
		STANDARD.verify(PROPERTIES.sec)].join()`, props, n.Standard.Headers)
	if res.Err != nil || res.Value != "true,false,false" {
		t.Errorf("mixed list: got %v, %v", res.Value, res.Err)
	}
	if len(res.Logs) != 2 || res.Logs[0].Text != "STANDARD.verify: webhook-signature has no v1 signature" {
		t.Errorf("mixed list: logs %v", res.Logs)
	}

	for _, tc := range []struct{ global, key, err string }{
		{"DISCORD", n.SendGrid.PublicKey, "TypeError: DISCORD.verify: the public key is an ECDSA P-256 key, not Ed25519"},
		{"SENDGRID", n.Discord.PublicKey, "TypeError: SENDGRID.verify: the public key is an Ed25519 key, not ECDSA P-256"},
		{"DISCORD", "not hex", "TypeError: DISCORD.verify: the public key is not PEM, hex or base64"},
		{"STANDARD", "whpk_AAAA", "TypeError: STANDARD.verify: the secret is not a public key (want whpk_<base64 of 32 bytes>)"},
	} {
		res := scriptValue(t, "return "+tc.global+".verify(PROPERTIES.key)", map[string]string{"key": tc.key}, n.Discord.Headers)
		var se *ScriptError
		if !errors.As(res.Err, &se) || !strings.HasPrefix(se.Message, tc.err) {
			t.Errorf("%s.verify(%.20q): got %v, %v; want %q", tc.global, tc.key, res.Value, res.Err, tc.err)
		}
	}
}

// jwksServer serves a JWKS and counts the requests.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// egressHTTP sends a script's requests through an egress guard, as the
// server does.
type egressHTTP struct{ c *egress.Client }

func (h egressHTTP) Do(ctx context.Context, r *HTTPRequest) (*HTTPResponse, error) {
	resp, err := h.c.Do(ctx, (*egress.Request)(r))
	return (*HTTPResponse)(resp), err
}

// guarded returns Effects whose HTTP goes through an egress guard that
// allows loopback only when loopback is true.
func guarded(t *testing.T, loopback bool) *Effects {
	t.Helper()
	var o egress.Options
	if loopback {
		o.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	c, err := egress.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &Effects{HTTP: egressHTTP{c}}
}

// jwtScript verifies PROPERTIES.token with the options in PROPERTIES.opts
// (JSON) and returns the claims as JSON.
const jwtScript = `var o = JSON.parse(PROPERTIES.opts);
	if (PROPERTIES.key) o[PROPERTIES.keyName] = PROPERTIES.key;
	return JSON.stringify(JWT.verify(PROPERTIES.token, o))`

// runJWT runs jwtScript on engine e.
func runJWT(t *testing.T, e *Engine, token, keyName, key, opts string, fx *Effects) Result {
	t.Helper()
	return runWith(t, e, jwtScript, &Request{Effects: fx, Properties: map[string]string{
		"token": token, "keyName": keyName, "key": key, "opts": opts}})
}

// TestJWTVerify checks JWT.verify against tokens signed by jose, with a
// secret, a PEM public key and a JWKS served over loopback through the
// egress guard.
func TestJWTVerify(t *testing.T) {
	at := time.Unix(time.Now().Unix(), 0)
	setClock(t, at)
	n := runCryptoNode(t, at)
	wantClaims, _ := json.Marshal(n.Claims)
	srv := newJWKSServer(t, n.JWT.JWKS)
	e := NewEngine(Limits{})
	fx := guarded(t, true)
	checkClaims := func(name string, res Result) {
		t.Helper()
		var got map[string]any
		if res.Err != nil || json.Unmarshal([]byte(res.Value.(string)), &got) != nil {
			t.Errorf("%s: %v, %v", name, res.Value, res.Err)
			return
		}
		if got["exp"] != float64(at.Unix()+600) || got["iat"] != float64(at.Unix()) {
			t.Errorf("%s: exp/iat %v/%v", name, got["exp"], got["iat"])
		}
		delete(got, "exp")
		delete(got, "iat")
		if g, _ := json.Marshal(got); string(g) != string(wantClaims) {
			t.Errorf("%s: claims %s, want %s", name, g, wantClaims)
		}
	}
	strict := `{"issuer": "https://issuer.example", "audience": ["other", "switchyard"]}`
	for alg, tok := range n.JWT.Tokens {
		if strings.HasPrefix(alg, "HS") {
			checkClaims(alg+" secret", runJWT(t, e, tok, "secret", n.JWT.Secret, strict, nil))
			checkClaims(alg+" secret, algorithms", runJWT(t, e, tok, "secret", n.JWT.Secret, `{"algorithms": ["`+alg+`"]}`, nil))
			continue
		}
		checkClaims(alg+" publicKey", runJWT(t, e, tok, "publicKey", n.JWT.PublicKeys[alg], strict, nil))
		checkClaims(alg+" jwksUrl", runJWT(t, e, "Bearer "+tok, "jwksUrl", srv.URL+"/jwks.json", strict, fx))
	}
	if h := srv.hits.Load(); h != 1 {
		t.Errorf("the JWKS was fetched %d times for 7 tokens, want once", h)
	}

	rs := n.JWT.Tokens["RS256"]
	refused := []struct {
		name, token, keyName, key, opts, err string
	}{
		{"expired", n.JWT.Bad["expired"], "publicKey", n.JWT.PublicKeys["RS256"], `{}`, "Error: JWT.verify: the token expired 120 s ago"},
		{"expired within the leeway", n.JWT.Bad["expired"], "publicKey", n.JWT.PublicKeys["RS256"], `{"leewaySeconds": 150}`, ""},
		{"not yet", n.JWT.Bad["not_yet"], "publicKey", n.JWT.PublicKeys["RS256"], `{}`, "Error: JWT.verify: the token is not valid for another 120 s (nbf)"},
		{"issuer", rs, "publicKey", n.JWT.PublicKeys["RS256"], `{"issuer": "https://evil.example"}`, "Error: JWT.verify: the token's issuer (iss) is not https://evil.example"},
		{"audience", rs, "publicKey", n.JWT.PublicKeys["RS256"], `{"audience": "other"}`, "Error: JWT.verify: the token's audience (aud) is not other"},
		{"alg not allowed", rs, "publicKey", n.JWT.PublicKeys["RS256"], `{"algorithms": ["PS256"]}`, "Error: JWT.verify: the token's algorithm RS256 is not allowed (algorithms: PS256)"},
		{"other key", rs, "publicKey", n.JWT.PublicKeys["RS384"], `{}`, "Error: JWT.verify: the signature does not match"},
		{"ES256 token, RSA key", n.JWT.Tokens["ES256"], "publicKey", n.JWT.PublicKeys["RS256"], `{}`, "Error: JWT.verify: the token's algorithm ES256 does not suit the RSA key"},
		{"HS256 keyed with the public key", n.JWT.Bad["hs256_with_public_key"], "publicKey", n.JWT.PublicKeys["RS256"], `{}`, "Error: JWT.verify: the token's algorithm HS256 does not suit the RSA key"},
		{"HS256 keyed with the public key, JWKS", n.JWT.Bad["hs256_with_public_key"], "jwksUrl", srv.URL + "/jwks.json", `{}`, "Error: JWT.verify: the token's algorithm HS256 needs a secret; a JWKS holds public keys"},
		{"alg none", n.JWT.Bad["alg_none"], "secret", n.JWT.Secret, `{}`, `Error: JWT.verify: the token is unsigned (alg "none"), which is never accepted`},
		{"alg none, JWKS", n.JWT.Bad["alg_none"], "jwksUrl", srv.URL + "/jwks.json", `{}`, `Error: JWT.verify: the token is unsigned (alg "none"), which is never accepted`},
		{"no kid, JWKS", n.JWT.Bad["no_kid"], "jwksUrl", srv.URL + "/jwks.json", `{}`, ""},
		{"tampered", rs[:len(rs)-4] + "AAAA", "publicKey", n.JWT.PublicKeys["RS256"], `{}`, "Error: JWT.verify: the signature does not match"},
		{"not a JWT", "a.b", "secret", "s", `{}`, "Error: JWT.verify: the token is not a signed JWT"},
		{"no token", "", "secret", "s", `{}`, "Error: JWT.verify: the token must be a non-empty string, got an empty string"},
		{"HS256 with a public key", rs, "publicKey", n.JWT.PublicKeys["RS256"], `{"algorithms": ["HS256"]}`, "TypeError: JWT.verify: algorithm HS256 needs a secret, not a publicKey or a jwksUrl"},
		{"RS256 with a secret", rs, "secret", "s", `{"algorithms": ["RS256"]}`, "TypeError: JWT.verify: algorithm RS256 needs a publicKey or a jwksUrl, not a secret"},
		{"algorithms none", rs, "secret", "s", `{"algorithms": ["none"]}`, `TypeError: JWT.verify: algorithm "none" is never accepted`},
		{"no key", rs, "", "", `{}`, "TypeError: JWT.verify: give exactly one of secret, publicKey and jwksUrl"},
		{"two keys", rs, "secret", "s", `{"publicKey": "x"}`, "TypeError: JWT.verify: give exactly one of secret, publicKey and jwksUrl"},
		{"unknown option", rs, "secret", "s", `{"maxAge": 1}`, `TypeError: JWT.verify: unknown option "maxAge"`},
		{"bad leeway", rs, "secret", "s", `{"leewaySeconds": -1}`, "TypeError: JWT.verify: leewaySeconds must be a number from 0 to 86400"},
	}
	for _, tc := range refused {
		res := runJWT(t, e, tc.token, tc.keyName, tc.key, tc.opts, fx)
		var se *ScriptError
		switch {
		case tc.err == "" && res.Err != nil:
			t.Errorf("%s: %v", tc.name, res.Err)
		case tc.err != "" && (!errors.As(res.Err, &se) || !strings.HasPrefix(se.Message, tc.err)):
			t.Errorf("%s: got %v, %v; want %q", tc.name, res.Value, res.Err, tc.err)
		}
	}
}

// TestJWKSRefresh checks that an unknown kid fetches the JWKS again, at
// most once per jwksRetry, and that keys are fetched again after jwksTTL.
func TestJWKSRefresh(t *testing.T) {
	at := time.Unix(time.Now().Unix(), 0)
	setClock(t, at)
	n := runCryptoNode(t, at)
	srv := newJWKSServer(t, n.JWT.JWKS)
	e := NewEngine(Limits{})
	fx := guarded(t, true)
	u := srv.URL + "/keys"
	unknown := n.JWT.Bad["unknown_kid"]
	steps := []struct {
		after time.Duration // since at
		token string
		err   string
		hits  int64
	}{
		{0, n.JWT.Tokens["ES256"], "", 1},
		{time.Second, unknown, `Error: JWT.verify: the JWKS has no RS256 key with kid "rotated-in"`, 1},
		{jwksRetry + time.Second, unknown, `Error: JWT.verify: the JWKS has no RS256 key with kid "rotated-in"`, 2},
		{jwksRetry + 2*time.Second, unknown, `Error: JWT.verify: the JWKS has no RS256 key with kid "rotated-in"`, 2},
		{jwksRetry + 3*time.Second, n.JWT.Tokens["EdDSA"], "", 2},
		{jwksTTL + jwksRetry + 2*time.Second, n.JWT.Tokens["EdDSA"], "Error: JWT.verify: the token expired", 3},
	}
	for i, st := range steps {
		setClock(t, at.Add(st.after))
		res := runJWT(t, e, st.token, "jwksUrl", u, `{}`, fx)
		var se *ScriptError
		if st.err == "" && res.Err != nil || st.err != "" && (!errors.As(res.Err, &se) || !strings.HasPrefix(se.Message, st.err)) {
			t.Errorf("step %d: got %v, %v; want %q", i, res.Value, res.Err, st.err)
		}
		if h := srv.hits.Load(); h != st.hits {
			t.Errorf("step %d: %d fetches, want %d", i, h, st.hits)
		}
	}
}

// TestJWKSGuarded checks that the JWKS is fetched through the egress
// guard, which refuses loopback unless allowed, and that a failed fetch
// is not retried within jwksRetry; and the size limit.
func TestJWKSGuarded(t *testing.T) {
	at := time.Unix(time.Now().Unix(), 0)
	setClock(t, at)
	n := runCryptoNode(t, at)
	srv := newJWKSServer(t, n.JWT.JWKS)
	e := NewEngine(Limits{})
	tok := n.JWT.Tokens["ES256"]
	for i := range 2 {
		res := runJWT(t, e, tok, "jwksUrl", srv.URL, `{}`, guarded(t, false))
		var se *ScriptError
		if !errors.As(res.Err, &se) || !strings.HasPrefix(se.Message, "Error: JWT.verify: the JWKS at "+srv.URL+" cannot be had: ") {
			t.Errorf("try %d: got %v, %v", i, res.Value, res.Err)
		}
	}
	if h := srv.hits.Load(); h != 0 {
		t.Errorf("the guard let %d requests through to loopback", h)
	}
	res := runJWT(t, e, tok, "jwksUrl", srv.URL, `{}`, guarded(t, true))
	if !strings.Contains(res.Err.Error(), "failed less than 30s ago") {
		t.Errorf("a retry within %s: %v", jwksRetry, res.Err)
	}
	setClock(t, at.Add(jwksRetry))
	if res := runJWT(t, e, tok, "jwksUrl", srv.URL, `{}`, guarded(t, true)); res.Err != nil {
		t.Errorf("after %s: %v", jwksRetry, res.Err)
	}

	big := newJWKSServer(t, []byte(`{"keys": [`+strings.Repeat(`{"kty": "oct"},`, maxJWKSBytes/15)+`{}]}`))
	res = runJWT(t, e, tok, "jwksUrl", big.URL, `{}`, guarded(t, true))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "the key set is larger than 256 KiB") {
		t.Errorf("a large JWKS: %v, %v", res.Value, res.Err)
	}
}

// TestPublicKeyGlobalsLazy checks that CRYPTO, JWT, DISCORD and SENDGRID
// are installed only for scripts that name them (or make names up).
func TestPublicKeyGlobalsLazy(t *testing.T) {
	t.Parallel()
	names := []string{"CRYPTO", "JWT", "DISCORD", "SENDGRID"}
	installed := func(src string) []string {
		p := mustCompile(t, "lazy", src)
		r := &run{rt: goja.New(), ctx: context.Background(), req: &Request{}, limits: &NewEngine(Limits{}).limits, reach: p.reach}
		r.installGlobals()
		var got []string
		for _, n := range names {
			if r.rt.GlobalObject().Get(n) != nil {
				got = append(got, n)
			}
		}
		return got
	}
	for src, want := range map[string]string{
		`return GITHUB.verify(PROPERTIES.secret)`:            "",
		`return CRYPTO.sha256("x")`:                          "CRYPTO",
		`return JWT.verify(HTTP_HEADERS.authorization, {})`:  "JWT",
		`return DISCORD.verify("k") || SENDGRID.verify("k")`: "DISCORD,SENDGRID",
		`return this`: "CRYPTO,JWT,DISCORD,SENDGRID",
	} {
		if got := strings.Join(installed(src), ","); got != want {
			t.Errorf("%s: installed %q, want %q", src, got, want)
		}
	}
	if got := mustValue(t, `return [CRYPTO, JWT, DISCORD, SENDGRID].map(o => Object.keys(o).join()).join(" | ")`, nil); got != "verify,sha1,sha256,sha512,randomUUID | verify | verify | verify" {
		t.Errorf("members: %v", got)
	}
}
