package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/npmtest"
)

func hmacSHA256(key, data string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(data))
	return m.Sum(nil)
}

// lastMessage is the newest message of a provider.
func (in *instance) lastMessage(providerID string) messageDetail {
	in.t.Helper()
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	in.api("GET", "/messages?provider_id="+providerID, nil, http.StatusOK, &list)
	if len(list.Items) == 0 {
		in.t.Fatalf("no message of provider %s", providerID)
	}
	return in.message(list.Items[0].ID)
}

// fromTemplate creates a provider from a template, as a user would.
func (in *instance) fromTemplate(template string, secrets map[string]string) provider {
	in.t.Helper()
	var p provider
	in.api("POST", "/providers", map[string]any{"template": template, "secrets": secrets}, http.StatusCreated, &p)
	return p
}

// Every ready-made provider answers its sender's handshake over real
// HTTP, in the form the sender documents (computed here independently),
// and the answered request is recorded as SUCCESS with the summary
// "handshake answered by <provider>". A handshake the provider must not
// answer (a wrong signature or verify token) goes on to routing as any
// other request.
func TestTemplateHandshakes(t *testing.T) {
	t.Parallel()
	in := start(t)
	const secret = "It's a Secret to Everybody"
	ts := strconv.FormatInt(time.Now().Unix(), 10)

	type handshake struct {
		name, template string
		secrets        map[string]string
		method, path   string
		body           string
		header         http.Header
		answered       bool
		status         int
		contentType    string // prefix
		wantBody       string
		wantHeader     [2]string
		wantLog        string
	}
	zoomBody := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`
	zoomSig := "v0=" + hex.EncodeToString(hmacSHA256(secret, "v0:"+ts+":"+zoomBody))
	crc := "Y2UzYTFiYjUtYzZkOS00YjFlLWFlNDktNzNjZmI3ZGVjYjkx"
	cases := []handshake{
		{name: "zoom", template: "zoom", secrets: map[string]string{"secret_token": secret},
			method: "POST", path: "zoom", body: zoomBody,
			header:   http.Header{"X-Zm-Request-Timestamp": {ts}, "X-Zm-Signature": {zoomSig}, "Content-Type": {"application/json"}},
			answered: true, status: 200, contentType: "application/json",
			wantBody: `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"` + hex.EncodeToString(hmacSHA256(secret, "qgg8vlvZRS6UYooatFL8Aw")) + `"}`},
		{name: "zoom, wrong signature", template: "zoom", secrets: map[string]string{"secret_token": secret},
			method: "POST", path: "zoom", body: zoomBody,
			header: http.Header{"X-Zm-Request-Timestamp": {ts}, "X-Zm-Signature": {"v0=" + strings.Repeat("0", 64)}, "Content-Type": {"application/json"}}},
		{name: "meta", template: "meta", secrets: map[string]string{"app_secret": secret, "verify_token": "meatyhamhock"},
			method: "GET", path: "meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
			answered: true, status: 200, contentType: "text/plain", wantBody: "1158201444"},
		{name: "meta, wrong verify token", template: "meta", secrets: map[string]string{"app_secret": secret, "verify_token": "meatyhamhock"},
			method: "GET", path: "meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess"},
		{name: "microsoft graph", template: "microsoft-graph", secrets: map[string]string{"client_state": secret},
			method: "POST", path: "graph?validationToken=" + url.QueryEscape("Validation: Token <b>1</b>"),
			answered: true, status: 200, contentType: "text/plain", wantBody: "Validation: Token <b>1</b>",
			wantHeader: [2]string{"X-Content-Type-Options", "nosniff"}},
		{name: "x", template: "x", secrets: map[string]string{"consumer_secret": secret},
			method: "GET", path: "x?crc_token=" + crc + "&nonce=MTU2MDQ2Mjc1MTU3Mw",
			answered: true, status: 200, contentType: "application/json",
			wantBody: `{"response_token":"sha256=` + base64.StdEncoding.EncodeToString(hmacSHA256(secret, crc)) + `"}`},
		// The CRC answer is the signature of a body equal to the token: a
		// token that could be an event's body is not answered (a signing oracle).
		{name: "x, token shaped like an event", template: "x", secrets: map[string]string{"consumer_secret": secret},
			method: "GET", path: "x?crc_token=" + url.QueryEscape(`{"for_user_id":"1","tweet_create_events":[]}`)},
		// A request with a body is not Graph's validation (nor Dropbox's check).
		{name: "microsoft graph, with a body", template: "microsoft-graph", secrets: map[string]string{"client_state": secret},
			method: "POST", path: "graph?validationToken=abc", body: "x"},
		{name: "dropbox, with a body", template: "dropbox", secrets: map[string]string{"app_secret": secret},
			method: "GET", path: "dropbox?challenge=abc", body: "x"},
		{name: "asana", template: "asana", secrets: map[string]string{},
			method: "POST", path: "asana", header: http.Header{"X-Hook-Secret": {"b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"}},
			answered: true, status: 200, wantHeader: [2]string{"X-Hook-Secret", "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"},
			wantLog: "to set as the secret hook_secret: b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"},
		{name: "dropbox", template: "dropbox", secrets: map[string]string{"app_secret": secret},
			method: "GET", path: "dropbox?challenge=abc123xyz",
			answered: true, status: 200, contentType: "text/plain", wantBody: "abc123xyz",
			wantHeader: [2]string{"X-Content-Type-Options", "nosniff"}},
	}
	for _, c := range cases {
		// One provider at a time, so that each answer is its template's.
		p := in.fromTemplate(c.template, c.secrets)
		code, body, h := in.do(c.method, "/webhooks/v1/"+c.path, []byte(c.body), c.header)
		if !c.answered {
			if code != http.StatusAccepted {
				t.Errorf("%s: answered %d %s, want the usual 202", c.name, code, body)
			}
		} else {
			if code != c.status || string(body) != c.wantBody || !strings.HasPrefix(h.Get("Content-Type"), c.contentType) {
				t.Errorf("%s: answered %d %q %q, want %d %q %q", c.name, code, h.Get("Content-Type"), body, c.status, c.contentType, c.wantBody)
			}
			if c.wantHeader[0] != "" && h.Get(c.wantHeader[0]) != c.wantHeader[1] {
				t.Errorf("%s: header %s = %q, want %q", c.name, c.wantHeader[0], h.Get(c.wantHeader[0]), c.wantHeader[1])
			}
			d := in.lastMessage(p.ID)
			if d.Status != "SUCCESS" || d.Message != "handshake answered by "+p.Name || d.Method != c.method || len(d.Executions) != 0 {
				t.Errorf("%s: recorded %s %q %s, %d executions", c.name, d.Status, d.Message, d.Method, len(d.Executions))
			}
			if c.wantLog != "" && !logged(d.Logs, c.wantLog) {
				t.Errorf("%s: the log does not say %q: %+v", c.name, c.wantLog, d.Logs)
			}
			if !logged(d.Logs, "answered "+strconv.Itoa(c.status)) {
				t.Errorf("%s: the log does not say what was answered: %+v", c.name, d.Logs)
			}
		}
		in.api("DELETE", "/providers/"+p.ID, nil, http.StatusNoContent, nil)
	}
}

func logged(lines []logLine, text string) bool {
	for _, l := range lines {
		if strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

// Slack's url_verification, signed by Slack's documented signing v0 as
// computed in Node (testdata/npm/senders.mjs), is answered with its
// challenge; the same request unsigned or signed with another secret is
// not.
func TestSlackURLVerification(t *testing.T) {
	t.Parallel()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	body := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	type op struct {
		Op        string `json:"op"`
		Sender    string `json:"sender"`
		Secret    string `json:"secret"`
		Body      []byte `json:"body"`
		Timestamp int64  `json:"timestamp"`
	}
	now := time.Now().Unix()
	var out []struct {
		Headers map[string]string `json:"headers"`
	}
	npmtest.Node(t, "senders.mjs", []op{
		{Op: "sign", Sender: "slack", Secret: secret, Body: []byte(body), Timestamp: now},
		{Op: "sign", Sender: "slack", Secret: "another secret", Body: []byte(body), Timestamp: now},
	}, &out)
	in := start(t)
	p := in.fromTemplate("slack", map[string]string{"signing_secret": secret})
	send := func(signed map[string]string) (int, []byte) {
		h := http.Header{"Content-Type": {"application/json"}}
		for k, v := range signed {
			h.Set(k, v)
		}
		code, b, _ := in.do("POST", "/webhooks/v1/slack/events", []byte(body), h)
		return code, b
	}
	code, b := send(out[0].Headers)
	var a struct{ Challenge string }
	if code != 200 || json.Unmarshal(b, &a) != nil || a.Challenge != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("signed url_verification: %d %s", code, b)
	}
	if d := in.lastMessage(p.ID); d.Status != "SUCCESS" || d.Message != "handshake answered by Slack" {
		t.Fatalf("recorded %s %q", d.Status, d.Message)
	}
	for what, h := range map[string]map[string]string{"unsigned": nil, "signed with another secret": out[1].Headers} {
		if code, b := send(h); code != http.StatusAccepted || strings.Contains(string(b), "challenge") {
			t.Errorf("%s: %d %s", what, code, b)
		}
	}
}

// Discord's PING, signed with Ed25519 by Node's crypto
// (testdata/npm/crypto.mjs, from Discord's documentation), is answered
// {"type":1} over real HTTP by a provider made from the discord template.
// Discord's deliberately bad signatures, an unsigned PING and a PING
// signed with another application's key get a 401, never the PONG; a PING
// too old is refused too.
func TestDiscordPing(t *testing.T) {
	t.Parallel()
	const ping = `{"type":1}`
	type signed struct {
		Discord struct {
			PublicKey string            `json:"public_key"`
			Headers   map[string]string `json:"headers"`
		} `json:"discord"`
	}
	sign := func(at time.Time) signed {
		var out signed
		npmtest.Node(t, "crypto.mjs", map[string]any{"data": []byte(ping), "now": at.Unix(), "id": "msg_1"}, &out)
		return out
	}
	app, other, old := sign(time.Now()), sign(time.Now()), sign(time.Now().Add(-time.Hour))
	in := start(t)
	p := in.fromTemplate("discord", map[string]string{"public_key": app.Discord.PublicKey})
	send := func(signed map[string]string) (int, string, string) {
		h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Discord-Interactions/1.0 (+https://discord.com)"}}
		for k, v := range signed {
			h.Set(k, v)
		}
		code, b, rh := in.do("POST", "/webhooks/v1/discord", []byte(ping), h)
		return code, string(b), rh.Get("Content-Type")
	}
	if code, b, ct := send(app.Discord.Headers); code != 200 || b != `{"type":1}` || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("signed PING: %d %s %q", code, b, ct)
	}
	if d := in.lastMessage(p.ID); d.Status != "SUCCESS" || d.Message != "handshake answered by Discord" {
		t.Fatalf("recorded %s %q", d.Status, d.Message)
	}
	spoiled := map[string]string{"x-signature-timestamp": app.Discord.Headers["x-signature-timestamp"]}
	sig := []byte(app.Discord.Headers["x-signature-ed25519"])
	sig[10] ^= 1 // '0'..'9' and 'a'..'f' stay hex digits
	spoiled["x-signature-ed25519"] = string(sig)
	for what, h := range map[string]map[string]string{
		"a spoiled signature":               spoiled,
		"another application's signature":   other.Discord.Headers,
		"a signature an hour old":           old.Discord.Headers,
		"a signature without its timestamp": {"x-signature-ed25519": app.Discord.Headers["x-signature-ed25519"]},
	} {
		if code, b, _ := send(h); code != http.StatusUnauthorized || strings.Contains(b, "type") {
			t.Errorf("%s: %d %s, want 401 without the PONG", what, code, b)
		}
	}
	if code, b, _ := send(nil); code != http.StatusAccepted || strings.Contains(b, "type") {
		t.Errorf("unsigned: %d %s, want the usual 202", code, b)
	}
}

// Handshake scripts run in provider order, inactive providers skipped;
// the first that sets RESPONSE answers, in sync mode too, and nothing
// else runs.
func TestHandshakeOrder(t *testing.T) {
	t.Parallel()
	in := start(t)
	off := in.provider("off", "return true", map[string]any{"active": false, "handshake_script": `RESPONSE.body = "off"`})
	quiet := in.provider("quiet", "return true", map[string]any{"handshake_script": `if (QUERY_PARAMS.x) RESPONSE.body = "quiet"`})
	first := in.provider("first", "return true", map[string]any{"handshake_script": `if (METHOD === "GET") RESPONSE = {status: 201, body: "first"}`})
	in.provider("second", "return true", map[string]any{"handshake_script": `RESPONSE.body = "second"`})
	in.function(quiet.ID, "never", "ping", `return true`)
	for _, sync := range []string{"", "true"} {
		code, b, _ := in.do("GET", "/webhooks/v1/ping", nil, http.Header{"Flex-Sync-Webhook": {sync}})
		if code != 201 || string(b) != "first" {
			t.Fatalf("sync %q: %d %s", sync, code, b)
		}
	}
	if code, b, _ := in.do("POST", "/webhooks/v1/ping", nil, nil); code != 200 || string(b) != "second" {
		t.Fatalf("POST: %d %s", code, b)
	}
	if d := in.lastMessage(first.ID); d.Message != "handshake answered by first" || d.ProviderName != "first" {
		t.Fatalf("recorded %+v", d)
	}
	var list struct{ Items []struct{ ID string } }
	in.api("GET", "/messages?provider_id="+off.ID, nil, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatal("an inactive provider's handshake answered")
	}
}

// A handshake script that throws does not answer: the request goes on.
// A message a handshake answered keeps a small body, not a large one: a
// handshake that answers anything cannot be used to store data.
func TestHandshakeKeepsOnlyASmallPayload(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.provider("echo", "return true", map[string]any{"handshake_script": `RESPONSE.body = "ok"`})
	for _, c := range []struct {
		size int
		kept bool
	}{{100, true}, {200 << 10, false}} {
		body := []byte(strings.Repeat("x", c.size))
		if code, b, _ := in.do("POST", "/webhooks/v1/hs", body, nil); code != 200 || string(b) != "ok" {
			t.Fatalf("%d bytes: %d %s", c.size, code, b)
		}
		var list struct{ Items []struct{ ID string } }
		in.api("GET", "/messages?uri=hs&limit=1", nil, http.StatusOK, &list)
		code, got, _ := in.do("GET", "/api/v1/messages/"+list.Items[0].ID+"/payload", nil, http.Header{"Authorization": {"Bearer " + testToken}})
		if kept := code == http.StatusOK && len(got) == c.size; kept != c.kept {
			t.Fatalf("%d bytes: payload answered %d with %d bytes; want kept %v", c.size, code, len(got), c.kept)
		}
	}
}

func TestHandshakeFailureGoesOn(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("p", "return true", map[string]any{"handshake_script": `throw new Error("broken")`})
	in.function(p.ID, "f", "u", `return true`)
	if code, a := in.send("u", []byte(`{}`), true, nil); code != 200 || a.Status != "SUCCESS" {
		t.Fatalf("%d %+v", code, a)
	}
}

// A handshake_script that does not compile is refused at save, with its
// line, like a match script.
func TestHandshakeScriptCheckedAtSave(t *testing.T) {
	t.Parallel()
	in := start(t)
	b := in.api("POST", "/providers", map[string]any{"name": "p", "match_script": "return true", "handshake_script": "RESPONSE.body = (;"}, http.StatusBadRequest, nil)
	if !strings.Contains(string(b), "handshake_script") || !strings.Contains(string(b), "line 1") {
		t.Fatalf("%s", b)
	}
	p := in.provider("p", "return true", map[string]any{"handshake_script": "RESPONSE.body = 'x'"})
	var got struct {
		HandshakeScript string `json:"handshake_script"`
	}
	in.api("PUT", "/providers/"+p.ID, map[string]any{"handshake_script": "  "}, http.StatusOK, &got)
	if got.HandshakeScript != "" {
		t.Fatalf("a blank handshake_script is kept: %q", got.HandshakeScript)
	}
}

// In sync mode the answer is the RESPONSE of the first function by name
// that set one (an object body as JSON), else the match script's; a bad
// RESPONSE fails its function with a clear error. Async answers stay 202.
func TestSyncResponse(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("p", `if (URI === "matcher") RESPONSE = {status: 299, body: "from the match script"}; return true`)
	in.function(p.ID, "b", "u", `RESPONSE.status = 500; RESPONSE.body = "b"; return true`)
	in.function(p.ID, "a", "u", `RESPONSE = {status: 201, headers: {"X-Answered-By": "a"}, body: {ok: true, n: [1, 2]}}; return true`)
	in.function(p.ID, "c", "u", `return true`)
	code, b, h := in.do("POST", "/webhooks/v1/u", []byte(`{}`), http.Header{"Flex-Sync-Webhook": {"true"}})
	if code != 201 || string(b) != `{"ok":true,"n":[1,2]}` || h.Get("Content-Type") != "application/json" || h.Get("X-Answered-By") != "a" {
		t.Fatalf("answered %d %v %s", code, h, b)
	}
	// The operator sees what was answered.
	var list struct{ Items []struct{ ID string } }
	in.api("GET", "/messages?uri=u", nil, http.StatusOK, &list)
	if d := in.message(list.Items[0].ID); d.Status != "SUCCESS" || !logged(d.Logs, `answered 201, the RESPONSE set by function "a"`) {
		t.Fatalf("recorded %s %+v", d.Status, d.Logs)
	}
	// Asynchronous: 202 as always.
	if code, b, _ := in.do("POST", "/webhooks/v1/u", []byte(`{}`), nil); code != 202 || !strings.Contains(string(b), `"PENDING"`) {
		t.Fatalf("async: %d %s", code, b)
	}
	// The match script's, when no function set one (here: none ran).
	if code, b, _ := in.do("POST", "/webhooks/v1/matcher", nil, http.Header{"Flex-Sync-Webhook": {"true"}}); code != 299 || string(b) != "from the match script" {
		t.Fatalf("match script's: %d %s", code, b)
	}

	// Refused values fail the function and the answer is Switchyard's own.
	q := in.provider("q", `return URI === "bad"`)
	in.api("PUT", "/providers/order", map[string]any{"ids": []string{q.ID, p.ID}}, http.StatusOK, nil)
	in.function(q.ID, "bad", "bad", `RESPONSE.headers = {"X-Evil": "a\r\nSet-Cookie: s=1"}; return true`)
	code, a := in.send("bad", []byte(`{}`), true, nil)
	if code != 500 || len(a.Functions) != 1 || !strings.Contains(a.Functions[0].Error, "RESPONSE: header X-Evil") {
		t.Fatalf("bad header: %d %+v", code, a)
	}
}

// Sync answers always list functions[].error, empty when the function
// did not fail (the contract lists the field).
func TestSyncAnswerAlwaysHasError(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("p", "return true")
	in.function(p.ID, "f", "u", `return true`)
	_, b, _ := in.do("POST", "/webhooks/v1/u", []byte(`{}`), http.Header{"Flex-Sync-Webhook": {"true"}})
	if !strings.Contains(string(b), `"error":""`) {
		t.Fatalf("no empty error: %s", b)
	}
}

// A dry run runs the handshake scripts first, saved or unsaved (editors
// only), and shows the answer with the secrets' values replaced.
func TestDryRunHandshake(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("p", "return true", map[string]any{"secrets": map[string]string{"key": "s3cr3t-value"}})
	in.function(p.ID, "f", "u", `RESPONSE = {status: 202, body: "fn " + PROPERTIES.key}; return true`)
	code, a := in.send("u", []byte(`{}`), false, nil)
	if code != 202 {
		t.Fatalf("%d", code)
	}
	in.waitDone(a.ID)
	type answer struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		Answer  *struct {
			By      string            `json:"by"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		} `json:"answer"`
		Functions []any `json:"functions"`
	}
	var r answer
	in.api("POST", "/messages/"+a.ID+"/dry-run", nil, http.StatusOK, &r)
	if r.Answer == nil || r.Answer.By != `function "f"` || r.Answer.Status != 202 || r.Answer.Body != "fn [secret:key]" {
		t.Fatalf("sync answer: %+v", r.Answer)
	}
	in.api("POST", "/messages/"+a.ID+"/dry-run", map[string]any{"provider_id": p.ID, "handshake_script": `RESPONSE.headers = {"X-K": PROPERTIES.key}; RESPONSE.body = "hs"`}, http.StatusOK, &r)
	if r.Status != "SUCCESS" || r.Message != "handshake answered by p" || len(r.Functions) != 0 || r.Answer == nil ||
		r.Answer.By != "handshake" || r.Answer.Body != "hs" || r.Answer.Headers["X-K"] != "[secret:key]" {
		t.Fatalf("handshake answer: %+v %+v", r, r.Answer)
	}
	b := in.api("POST", "/messages/"+a.ID+"/dry-run", map[string]any{"provider_id": p.ID, "handshake_script": `RESPONSE.body = (`}, http.StatusBadRequest, nil)
	if !strings.Contains(string(b), "handshake_script") {
		t.Fatalf("%s", b)
	}
}

