package scripting

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzPublicKeyVerify feeds random headers and bodies to DISCORD.verify,
// SENDGRID.verify and STANDARD.verify with a whpk_ key. In the template
// h1, "{sig}" becomes the right signature, so that the fuzzer explores
// requests signed right as well as wrong; present says which headers are
// sent (bit 0: the signature, bit 1: the timestamp, bit 2: webhook-id).
// verify must never fail, must return what an oracle written from the
// senders' documentation says, and must log one FINE line when false.
func FuzzPublicKeyVerify(f *testing.F) {
	setClock(f, fuzzNow)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	keys := []string{hex.EncodeToString(edPub), base64.StdEncoding.EncodeToString(der), "whpk_" + base64.StdEncoding.EncodeToString(edPub)}
	globals := []string{"DISCORD", "SENDGRID", "STANDARD"}
	e := NewEngine(Limits{})
	progs := make([]*Program, len(globals))
	for i, g := range globals {
		progs[i] = mustCompile(f, g, "return "+g+".verify(PROPERTIES.key)")
	}
	ts := "1700000000"
	for which := range uint8(3) {
		f.Add(which, uint8(7), ts, "msg_1", "{sig}", []byte(`{"type":1}`))
		f.Add(which, uint8(7), ts, "msg_1", "v1,AAAA {sig}", []byte(`{"type":1}`))
		f.Add(which, uint8(7), "1699999000", "msg_1", "{sig}", []byte{0xff, 0})
		f.Add(which, uint8(3), ts, "", "{sig}{sig}", []byte{})
	}
	f.Fuzz(func(t *testing.T, which, present uint8, ts, id, h1 string, body []byte) {
		i := int(which) % len(globals)
		var sig string
		switch i {
		case 0:
			sig = hex.EncodeToString(ed25519.Sign(edPriv, append([]byte(ts), body...)))
		case 1:
			d := sha256.Sum256(append([]byte(ts), body...))
			der, err := ecdsa.SignASN1(rand.Reader, ec, d[:])
			if err != nil {
				t.Fatal(err)
			}
			sig = base64.StdEncoding.EncodeToString(der)
		case 2:
			sig = "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(edPriv, []byte(id+"."+ts+"."+string(body))))
		}
		names := [][3]string{
			{"x-signature-ed25519", "x-signature-timestamp", ""},
			{"x-twilio-email-event-webhook-signature", "x-twilio-email-event-webhook-timestamp", ""},
			{"webhook-signature", "webhook-timestamp", "webhook-id"},
		}[i]
		headers := map[string]string{}
		values := []string{strings.ReplaceAll(h1, "{sig}", sig), ts, id}
		for b, name := range names {
			if name != "" && present&(1<<b) != 0 {
				headers[name] = values[b]
			}
		}
		req := &Request{Headers: headers, Body: body, Properties: map[string]string{"key": keys[i]}}
		res := e.Run(context.Background(), progs[i], req, 10*time.Second)
		if res.Err != nil {
			t.Fatalf("%s.verify failed: %v", globals[i], res.Err)
		}
		want := publicOracle(i, headers, body, edPub, &ec.PublicKey)
		if res.Value != want {
			t.Fatalf("%s.verify = %v, the oracle says %v\nheaders %q\nbody %q\nlog %v", globals[i], res.Value, want, headers, body, res.Logs)
		}
		if want != (len(res.Logs) == 0) || len(res.Logs) > 1 {
			t.Fatalf("%s.verify = %v with log %v", globals[i], res.Value, res.Logs)
		}
		if len(res.Logs) == 1 && (res.Logs[0].Level != LevelFine || !strings.HasPrefix(res.Logs[0].Text, globals[i]+".verify: ")) {
			t.Errorf("log line %v", res.Logs[0])
		}
	})
}

