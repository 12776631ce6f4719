package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

func TestAsyncWebhookIsAcceptedThenProcessed(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "hello", "hello/world", `LOG.info("got", PAYLOAD.n); LOG.setMessage("n=" + PAYLOAD.n); return PAYLOAD.n`)

	code, resp, _ := in.do("POST", "/webhooks/v1/hello/world", []byte(`{"n": 42}`), http.Header{"Content-Type": {"application/json"}})
	if code != http.StatusAccepted {
		t.Fatalf("status %d, want 202: %s", code, resp)
	}
	var a syncAnswer
	if err := jsonUnmarshal(resp, &a); err != nil || a.ID == "" || a.Status != "PENDING" {
		t.Fatalf("202 body %s: %v", resp, err)
	}
	d := in.waitDone(a.ID)
	if d.Status != "SUCCESS" || d.ProviderName != "any" || d.Message != "n=42" || d.URI != "hello/world" || d.Method != "POST" {
		t.Fatalf("processed message: %+v", d)
	}
	if len(d.Executions) != 1 || d.Executions[0].FunctionName != "hello" || d.Executions[0].Status != "SUCCESS" || d.Executions[0].Version != 1 {
		t.Fatalf("executions: %+v", d.Executions)
	}
	if logs := d.Executions[0].Logs; len(logs) != 1 || logs[0].Level != "INFO" || logs[0].Text != "got 42" {
		t.Fatalf("execution logs: %+v", logs)
	}
	if d.Headers["content-type"] != "application/json" || d.Size != 9 {
		t.Fatalf("headers/size not recorded: %v %d", d.Headers, d.Size)
	}
}

func TestSyncStatusCodes(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("only-x", `return HTTP_HEADERS["x-sender"] === "x"`)
	in.function(p.ID, "ok", "ok", `return 1`)
	in.function(p.ID, "ok2", "two", `return 1`)
	in.function(p.ID, "boom", "two", `throw new Error("kaput")`)
	in.function(p.ID, "slow", "slow", `while (true) {}`, map[string]any{"timeout_ms": 100})
	x := http.Header{"X-Sender": {"x"}}

	tests := []struct {
		name, uri    string
		header       http.Header
		wantCode     int
		wantStatus   string
		wantProvider bool
		wantFuncs    int
		wantErr      string
	}{
		{"success", "ok", x, 200, "SUCCESS", true, 1, ""},
		{"no provider", "ok", nil, 404, "UNMATCHED", false, 0, ""},
		{"no function", "nothing/here", x, 404, "UNMATCHED", true, 0, ""},
		{"a function throws", "two", x, 500, "FAILED", true, 2, "Error: kaput"},
		{"a function times out", "slow", x, 500, "FAILED", true, 1, "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, a := in.send(tc.uri, []byte(`{}`), true, tc.header)
			if code != tc.wantCode || a.Status != tc.wantStatus || a.ID == "" {
				t.Fatalf("got %d %+v, want %d %s", code, a, tc.wantCode, tc.wantStatus)
			}
			if (a.Provider != nil) != tc.wantProvider || (a.Provider != nil && *a.Provider != "only-x") {
				t.Fatalf("provider %v", a.Provider)
			}
			if len(a.Functions) != tc.wantFuncs {
				t.Fatalf("functions %+v", a.Functions)
			}
			if tc.wantErr != "" {
				found := false
				for _, f := range a.Functions {
					found = found || (f.Status == "FAILED" && strings.Contains(f.Error, tc.wantErr))
				}
				if !found {
					t.Fatalf("no FAILED function with error %q: %+v", tc.wantErr, a.Functions)
				}
			}
			if d := in.message(a.ID); d.Status != tc.wantStatus {
				t.Fatalf("recorded status %s, want %s", d.Status, tc.wantStatus)
			}
		})
	}
}

func TestThrowingScriptRecordsLineAndLogs(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "thrower", "t", "LOG.warn('before');\nvar x = null;\nx.boom();")
	_, a := in.send("t", []byte(`{}`), true, nil)
	d := in.message(a.ID)
	e := d.Executions[0]
	if e.Status != "FAILED" || !strings.Contains(e.Error, "TypeError") || !strings.Contains(e.Error, "line 3") {
		t.Fatalf("execution error %q should name the TypeError and line 3", e.Error)
	}
	if len(e.Logs) != 1 || e.Logs[0].Level != "WARNING" || e.Logs[0].Text != "before" {
		t.Fatalf("logs before the throw are kept: %+v", e.Logs)
	}
}

