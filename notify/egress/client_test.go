package egress

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer is an httptest server on a chosen loopback address that
// counts the requests it gets.
type testServer struct {
	*httptest.Server
	hits atomic.Int32
	port string
}

// serve starts a server listening on addr ("127.0.0.1:0", "127.0.0.2:0",
// "[::1]:0"); it skips the test when addr cannot be listened on.
func serve(t *testing.T, addr string, h http.HandlerFunc) *testServer {
	return startServer(t, addr, h, false)
}

// serveTLS is serve with TLS; its certificate is valid for 127.0.0.1 and ::1.
func serveTLS(t *testing.T, addr string, h http.HandlerFunc) *testServer {
	return startServer(t, addr, h, true)
}

func startServer(t *testing.T, addr string, h http.HandlerFunc, tls bool) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	s := &testServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	s.Listener.Close()
	s.Listener = l
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	_, s.port, _ = net.SplitHostPort(l.Addr().String())
	return s
}

// serveV6 is serve on [::1], or nil and port "1" when this host has no
// IPv6 loopback.
func serveV6(t *testing.T, h http.HandlerFunc) (*testServer, string) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Logf("no IPv6 loopback: %v", err)
		return nil, "1"
	}
	l.Close()
	s := serve(t, "[::1]:0", h)
	return s, s.port
}

// trust makes c trust s's certificate.
func trust(c *Client, s *testServer) {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	c.transport.TLSClientConfig.RootCAs = pool
}

// newClient returns a Client for o, closed at the end of the test.
func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// allow returns the prefixes of single addresses.
func allow(addrs ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, a := range addrs {
		ps = append(ps, netip.PrefixFrom(netip.MustParseAddr(a), 32))
	}
	return ps
}

// do sends r with a 10 s safety net.
func do(t *testing.T, c *Client, r *Request) (*Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Do(ctx, r)
}

// get is do for a GET of u.
func get(t *testing.T, c *Client, u string) (*Response, error) {
	t.Helper()
	return do(t, c, &Request{URL: u})
}

// stall answers nothing until the request ends (or the test does).
func stall(t *testing.T) http.HandlerFunc {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

func TestDo(t *testing.T) {
	t.Parallel()
	s := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Add("X-Reply", "a")
		w.Header().Add("X-Reply", "b")
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(201)
		user, pass, _ := r.BasicAuth()
		fmt.Fprintf(w, "%s %s %q ua=%q custom=%q host=%s auth=%s:%s", r.Method, r.URL.RequestURI(), b,
			r.UserAgent(), r.Header.Get("X-Custom"), r.Host, user, pass)
	})
	c := newClient(t, Options{Allow: allow("127.0.0.1")})
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"GET", Request{URL: s.URL + "/p?q=1"},
			`GET /p?q=1 "" ua="Switchyard" custom="" host=` + s.Listener.Addr().String() + ` auth=:`},
		{"POST by default with a body", Request{URL: s.URL, Body: []byte("hi"), Headers: map[string]string{"x-custom": "1"}},
			`POST / "hi" ua="Switchyard" custom="1" host=` + s.Listener.Addr().String() + ` auth=:`},
		{"explicit method, UA and Host", Request{URL: s.URL, Method: "PUT", Body: []byte{},
			Headers: map[string]string{"User-Agent": "mine/1", "host": "virtual.example"}},
			`PUT / "" ua="mine/1" custom="" host=virtual.example auth=:`},
		{"userinfo is basic auth", Request{URL: "http://bot:pw@" + s.Listener.Addr().String() + "/"},
			`GET / "" ua="Switchyard" custom="" host=` + s.Listener.Addr().String() + ` auth=bot:pw`},
	}
	for _, tc := range tests {
		resp, err := do(t, c, &tc.req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if resp.Status != 201 || string(resp.Body) != tc.want {
			t.Errorf("%s: %d %q\nwant 201 %q", tc.name, resp.Status, resp.Body, tc.want)
		}
		if resp.Headers["x-reply"] != "a, b" || resp.Headers["content-type"] != "text/plain" {
			t.Errorf("%s: headers %v", tc.name, resp.Headers)
		}
	}
	custom := newClient(t, Options{Allow: allow("127.0.0.1"), UserAgent: "Switchyard/test"})
	if resp, err := get(t, custom, s.URL); err != nil || !strings.Contains(string(resp.Body), `ua="Switchyard/test"`) {
		t.Errorf("custom user agent: %v %v", resp, err)
	}
}

