package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"testing"
	"time"
)

func hexMAC(h func() hash.Hash, key, data string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil))
}

// GitHub's documented test vector
// (docs.github.com, "Validating webhook deliveries").
func TestGitHubDocumentedVector(t *testing.T) {
	h := map[string]string{
		"x-github-event":      "push",
		"x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	}
	r, err := Check(Input{Headers: h, Body: []byte("Hello, World!"), Secret: "It's a Secret to Everybody"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Scheme != GitHub || !r.Guessed || !r.Verified || r.Match == nil {
		t.Fatalf("report: %+v", r)
	}
	if m := r.Match; m.Algorithm != "sha256" || m.Encoding != "hex" || m.Signed != "{body}" || m.Key != "secret" || m.MatchedHeader != "x-hub-signature-256" || m.Value != h["x-hub-signature-256"] {
		t.Fatalf("match: %+v", m)
	}
	r, _ = Check(Input{Headers: h, Body: []byte("Hello, World!"), Secret: "wrong"})
	if r.Verified || r.Match != nil || len(r.Hints) == 0 || !strings.Contains(r.Hints[0], "secret") {
		t.Fatalf("wrong secret: %+v", r)
	}
}

func TestWhichVariantMatches(t *testing.T) {
	body := []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	key := []byte("0123456789abcdef0123456789abcdef")
	whsec := "whsec_" + base64.StdEncoding.EncodeToString(key)
	stdMAC := hmac.New(sha256.New, key)
	stdMAC.Write([]byte("msg_1." + ts + "."))
	stdMAC.Write(body)
	std := base64.StdEncoding.EncodeToString(stdMAC.Sum(nil))

	tests := []struct {
		name     string
		headers  map[string]string
		secret   string
		scheme   string
		verified bool
		want     Candidate // fields compared: Algorithm, Encoding, Signed, Key
		hint     string
	}{
		{"github sha1 fallback", map[string]string{"x-github-event": "push", "x-hub-signature": "sha1=" + hexMAC(sha1.New, "s", string(body))}, "s", "", true,
			Candidate{Algorithm: "sha1", Encoding: "hex", Signed: "{body}", Key: "secret"}, ""},
		{"slack", map[string]string{"x-slack-request-timestamp": ts, "x-slack-signature": "v0=" + hexMAC(sha256.New, "s", "v0:"+ts+":"+string(body))}, "s", "", true,
			Candidate{Algorithm: "sha256", Encoding: "hex", Signed: "v0:{x-slack-request-timestamp}:{body}", Key: "secret"}, ""},
		{"stripe with two v1", map[string]string{"stripe-signature": "t=" + ts + ",v1=deadbeef,v1=" + hexMAC(sha256.New, "s", ts+"."+string(body))}, "s", "", true,
			Candidate{Algorithm: "sha256", Encoding: "hex", Signed: "{t}.{body}", Key: "secret"}, ""},
		{"standard webhooks", map[string]string{"webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": "v1,bm90IGl0 v1," + std}, whsec, "", true,
			Candidate{Algorithm: "sha256", Encoding: "base64", Signed: "{webhook-id}.{webhook-timestamp}.{body}", Key: "secret, base64-decoded"}, ""},
		{"generic base64 sha512", map[string]string{"x-signature": base64.StdEncoding.EncodeToString(must(hex.DecodeString(hexMAC(sha512.New, "s", string(body)))))}, "s", "", false,
			Candidate{Algorithm: "sha512", Encoding: "base64", Signed: "{body}", Key: "secret"}, "HMAC.sign(\"sha512\""},
		{"secret with a trailing newline", map[string]string{"x-github-event": "push", "x-hub-signature-256": "sha256=" + hexMAC(sha256.New, "s", string(body))}, "s\n", "", false,
			Candidate{Algorithm: "sha256", Encoding: "hex", Signed: "{body}", Key: "secret, trimmed"}, "whitespace"},
		{"github scheme but signed sha1 only in another header", map[string]string{"x-hub-signature-256": "sha256=00", "x-signature": hexMAC(sha1.New, "s", string(body))}, "s", GitHub, false,
			Candidate{Algorithm: "sha1", Encoding: "hex", Signed: "{body}", Key: "secret"}, "not how github signs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Check(Input{Headers: tc.headers, Body: body, Secret: tc.secret, Scheme: tc.scheme, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verified != tc.verified {
				t.Fatalf("verified %v (%s), want %v", r.Verified, r.Reason, tc.verified)
			}
			m := r.Match
			if m == nil || m.Algorithm != tc.want.Algorithm || m.Encoding != tc.want.Encoding || m.Signed != tc.want.Signed || m.Key != tc.want.Key {
				t.Fatalf("match %+v, want %+v", m, tc.want)
			}
			if tc.hint != "" && !strings.Contains(strings.Join(r.Hints, " "), tc.hint) {
				t.Fatalf("hints %q lack %q", r.Hints, tc.hint)
			}
		})
	}
}

func TestStaleTimestamps(t *testing.T) {
	body := []byte("x")
	now := time.Unix(1_800_000_000, 0)
	for _, age := range []int64{301, -301, 86400} {
		ts := strconv.FormatInt(now.Unix()-age, 10)
		h := map[string]string{"x-slack-request-timestamp": ts, "x-slack-signature": "v0=" + hexMAC(sha256.New, "s", "v0:"+ts+":x")}
		r, _ := Check(Input{Headers: h, Body: body, Secret: "s", Now: now})
		if r.Verified || r.Match == nil || !strings.Contains(strings.Join(r.Hints, " "), "tolerance") {
			t.Fatalf("age %d: %+v", age, r)
		}
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Check(Input{Secret: ""}); err == nil {
		t.Fatal("empty secret accepted")
	}
	if _, err := Check(Input{Secret: "s", Scheme: "md5"}); err == nil || !strings.Contains(err.Error(), "github") {
		t.Fatalf("unknown scheme: %v", err)
	}
	r, err := Check(Input{Secret: "s", Headers: map[string]string{}})
	if err != nil || r.Scheme != Generic || len(r.Received) != 0 || !strings.Contains(r.Hints[0], "No header") {
		t.Fatalf("no signature: %+v %v", r, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