func TestProvidersInOrderFirstMatchWinsInactiveSkipped(t *testing.T) {
	t.Parallel()
	in := start(t)
	// "first" throws for header-less requests: a failing match script is
	// no match, and the next provider is tried.
	a := in.provider("first", `LOG.info("first ran"); return true`)
	b := in.provider("second", `LOG.info("second ran"); return true`)
	c := in.provider("broken", `throw new Error("bad match")`)
	for _, p := range []provider{a, b, c} {
		in.function(p.ID, "f-"+p.Name, "u", `return 1`)
	}
	if a.Sequence != 1 || b.Sequence != 2 || c.Sequence != 3 {
		t.Fatalf("sequences %d %d %d", a.Sequence, b.Sequence, c.Sequence)
	}
	winner := func() string {
		t.Helper()
		code, ans := in.send("u", []byte(`{}`), true, nil)
		if ans.Provider == nil {
			t.Fatalf("no provider matched: %d %+v", code, ans)
		}
		d := in.message(ans.ID)
		for _, l := range d.Logs {
			if l.Source == "provider:second" && *ans.Provider == "first" {
				t.Fatalf("a later provider ran after the first match: %+v", d.Logs)
			}
		}
		return *ans.Provider
	}
	if w := winner(); w != "first" {
		t.Fatalf("winner %s, want first", w)
	}
	var order struct{ Items []provider }
	in.api("PUT", "/providers/order", map[string]any{"ids": []string{c.ID, b.ID, a.ID}}, http.StatusOK, &order)
	if order.Items[0].Name != "broken" || order.Items[0].Sequence != 1 {
		t.Fatalf("reorder answer %+v", order.Items)
	}
	if w := winner(); w != "second" {
		t.Fatalf("after reorder winner %s, want second (broken throws and is skipped)", w)
	}
	in.api("PUT", "/providers/"+b.ID, map[string]any{"active": false}, http.StatusOK, nil)
	if w := winner(); w != "first" {
		t.Fatalf("with second inactive winner %s, want first", w)
	}
	// The failing match script's error is in the message log.
	_, ans := in.send("u", []byte(`{}`), true, nil)
	d := in.message(ans.ID)
	found := false
	for _, l := range d.Logs {
		found = found || (l.Source == "provider:broken" && l.Level == "SEVERE" && strings.Contains(l.Text, "bad match"))
	}
	if !found {
		t.Fatalf("match failure not logged: %+v", d.Logs)
	}
}

func TestQueryReachesScriptsButNotRouting(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "q", "git/push", `LOG.setMessage(QUERY_PARAMS.projectId + "/" + URI + "/" + METHOD); return 1`)
	code, a := in.send("git/push?projectId=1&projectId=2&x=y", []byte(`{}`), true, nil)
	if code != 200 {
		t.Fatalf("status %d %+v", code, a)
	}
	d := in.message(a.ID)
	if d.Message != "1/git/push/POST" {
		t.Fatalf("summary %q", d.Message)
	}
	if q := d.Query["projectId"]; len(q) != 2 || q[1] != "2" {
		t.Fatalf("recorded query %v", d.Query)
	}
}

func TestEveryActiveFunctionOfTheURIRuns(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	other := in.provider("other", "return false")
	in.function(p.ID, "one", "multi", `return 1`)
	in.function(p.ID, "two", "multi", `return 2`)
	in.function(p.ID, "off", "multi", `throw new Error("inactive ran")`, map[string]any{"active": false})
	in.function(other.ID, "other-provider", "multi", `throw new Error("wrong provider ran")`)
	in.function(p.ID, "elsewhere", "multi/sub", `throw new Error("wrong uri ran")`)
	code, a := in.send("multi", []byte(`{}`), true, nil)
	if code != 200 || len(a.Functions) != 2 {
		t.Fatalf("%d %+v", code, a)
	}
	names := a.Functions[0].Name + "," + a.Functions[1].Name
	if names != "one,two" && names != "two,one" {
		t.Fatalf("ran %s", names)
	}
}