func TestDoTimeout(t *testing.T) {
	t.Parallel()
	s := serve(t, "127.0.0.1:0", stall(t))
	c := newClient(t, Options{Allow: allow("127.0.0.1")})
	start := time.Now()
	_, err := do(t, c, &Request{URL: s.URL, Timeout: 100 * time.Millisecond})
	if err == nil || err.Error() != "timed out after 100ms" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	// The caller's context ends the request too.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Do(ctx, &Request{URL: s.URL, Timeout: time.Hour})
	if err == nil || err.Error() != "request stopped: context deadline exceeded" {
		t.Errorf("err = %v", err)
	}
}

func TestResponseCap(t *testing.T) {
	t.Parallel()
	const max = 1000
	var mu sync.Mutex
	written := map[string]int{}
	s := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		n := 0
		defer func() { mu.Lock(); written[r.URL.Path] = n; mu.Unlock() }()
		switch r.URL.Path {
		case "/exact":
			w.Header().Set("Content-Length", strconv.Itoa(max))
			n, _ = w.Write(make([]byte, max))
		case "/declared":
			w.Header().Set("Content-Length", strconv.Itoa(max+1))
			n, _ = w.Write(make([]byte, max+1))
		case "/chunked":
			w.(http.Flusher).Flush() // no Content-Length
			for range max + 1 {
				k, _ := w.Write([]byte{'x'})
				n += k
			}
		case "/endless":
			w.(http.Flusher).Flush()
			chunk := make([]byte, 32<<10)
			for n < 1<<30 {
				k, err := w.Write(chunk)
				n += k
				if err != nil {
					return
				}
			}
		}
	})
	c := newClient(t, Options{Allow: allow("127.0.0.1"), MaxResponseBytes: max})
	if resp, err := get(t, c, s.URL+"/exact"); err != nil || len(resp.Body) != max {
		t.Errorf("exact: %v", err)
	}
	for _, p := range []string{"/declared", "/chunked", "/endless"} {
		_, err := get(t, c, s.URL+p)
		if err == nil || err.Error() != "response body larger than 1000 bytes" || !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("%s: err = %v", p, err)
		}
	}

	// The *http.Client for the engine caps bodies too.
	hc := c.HTTPClient()
	for p, wantErr := range map[string]bool{"/exact": false, "/chunked": true} {
		resp, err := hc.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if wantErr != errors.Is(err, ErrResponseTooLarge) || !wantErr && len(b) != max {
			t.Errorf("HTTPClient %s: %d bytes, err %v", p, len(b), err)
		}
	}

	// The default cap is 1 MiB.
	big := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 1<<20+1)) })
	_, err := get(t, newClient(t, Options{Allow: allow("127.0.0.1")}), big.URL)
	if err == nil || err.Error() != "response body larger than 1 MiB" {
		t.Errorf("default cap: %v", err)
	}
}

// hostileTargets are URLs that lead to this machine, or to a cloud
// metadata service, however they are spelt.
func hostileTargets(v4, v6 string) []struct {
	url     string
	refused string // the reason, or "" when the name does not even resolve
} {
	return []struct {
		url     string
		refused string
	}{
		{"http://127.0.0.1:" + v4 + "/", "loopback address"},
		{"http://localhost:" + v4 + "/", "loopback address"},
		{"http://[::1]:" + v6 + "/", "loopback address"},
		{"http://169.254.169.254/latest/meta-data", "cloud metadata address"},
		{"http://[fd00:ec2::254]/latest/meta-data", "cloud metadata address"},
		{"http://[::ffff:127.0.0.1]:" + v4 + "/", "loopback address"},
		{"http://[::ffff:7f00:1]:" + v4 + "/", "loopback address"},
		{"http://[64:ff9b::7f00:1]:" + v4 + "/", "loopback address 127.0.0.1 embedded in a NAT64 address"},
		{"http://0.0.0.0:" + v4 + "/", "unspecified address"},
		{"http://[::]:" + v4 + "/", "unspecified address"},
		{"http://[fe80::1%25lo]:" + v4 + "/", "link-local address"},
		{"http://10.0.0.1/", "private address"},
		// Forms that inet_aton accepts and Go's resolver does not: they
		// fail to resolve (all-numeric names are not looked up; the hex
		// one is asked of DNS). Were a resolver to map them to 127.0.0.1,
		// the dialer would refuse that address like the others.
		{"http://2130706433:" + v4 + "/", ""},
		{"http://0x7f000001:" + v4 + "/", ""},
		{"http://0177.0.0.1:" + v4 + "/", ""},
		{"http://127.1:" + v4 + "/", ""},
	}
}

