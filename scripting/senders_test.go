package scripting

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/npmtest"
	"github.com/switchyard-dev/switchyard/scripting/signature"
)

// sender describes one sender global for the tests.
type sender struct {
	global  string // "GITHUB"
	name    string // its name in testdata/npm/senders.mjs
	sig     string // the header holding the signature
	timed   bool   // signs a timestamp; verify takes toleranceSeconds
	library bool   // signed by the sender's own library, which needs UTF-8 bodies
}

var testSenders = []sender{
	{"GITHUB", "github", "x-hub-signature-256", false, true},
	{"GITLAB", "gitlab", "x-gitlab-token", false, false},
	{"BITBUCKET", "bitbucket", "x-hub-signature", false, false},
	{"SLACK", "slack", "x-slack-signature", true, false},
	{"STRIPE", "stripe", "stripe-signature", true, true},
	{"STANDARD", "standard", "webhook-signature", true, true},
}

// secrets returns the secret a sender's requests are signed with and a
// wrong one.
func (s sender) secrets() (right, wrong string) {
	switch s.name {
	case "standard":
		return "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef\x00\xff\xfe 32-byte key!")),
			"whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef\x00\xff\xfe 32-byte kez!"))
	case "stripe":
		return "whsec_test_Zoë_4eC39HqLyjWDarjtT1zdp7dc", "whsec_test_Zoë_4eC39HqLyjWDarjtT1zdp7dd"
	}
	return "It's a Secret to Everybody ✓", "It's a Secret to Everybody ✗"
}

// senderBody is a request body the tests sign.
type senderBody struct {
	name string
	data []byte
	utf8 bool // valid UTF-8: the senders' libraries can sign it
}

func senderBodies(t testing.TB) []senderBody {
	t.Helper()
	push, err := os.ReadFile("../testdata/github/push.json")
	if err != nil {
		t.Fatal(err)
	}
	var binaryish []byte
	for b := range 0x80 {
		binaryish = append(binaryish, byte(b)) // NUL, controls, CR LF, all of ASCII
	}
	binaryish = append(binaryish, "\u00e9\u00ff\u2028\ufeff\uffff\U0010ffff😀"...)
	return []senderBody{
		{"push.json", push, true},
		{"non-ASCII JSON", []byte(`{"msg":"héllo wörld ✓ 😀","name":"Zoë"}`), true},
		{"binary-ish UTF-8", binaryish, true},
		{"invalid UTF-8", []byte{'{', 0xff, 0xfe, 0x00, 0x80, 0xc3, '}', 0xed, 0xa0, 0x80}, false},
	}
}