// publicOracle says whether a request is signed right, as Discord,
// SendGrid and Standard Webhooks (v1a) document it, with the default
// tolerance.
func publicOracle(which int, h map[string]string, body []byte, ed ed25519.PublicKey, ec *ecdsa.PublicKey) bool {
	switch which {
	case 0:
		ts, ok := h["x-signature-timestamp"]
		sig, err := hex.DecodeString(h["x-signature-ed25519"])
		return ok && fuzzFresh(ts) && err == nil && len(sig) == 64 && ed25519.Verify(ed, append([]byte(ts), body...), sig)
	case 1:
		ts, ok := h["x-twilio-email-event-webhook-timestamp"]
		sig, err := base64.StdEncoding.DecodeString(h["x-twilio-email-event-webhook-signature"])
		d := sha256.Sum256(append([]byte(ts), body...))
		return ok && fuzzFresh(ts) && err == nil && ecdsa.VerifyASN1(ec, d[:], sig)
	}
	id, ts := h["webhook-id"], h["webhook-timestamp"]
	if id == "" || !fuzzFresh(ts) {
		return false
	}
	for _, entry := range strings.Split(h["webhook-signature"], " ") {
		b64, ok := strings.CutPrefix(entry, "v1a,")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if ok && err == nil && ed25519.Verify(ed, []byte(id+"."+ts+"."+string(body)), sig) {
			return true
		}
	}
	return false
}

// FuzzJWTVerify feeds made-up tokens to JWT.verify with an HS256 secret:
// it must return the claims only for a token the oracle accepts (signed
// with the secret when right is true), and otherwise throw an Error
// saying why; never anything else.
func FuzzJWTVerify(f *testing.F) {
	setClock(f, fuzzNow)
	const secret = "fuzz secret"
	e := NewEngine(Limits{})
	p := mustCompile(f, "jwt", `return JSON.stringify(JWT.verify(PROPERTIES.token, {secret: PROPERTIES.secret, algorithms: ["HS256", "HS512"]}))`)
	f.Add(`{"alg":"HS256"}`, `{"sub":"a","exp":1700000100}`, true, "")
	f.Add(`{"alg":"HS256"}`, `{"exp":1699999000}`, true, "")
	f.Add(`{"alg":"none"}`, `{}`, false, "")
	f.Add(`{"alg":"HS256","crit":["b64"]}`, `{}`, true, "")
	f.Add(`{"alg":"HS512"}`, `[1]`, true, "")
	f.Add(`{"alg":"HS256"}`, `{"nbf":"soon"}`, true, "x")
	f.Fuzz(func(t *testing.T, header, payload string, right bool, tail string) {
		enc := base64.RawURLEncoding
		signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
		var alg struct{ Alg string } // any case: a fuzzed "ALG" gets signed too
		json.Unmarshal([]byte(header), &alg)
		sig := tail
		if right {
			h := sha256.New
			if alg.Alg == "HS512" {
				h = sha512.New
			}
			sig = enc.EncodeToString(goHMAC(h, secret, []byte(signed)))
		}
		tok := signed + "." + sig
		res := e.Run(context.Background(), p, &Request{Properties: map[string]string{"token": tok, "secret": secret}}, 10*time.Second)
		want := right && jwtOracle(header, payload)
		var se *ScriptError
		switch {
		case want && res.Err != nil:
			t.Fatalf("token %q refused: %v", tok, res.Err)
		case !want && res.Err == nil:
			t.Fatalf("token %q accepted: %v", tok, res.Value)
		case !want && (!errors.As(res.Err, &se) || !strings.HasPrefix(se.Message, "Error: JWT.verify: ")):
			t.Fatalf("token %q: %v", tok, res.Err)
		case want:
			var got, claims map[string]any
			json.Unmarshal([]byte(res.Value.(string)), &got)
			json.Unmarshal([]byte(payload), &claims)
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(claims)
			if !bytes.Equal(a, b) {
				t.Fatalf("claims %s, want %s", a, b)
			}
		}
	})
}

// jwtOracle says whether a token with this header and payload, signed
// right, is valid under RFC 7519 at fuzzNow for algorithms HS256, HS512.
func jwtOracle(header, payload string) bool {
	var h map[string]json.RawMessage
	if json.Unmarshal([]byte(header), &h) != nil {
		return false
	}
	var alg string
	if json.Unmarshal(h["alg"], &alg) != nil || alg != "HS256" && alg != "HS512" {
		return false
	}
	if _, crit := h["crit"]; crit {
		return false
	}
	var c map[string]any
	if json.Unmarshal([]byte(payload), &c) != nil || c == nil {
		return false
	}
	now := float64(fuzzNow.Unix())
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, ok := c[name]
		if !ok {
			continue
		}
		f, isNum := v.(float64)
		if !isNum || name == "exp" && f <= now || name == "nbf" && f > now {
			return false
		}
	}
	return true
}