func TestHostileTargets(t *testing.T) {
	t.Parallel()
	s4 := serve(t, "127.0.0.1:0", func(http.ResponseWriter, *http.Request) {})
	s6, v6port := serveV6(t, func(http.ResponseWriter, *http.Request) {})
	c := newClient(t, Options{})
	for _, tc := range hostileTargets(s4.port, v6port) {
		_, err := get(t, c, tc.url)
		switch {
		case err == nil:
			t.Errorf("%s: no error", tc.url)
		case tc.refused != "":
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != tc.refused || !errors.Is(err, ErrRefused) {
				t.Errorf("%s: err = %v, want refused: %s", tc.url, err, tc.refused)
			}
		default:
			t.Logf("%s: %v", tc.url, err)
		}
	}
	if n := s4.hits.Load(); n != 0 {
		t.Errorf("the 127.0.0.1 server got %d requests", n)
	}
	if s6 != nil && s6.hits.Load() != 0 {
		t.Errorf("the ::1 server got %d requests", s6.hits.Load())
	}
}

// TestAllowPrivate checks that the same targets are reached with
// AllowPrivate, so that TestHostileTargets tests the guard and not a
// target that could not be reached anyway.
func TestAllowPrivate(t *testing.T) {
	t.Parallel()
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "reached") }
	s4 := serve(t, "127.0.0.1:0", ok)
	s6, v6port := serveV6(t, ok)
	c := newClient(t, Options{AllowPrivate: true})
	for _, u := range []string{
		"http://127.0.0.1:" + s4.port + "/",
		"http://localhost:" + s4.port + "/",
		"http://[::1]:" + v6port + "/",
		"http://[::ffff:127.0.0.1]:" + s4.port + "/",
		"http://0.0.0.0:" + s4.port + "/", // Linux connects 0.0.0.0 to the local host
	} {
		if s6 == nil && strings.Contains(u, "[::1]") {
			continue
		}
		resp, err := get(t, c, u)
		if err != nil || string(resp.Body) != "reached" {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, tc := range hostileTargets(s4.port, v6port) {
		if tc.refused == "" {
			_, err := get(t, c, tc.url)
			t.Logf("with AllowPrivate, %s: %v", tc.url, err)
		}
	}
}

func TestRedirectToPrivate(t *testing.T) {
	t.Parallel()
	private := serve(t, "127.0.0.1:0", func(http.ResponseWriter, *http.Request) {})
	for _, target := range []struct{ location, reason string }{
		{private.URL + "/", "loopback address"},
		{"http://localhost:" + private.port + "/", "loopback address"},
		{"http://[::ffff:127.0.0.1]:" + private.port + "/", "loopback address"},
		{"http://169.254.169.254/latest/meta-data/iam/", "cloud metadata address"},
	} {
		public := serve(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.location, http.StatusFound)
		})
		// 127.0.0.2 stands for a public server.
		c := newClient(t, Options{Allow: allow("127.0.0.2")})
		_, err := get(t, c, public.URL)
		var re *RefusedError
		if !errors.As(err, &re) || re.Reason != target.reason {
			t.Errorf("redirect to %s: err = %v", target.location, err)
		}
		if public.hits.Load() != 1 {
			t.Errorf("the allowed server got %d requests", public.hits.Load())
		}
	}
	if n := private.hits.Load(); n != 0 {
		t.Errorf("the private server got %d requests", n)
	}
}