func TestGitHubSignedPushWithRealPayload(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("../testdata/github/push.json")
	if err != nil {
		t.Fatal(err)
	}
	in := start(t)
	p := in.provider("GitHub", `
		var sig = HTTP_HEADERS["x-hub-signature-256"] || "";
		return HMAC.equals(sig, "sha256=" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret));`,
		map[string]any{"secrets": map[string]string{"secret": "It's a Secret to Everybody"}})
	if len(p.Secrets) != 1 || p.Secrets[0] != "secret" {
		t.Fatalf("secrets must be listed by name only: %+v", p.Secrets)
	}
	in.function(p.ID, "on-push", "github", `LOG.setMessage(HTTP_HEADERS["x-github-event"] + " " + PAYLOAD.ref + " " + PAYLOAD.commits.length); return true`)

	mac := hmac.New(sha256.New, []byte("It's a Secret to Everybody"))
	mac.Write(body)
	good := http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}, "X-GitHub-Event": {"push"}}
	code, a := in.send("github", body, true, good)
	if code != 200 {
		t.Fatalf("signed push: %d %+v", code, a)
	}
	if d := in.message(a.ID); !strings.HasPrefix(d.Message, "push refs/") {
		t.Fatalf("summary %q", d.Message)
	}
	bad := http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("0", 64)}}
	if code, _ := in.send("github", body, true, bad); code != 404 {
		t.Fatalf("wrong signature: %d, want 404", code)
	}
	// A body that is not the one signed (one byte changed) does not match.
	tampered := bytes.Replace(body, []byte("refs/"), []byte("refz/"), 1)
	if code, _ := in.send("github", tampered, true, good); code != 404 {
		t.Fatalf("tampered body: %d, want 404", code)
	}
}

func TestNonUTF8BodyHMACAndPayloadByteForByte(t *testing.T) {
	t.Parallel()
	in := start(t)
	body := []byte("caf\xc3\xa9 \xff\xfe\x00 raw \xe2\x82")
	mac := hmac.New(sha256.New, []byte("k"))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	p := in.provider("hmac", `return HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, "k") === HTTP_HEADERS["x-sig"]`)
	in.function(p.ID, "raw", "raw", `if (typeof PAYLOAD !== "string") throw new Error("PAYLOAD should fall back to the raw string"); return 1`)
	code, a := in.send("raw", body, true, http.Header{"X-Sig": {want}, "Content-Type": {"application/x-custom"}})
	if code != 200 {
		t.Fatalf("status %d %+v", code, a)
	}
	c, got, h := in.do("GET", "/api/v1/messages/"+a.ID+"/payload", nil, http.Header{"Authorization": {"Bearer " + testToken}})
	if c != 200 || !bytes.Equal(got, body) || h.Get("Content-Type") != "application/x-custom" {
		t.Fatalf("payload %d %q %q", c, got, h.Get("Content-Type"))
	}
}

func TestMalformedJSONFallsBackToRawString(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "m", `if (PAYLOAD !== '{"broken": ') throw new Error("got " + typeof PAYLOAD); return 1`)
	if code, a := in.send("m", []byte(`{"broken": `), true, nil); code != 200 {
		t.Fatalf("%d %+v", code, a)
	}
}

