package egress

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/internal/redact"
)

// Defaults and fixed limits.
const (
	DefaultMaxResponseBytes = 1 << 20 // 1 MiB
	DefaultUserAgent        = "Switchyard"
	// MaxRedirects is how many redirects a request follows.
	MaxRedirects = 5

	dialTimeout        = 10 * time.Second
	tlsTimeout         = 10 * time.Second
	maxResponseHeaders = 1 << 20
)

// ErrResponseTooLarge is wrapped by the error of reading a response body
// past the cap, "response body larger than 1 MiB".
var ErrResponseTooLarge = errors.New("egress: response body too large")

// Options configure a Client.
type Options struct {
	// AllowPrivate turns the address check off: loopback, private,
	// link-local and metadata addresses may be reached
	// (--allow-private-targets).
	AllowPrivate bool
	// Allow lists ranges that may be reached even when AllowPrivate is off,
	// e.g. an intranet CI server (10.1.2.0/24) or, in tests, 127.0.0.1/32.
	// IPv4-mapped prefixes (::ffff:10.0.0.0/104) mean the IPv4 range.
	Allow []netip.Prefix
	// MaxResponseBytes caps a response body; reading more is an error
	// wrapping ErrResponseTooLarge. Default 1 MiB.
	MaxResponseBytes int64
	// UserAgent is sent with requests that set no User-Agent header.
	// Default "Switchyard".
	UserAgent string
}

// Client sends guarded HTTP requests. It is safe for concurrent use.
type Client struct {
	guard     guard
	dialer    *net.Dialer
	max       int64
	userAgent string
	transport *http.Transport
	hc        *http.Client
}

// New returns a Client. It fails when an Allow prefix is invalid or
// MaxResponseBytes is negative.
func New(o Options) (*Client, error) {
	if o.MaxResponseBytes < 0 {
		return nil, fmt.Errorf("egress: MaxResponseBytes must not be negative, got %d", o.MaxResponseBytes)
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	c := &Client{guard: guard{allowPrivate: o.AllowPrivate}, max: o.MaxResponseBytes, userAgent: o.UserAgent}
	for i, p := range o.Allow {
		n, ok := normalisePrefix(p)
		if !ok {
			return nil, fmt.Errorf("egress: Allow[%d] %q is not a valid prefix", i, p.String())
		}
		c.guard.allow = append(c.guard.allow, n)
	}
	c.dialer = &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		Control:   c.guard.control, // the check, on each resolved address
	}
	c.transport = &http.Transport{
		Proxy:                  nil, // never from the environment: a proxy would dial for us, unguarded
		DialContext:            c.dial,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsTimeout,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256, // an endpoint may have 256 requests in flight
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeaders,
	}
	c.hc = &http.Client{
		Transport:     &capTransport{base: c.transport, max: c.max, userAgent: o.UserAgent},
		CheckRedirect: checkRedirect,
	}
	return c, nil
}

// HTTPClient returns an *http.Client that sends through the guard, with
// the redirect policy, the response cap and the default User-Agent. Each
// call returns a new value sharing the connection pool, so setting its
// Timeout affects no one else. A body read past the cap fails with an
// error wrapping ErrResponseTooLarge.
func (c *Client) HTTPClient() *http.Client {
	hc := *c.hc
	return &hc
}

// DialContext connects to addr (host:port) through the guard, as the
// Client's requests do: for connections that are not HTTP, such as an
// endpoint's message broker. A refused address fails with an error
// wrapping ErrRefused.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.dial(ctx, network, addr)
}

// CloseIdleConnections closes the pool's idle connections.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// Request is one request to send: the method (default GET, POST when a
// body is given), the headers as given, and a timeout of its own (0: the
// context's only). Its fields are those of a script's HTTP.request, so the
// server's wiring hands one over as it is.
type Request struct {
	URL     string
	Method  string
	Headers map[string]string
	Body    []byte
	Timeout time.Duration
}

// Response is the answer: the status, the headers (lower-case names,
// several values joined by ", ") and the body, read whole within the cap.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// Do sends r.
// The request ends at r.Timeout, if set, or when ctx ends. Errors name the
// reason without the URL, which may carry credentials: a refused address
// (ErrRefused), "timed out after 5s", "response body larger than 1 MiB"
// (ErrResponseTooLarge), a DNS or connection failure, a refused redirect.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	if r == nil {
		return nil, errors.New("no request")
	}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, r.Timeout, &timeoutError{r.Timeout})
		defer cancel()
	}
	req, err := newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, describe(ctx, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.max {
		return nil, &tooLargeError{c.max}
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(resp.Body); err != nil { // capped by capTransport
		return nil, describe(ctx, err)
	}
	return &Response{
		Status:  resp.StatusCode,
		Headers: flattenHeaders(resp.Header),
		Body:    buf.Bytes(),
	}, nil
}

// newRequest builds the request of r.
func newRequest(ctx context.Context, r *Request) (*http.Request, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported URL scheme %q (use http or https)", u.Scheme)
	}
	if u.Hostname() == "" { // "http://:80/" would dial the local host
		return nil, errors.New("the URL has no host")
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
		if r.Body != nil {
			method = http.MethodPost
		}
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body) // sets GetBody, so 307 and 308 can resend it
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// describe turns an error of http.Client.Do or of reading a body into the
// reason shown to users: without the URL (url.Error carries it, and URLs
// carry tokens), the guard's refusal as it is, and a timeout or
// cancellation as such.
func describe(ctx context.Context, err error) error {
	err = unwrapURLError(err)
	var re *RefusedError
	if errors.As(err, &re) {
		return re
	}
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		var te *timeoutError
		if errors.As(cause, &te) {
			return te
		}
		return fmt.Errorf("request stopped: %w", cause)
	}
	return err
}