func TestRedirectLimit(t *testing.T) {
	t.Parallel()
	var limit atomic.Int32
	s := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		if n < int(limit.Load()) {
			http.Redirect(w, r, "/r/"+strconv.Itoa(n+1), http.StatusFound)
			return
		}
		fmt.Fprintf(w, "done %d", n)
	})
	c := newClient(t, Options{Allow: allow("127.0.0.1")})
	limit.Store(MaxRedirects)
	resp, err := get(t, c, s.URL+"/r/0")
	if err != nil || string(resp.Body) != "done 5" {
		t.Errorf("5 redirects: %v", err)
	}
	limit.Store(MaxRedirects + 1)
	before := s.hits.Load()
	_, err = get(t, c, s.URL+"/r/0")
	if err == nil || err.Error() != "stopped after 5 redirects" {
		t.Errorf("6 redirects: %v", err)
	}
	if n := s.hits.Load() - before; n != 6 {
		t.Errorf("%d requests, want 6", n)
	}
}

func TestRedirectSchemes(t *testing.T) {
	t.Parallel()
	plain := serve(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/up" {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		io.WriteString(w, "plain")
	})
	secure := serveTLS(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "secure")
	})
	c := newClient(t, Options{Allow: allow("127.0.0.1", "127.0.0.2")})
	trust(c, secure)

	_, err := get(t, c, secure.URL+"/?to="+plain.URL+"/down")
	if err == nil || err.Error() != "refused a redirect from https to http" {
		t.Errorf("https to http: %v", err)
	}
	if n := plain.hits.Load(); n != 0 {
		t.Errorf("the http server got %d requests", n)
	}
	for _, to := range []string{"ftp://127.0.0.2/x", "file:///etc/passwd", "gopher://127.0.0.2/"} {
		_, err := get(t, c, secure.URL+"/?to="+to)
		scheme, _, _ := strings.Cut(to, ":")
		if want := fmt.Sprintf("refused a redirect to a %q URL (only http and https)", scheme); err == nil || err.Error() != want {
			t.Errorf("to %s: %v", to, err)
		}
	}
	resp, err := get(t, c, plain.URL+"/up?to="+secure.URL+"/")
	if err != nil || string(resp.Body) != "secure" {
		t.Errorf("http to https: %v", err)
	}
}

func TestRedirectHeaders(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, body string
		h            http.Header
	}
	var mu sync.Mutex
	var got []seen
	record := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, string(b), r.Header.Clone()})
		mu.Unlock()
	}
	other := serve(t, "127.0.0.1:0", record)
	first := serve(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/landed", http.StatusTemporaryRedirect)
		case "/home":
			http.Redirect(w, r, "/landed?x=1", http.StatusTemporaryRedirect)
		default:
			record(w, r)
		}
	})
	c := newClient(t, Options{Allow: allow("127.0.0.1", "127.0.0.2")})
	headers := map[string]string{
		"Authorization": "Bearer SECRET", "Cookie": "s=SECRET", "X-Api-Key": "SECRET",
		"Private-Token": "SECRET", "X-Auth-Token": "SECRET", "X-Custom": "kept",
	}
	for _, p := range []string{"/away", "/home"} {
		_, err := do(t, c, &Request{URL: first.URL + p + "?token=SECRET", Method: "POST", Body: []byte("payload"), Headers: headers})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d requests landed", len(got))
	}
	away, home := got[0], got[1]
	for _, s := range got {
		if s.method != "POST" || s.body != "payload" || s.h.Get("X-Custom") != "kept" {
			t.Errorf("307 did not resend the request: %s %q %v", s.method, s.body, s.h)
		}
		if r := s.h.Get("Referer"); r != "" {
			t.Errorf("Referer sent: %q", r)
		}
	}
	for k := range headers {
		if k == "X-Custom" {
			continue
		}
		if v := away.h.Get(k); v != "" {
			t.Errorf("%s sent on to another host: %q", k, v)
		}
		if v := home.h.Get(k); v == "" {
			t.Errorf("%s dropped on a redirect to the same host", k)
		}
	}
}

// TestProxyFromEnvironmentIgnored checks that HTTP_PROXY is not used: a
// proxy would connect to private targets on the client's behalf.
func TestProxyFromEnvironmentIgnored(t *testing.T) {
	proxy := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "proxied") })
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	// The proxy itself may be reached, so only the proxy setting stands
	// between the request and a 200 from it.
	c := newClient(t, Options{Allow: allow("127.0.0.1")})
	for _, u := range []string{"http://192.0.2.1/", "http://10.0.0.1:8080/x"} {
		_, err := get(t, c, u)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("%s: err = %v, want refused", u, err)
		}
	}
	if n := proxy.hits.Load(); n != 0 {
		t.Errorf("the proxy got %d requests", n)
	}
}