// nodeOp is one operation of testdata/npm/senders.mjs.
type nodeOp struct {
	Op        string            `json:"op"` // "sign" or "verify"
	Sender    string            `json:"sender"`
	Secret    string            `json:"secret"`
	Body      []byte            `json:"body"` // base64 in JSON
	Timestamp int64             `json:"timestamp,omitempty"`
	ID        string            `json:"id,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Now       int64             `json:"now,omitempty"`
	Tolerance int               `json:"tolerance,omitempty"`
}

type nodeResult struct {
	Headers map[string]string `json:"headers"`
	OK      bool              `json:"ok"`
	Error   string            `json:"error"`
}

// runNode runs the operations in one node process.
func runNode(t *testing.T, ops []nodeOp) []nodeResult {
	t.Helper()
	var out []nodeResult
	npmtest.Node(t, "senders.mjs", ops, &out)
	if len(out) != len(ops) {
		t.Fatalf("senders.mjs returned %d results for %d operations", len(out), len(ops))
	}
	return out
}

// verifyCase is one request checked by a verify global.
type verifyCase struct {
	name    string
	headers map[string]string
	body    []byte
	secret  string
	args    string // after the secret, e.g. ", 2000"
	want    bool
}

// checkVerify runs global.verify on c and checks its result and log: no
// line when true, one FINE line saying why when false, and never a line
// holding any of secrets.
func checkVerify(t *testing.T, global string, c verifyCase, secrets ...string) {
	t.Helper()
	req := &Request{Headers: c.headers, Body: c.body, Properties: map[string]string{"secret": c.secret}}
	res := runScript(t, "return "+global+".verify(PROPERTIES.secret"+c.args+")", req)
	if res.Err != nil {
		t.Errorf("%s: %v", c.name, res.Err)
		return
	}
	if res.Value != c.want {
		t.Errorf("%s: verify = %v, want %v (log %v)", c.name, res.Value, c.want, res.Logs)
	}
	switch {
	case c.want && len(res.Logs) != 0:
		t.Errorf("%s: logs on success: %v", c.name, res.Logs)
	case !c.want && (len(res.Logs) != 1 || res.Logs[0].Level != LevelFine || !strings.HasPrefix(res.Logs[0].Text, global+".verify: ")):
		t.Errorf("%s: want one FINE line starting %q, got %v", c.name, global+".verify: ", res.Logs)
	}
	for _, l := range res.Logs {
		for _, s := range secrets {
			if s != "" && strings.Contains(l.Text, s) {
				t.Errorf("%s: log line %q leaks %q", c.name, l.Text, s)
			}
		}
	}
}

// sigValue is the signature itself in a signature header: what no log line
// may show.
func sigValue(name, header string) string {
	switch name {
	case "github", "bitbucket", "slack":
		_, v, _ := strings.Cut(header, "=")
		return v
	case "stripe":
		_, v, _ := strings.Cut(header, "v1=")
		return v
	case "standard":
		_, v, _ := strings.Cut(header, ",")
		return v
	}
	return header
}

// TestSenderVerify checks each verify global against requests signed by the
// sender's own library (or, for GitLab, Bitbucket and Slack, by node:crypto
// following the sender's documentation), and against the same requests
// spoiled one way or another.
func TestSenderVerify(t *testing.T) {
	t.Parallel()
	npmtest.Dir(t)
	bodies := senderBodies(t)
	nowSec := time.Now().Unix()
	const old = 1000 // seconds: beyond the default tolerance of 300 s
	type signed struct {
		s                   sender
		b                   senderBody
		fresh, stale, ahead int // indices of the results
	}
	var ops []nodeOp
	var jobs []signed
	for _, s := range testSenders {
		secret, _ := s.secrets()
		for _, b := range bodies {
			if s.library && !b.utf8 {
				continue
			}
			j := signed{s: s, b: b, fresh: len(ops)}
			op := nodeOp{Op: "sign", Sender: s.name, Secret: secret, Body: b.data, Timestamp: nowSec, ID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}
			ops = append(ops, op)
			if s.timed {
				j.stale = len(ops)
				op.Timestamp = nowSec - old
				ops = append(ops, op)
				j.ahead = len(ops)
				op.Timestamp = nowSec + old
				ops = append(ops, op)
			}
			jobs = append(jobs, j)
		}
	}
	res := runNode(t, ops)

	for _, j := range jobs {
		t.Run(j.s.global+"/"+j.b.name, func(t *testing.T) {
			t.Parallel()
			s, body := j.s, j.b.data
			secret, wrong := s.secrets()
			h := res[j.fresh].Headers
			sig := h[s.sig]
			if sig == "" {
				t.Fatalf("senders.mjs gave no %s: %v", s.sig, h)
			}
			with := func(name, value string) map[string]string {
				c := maps.Clone(h)
				c[name] = value
				return c
			}
			without := maps.Clone(h)
			delete(without, s.sig)
			changed := append([]byte(nil), body...)
			changed[len(changed)/2] ^= 0x01

			cases := []verifyCase{
				{name: "right secret", headers: h, want: true},
				{name: "wrong secret", headers: h, secret: wrong},
				{name: "truncated signature", headers: with(s.sig, sig[:len(sig)-1])},
				{name: "empty signature", headers: with(s.sig, "")},
				{name: "missing signature header", headers: without},
				{name: "no headers at all", headers: nil},
				// GitLab's token does not cover the body.
				{name: "body changed by one byte", headers: h, body: changed, want: s.name == "gitlab"},
			}
			if s.timed {
				stale, ahead := res[j.stale].Headers, res[j.ahead].Headers
				cases = append(cases,
					verifyCase{name: "stale: a replay of an old valid request", headers: stale},
					verifyCase{name: "timestamp too far in the future", headers: ahead},
					verifyCase{name: "stale within a larger tolerance", headers: stale, args: ", 2000", want: true},
					verifyCase{name: "future within a larger tolerance", headers: ahead, args: ", 2000", want: true},
					verifyCase{name: "old signature, fresh timestamp", headers: freshen(s, stale, h)},
				)
			}
			bogusHex := strings.Repeat("ab", 32)
			bogusB64 := base64.StdEncoding.EncodeToString(make([]byte, 32))
			switch s.name {
			case "stripe":
				ts, v1, _ := strings.Cut(sig, ",")
				cases = append(cases,
					verifyCase{name: "several signatures, one right", want: true,
						headers: with(s.sig, ts+",v1="+bogusHex+","+v1+",v0="+bogusHex)},
					verifyCase{name: "several signatures, none right",
						headers: with(s.sig, ts+",v1="+bogusHex+",v0="+strings.TrimPrefix(v1, "v1="))})
			case "standard":
				cases = append(cases,
					verifyCase{name: "several signatures, one right", want: true,
						headers: with(s.sig, "v1,"+bogusB64+" v2,"+bogusB64+" "+sig)},
					verifyCase{name: "several signatures, none right",
						headers: with(s.sig, "v1,"+bogusB64+" v1a,"+strings.TrimPrefix(sig, "v1,"))})
			}
			for _, c := range cases {
				if c.secret == "" {
					c.secret = secret
				}
				if c.body == nil {
					c.body = body
				}
				checkVerify(t, s.global, c, secret, wrong, sigValue(s.name, sig))
			}
		})
	}
}

// freshen returns the stale headers with the fresh headers' timestamp:
// an old signature presented as new.
func freshen(s sender, stale, fresh map[string]string) map[string]string {
	h := maps.Clone(stale)
	switch s.name {
	case "slack":
		h["x-slack-request-timestamp"] = fresh["x-slack-request-timestamp"]
	case "standard":
		h["webhook-timestamp"] = fresh["webhook-timestamp"]
	case "stripe":
		freshT, _, _ := strings.Cut(fresh["stripe-signature"], ",")
		_, v1, _ := strings.Cut(stale["stripe-signature"], ",")
		h["stripe-signature"] = freshT + "," + v1
	}
	return h
}

// TestSenderSignaturesAcceptedByLibraries checks the other direction:
// signatures made with HMAC.sign in a script, as the docs show, are
// accepted by the senders' own libraries (and by the verify globals).
func TestSenderSignaturesAcceptedByLibraries(t *testing.T) {
	t.Parallel()
	npmtest.Dir(t)
	nowSec := time.Now().Unix()
	ts := strconv.FormatInt(nowSec, 10)
	textKey := "a text key, as HMAC.sign needs"
	standardSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(textKey))
	scripts := []struct {
		s      sender
		secret string
		src    string
	}{
		{testSenders[0], "It's a Secret to Everybody ✓",
			`return {"x-hub-signature-256": "sha256=" + HMAC.sign("sha256", FLX_PRISTINE_PAYLOAD, PROPERTIES.secret)}`},
		{testSenders[4], "whsec_test_Zoë",
			`return {"stripe-signature": "t=" + PROPERTIES.ts + ",v1=" + HMAC.sign("sha256", PROPERTIES.ts + "." + FLX_PRISTINE_PAYLOAD, PROPERTIES.secret)}`},
		{testSenders[5], standardSecret,
			`return {"webhook-id": PROPERTIES.id, "webhook-timestamp": PROPERTIES.ts, "webhook-signature":
				"v1," + HMAC.sign("sha256", PROPERTIES.id + "." + PROPERTIES.ts + "." + FLX_PRISTINE_PAYLOAD, PROPERTIES.key, "base64")}`},
	}
	var ops []nodeOp
	var checks []string
	for _, b := range senderBodies(t) {
		if !b.utf8 || !json.Valid(b.data) {
			continue // Stripe's constructEvent parses the body as JSON
		}
		for _, sc := range scripts {
			props := map[string]string{"secret": sc.secret, "ts": ts, "id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "key": textKey}
			req := &Request{Body: b.data, Properties: props}
			v := mustValue(t, sc.src, req)
			h := map[string]string{}
			for k, x := range v.(map[string]any) {
				h[k] = x.(string)
			}
			req.Headers = h
			checkVerify(t, sc.s.global, verifyCase{name: sc.s.name + " " + b.name + " HMAC.sign", headers: h, body: b.data, secret: sc.secret, want: true})

			op := nodeOp{Op: "verify", Sender: sc.s.name, Secret: sc.secret, Body: b.data, Headers: h, Now: nowSec, Tolerance: 300}
			ops = append(ops, op)
			checks = append(checks, sc.s.name+" "+b.name)
			// A control: the library does refuse a changed body.
			op.Body = append([]byte(" "), b.data...)
			ops = append(ops, op)
			checks = append(checks, sc.s.name+" "+b.name+" (body changed)")
		}
	}
	for i, r := range runNode(t, ops) {
		if want := i%2 == 0; r.OK != want {
			t.Errorf("%s: library says ok=%v (%s), want %v", checks[i], r.OK, r.Error, want)
		}
	}
}

// setClock fixes the clock of the timestamp checks for the rest of the
// test. Tests that call it must not be parallel.
func setClock(t testing.TB, at time.Time) {
	t.Helper()
	prev := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = prev })
}

// timedHeaders signs body as a timed sender does, with ts as the timestamp
// header's value.
func timedHeaders(name, secret, ts string, body []byte) map[string]string {
	switch name {
	case "slack":
		return map[string]string{
			"x-slack-request-timestamp": ts,
			"x-slack-signature":         "v0=" + goHex(sha256.New, secret, concat("v0:"+ts+":", body)),
		}
	case "stripe":
		return map[string]string{"stripe-signature": "t=" + ts + ",v1=" + goHex(sha256.New, secret, concat(ts+".", body))}
	case "standard":
		key, err := signature.StandardKey(secret)
		if err != nil {
			panic(err)
		}
		const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
		return map[string]string{
			"webhook-id":        id,
			"webhook-timestamp": ts,
			"webhook-signature": "v1," + base64.StdEncoding.EncodeToString(goHMAC(sha256.New, string(key), concat(id+"."+ts+".", body))),
		}
	}
	panic(name)
}

// TestSenderTimestamps checks the tolerance at its edges, on a fixed clock,
// and the log lines that say why a timestamp is refused.
func TestSenderTimestamps(t *testing.T) { // not parallel: it sets the clock
	at := time.Unix(1_700_000_000, 999_000_000) // .999: whole seconds count
	setClock(t, at)
	body := []byte(`{"type":"event_callback"}`)
	ts := func(off int64) string { return strconv.FormatInt(at.Unix()+off, 10) }
	for _, s := range testSenders {
		if !s.timed {
			continue
		}
		secret, _ := s.secrets()
		fn := s.global + ".verify"
		tests := []struct {
			ts, args string
			want     bool
			log      string // the one log line when refused
		}{
			{ts(0), "", true, ""},
			{ts(-300), "", true, ""},
			{ts(300), "", true, ""},
			{ts(-301), "", false, fn + ": timestamp is 301 s old (tolerance 300 s)"},
			{ts(301), "", false, fn + ": timestamp is 301 s in the future (tolerance 300 s)"},
			{ts(-412), "", false, fn + ": timestamp is 412 s old (tolerance 300 s)"},
			{ts(-412), ", 600", true, ""},
			{ts(-412), `, "600"`, true, ""},
			{ts(-412), ", null", false, fn + ": timestamp is 412 s old (tolerance 300 s)"},
			{ts(-1), ", 0.5", false, fn + ": timestamp is 1 s old (tolerance 0.5 s)"},
			{ts(-86400 * 365), ", 31536000", true, ""},
			{"0", "", false, fn + ": timestamp is 1700000000 s old (tolerance 300 s)"},
			{"999999999999999999", ", 31536000", false, fn + ": timestamp is 999999998299999999 s in the future (tolerance 31536000 s)"},
			{"", "", false, ""},
			{"-5", "", false, ""},
			{"+" + ts(0), "", false, ""},
			{"0" + ts(0), "", false, ""},
			{ts(0) + ".5", "", false, ""},
			{ts(0) + " ", "", false, ""},
			{"1e9", "", false, ""},
			{"9999999999999999999", "", false, ""},
		}
		for _, tt := range tests {
			req := &Request{Headers: timedHeaders(s.name, secret, tt.ts, body), Body: body, Properties: map[string]string{"secret": secret}}
			res := runScript(t, "return "+fn+"(PROPERTIES.secret"+tt.args+")", req)
			if res.Err != nil || res.Value != tt.want {
				t.Errorf("%s ts %q%s: got %v, %v, want %v", fn, tt.ts, tt.args, res.Value, res.Err, tt.want)
				continue
			}
			if tt.log != "" && (len(res.Logs) != 1 || res.Logs[0].Text != tt.log) {
				t.Errorf("%s ts %q%s: log %v, want %q", fn, tt.ts, tt.args, res.Logs, tt.log)
			}
		}
	}
}

// TestSenderLogLines checks the reason given for each kind of refusal.
func TestSenderLogLines(t *testing.T) {
	t.Parallel()
	body := []byte(`{"zen":"Design for failure."}`)
	const secret = "s3cr3t"
	sha256Sig := "sha256=" + goHex(sha256.New, secret, body)
	sha1Sig := "sha1=" + goHex(sha1.New, secret, body)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	standardSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(secret))
	stripeHeader := func(h string) map[string]string { return map[string]string{"stripe-signature": h} }
	std := timedHeaders("standard", standardSecret, ts, body)
	stdWith := func(k, v string) map[string]string {
		h := maps.Clone(std)
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	tests := []struct {
		global  string
		secret  string
		headers map[string]string
		want    bool
		log     string
	}{
		{"GITHUB", secret, map[string]string{"x-hub-signature-256": sha256Sig}, true, ""},
		{"GITHUB", secret, map[string]string{"x-hub-signature-256": sha256Sig, "x-hub-signature": "sha1=0"}, true, ""},
		{"GITHUB", secret, map[string]string{"x-hub-signature": sha1Sig}, true, ""},
		{"GITHUB", secret, nil, false, "no X-Hub-Signature-256 or X-Hub-Signature header"},
		{"GITHUB", secret, map[string]string{"x-hub-signature-256": "sha256=" + strings.Repeat("0", 64), "x-hub-signature": sha1Sig}, false,
			"X-Hub-Signature-256 does not match"},
		{"GITHUB", secret, map[string]string{"x-hub-signature-256": "", "x-hub-signature": sha1Sig}, false, "X-Hub-Signature-256 is empty"},
		{"GITHUB", secret, map[string]string{"x-hub-signature-256": strings.ToUpper(sha256Sig)}, false,
			"X-Hub-Signature-256 is malformed (want sha256=<64 lower-case hex digits>)"},
		{"GITHUB", secret, map[string]string{"x-hub-signature-256": sha1Sig}, false,
			"X-Hub-Signature-256 is malformed (want sha256=<64 lower-case hex digits>)"},
		{"GITHUB", secret, map[string]string{"x-hub-signature": "sha1=" + strings.Repeat("0", 40)}, false, "X-Hub-Signature does not match"},
		{"GITHUB", "other", map[string]string{"x-hub-signature": sha1Sig}, false, "X-Hub-Signature does not match"},
		{"GITLAB", secret, map[string]string{"x-gitlab-token": secret}, true, ""},
		{"GITLAB", secret, map[string]string{"x-gitlab-token": secret + " "}, false, "X-Gitlab-Token does not match"},
		{"GITLAB", secret, map[string]string{"x-gitlab-token": ""}, false, "no X-Gitlab-Token header"},
		{"BITBUCKET", secret, map[string]string{"x-hub-signature": sha256Sig}, true, ""},
		{"BITBUCKET", secret, map[string]string{"x-hub-signature": sha1Sig}, false, "X-Hub-Signature uses sha1, not sha256"},
		{"BITBUCKET", secret, map[string]string{"x-hub-signature-256": sha256Sig}, false, "no X-Hub-Signature header"},
		{"BITBUCKET", secret, map[string]string{"x-hub-signature": "sha256=" + strings.Repeat("f", 64)}, false, "X-Hub-Signature does not match"},
		{"SLACK", secret, map[string]string{"x-slack-signature": "v0=00"}, false, "no X-Slack-Request-Timestamp header"},
		{"SLACK", secret, map[string]string{"x-slack-request-timestamp": "soon"}, false, "X-Slack-Request-Timestamp is malformed (want seconds since 1970)"},
		{"SLACK", secret, map[string]string{"x-slack-request-timestamp": ts}, false, "no X-Slack-Signature header"},
		{"SLACK", secret, map[string]string{"x-slack-request-timestamp": ts, "x-slack-signature": "v1=" + strings.Repeat("0", 64)}, false,
			"X-Slack-Signature is malformed (want v0=<64 lower-case hex digits>)"},
		{"STRIPE", secret, nil, false, "no Stripe-Signature header"},
		{"STRIPE", secret, stripeHeader("v1=" + strings.Repeat("0", 64)), false, "Stripe-Signature has no timestamp (t=)"},
		{"STRIPE", secret, stripeHeader("t=" + ts + ",t=" + ts + ",v1=00"), false, "Stripe-Signature has more than one timestamp (t=)"},
		{"STRIPE", secret, stripeHeader("t=now,v1=00"), false, "Stripe-Signature timestamp is malformed (want seconds since 1970)"},
		{"STRIPE", secret, stripeHeader("t=" + ts + ",v0=00"), false, "Stripe-Signature has no v1 signature"},
		{"STRIPE", secret, stripeHeader("t=" + ts + ",v1=00,v1="), false, "no v1 signature in Stripe-Signature matches"},
		{"STANDARD", standardSecret, std, true, ""},
		{"STANDARD", strings.TrimPrefix(standardSecret, "whsec_"), std, true, ""}, // no prefix: base64 all the same
		{"STANDARD", standardSecret, stdWith("webhook-id", ""), false, "no webhook-id header"},
		{"STANDARD", standardSecret, stdWith("webhook-id", "msg_other"), false, "no v1 signature in webhook-signature matches"},
		{"STANDARD", standardSecret, stdWith("webhook-timestamp", ""), false, "no webhook-timestamp header"},
		{"STANDARD", standardSecret, stdWith("webhook-timestamp", "1.7e9"), false, "webhook-timestamp is malformed (want seconds since 1970)"},
		{"STANDARD", standardSecret, stdWith("webhook-signature", ""), false, "no webhook-signature header"},
		{"STANDARD", standardSecret, stdWith("webhook-signature", "v1a,x v2,"+strings.TrimPrefix(std["webhook-signature"], "v1,")), false,
			"webhook-signature has no v1 signature"},
		{"STANDARD", standardSecret, stdWith("webhook-signature", std["webhook-signature"]+"="), false, "no v1 signature in webhook-signature matches"},
	}
	for _, tt := range tests {
		req := &Request{Headers: tt.headers, Body: body, Properties: map[string]string{"secret": tt.secret}}
		res := runScript(t, "return "+tt.global+".verify(PROPERTIES.secret)", req)
		name := fmt.Sprintf("%s %v", tt.global, tt.headers)
		if res.Err != nil || res.Value != tt.want {
			t.Errorf("%s: got %v, %v, want %v (log %v)", name, res.Value, res.Err, tt.want, res.Logs)
			continue
		}
		want := []LogLine(nil)
		if tt.log != "" {
			want = []LogLine{{Level: LevelFine, Text: tt.global + ".verify: " + tt.log}}
		}
		if len(res.Logs) != len(want) || (len(want) == 1 && (res.Logs[0].Level != want[0].Level || res.Logs[0].Text != want[0].Text)) {
			t.Errorf("%s: log %v, want %v", name, res.Logs, want)
		}
	}
}

// TestSenderVerifyErrors checks that a misconfiguration throws a TypeError
// naming the function, and never shows the secret.
func TestSenderVerifyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{`GITHUB.verify()`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got undefined"},
		{`GITHUB.verify(PROPERTIES.missing)`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got undefined"},
		{`GITHUB.verify("")`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got an empty string"},
		{`GITHUB.verify(null)`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got null"},
		{`GITHUB.verify(918273645)`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got a number"},
		{`GITHUB.verify(true)`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got a boolean"},
		{`GITHUB.verify({s: "918273645"})`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got an object"},
		{`GITHUB.verify(new String("918273645"))`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got an object"},
		{`GITHUB.verify(() => 1)`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got a function"},
		{`GITHUB.verify(Symbol("x"))`, "TypeError: GITHUB.verify: the secret must be a non-empty string, got a symbol"},
		{`GITLAB.verify()`, "TypeError: GITLAB.verify: the token must be a non-empty string, got undefined"},
		{`BITBUCKET.verify("")`, "TypeError: BITBUCKET.verify: the secret must be a non-empty string, got an empty string"},
		{`SLACK.verify()`, "TypeError: SLACK.verify: the signing secret must be a non-empty string, got undefined"},
		{`STRIPE.verify(0)`, "TypeError: STRIPE.verify: the secret must be a non-empty string, got a number"},
		{`STANDARD.verify()`, "TypeError: STANDARD.verify: the secret must be a non-empty string, got undefined"},
		{`STANDARD.verify("whsec_not base64!")`, "TypeError: STANDARD.verify: the secret is not base64 (want whsec_<base64>)"},
		{`STANDARD.verify("whsec_")`, "TypeError: STANDARD.verify: the secret is empty after whsec_"},
		{`SLACK.verify("s", 0)`, "TypeError: SLACK.verify: toleranceSeconds must be a positive number, got 0"},
		{`STRIPE.verify("s", -1)`, "TypeError: STRIPE.verify: toleranceSeconds must be a positive number, got -1"},
		{`STANDARD.verify("c2VjcmV0", "soon")`, `TypeError: STANDARD.verify: toleranceSeconds must be a positive number, got "soon"`},
		{`SLACK.verify("s", NaN)`, "TypeError: SLACK.verify: toleranceSeconds must be a positive number, got NaN"},
		{`SLACK.verify("s", Infinity)`, "TypeError: SLACK.verify: toleranceSeconds must be at most 8760h0m0s"},
	}
	for _, tt := range tests {
		res := runScript(t, "// check\n"+tt.src, nil)
		var se *ScriptError
		if !errors.As(res.Err, &se) || se.Message != tt.want || se.Line != 2 {
			t.Errorf("%s: got %v, want %q at line 2", tt.src, res.Err, tt.want)
		}
		if res.Err != nil && strings.Contains(res.Err.Error(), "918273645") {
			t.Errorf("%s: the error shows the secret: %v", tt.src, res.Err)
		}
	}
	// A script can catch them; the defaults apply to undefined and null.
	src := `try { SLACK.verify() } catch (e) { return e instanceof TypeError && SLACK.verify("s", undefined) === false && STRIPE.verify("s", null) === false }`
	if got := mustValue(t, src, nil); got != true {
		t.Errorf("got %v", got)
	}
}

// TestSenderGlobals checks the shape of the sender globals.
func TestSenderGlobals(t *testing.T) {
	t.Parallel()
	src := `return [GITHUB, GITLAB, BITBUCKET, SLACK, STRIPE, STANDARD].map(o => Object.keys(o).join()).join(" | ") +
		" | " + (GITHUB.verify === GITHUB.verify) + " " + GITHUB.changedFiles.name + " " + typeof STANDARD.verify`
	want := "verify,event,deliveryId,branch,changedFiles | verify | verify | verify | verify | verify | true changedFiles function"
	if got := mustValue(t, src, nil); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := mustValue(t, `GITHUB.verify = () => true; delete SLACK.verify; return GITHUB.verify("s") === false && typeof SLACK.verify`, nil); got != "function" {
		t.Errorf("the globals are not read-only: %v", got)
	}
}

// TestGitHubHelpers checks GITHUB.event, deliveryId, branch and changedFiles.
func TestGitHubHelpers(t *testing.T) {
	t.Parallel()
	push := githubPush(t)
	tests := []struct {
		name    string
		body    string
		headers map[string]string
		src     string
		want    any
	}{
		{"event", "", map[string]string{"x-github-event": "push"}, "return GITHUB.event()", "push"},
		{"no event", "", nil, "return GITHUB.event()", nil},
		{"empty event", "", map[string]string{"x-github-event": ""}, "return GITHUB.event()", nil},
		{"deliveryId", "", map[string]string{"x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}, "return GITHUB.deliveryId()", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"no deliveryId", "", nil, "return GITHUB.deliveryId()", nil},
		{"branch", `{"ref":"refs/heads/main"}`, nil, "return GITHUB.branch()", "main"},
		{"branch with a slash", `{"ref":"refs/heads/feature/x"}`, nil, "return GITHUB.branch()", "feature/x"},
		{"tag", `{"ref":"refs/tags/v1.2"}`, nil, "return GITHUB.branch()", "v1.2"},
		{"other ref", `{"ref":"refs/pull/1/merge"}`, nil, "return GITHUB.branch()", "refs/pull/1/merge"},
		{"bare ref (create event)", `{"ref":"simple-tag","ref_type":"tag"}`, nil, "return GITHUB.branch()", "simple-tag"},
		{"refs/heads/ alone", `{"ref":"refs/heads/"}`, nil, "return GITHUB.branch()", "refs/heads/"},
		{"no ref", `{"zen":"x"}`, nil, "return GITHUB.branch()", nil},
		{"empty ref", `{"ref":""}`, nil, "return GITHUB.branch()", nil},
		{"ref not a string", `{"ref":5,"commits":[{"added":["a"]}]}`, nil, "return GITHUB.branch() + ' ' + GITHUB.changedFiles()", "null a"},
		{"not JSON", `ref=refs/heads/main`, nil, "return GITHUB.branch() === null && GITHUB.changedFiles().length === 0", true},
		{"empty body", ``, nil, "return GITHUB.branch() === null && GITHUB.changedFiles().length === 0", true},
		{"a JSON array", `[{"ref":"refs/heads/main"}]`, nil, "return GITHUB.branch() === null && GITHUB.changedFiles().length === 0", true},
		{"truncated JSON", `{"ref":"refs/heads/main"`, nil, "return GITHUB.branch()", nil},
		{"changedFiles", `{"commits":[{"added":["a","b"],"modified":["c"],"removed":["d"]},{"added":["e"],"modified":["a","f"],"removed":["c","g"]}]}`, nil,
			"return GITHUB.changedFiles().join()", "a,b,c,d,e,f,g"},
		{"changedFiles is an array", `{"commits":[{"added":["a"]}]}`, nil, "return Array.isArray(GITHUB.changedFiles())", true},
		{"no commits", `{"ref":"refs/heads/main","commits":[]}`, nil, "return JSON.stringify(GITHUB.changedFiles())", "[]"},
		{"odd commits", `{"commits":[null,{"added":[1,"a",null]},{"modified":"b"},{"removed":["c"]},5]}`, nil, "return GITHUB.changedFiles().join()", "a,c"},
		{"a new array each call", `{"commits":[{"added":["a"]}]}`, nil,
			"var f = GITHUB.changedFiles(); f.push('x'); return f !== GITHUB.changedFiles() && GITHUB.changedFiles().join()", "a"},
		{"the same result each call", `{"ref":"refs/heads/main"}`, nil, "return GITHUB.branch() === GITHUB.branch() && GITHUB.branch()", "main"},
		{"non-ASCII path", `{"commits":[{"added":["docs/ré sumé ✓.md"]}]}`, nil, "return GITHUB.changedFiles()[0]", "docs/ré sumé ✓.md"},
		{"push.json", string(push.Body), push.Headers,
			"return [GITHUB.event(), GITHUB.deliveryId(), GITHUB.branch(), GITHUB.changedFiles().join()].join()",
			"push,72d3162e-cc78-11e3-81ab-4c9367dc0958,master,README.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustValue(t, tt.src, &Request{Body: []byte(tt.body), Headers: tt.headers})
			if got != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
}

// TestGitHubHelpersExamples runs GITHUB.branch and GITHUB.changedFiles on
// every example payload of @octokit/webhooks-examples and compares them with
// the same computed in JavaScript from PAYLOAD.
func TestGitHubHelpersExamples(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(npmtest.Path(t, "@octokit/webhooks-examples/api.github.com/index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var events []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatal(err)
	}
	const src = `
		var ref = typeof PAYLOAD.ref === "string" && PAYLOAD.ref !== "" ? PAYLOAD.ref : null;
		var branch = ref && ref.replace(/^refs\/(heads|tags)\/(?=.)/, "");
		var files = [...new Set((Array.isArray(PAYLOAD.commits) ? PAYLOAD.commits : []).flatMap(c => [...c.added, ...c.modified, ...c.removed]))];
		var got = JSON.stringify([GITHUB.branch(), GITHUB.changedFiles()]), want = JSON.stringify([branch, files]);
		return got === want ? "" : got + " != " + want`
	p := mustCompile(t, "examples", src)
	e := NewEngine(Limits{})
	n := 0
	for _, ev := range events {
		for i, ex := range ev.Examples {
			res := e.Run(t.Context(), p, &Request{Body: ex}, 20*time.Second)
			if res.Err != nil || res.Value != "" {
				t.Errorf("%s example %d: %v %v", ev.Name, i, res.Value, res.Err)
			}
			n++
		}
	}
	if n < 100 {
		t.Errorf("only %d examples", n)
	}
}

// BenchmarkGitHubVerify measures a match script that checks a GitHub
// signature with GITHUB.verify (compare BenchmarkMatchGitHubVerify, the
// same check written with HMAC).
func BenchmarkGitHubVerify(b *testing.B) {
	e := NewEngine(Limits{})
	p := mustCompile(b, "github verify", "return GITHUB.verify(PROPERTIES.secret)")
	req := githubPush(b)
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, e, p, req, true)
	}
}

// concat returns prefix followed by body.
func concat(prefix string, body []byte) []byte { return append([]byte(prefix), body...) }