// dial dials through the guard, and says of a name that did not resolve
// which name and why, without the resolver's address: net's "lookup x on
// 10.0.0.2:53: no such host" would show the internal DNS server to
// whoever reads an attempt log or a test's answer.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.dialer.DialContext(ctx, network, addr)
	var de *net.DNSError
	if err != nil && errors.As(err, &de) {
		return nil, &resolveError{host: de.Name, err: de}
	}
	return conn, err
}

// resolveError is a name that did not resolve. It wraps the
// *net.DNSError but does not show its Server.
type resolveError struct {
	host string
	err  *net.DNSError
}

func (e *resolveError) Error() string {
	why := e.err.Err
	switch {
	case e.err.IsNotFound:
		why = "no such host"
	case e.err.IsTimeout:
		why = "the lookup timed out"
	}
	return fmt.Sprintf("the host %s did not resolve (%s)", e.host, why)
}

func (e *resolveError) Unwrap() error { return e.err }

// unwrapURLError drops the *url.Error wrapper (and its URL) from err.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// flattenHeaders returns lower-case names, repeated headers joined by ", ".
func flattenHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		k = strings.ToLower(k)
		if prev, ok := out[k]; ok {
			vs = append([]string{prev}, vs...)
		}
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// checkRedirect is the redirect policy: at most MaxRedirects hops, http
// and https only, never from https down to http, and no Referer header.
// On a hop to another host,
// http.Client already drops Authorization, Cookie and their kin (unless
// the new host is a subdomain of the first); credential-like custom
// headers are dropped here too (redact.CredentialHeader: X-Api-Key,
// Private-Token, X-Auth-Token and the like).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	prev := via[len(via)-1]
	switch req.URL.Scheme {
	case "https":
	case "http":
		if prev.URL.Scheme == "https" {
			return errors.New("refused a redirect from https to http")
		}
	default:
		return fmt.Errorf("refused a redirect to a %q URL (only http and https)", req.URL.Scheme)
	}
	if req.URL.Hostname() == "" {
		return errors.New("refused a redirect to a URL without a host")
	}
	if via[0].Header.Get("Referer") == "" {
		// http.Client sets Referer to the previous URL, query included:
		// the query may hold a token.
		req.Header.Del("Referer")
	}
	if !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
		for k := range req.Header {
			if redact.CredentialHeader(k) {
				delete(req.Header, k)
			}
		}
	}
	return nil
}

// capTransport sets the default User-Agent and caps response bodies.
type capTransport struct {
	base      http.RoundTripper
	max       int64
	userAgent string
	// closer, when set, is the transport whose idle connections
	// CloseIdleConnections closes (http.Client calls it).
	closer interface{ CloseIdleConnections() }
}

// CloseIdleConnections closes the idle connections of a Routed client's
// own pool; the Client's shared pool is closed by its own method.
func (t *capTransport) CloseIdleConnections() {
	if t.closer != nil {
		t.closer.CloseIdleConnections()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, ok := req.Header["User-Agent"]; !ok {
		req = req.Clone(req.Context()) // a RoundTripper must not change its request
		req.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: t.max, max: t.max}
	return resp, nil
}

// cappedBody fails a read past max bytes, having read at most one byte
// more than max from the connection.
type cappedBody struct {
	io.ReadCloser
	left int64 // bytes that may still be read; -1 once over
	max  int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &tooLargeError{b.max}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n, b.left = int(b.left), -1
		return n, &tooLargeError{b.max}
	}
	b.left -= int64(n)
	return n, err
}

// tooLargeError is a response body over the cap.
type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string { return "response body larger than " + formatSize(e.max) }

func (e *tooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// timeoutError is a request that ran past its own timeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return "timed out after " + e.d.String() }

// Timeout marks the error as a timeout, as net.Error does.
func (e *timeoutError) Timeout() bool { return true }

// Unwrap makes errors.Is(err, context.DeadlineExceeded) true.
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// formatSize renders a byte count: "1 MiB", "512 KiB", "1000 bytes".
func formatSize(n int64) string {
	switch {
	case n > 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n > 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Refuses says why the guard would refuse every connection to host (a
// name or an address, as in a URL), e.g. "loopback address", or returns
// "" when some address of it may be reached or the name does not resolve
// within ctx. It is a warning for whoever saves a target, not the check:
// the dialer checks again at connect time, whatever the name resolves to
// then.
func (c *Client) Refuses(ctx context.Context, host string) string {
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		return c.guard.refuse(a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	why := ""
	for _, a := range addrs {
		if why = c.guard.refuse(a); why == "" {
			return ""
		}
	}
	return why
}