// TestErrorsHideURL checks that no error repeats the URL's query or
// userinfo.
func TestErrorsHideURL(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	slow := serve(t, "127.0.0.1:0", stall(t))
	big := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2000)) })
	redirect := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://x/?token=SECRET", http.StatusFound)
	})
	c := newClient(t, Options{Allow: allow("127.0.0.1"), MaxResponseBytes: 1000})
	refusing := newClient(t, Options{})
	const cred = "user:SECRET@"
	const query = "?token=SECRET"
	for _, tc := range []struct {
		c *Client
		r Request
	}{
		{refusing, Request{URL: "http://" + cred + "127.0.0.1:1/" + query}},
		{c, Request{URL: "http://" + cred + closed + "/" + query}},
		{c, Request{URL: "http://" + cred + strings.TrimPrefix(slow.URL, "http://") + "/" + query, Timeout: 50 * time.Millisecond}},
		{c, Request{URL: "http://" + cred + strings.TrimPrefix(big.URL, "http://") + "/" + query}},
		{c, Request{URL: "http://" + cred + strings.TrimPrefix(redirect.URL, "http://") + "/" + query}},
		{c, Request{URL: "http://" + cred + "127.0.0.1:1/%zz" + query}},
		{c, Request{URL: "http://" + cred + "127.0.0.1:1/" + query, Method: "BAD METHOD"}},
	} {
		_, err := do(t, tc.c, &tc.r)
		if err == nil {
			t.Errorf("%s: no error", tc.r.URL)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error repeats the URL: %v", err)
		}
	}
}

// A name that does not resolve is said to, without the resolver's
// address (net's "lookup x on 10.0.0.2:53: ..." showed the internal DNS
// server in attempt logs).
func TestUnresolvedNameHidesTheResolver(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{})
	_, err := do(t, c, &Request{URL: "http://nothing-here.invalid/"})
	if err == nil {
		t.Fatal("no error")
	}
	var de *net.DNSError
	if !strings.Contains(err.Error(), "the host nothing-here.invalid did not resolve (") ||
		regexp.MustCompile(`:\d+\b| on `).MatchString(err.Error()) || !errors.As(err, &de) {
		t.Fatalf("error %q (%T), want the name and no resolver", err, err)
	}
	// As net words it, for a resolver's address the client never saw.
	hidden := &resolveError{host: "x.example", err: &net.DNSError{Err: "no such host", Name: "x.example", Server: "10.0.0.2:53", IsNotFound: true}}
	if got := hidden.Error(); got != "the host x.example did not resolve (no such host)" {
		t.Fatalf("%q", got)
	}
}

// TestOddURLs checks that malformed and odd URLs fail cleanly and reach
// nothing private.
func TestOddURLs(t *testing.T) {
	t.Parallel()
	s := serve(t, "127.0.0.1:0", func(http.ResponseWriter, *http.Request) {})
	p := s.port
	c := newClient(t, Options{})
	for _, u := range []string{
		"", "/relative", "//127.0.0.1:" + p + "/", "127.0.0.1:" + p, "http:127.0.0.1", "http:///x",
		"http://@127.0.0.1:" + p + "/", "http://:@127.0.0.1:" + p + "/", "http://u:p@:" + p + "/",
		"http://%zz@127.0.0.1:" + p + "/", "http://a@b@127.0.0.1:" + p + "/", "http://[::1", "http://[127.0.0.1]:" + p + "/",
		"HTTP://127.0.0.1:" + p + "/", "hTTp://LOCALHOST:" + p + "/", "http://127.0.0.1:" + p + "@nowhere.invalid/",
		"http://example.com@127.0.0.1:" + p + "/", "http://127.0.0.1:99999/", "http://127.0.0.1:-1/",
		"javascript:alert(1)", "file:///etc/passwd", "ftp://127.0.0.1:" + p + "/", "ws://127.0.0.1:" + p + "/",
		"http://127.0.0.1\t:" + p + "/", "http://127.0.0.1%00:" + p + "/", "http://\u2024127.0.0.1:" + p + "/",
	} {
		resp, err := get(t, c, u)
		if err == nil {
			t.Errorf("%q: got %d, want an error", u, resp.Status)
		} else {
			t.Logf("%q: %v", u, err)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the loopback server got %d requests", n)
	}
}
