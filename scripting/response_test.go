package scripting

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestResponseSetByScript(t *testing.T) {
	cases := []struct {
		name, src   string
		status      int
		contentType string
		body        string
		header      [2]string
	}{
		{"members", `RESPONSE.status = 201; RESPONSE.headers = {"X-Seen": "yes"}; RESPONSE.body = "ok"; return true`,
			201, "text/plain; charset=utf-8", "ok", [2]string{"X-Seen", "yes"}},
		{"whole object", `RESPONSE = {status: 202, body: {challenge: "c1", n: 2}}; return true`,
			202, "application/json", `{"challenge":"c1","n":2}`, [2]string{}},
		{"status defaults to 200", `RESPONSE.body = "x"`, 200, "text/plain; charset=utf-8", "x", [2]string{}},
		{"own content type kept", `RESPONSE.headers = {"content-type": "text/html"}; RESPONSE.body = "<b>"`,
			200, "text/html", "<b>", [2]string{}},
		{"number header", `RESPONSE.headers = {"Retry-After": 5}; RESPONSE.status = 503`, 503, "", "", [2]string{"Retry-After", "5"}},
		{"no content", `RESPONSE.status = 204`, 204, "", "", [2]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runScript(t, c.src, nil)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			r := res.Response
			if r == nil {
				t.Fatal("no response")
			}
			if r.Status != c.status || string(r.Body) != c.body || r.Headers.Get("Content-Type") != c.contentType {
				t.Fatalf("got %d %q %q, want %d %q %q", r.Status, r.Headers.Get("Content-Type"), r.Body, c.status, c.contentType, c.body)
			}
			if c.header[0] != "" && r.Headers.Get(c.header[0]) != c.header[1] {
				t.Fatalf("header %s = %q, want %q", c.header[0], r.Headers.Get(c.header[0]), c.header[1])
			}
		})
	}
}

func TestResponseUnsetIsNil(t *testing.T) {
	for _, src := range []string{`return true`, `RESPONSE.other = 1; return true`, `RESPONSE = null`, `var x = RESPONSE; return 1`} {
		if res := runScript(t, src, nil); res.Err != nil || res.Response != nil {
			t.Fatalf("%s: response %+v, err %v", src, res.Response, res.Err)
		}
	}
}

// TestResponseRefused: a RESPONSE that cannot travel as a well-formed
// HTTP answer fails the run with an error that says what is wrong.
func TestResponseRefused(t *testing.T) {
	cases := []struct{ src, want string }{
		{`RESPONSE.status = 42`, "status 42 is not an HTTP status"},
		{`RESPONSE.status = 100`, "status 100 is not an HTTP status"},
		{`RESPONSE.status = 600`, "status 600"},
		{`RESPONSE.status = 200.5`, "status 200.5"},
		{`RESPONSE.status = "200"`, "status must be a number, not a string"},
		{`RESPONSE = "ok"`, "must be an object"},
		{`RESPONSE.headers = ["a"]`, "headers must be an object"},
		{`RESPONSE.headers = {"X-A": "a\r\nSet-Cookie: s=1"}`, "control character"},
		{`RESPONSE.headers = {"X-A": "a\nb"}`, "control character"},
		{`RESPONSE.headers = {"X-A": "a\u0000b"}`, "control character"},
		{`RESPONSE.headers = {"Bad Name": "v"}`, "not a valid HTTP header name"},
		{`RESPONSE.headers = {"X-A\r\nX-B": "v"}`, "not a valid HTTP header name"},
		{`RESPONSE.headers = {"": "v"}`, "not a valid HTTP header name"},
		{`RESPONSE.headers = {["x".repeat(200)]: "v"}`, "not a valid HTTP header name"},
		{`RESPONSE.headers = {"Content-Length": "1"}`, "Content-Length is set by the server"},
		{`RESPONSE.headers = {"transfer-encoding": "chunked"}`, "Transfer-Encoding is set by the server"},
		{`RESPONSE.headers = {"Connection": "close"}`, "Connection is set by the server"},
		{`RESPONSE.headers = {"X-A": {}}`, "must be a string or a number"},
		{`RESPONSE.headers = {"X-A": "v".repeat(5000)}`, "over 4096"},
		{`var h = {}; for (var i = 0; i < 40; i++) h["x-" + i] = "v"; RESPONSE.headers = h`, "40 entries; the limit is 32"},
		{`RESPONSE.body = "x".repeat(2 * 1024 * 1024)`, "body is over"},
		{`RESPONSE.body = "é".repeat(700 * 1024)`, "body is 1433600 bytes"},
		{`var a = []; for (var i = 0; i < 3000; i++) a.push("y".repeat(1000)); RESPONSE.body = a`, "body is over"},
		{`RESPONSE.status = 204; RESPONSE.body = "x"`, "a 204 answer has no body"},
		{`var o = {}; o.o = o; RESPONSE.body = o`, "circular"},
		{`RESPONSE = {get status() { throw new Error("boom") }}`, "boom"},
	}
	for _, c := range cases {
		res := runScript(t, c.src, nil)
		if res.Err == nil || !strings.Contains(res.Err.Error(), c.want) {
			t.Errorf("%s: err %v, want it to contain %q", c.src, res.Err, c.want)
		}
		if res.Response != nil || res.Truthy {
			t.Errorf("%s: a refused RESPONSE still answered: %+v", c.src, res.Response)
		}
	}
}

