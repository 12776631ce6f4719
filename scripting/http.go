package scripting

import (
	"context"
	"errors"
	"math"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// HTTP.request limits.
const (
	MaxHTTPRequestBody = 5 << 20  // bytes of a request body
	maxHTTPURL         = 8 << 10  // bytes of a URL
	maxHTTPHeaders     = 64 << 10 // bytes of request header names and values
	maxHTTPTimeout     = 24 * time.Hour
)

// httpMethods are the functions of HTTP.
var httpMethods = []method{
	{"request", func(r *run) func(goja.FunctionCall) goja.Value { return r.httpRequest }},
}

var httpNames = methodNames(httpMethods)

// httpOptions are the members HTTP.request's argument may have.
var httpOptions = []string{"url", "method", "headers", "body", "timeout"}

// httpVerbs are the methods HTTP.request sends.
var httpVerbs = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Types that goja exports binary data as.
var (
	arrayBufferType = reflect.TypeOf(goja.ArrayBuffer{})
	bytesType       = reflect.TypeOf([]byte(nil))
)

// httpRequest implements HTTP.request({url, method, headers, body,
// timeout}): it sends one request through Effects.HTTP and returns
// {status, headers, body}. A bad argument throws a TypeError; a request
// that fails (refused, DNS, timeout, too large) throws an Error the script
// may catch. A non-2xx status is a response like any other. Each request
// sent writes one log line, with the URL's query and userinfo left out.
func (r *run) httpRequest(call goja.FunctionCall) goja.Value {
	const fn = "HTTP.request"
	req, u := r.httpArgs(fn, call.Argument(0))
	client := r.effects().HTTP
	if client == nil {
		panic(r.newError("Error", fn+": outbound HTTP is not available here"))
	}
	shown := req.Method + " " + logURL(u)
	start := time.Now()
	resp, err := client.Do(r.ctx, req)
	took := time.Since(start)
	if err == nil && resp == nil {
		err = errors.New("no response")
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may carry credentials
		}
		reason := err.Error()
		if e := r.ctx.Err(); e != nil {
			reason = "the script was stopped"
			if errors.Is(e, context.DeadlineExceeded) {
				reason = "the script ran out of time"
			}
		}
		r.logText(LevelWarning, "HTTP "+shown+" failed: "+reason)
		r.checkStopped()
		panic(r.newError("Error", fn+": "+shown+" failed: "+reason))
	}
	r.logText(LevelInfo, "HTTP "+shown+" -> "+strconv.Itoa(resp.Status)+
		" ("+strconv.FormatInt(took.Milliseconds(), 10)+" ms, "+strconv.Itoa(len(resp.Body))+" B)")
	return r.httpResult(resp)
}

// httpArgs checks HTTP.request's argument and applies the defaults. It
// returns the request and its parsed URL.
func (r *run) httpArgs(fn string, arg goja.Value) (*HTTPRequest, *url.URL) {
	o, ok := arg.(*goja.Object)
	if !ok || o.ClassName() == "Array" || o.ClassName() == "Function" {
		panic(r.rt.NewTypeError("%s", fn+": expects an object {url, method, headers, body, timeout}, got "+quote(arg)))
	}
	for _, k := range o.Keys() {
		if !slices.Contains(httpOptions, k) {
			panic(r.rt.NewTypeError("%s: unknown option %q (the options are url, method, headers, body and timeout)", fn, k))
		}
	}
	req := &HTTPRequest{}
	u := r.httpURL(fn, option(o, "url"))
	req.URL = u.String()
	req.Body, req.Headers = r.httpBodyHeaders(fn, o)
	req.Method = r.httpMethod(fn, option(o, "method"), req.Body != nil)
	req.Timeout = r.httpTimeout(fn, option(o, "timeout"))
	return req, u
}

// option returns o[name], undefined when absent.
func option(o *goja.Object, name string) goja.Value {
	if v := o.Get(name); v != nil {
		return v
	}
	return goja.Undefined()
}

// httpURL checks the url option. Error messages never repeat the URL,
// whose query or userinfo may hold a token.
func (r *run) httpURL(fn string, v goja.Value) *url.URL {
	if !isString(v) || v.String() == "" {
		panic(r.rt.NewTypeError("%s", fn+": url must be a non-empty string, got "+quote(v)))
	}
	s := v.String()
	if len(s) > maxHTTPURL {
		panic(r.rt.NewTypeError("%s: url is longer than %d bytes", fn, maxHTTPURL))
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		panic(r.rt.NewTypeError("%s", fn+": url is not a valid URL: "+err.Error()))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		panic(r.rt.NewTypeError("%s", fn+": url must be an http:// or https:// URL, got scheme "+strconv.Quote(truncateRunes(u.Scheme, 32))))
	}
	if u.Hostname() == "" {
		panic(r.rt.NewTypeError("%s", fn+": url has no host"))
	}
	u.Fragment, u.RawFragment = "", "" // never sent
	return u
}

// httpMethod checks the method option; the default is GET, or POST when
// there is a body.
func (r *run) httpMethod(fn string, v goja.Value, hasBody bool) string {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		if hasBody {
			return "POST"
		}
		return "GET"
	}
	if !isString(v) {
		panic(r.rt.NewTypeError("%s", fn+": method must be a string, got "+quote(v)))
	}
	m := strings.ToUpper(v.String())
	if !slices.Contains(httpVerbs, m) {
		panic(r.rt.NewTypeError("%s", fn+": unsupported method "+quote(v)+" (use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS)"))
	}
	return m
}

