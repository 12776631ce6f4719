package scripting

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzNow is the fixed clock of FuzzSenderVerify.
var fuzzNow = time.Unix(1_700_000_000, 250_000_000)

// FuzzSenderVerify feeds random headers, bodies and secrets to each verify
// global (which picks the sender). present says which headers are sent
// (bit 0: the signature header, bit 1: GitHub's X-Hub-Signature, bit 2: the
// timestamp header, bit 3: webhook-id). In the header templates h1 and h2,
// "{sig}" becomes the right signature and "{ts}" the timestamp ts, so that
// the fuzzer explores requests signed right as well as wrong.
//
// verify must never fail but with the TypeError of a bad secret, must
// return exactly what an oracle written from the senders' documentation
// says, and must log nothing that holds the secret or the right signature.
func FuzzSenderVerify(f *testing.F) {
	setClock(f, fuzzNow)
	e := NewEngine(Limits{})
	progs := map[string]*Program{}
	for _, s := range testSenders {
		progs[s.global] = mustCompile(f, s.global, "return "+s.global+".verify(PROPERTIES.secret)")
	}
	f.Fuzz(func(t *testing.T, which, present uint8, secret, id, ts, h1, h2 string, body []byte) {
		s := testSenders[int(which)%len(testSenders)]
		secret = strings.ToValidUTF8(secret, "\uFFFD") // PROPERTIES values are text
		key, keyErr := fuzzKey(s.name, secret)
		sig1, sig2 := fuzzSignatures(s.name, key, id, ts, body)
		fill := func(tmpl, sig string) string {
			return strings.ReplaceAll(strings.ReplaceAll(tmpl, "{ts}", ts), "{sig}", sig)
		}
		headers := map[string]string{}
		put := func(bit uint8, name, value string) {
			if present&bit != 0 {
				headers[name] = value
			}
		}
		switch s.name {
		case "github":
			put(1, "x-hub-signature-256", fill(h1, sig1))
			put(2, "x-hub-signature", fill(h2, sig2))
		case "gitlab":
			put(1, "x-gitlab-token", fill(h1, sig1))
		case "bitbucket":
			put(1, "x-hub-signature", fill(h1, sig1))
		case "slack":
			put(1, "x-slack-signature", fill(h1, sig1))
			put(4, "x-slack-request-timestamp", ts)
		case "stripe":
			put(1, "stripe-signature", fill(h1, sig1))
		case "standard":
			put(1, "webhook-signature", fill(h1, sig1))
			put(4, "webhook-timestamp", ts)
			put(8, "webhook-id", id)
		}

		req := &Request{Headers: headers, Body: body, Properties: map[string]string{"secret": secret}}
		res := e.Run(context.Background(), progs[s.global], req, 10*time.Second)
		if keyErr != nil {
			var se *ScriptError
			if !errors.As(res.Err, &se) || !strings.HasPrefix(se.Message, "TypeError: "+s.global+".verify: the ") {
				t.Fatalf("secret %q (%v): got %v, %v, want a TypeError", secret, keyErr, res.Value, res.Err)
			}
			return
		}
		if res.Err != nil {
			t.Fatalf("%s.verify failed: %v", s.global, res.Err)
		}
		want := fuzzOracle(s.name, headers, body, key)
		if s.name == "standard" && strings.HasPrefix(secret, "whpk_") {
			want = false // a v1a signature needs the private key, which the fuzzer does not have
		}
		if res.Value != want {
			t.Fatalf("%s.verify = %v, the oracle says %v\nheaders %q\nbody %q\nlog %v", s.global, res.Value, want, headers, body, res.Logs)
		}
		if want != (len(res.Logs) == 0) || len(res.Logs) > 1 {
			t.Fatalf("%s.verify = %v with log %v", s.global, res.Value, res.Logs)
		}
		for _, l := range res.Logs {
			if !strings.HasPrefix(l.Text, s.global+".verify: ") || l.Level != LevelFine {
				t.Errorf("log line %v", l)
			}
			for _, sig := range []string{sig1, sig2} {
				if len(sig) >= 20 && strings.Contains(l.Text, sig) {
					t.Errorf("log line %q holds the right signature", l.Text)
				}
			}
			// Log lines are made of ASCII letters, digits and a little
			// punctuation; a secret with anything else in it cannot be
			// part of one unless it leaked.
			if len(secret) >= 8 && strings.ContainsFunc(secret, notLogRune) && strings.Contains(l.Text, secret) {
				t.Errorf("log line %q holds the secret", l.Text)
			}
		}
	})
}

func notLogRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" -_.,:;=()<>", r))
}

// fuzzKey is the HMAC key for secret, or why the secret is refused.
func fuzzKey(name, secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("empty")
	}
	if name != "standard" {
		return []byte(secret), nil
	}
	if b64, ok := strings.CutPrefix(secret, "whpk_"); ok { // a v1a public key
		k, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && len(k) != 32 {
			err = errors.New("not 32 bytes")
		}
		return k, err
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err == nil && len(k) == 0 {
		err = errors.New("empty key")
	}
	return k, err
}

// fuzzSignatures returns the right signatures for the "{sig}" of h1 and h2.
func fuzzSignatures(name string, key []byte, id, ts string, body []byte) (string, string) {
	k := string(key)
	switch name {
	case "github":
		return goHex(sha256.New, k, body), goHex(sha1.New, k, body)
	case "gitlab":
		return k, ""
	case "bitbucket":
		return goHex(sha256.New, k, body), ""
	case "slack":
		return goHex(sha256.New, k, []byte("v0:"+ts+":"+string(body))), ""
	case "stripe":
		return goHex(sha256.New, k, []byte(ts+"."+string(body))), ""
	case "standard":
		return base64.StdEncoding.EncodeToString(goHMAC(sha256.New, k, []byte(id+"."+ts+"."+string(body)))), ""
	}
	return "", ""
}

// timestampRE is how senders write a timestamp: seconds since 1970 in
// decimal, without a sign or leading zeros.
var timestampRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,17})$`)

// fuzzFresh reports whether a timestamp header is well-formed and within
// the default 300 s of fuzzNow, counted in whole seconds.
func fuzzFresh(ts string) bool {
	if !timestampRE.MatchString(ts) {
		return false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	return math.Abs(float64(fuzzNow.Unix()-t)) <= 300
}

// fuzzOracle says whether a request is signed right, as the senders
// document their schemes.
func fuzzOracle(name string, h map[string]string, body []byte, key []byte) bool {
	k := string(key)
	switch name {
	case "github":
		if v, ok := h["x-hub-signature-256"]; ok {
			return v == "sha256="+goHex(sha256.New, k, body)
		}
		v, ok := h["x-hub-signature"]
		return ok && v == "sha1="+goHex(sha1.New, k, body)
	case "gitlab":
		return h["x-gitlab-token"] == k
	case "bitbucket":
		v, ok := h["x-hub-signature"]
		return ok && v == "sha256="+goHex(sha256.New, k, body)
	case "slack":
		ts, ok := h["x-slack-request-timestamp"]
		return ok && fuzzFresh(ts) && h["x-slack-signature"] == "v0="+goHex(sha256.New, k, []byte("v0:"+ts+":"+string(body)))
	case "stripe":
		v, ok := h["stripe-signature"]
		if !ok {
			return false
		}
		items := strings.Split(v, ",")
		var ts []string
		for _, it := range items {
			if strings.HasPrefix(it, "t=") {
				ts = append(ts, it[2:])
			}
		}
		if len(ts) != 1 || !fuzzFresh(ts[0]) {
			return false
		}
		want := "v1=" + goHex(sha256.New, k, []byte(ts[0]+"."+string(body)))
		for _, it := range items {
			if it == want {
				return true
			}
		}
		return false
	case "standard":
		id, ts, v := h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"]
		if id == "" || !fuzzFresh(ts) {
			return false
		}
		want := "v1," + base64.StdEncoding.EncodeToString(goHMAC(sha256.New, k, []byte(id+"."+ts+"."+string(body))))
		for _, it := range strings.Split(v, " ") {
			if it == want {
				return true
			}
		}
		return false
	}
	return false
}
