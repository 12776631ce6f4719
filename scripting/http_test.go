package scripting

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHTTP is an HTTPClient that records requests and answers with do
// (200 and an empty body when do is nil). Requests over a real network and
// the egress guard are tested in notify/egress.
type fakeHTTP struct {
	mu   sync.Mutex
	reqs []*HTTPRequest
	do   func(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)
}

func (f *fakeHTTP) Do(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.do == nil {
		return &HTTPResponse{Status: 200}, nil
	}
	return f.do(ctx, req)
}

func (f *fakeHTTP) requests() []*HTTPRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*HTTPRequest(nil), f.reqs...)
}

// withHTTP returns a request whose HTTP effect is f.
func withHTTP(f HTTPClient) *Request {
	return &Request{Effects: &Effects{HTTP: f}}
}

func TestHTTPRequestResult(t *testing.T) {
	t.Parallel()
	f := &fakeHTTP{do: func(context.Context, *HTTPRequest) (*HTTPResponse, error) {
		return &HTTPResponse{
			Status: 201,
			Headers: map[string]string{
				"Content-Type": "text/plain", "x-multi": "a, b", "__proto__": "p",
			},
			Body: []byte("caf\xc3\xa9 \xff!"),
		}, nil
	}}
	got := mustValue(t, `var r = HTTP.request({url: "https://ci.example.com/build"});
		return [r.status, JSON.stringify(r.headers), r.body, r.body.length,
			Object.getPrototypeOf(r.headers) === Object.prototype, Object.keys(r).join()].join("|")`, withHTTP(f))
	want := `201|{"__proto__":"p","content-type":"text/plain","x-multi":"a, b"}|café ` + "\uFFFD" + `!|7|true|status,headers,body`
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestHTTPRequestArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, args string
		method     string
		body       string // "<nil>" for no body
		headers    map[string]string
		timeout    time.Duration
		url        string
	}{
		{"GET by default", `{url: "https://h.example/p?q=1"}`, "GET", "<nil>", nil, 0, "https://h.example/p?q=1"},
		{"POST with a string body", `{url: "https://h.example/", body: "a=1"}`, "POST", "a=1", nil, 0, ""},
		{"empty body is a body", `{url: "https://h.example/", body: ""}`, "POST", "", nil, 0, ""},
		{"object as JSON", `{url: "https://h.example/", body: {a: [1, "é"], d: new Date(0)}}`, "POST",
			`{"a":[1,"é"],"d":"1970-01-01T00:00:00.000Z"}`, map[string]string{"Content-Type": "application/json"}, 0, ""},
		{"array as JSON", `{url: "https://h.example/", body: [1, 2]}`, "POST", `[1,2]`,
			map[string]string{"Content-Type": "application/json"}, 0, ""},
		{"script's content type kept", `{url: "https://h.example/", body: {a: 1}, headers: {"content-TYPE": "application/vnd.x+json"}}`, "POST",
			`{"a":1}`, map[string]string{"content-TYPE": "application/vnd.x+json"}, 0, ""},
		{"Uint8Array raw", `{url: "https://h.example/", body: new Uint8Array([0, 255, 65])}`, "POST", "\x00\xffA", nil, 0, ""},
		{"ArrayBuffer raw", `{url: "https://h.example/", body: new Uint8Array([66, 67]).buffer}`, "POST", "BC", nil, 0, ""},
		{"method lower case", `{url: "https://h.example/", method: "put", body: "x"}`, "PUT", "x", nil, 0, ""},
		{"GET with body", `{url: "https://h.example/", method: "GET", body: "x"}`, "GET", "x", nil, 0, ""},
		{"DELETE", `{url: "https://h.example/", method: "DELETE"}`, "DELETE", "<nil>", nil, 0, ""},
		{"header values converted", `{url: "https://h.example/", headers: {"X-N": 5, "X-B": true, Authorization: "Bearer t"}}`, "GET", "<nil>",
			map[string]string{"X-N": "5", "X-B": "true", "Authorization": "Bearer t"}, 0, ""},
		{"timeout", `{url: "https://h.example/", timeout: 250}`, "GET", "<nil>", nil, 250 * time.Millisecond, ""},
		{"timeout as numeric string", `{url: "https://h.example/", timeout: "1500"}`, "GET", "<nil>", nil, 1500 * time.Millisecond, ""},
		{"huge timeout capped", `{url: "https://h.example/", timeout: 1e300}`, "GET", "<nil>", nil, maxHTTPTimeout, ""},
		{"null options ignored", `{url: "https://h.example/", method: null, headers: null, body: null, timeout: undefined}`, "GET", "<nil>", nil, 0, ""},
		{"fragment not sent", `{url: "https://h.example/p#frag"}`, "GET", "<nil>", nil, 0, "https://h.example/p"},
		{"userinfo kept", `{url: "https://u:p@h.example/"}`, "GET", "<nil>", nil, 0, "https://u:p@h.example/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeHTTP{}
			if res := runScript(t, "HTTP.request("+tc.args+")", withHTTP(f)); res.Err != nil {
				t.Fatal(res.Err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			body := "<nil>"
			if r.Body != nil {
				body = string(r.Body)
			}
			if r.Method != tc.method || body != tc.body || r.Timeout != tc.timeout {
				t.Errorf("got %s body %q timeout %v, want %s body %q timeout %v", r.Method, body, r.Timeout, tc.method, tc.body, tc.timeout)
			}
			if len(r.Headers) != len(tc.headers) {
				t.Errorf("headers %v, want %v", r.Headers, tc.headers)
			}
			for k, v := range tc.headers {
				if r.Headers[k] != v {
					t.Errorf("header %s = %q, want %q (all: %v)", k, r.Headers[k], v, r.Headers)
				}
			}
			if tc.url != "" && r.URL != tc.url {
				t.Errorf("url %q, want %q", r.URL, tc.url)
			}
		})
	}
}