// httpHeaders checks the headers option: an object of names to strings,
// numbers or booleans. Values are never put in error messages.
func (r *run) httpHeaders(fn string, v goja.Value) map[string]string {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() == "Array" || o.ClassName() == "Function" {
		panic(r.rt.NewTypeError("%s", fn+": headers must be an object of names and values, got "+quote(v)))
	}
	keys := o.Keys()
	h := make(map[string]string, len(keys))
	seen := make(map[string]string, len(keys))
	size := 0
	for _, k := range keys {
		if !validHeaderName(k) {
			panic(r.rt.NewTypeError("%s: header name %q is not valid", fn, truncateRunes(k, 64)))
		}
		if prev, dup := seen[strings.ToLower(k)]; dup {
			panic(r.rt.NewTypeError("%s: header %q is given twice (as %q)", fn, k, prev))
		}
		seen[strings.ToLower(k)] = k
		val := o.Get(k)
		if val == nil || goja.IsUndefined(val) || goja.IsNull(val) {
			panic(r.rt.NewTypeError("%s: header %q is %s", fn, k, quote(val)))
		}
		if _, isObj := val.(*goja.Object); isObj {
			panic(r.rt.NewTypeError("%s: header %q must be a string, a number or a boolean, not an object", fn, k))
		}
		s := val.String()
		if !validHeaderValue(s) {
			panic(r.rt.NewTypeError("%s: header %q holds a control character (a line break?)", fn, k))
		}
		if size += len(k) + len(s); size > maxHTTPHeaders {
			panic(r.rt.NewTypeError("%s: headers are larger than %d KiB", fn, maxHTTPHeaders>>10))
		}
		h[k] = s
	}
	return h
}

// httpBodyHeaders reads the headers and body options; a body sent as JSON
// gets Content-Type: application/json unless the headers set one.
func (r *run) httpBodyHeaders(fn string, o *goja.Object) ([]byte, map[string]string) {
	headers := r.httpHeaders(fn, option(o, "headers"))
	body, isJSON := r.httpBody(fn, option(o, "body"))
	if isJSON && !hasHeader(headers, "content-type") {
		if headers == nil {
			headers = map[string]string{}
		}
		headers["Content-Type"] = "application/json"
	}
	return body, headers
}

// httpBody checks the body option: a string (sent as UTF-8), an
// ArrayBuffer or Uint8Array (sent as is), or an object or array (sent as
// JSON; isJSON is then true). nil means no body.
func (r *run) httpBody(fn string, v goja.Value) (body []byte, isJSON bool) {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, false
	}
	switch {
	case isString(v):
		body = []byte(v.String())
	case v.ExportType() == arrayBufferType:
		body = slices.Clone(v.Export().(goja.ArrayBuffer).Bytes())
	case v.ExportType() == bytesType: // Uint8Array
		body = slices.Clone(v.Export().([]byte))
	default:
		o, ok := v.(*goja.Object)
		if !ok {
			panic(r.rt.NewTypeError("%s", fn+": body must be a string, an object or an array, got "+quote(v)))
		}
		s, err := r.jsonStringify(o)
		if err != nil {
			panic(r.newError("TypeError", fn+": body cannot be converted to JSON: "+err.Error()))
		}
		if s == nil || goja.IsUndefined(s) {
			panic(r.rt.NewTypeError("%s", fn+": body cannot be converted to JSON"))
		}
		body, isJSON = []byte(s.String()), true
	}
	if body == nil {
		body = []byte{} // an empty body is still a body
	}
	if len(body) > MaxHTTPRequestBody {
		panic(r.rt.NewTypeError("%s: body is larger than %d MiB", fn, MaxHTTPRequestBody>>20))
	}
	return body, isJSON
}

// httpTimeout checks the timeout option, in milliseconds; 0 when absent.
// The run's deadline bounds the request whatever the timeout.
func (r *run) httpTimeout(fn string, v goja.Value) time.Duration {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	f := v.ToFloat()
	if math.IsNaN(f) || f <= 0 {
		panic(r.rt.NewTypeError("%s", fn+": timeout must be a positive number of milliseconds, got "+quote(v)))
	}
	if f >= float64(maxHTTPTimeout/time.Millisecond) {
		return maxHTTPTimeout // the run's deadline comes first anyway
	}
	d := time.Duration(f * float64(time.Millisecond))
	if d <= 0 {
		d = 1 // under a nanosecond
	}
	return d
}

// httpResult converts a response into the script's {status, headers,
// body}. Header names are lower case; the body is decoded as UTF-8, each
// invalid byte becoming U+FFFD.
func (r *run) httpResult(resp *HTTPResponse) goja.Value {
	names := make([]string, 0, len(resp.Headers))
	joined := make(map[string]string, len(resp.Headers))
	for k, v := range resp.Headers {
		lk := strings.ToLower(k)
		if prev, ok := joined[lk]; ok {
			v = prev + ", " + v
		} else {
			names = append(names, lk)
		}
		joined[lk] = v
	}
	sort.Strings(names)
	h := r.rt.NewObject()
	for _, k := range names {
		r.putString(h, k, joined[k]) // a server may send a "__proto__" header
	}
	o := r.rt.NewObject()
	o.Set("status", resp.Status)
	o.Set("headers", h)
	o.Set("body", string(resp.Body))
	return o
}

// logURL renders a URL for the log: no userinfo, and "?…" instead of the
// query, which often carries a token.
func logURL(u *url.URL) string {
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + truncMark
	}
	return s
}

// hasHeader reports whether h has the named header, in any case.
func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s has no control characters but tab,
// as net/http requires.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