// GET /provider-templates/{name} shows a template's handshake script;
// the list shows none.
func TestTemplateShowsHandshake(t *testing.T) {
	t.Parallel()
	in := start(t)
	var one struct {
		HandshakeScript string `json:"handshake_script"`
	}
	in.api("GET", "/provider-templates/zoom", nil, http.StatusOK, &one)
	if !strings.Contains(one.HandshakeScript, "endpoint.url_validation") {
		t.Fatalf("zoom: %q", one.HandshakeScript)
	}
	if b := in.api("GET", "/provider-templates", nil, http.StatusOK, nil); strings.Contains(string(b), "handshake_script") {
		t.Fatal("the list carries handshake scripts")
	}
	var gh struct {
		HandshakeScript *string `json:"handshake_script"`
	}
	in.api("GET", "/provider-templates/github", nil, http.StatusOK, &gh)
	if gh.HandshakeScript != nil {
		t.Fatalf("github: %q", *gh.HandshakeScript)
	}
}

// A script's answer is served on the UI's origin: whatever Content-Type it
// sets, the page is sandboxed (its scripts cannot call the API with a
// signed-in user's cookie), and it cannot set cookies there or its own CSP.
func TestScriptAnswerCannotActAsTheOrigin(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.provider("p", "return false", map[string]any{"handshake_script": `if (URI === "page") RESPONSE = {headers: {"Content-Type": "text/html"}, body: "<script>fetch('/api/v1/me')</script>"};
if (URI === "cookie") RESPONSE = {headers: {"Set-Cookie": "session=planted; Path=/"}, body: "x"};
if (URI === "csp") RESPONSE = {headers: {"Content-Security-Policy": "default-src *"}, body: "x"};`})
	code, _, h := in.do("GET", "/webhooks/v1/page", nil, nil)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox;") {
		t.Fatalf("page: %d %v", code, h)
	}
	for _, uri := range []string{"cookie", "csp"} {
		// The handshake script fails, so it does not answer: the usual 202.
		if code, _, h := in.do("GET", "/webhooks/v1/"+uri, nil, nil); code != 202 || h.Get("Set-Cookie") != "" {
			t.Fatalf("%s: %d %v", uri, code, h)
		}
	}
}
