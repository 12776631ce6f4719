package scripting

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// githubPush returns a request carrying testdata/github/push.json signed as
// GitHub signs it, with the secret in PROPERTIES.
func githubPush(tb testing.TB) *Request {
	tb.Helper()
	body, err := os.ReadFile("../testdata/github/push.json")
	if err != nil {
		tb.Fatal(err)
	}
	const secret = "It's a Secret to Everybody"
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return &Request{
		MessageID:  "01890000-0000-7000-8000-000000000000",
		Method:     "POST",
		URI:        "git/push",
		RemoteAddr: "140.82.115.1:443",
		RemoteHost: "140.82.115.1",
		Headers: map[string]string{
			"accept":                                 "*/*",
			"content-type":                           "application/json",
			"user-agent":                             "GitHub-Hookshot/044aadd",
			"x-github-delivery":                      "72d3162e-cc78-11e3-81ab-4c9367dc0958",
			"x-github-event":                         "push",
			"x-github-hook-id":                       "292430182",
			"x-github-hook-installation-target-id":   "79929171",
			"x-github-hook-installation-target-type": "repository",
			"x-hub-signature":                        "sha1=unused",
			"x-hub-signature-256":                    "sha256=" + hex.EncodeToString(m.Sum(nil)),
			"content-length":                         "8761",
		},
		Body:       body,
		Properties: map[string]string{"secret": secret, "repository": "Codertocat/Hello-World"},
	}
}

const githubVerifyScript = `return HMAC.equals("sha256=" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret), HTTP_HEADERS["x-hub-signature-256"] || "")`

func benchRun(b *testing.B, e *Engine, p *Program, req *Request, wantTruthy bool) {
	b.Helper()
	ctx := context.Background()
	res := e.Run(ctx, p, req, time.Second)
	if res.Err != nil || res.Truthy != wantTruthy {
		b.Fatalf("%s: err %v, truthy %v", p.Name(), res.Err, res.Truthy)
	}
}

// BenchmarkNewRuntime measures a fresh runtime with every global installed.
func BenchmarkNewRuntime(b *testing.B) {
	e := NewEngine(Limits{})
	p := mustCompile(b, "trivial", "return true")
	req := githubPush(b)
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, e, p, req, true)
	}
}

// BenchmarkMatchGitHubVerify measures a GitHub signature check; the payload
// is never decoded.
func BenchmarkMatchGitHubVerify(b *testing.B) {
	e := NewEngine(Limits{})
	p := mustCompile(b, "github match", githubVerifyScript)
	req := githubPush(b)
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, e, p, req, true)
	}
}

// BenchmarkMatchAndPayload measures the match above plus a function script
// that reads the decoded payload.
func BenchmarkMatchAndPayload(b *testing.B) {
	e := NewEngine(Limits{})
	match := mustCompile(b, "github match", githubVerifyScript)
	fn := mustCompile(b, "push function", `return PAYLOAD.ref === "refs/heads/master" && PAYLOAD.commits.length === 1`)
	req := githubPush(b)
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, e, match, req, true)
		benchRun(b, e, fn, req, true)
	}
}

// BenchmarkMatchAndPayloadShared is BenchmarkMatchAndPayload as the
// dispatcher runs it: one message, its request shared by both runs
// (Request.Share).
func BenchmarkMatchAndPayloadShared(b *testing.B) {
	e := NewEngine(Limits{})
	match := mustCompile(b, "github match", githubVerifyScript)
	fn := mustCompile(b, "push function", `return PAYLOAD.ref === "refs/heads/master" && PAYLOAD.commits.length === 1`)
	base := githubPush(b)
	b.ReportAllocs()
	for b.Loop() {
		req := *base
		req.Share()
		benchRun(b, e, match, &req, true)
		benchRun(b, e, fn, &req, true)
	}
}

func mustCompile(tb testing.TB, name, src string) *Program {
	tb.Helper()
	p, err := Compile(name, src)
	if err != nil {
		tb.Fatalf("compile %s: %v", name, err)
	}
	return p
}

// BenchmarkDecodePush compares PAYLOAD's decoder (lazy: validation and the
// top-level object; then with every member materialised by JSON.stringify)
// with goja's JSON.parse on testdata/github/push.json, each in a fresh
// runtime.
func BenchmarkDecodePush(b *testing.B) {
	body := githubPush(b).Body
	b.Run("decodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeJSON(goja.New(), body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeJSON+stringify", func(b *testing.B) {
		// Every member materialised.
		b.ReportAllocs()
		for b.Loop() {
			rt := goja.New()
			v, err := decodeJSON(rt, body)
			if err != nil {
				b.Fatal(err)
			}
			stringify, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
			if _, err := stringify(goja.Undefined(), v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validateJSON", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := validateJSON(body, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JSON.parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rt := goja.New()
			parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
			if _, err := parse(goja.Undefined(), rt.ToValue(string(body))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDynamicScript measures a script that makes member names up at
// run time (o[k] with a variable k), for which every capped built-in is
// wrapped; compare with BenchmarkNewRuntime.
func BenchmarkDynamicScript(b *testing.B) {
	e := NewEngine(Limits{})
	p := mustCompile(b, "dynamic", `var k = "ref"; return PAYLOAD[k] !== undefined`)
	req := githubPush(b)
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, e, p, req, true)
	}
}