// TestResponseHugeBodyStopped: stringifying an object whose JSON would be
// enormous is stopped by the string cap, not built.
func TestResponseHugeBodyStopped(t *testing.T) {
	res := runScript(t, `var s = "x".repeat(1 << 20); var a = []; for (var i = 0; i < 2000; i++) a.push(s); RESPONSE.body = a`, nil)
	if res.Err == nil || res.Response != nil {
		t.Fatalf("err %v, response %v", res.Err, res.Response)
	}
}

func TestResponseCanonicalNames(t *testing.T) {
	res := runScript(t, `RESPONSE.headers = {"x-content-type-options": "nosniff"}; RESPONSE.body = "c"`, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := res.Response.Headers; got.Get("X-Content-Type-Options") != "nosniff" || len(got[http.CanonicalHeaderKey("x-content-type-options")]) != 1 {
		t.Fatalf("headers %v", got)
	}
}

// FuzzResponse sets RESPONSE from arbitrary status, header and body, and
// checks the run against an oracle written from the rules: what is
// accepted is exactly what may be sent, and is sent as given.
func FuzzResponse(f *testing.F) {
	f.Add(int64(200), "X-Seen", "yes", "ok")
	f.Add(int64(204), "Content-Length", "0", "")
	f.Add(int64(99), "X-A", "a\r\nb", "")
	f.Add(int64(302), "Location", "https://example.com/", "é")
	f.Add(int64(200), "Bad Name", "v", strings.Repeat("x", 100))
	e := NewEngine(Limits{})
	prog := mustCompile(f, "fuzz", `RESPONSE = {status: Number(PROPERTIES.status), headers: {[PROPERTIES.name]: PROPERTIES.value}, body: PROPERTIES.body}`)
	f.Fuzz(func(t *testing.T, status int64, name, value, body string) {
		name, value, body = strings.ToValidUTF8(name, "?"), strings.ToValidUTF8(value, "?"), strings.ToValidUTF8(body, "?")
		props := map[string]string{"status": strconv.FormatInt(status, 10), "name": name, "value": value, "body": body}
		res := e.Run(context.Background(), prog, &Request{Properties: props}, 10*time.Second)
		canon := http.CanonicalHeaderKey(name)
		ok := status >= 200 && status <= 599 &&
			len(name) <= maxResponseHeaderName && validHeaderName(name) && !framingHeaders[canon] &&
			len(value) <= MaxResponseHeaderValue && validHeaderValue(value) &&
			len(body) <= MaxResponseBody && (body == "" || (status != 204 && status != 304))
		if !ok {
			if res.Err == nil || res.Response != nil {
				t.Fatalf("accepted %d %q: %q, body of %d bytes", status, name, value, len(body))
			}
			return
		}
		if res.Err != nil {
			t.Fatalf("refused %d %q: %q: %v", status, name, value, res.Err)
		}
		r := res.Response
		if r.Status != int(status) || r.Headers.Get(canon) != value || string(r.Body) != body {
			t.Fatalf("sent %d %v %q", r.Status, r.Headers, r.Body)
		}
	})
}