func TestHTTPRequestTypeErrors(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", MaxHTTPRequestBody+1)
	tests := []struct{ args, want string }{
		{``, "expects an object {url, method, headers, body, timeout}, got undefined"},
		{`"https://h.example/"`, `expects an object {url, method, headers, body, timeout}, got "https://h.example/"`},
		{`[1]`, "expects an object"},
		{`{}`, "url must be a non-empty string, got undefined"},
		{`{url: ""}`, `url must be a non-empty string, got ""`},
		{`{url: 5}`, "url must be a non-empty string, got 5"},
		{`{url: "https://h.example/", header: {}}`, `unknown option "header" (the options are url, method, headers, body and timeout)`},
		{`{url: "ftp://u:secret@h.example/"}`, `url must be an http:// or https:// URL, got scheme "ftp"`},
		{`{url: "/relative/path"}`, `url must be an http:// or https:// URL, got scheme ""`},
		{`{url: "https:///nohost?token=secret"}`, "url has no host"},
		{`{url: "http://u:secret@:8080/"}`, "url has no host"},
		{`{url: "http://a b/?token=secret"}`, `url is not a valid URL: invalid character " " in host name`},
		{`{url: "http://h.example/%zz?token=secret"}`, `url is not a valid URL: invalid URL escape "%zz"`},
		{`{url: "https://h.example/" + "x".repeat(9000)}`, "url is longer than 8192 bytes"},
		{`{url: "https://h.example/", method: "CONNECT"}`, `unsupported method "CONNECT" (use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS)`},
		{`{url: "https://h.example/", method: 1}`, "method must be a string, got 1"},
		{`{url: "https://h.example/", headers: "x"}`, `headers must be an object of names and values, got "x"`},
		{`{url: "https://h.example/", headers: ["x"]}`, "headers must be an object"},
		{`{url: "https://h.example/", headers: {"bad name": "v"}}`, `header name "bad name" is not valid`},
		{`{url: "https://h.example/", headers: {"X-A": "secret\r\nX-Injected: 1"}}`, `header "X-A" holds a control character`},
		{`{url: "https://h.example/", headers: {"X-A": PROPERTIES.missing}}`, `header "X-A" is undefined`},
		{`{url: "https://h.example/", headers: {"X-A": {}}}`, `header "X-A" must be a string, a number or a boolean, not an object`},
		{`{url: "https://h.example/", headers: {"x-a": "1", "X-A": "2"}}`, `header "X-A" is given twice (as "x-a")`},
		{`{url: "https://h.example/", headers: {"X-A": "x".repeat(70000)}}`, "headers are larger than 64 KiB"},
		{`{url: "https://h.example/", body: 42}`, "body must be a string, an object or an array, got 42"},
		{`{url: "https://h.example/", body: true}`, "body must be a string, an object or an array, got true"},
		{`{url: "https://h.example/", body: PROPERTIES.big}`, "body is larger than 5 MiB"},
		{`{url: "https://h.example/", body: (() => { var o = {}; o.o = o; return o })()}`, "body cannot be converted to JSON"},
		{`{url: "https://h.example/", body: function () {}}`, "body cannot be converted to JSON"},
		{`{url: "https://h.example/", timeout: 0}`, "timeout must be a positive number of milliseconds, got 0"},
		{`{url: "https://h.example/", timeout: -5}`, "timeout must be a positive number of milliseconds, got -5"},
		{`{url: "https://h.example/", timeout: "soon"}`, `timeout must be a positive number of milliseconds, got "soon"`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			f := &fakeHTTP{}
			req := withHTTP(f)
			req.Properties = map[string]string{"big": big}
			src := `try { HTTP.request(` + tc.args + `) } catch (e) { return (e instanceof TypeError) + " " + e.message }`
			got, _ := mustValue(t, src, req).(string)
			if want := "true HTTP.request: " + tc.want; !strings.HasPrefix(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			if strings.Contains(got, "secret") {
				t.Errorf("the error repeats a secret: %q", got)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestHTTPRequestUnavailable(t *testing.T) {
	t.Parallel()
	for name, req := range map[string]*Request{
		"no effects": nil,
		"nil HTTP":   {Effects: &Effects{}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, `HTTP.request({url: "https://h.example/"})`, req)
			want := "Error: HTTP.request: outbound HTTP is not available here (line 1, column 13)"
			if res.Err == nil || res.Err.Error() != want {
				t.Errorf("err = %v, want %s", res.Err, want)
			}
		})
	}
}

func TestHTTPRequestFailure(t *testing.T) {
	t.Parallel()
	f := &fakeHTTP{do: func(_ context.Context, req *HTTPRequest) (*HTTPResponse, error) {
		if strings.Contains(req.URL, "wrapped") {
			return nil, &url.Error{Op: "Get", URL: req.URL, Err: errors.New("connection reset")}
		}
		return nil, errors.New("egress: refused 127.0.0.1:80: loopback address")
	}}
	src := `var out = [];
		for (const u of ["http://127.0.0.1/x?token=secret", "https://user:secret@h.example/wrapped?k=secret"]) {
			try { HTTP.request({url: u}) } catch (e) { out.push(e.name + ": " + e.message) }
		}
		return out.join("\n")`
	res := runScript(t, src, withHTTP(f))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := "Error: HTTP.request: GET http://127.0.0.1/x?… failed: egress: refused 127.0.0.1:80: loopback address\n" +
		"Error: HTTP.request: GET https://h.example/wrapped?… failed: connection reset"
	if res.Value != want {
		t.Errorf("got  %q\nwant %q", res.Value, want)
	}
	if len(res.Logs) != 2 {
		t.Fatalf("logs: %v", res.Logs)
	}
	for i, w := range []string{
		"HTTP GET http://127.0.0.1/x?… failed: egress: refused 127.0.0.1:80: loopback address",
		"HTTP GET https://h.example/wrapped?… failed: connection reset",
	} {
		if l := res.Logs[i]; l.Level != LevelWarning || l.Text != w {
			t.Errorf("log %d = %s %q, want WARNING %q", i, l.Level, l.Text, w)
		}
	}
}

func TestHTTPRequestNoResponse(t *testing.T) {
	t.Parallel()
	f := &fakeHTTP{do: func(context.Context, *HTTPRequest) (*HTTPResponse, error) { return nil, nil }}
	res := runScript(t, `HTTP.request({url: "https://h.example/"})`, withHTTP(f))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "failed: no response") {
		t.Errorf("err = %v", res.Err)
	}
}

// TestHTTPRequestLog checks that every request is logged, without its
// query or userinfo, and that a non-2xx status is not an error.
func TestHTTPRequestLog(t *testing.T) {
	t.Parallel()
	f := &fakeHTTP{do: func(_ context.Context, req *HTTPRequest) (*HTTPResponse, error) {
		if req.Method == "POST" {
			return &HTTPResponse{Status: 201, Body: []byte("12345")}, nil
		}
		return &HTTPResponse{Status: 404, Body: []byte("nope")}, nil
	}}
	src := `var a = HTTP.request({url: "https://bot:hunter2@h.example/hook?token=s3cret&x=1", body: {a: 1}});
		var b = HTTP.request({url: "http://h.example:8080"});
		var c = HTTP.request({url: "https://h.example/p?"});
		return a.status + " " + b.status + " " + b.body`
	res := runScript(t, src, withHTTP(f))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Value != "201 404 nope" {
		t.Errorf("value %v", res.Value)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^HTTP POST https://h\.example/hook\?… -> 201 \(\d+ ms, 5 B\)$`),
		regexp.MustCompile(`^HTTP GET http://h\.example:8080 -> 404 \(\d+ ms, 4 B\)$`),
		regexp.MustCompile(`^HTTP GET https://h\.example/p\?… -> 404 \(\d+ ms, 4 B\)$`),
	}
	if len(res.Logs) != len(want) {
		t.Fatalf("logs: %v", res.Logs)
	}
	for i, re := range want {
		l := res.Logs[i]
		if l.Level != LevelInfo || !re.MatchString(l.Text) {
			t.Errorf("log %d = %s %q, want INFO %s", i, l.Level, l.Text, re)
		}
		for _, secret := range []string{"s3cret", "hunter2", "bot", "x=1"} {
			if strings.Contains(l.Text, secret) {
				t.Errorf("log %d leaks %q: %q", i, secret, l.Text)
			}
		}
	}
}

// TestHTTPRequestDeadline checks that the run's deadline cuts a request
// short, and that the run ends as a timeout even though the script
// catches the error.
func TestHTTPRequestDeadline(t *testing.T) {
	t.Parallel()
	f := &fakeHTTP{do: func(ctx context.Context, _ *HTTPRequest) (*HTTPResponse, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	p := mustCompile(t, t.Name(), `try { HTTP.request({url: "https://slow.example/"}) } catch (e) { LOG.info("caught", e.message) }
		return "went on"`)
	// The deadline leaves the script time to reach the request on a busy
	// machine; the fake then blocks until the deadline ends it.
	res := NewEngine(Limits{}).Run(context.Background(), p, withHTTP(f), time.Second)
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests (%v), want 1", n, res.Err)
	}
	if !errors.Is(res.Err, ErrTimeout) {
		t.Fatalf("err = %v, value %v; want a timeout", res.Err, res.Value)
	}
	if res.Duration > 10*time.Second {
		t.Errorf("took %v", res.Duration)
	}
	if len(res.Logs) == 0 || res.Logs[0].Text != "HTTP GET https://slow.example/ failed: the script ran out of time" {
		t.Errorf("logs: %v", res.Logs)
	}
}

// TestHTTPRequestCancelled checks the same when the caller cancels.
func TestHTTPRequestCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeHTTP{do: func(c context.Context, _ *HTTPRequest) (*HTTPResponse, error) {
		cancel()
		<-c.Done()
		return nil, c.Err()
	}}
	p := mustCompile(t, t.Name(), `try { HTTP.request({url: "https://slow.example/"}) } catch (e) {} return "went on"`)
	res := NewEngine(Limits{}).Run(ctx, p, withHTTP(f), 10*time.Second)
	if !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("err = %v, value %v; want cancelled", res.Err, res.Value)
	}
	if len(res.Logs) == 0 || res.Logs[0].Text != "HTTP GET https://slow.example/ failed: the script was stopped" {
		t.Errorf("logs: %v", res.Logs)
	}
}

func TestHTTPGlobalShape(t *testing.T) {
	t.Parallel()
	got := mustValue(t, `return [Object.keys(HTTP).join(), typeof HTTP.request, HTTP.request.name, HTTP.request === HTTP.request].join(" ")`, nil)
	if got != "request function request true" {
		t.Errorf("got %q", got)
	}
}