func TestNoStateLeaksBetweenExecutions(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", `
		if (globalThis.seen || ({}).polluted) throw new Error("state leaked into a match script");
		globalThis.seen = true; Object.prototype.polluted = 1; return true`)
	in.function(p.ID, "f", "leak", `
		if (globalThis.seen || ({}).polluted || typeof counter !== "undefined") throw new Error("state leaked");
		globalThis.counter = 1; Object.prototype.polluted = 1; Array.prototype.push = null; return 1`)
	for i := range 5 {
		if code, a := in.send("leak", []byte(`{}`), true, nil); code != 200 {
			t.Fatalf("run %d: %d %+v", i, code, a)
		}
	}
}

func TestBodyOverLimitIs413AndNotRecorded(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.MaxBody = 1024 })
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "big", `return 1`)
	code, resp, _ := in.do("POST", "/webhooks/v1/big", bytes.Repeat([]byte("x"), 1025), nil)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(string(resp), "1 KiB") {
		t.Fatalf("%d %s", code, resp)
	}
	// Without a Content-Length (chunked), the limit holds too.
	req, _ := http.NewRequest("POST", in.url+"/webhooks/v1/big", struct{ *strings.Reader }{strings.NewReader(strings.Repeat("y", 5000))})
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: %d", resp2.StatusCode)
	}
	if code, _ := in.send("big", bytes.Repeat([]byte("x"), 1024), false, nil); code != 202 {
		t.Fatalf("at the limit: %d", code)
	}
	var msgs struct{ Items []messageDetail }
	in.api("GET", "/messages", nil, 200, &msgs)
	if len(msgs.Items) != 1 {
		t.Fatalf("%d messages recorded, want only the one within the limit", len(msgs.Items))
	}
}

func TestConcurrentAsyncWebhooksAllSucceed(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "c", `return PAYLOAD.i`)
	const n = 200
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code, a := in.send("c", jsonBody(t, map[string]int{"i": i}), false, nil)
			if code != 202 {
				t.Errorf("status %d", code)
			}
			ids <- a.ID
		})
	}
	wg.Wait()
	close(ids)
	for id := range ids {
		if d := in.waitDone(id); d.Status != "SUCCESS" {
			t.Fatalf("%s: %s", id, d.Status)
		}
	}
}

// A sender's payload is served for fetch() and download only: loaded as a
// script, a stylesheet, a worker or a frame on the app's origin it would
// run as the app's own code.
func TestPayloadIsNotASubresource(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.provider("any", "return true")
	code, a := in.send("x", []byte(`window.pwned = 1`), false, http.Header{"Content-Type": {"application/javascript"}})
	if code != http.StatusAccepted {
		t.Fatalf("send: %d", code)
	}
	path := "/api/v1/messages/" + a.ID + "/payload"
	auth := func(dest string) http.Header {
		h := http.Header{"Authorization": {"Bearer " + testToken}}
		if dest != "" {
			h.Set("Sec-Fetch-Dest", dest)
		}
		return h
	}
	for _, dest := range []string{"script", "style", "worker", "sharedworker", "serviceworker", "iframe", "frame", "object", "embed", "image"} {
		c, body, _ := in.do("GET", path, nil, auth(dest))
		if c != http.StatusForbidden || bytes.Contains(body, []byte("pwned")) || !bytes.Contains(body, []byte("Sec-Fetch-Dest")) {
			t.Errorf("Sec-Fetch-Dest %s: %d %s", dest, c, body)
		}
	}
	for _, dest := range []string{"", "empty", "document"} {
		c, body, h := in.do("GET", path, nil, auth(dest))
		if c != 200 || string(body) != "window.pwned = 1" || h.Get("Content-Type") != "application/javascript" {
			t.Fatalf("Sec-Fetch-Dest %q: %d %s %s", dest, c, body, h.Get("Content-Type"))
		}
		for k, want := range map[string]string{
			"X-Content-Type-Options":       "nosniff",
			"Content-Security-Policy":      "sandbox; default-src 'none'",
			"Cross-Origin-Resource-Policy": "same-origin",
			"Content-Disposition":          `attachment; filename="payload-` + a.ID + `"`,
		} {
			if got := h.Get(k); got != want {
				t.Errorf("Sec-Fetch-Dest %q: %s: %q, want %q", dest, k, got, want)
			}
		}
	}
}

// When nothing matches, the message's log says for each provider why not:
// what its match script returned and which headers it looked for and did
// not find (a correctly signed GitHub webhook without X-GitHub-Event used
// to say only "no provider matched").
func TestUnmatchedSaysWhyForEachProvider(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.api("POST", "/providers", map[string]any{"template": "github", "secrets": map[string]string{"secret": "s3cret"}}, 201, nil)
	in.provider("custom", `return HTTP_HEADERS["x-custom-token"] === "yes" && QUERY_PARAMS.k === "v"`)
	body := []byte(`{"ref": "refs/heads/main"}`)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(body)
	code, a := in.send("github", body, true, http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}})
	if code != 404 {
		t.Fatalf("status %d", code)
	}
	m := in.message(a.ID)
	why := map[string]string{}
	for _, l := range m.Logs {
		why[l.Source] += l.Text + "\n"
	}
	if w := why["provider:GitHub"]; !strings.Contains(w, "did not match: the match script returned false; headers it looked for and did not find: x-github-event") {
		t.Errorf("GitHub's reason: %q (log %+v)", w, m.Logs)
	}
	if w := why["provider:custom"]; !strings.Contains(w, "did not match: the match script returned false; headers it looked for and did not find: x-custom-token") {
		t.Errorf("custom's reason: %q", w)
	}

	// When one matches, the others' refusals are not logged.
	in.provider("anyone", "return true")
	_, b := in.send("github", body, true, nil)
	for _, l := range in.message(b.ID).Logs {
		if strings.Contains(l.Text, "did not match") {
			t.Errorf("a matched message logs a refusal: %+v", l)
		}
	}
}

// A URI longer than any function's may be is refused before its body is
// read, and nothing is recorded: an anonymous sender cannot store one.
func TestOverlongURIIsNotRecorded(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.provider("any", "return true")
	code, body, _ := in.do("POST", "/webhooks/v1/"+strings.Repeat("a", 2049), []byte(`{}`), nil)
	if code != http.StatusRequestURITooLong || !strings.Contains(string(body), "nothing was recorded") {
		t.Fatalf("overlong URI: %d %s", code, body)
	}
	if code, _, _ := in.do("POST", "/webhooks/v1/"+strings.Repeat("a", 2048), []byte(`{}`), nil); code != http.StatusAccepted {
		t.Fatalf("a URI of 2048: %d", code)
	}
	var l struct{ Items []struct{ URI string } }
	in.api("GET", "/messages", nil, 200, &l)
	if len(l.Items) != 1 || len(l.Items[0].URI) != 2048 {
		t.Fatalf("recorded: %d messages", len(l.Items))
	}
}
