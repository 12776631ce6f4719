package scripting

import (
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/dop251/goja"
)

// Response is the HTTP answer a script set through RESPONSE: in sync mode
// (and from a handshake script, in any mode) it replaces Switchyard's own.
type Response struct {
	Status  int
	Headers http.Header // canonical names; Content-Type set when the body has one by default
	Body    []byte
}

// Bounds of a RESPONSE. A script's answer goes to whoever sent the
// webhook, possibly an anonymous sender: it must stay a small, well-formed
// HTTP answer.
const (
	MaxResponseBody        = 1 << 20 // bytes of body
	MaxResponseHeaders     = 32      // header entries
	MaxResponseHeaderValue = 4096    // bytes per header value
	MinResponseStatus      = 200     // a 1xx is not a final answer
	MaxResponseStatus      = 599
	maxResponseHeaderName  = 128
)

// framingHeaders are the response headers a script may not set: they
// describe the connection or the message framing, which the server owns;
// a wrong one would corrupt the answer or the next request on the
// connection.
var framingHeaders = map[string]bool{
	"Connection":        true,
	"Content-Length":    true,
	"Keep-Alive":        true,
	"Proxy-Connection":  true,
	"Te":                true,
	"Trailer":           true,
	"Transfer-Encoding": true,
	"Upgrade":           true,
	// The answer is served on the UI's origin: a cookie set here would
	// reach the UI and the API (a session planted in an admin's browser).
	"Set-Cookie": true,
	// The server sends its own policy (sandbox) with every script's answer.
	"Content-Security-Policy": true,
}

// responseError is a RESPONSE the server cannot send. It fails the run
// like an uncaught exception: a match script then does not match, and a
// function's execution is FAILED with this message.
func responseError(format string, args ...any) *ScriptError {
	return &ScriptError{Message: "RESPONSE: " + fmt.Sprintf(format, args...)}
}

// installResponse gives the script an empty RESPONSE object to fill.
func (r *run) installResponse() {
	r.rt.GlobalObject().Set("RESPONSE", r.rt.NewObject())
}

// readResponse reads RESPONSE after the run: nil when the script set none
// of status, headers and body. Reading may run the script's getters, so
// it is called while the run's interrupt is still armed; what they throw
// is returned as the error it is.
func (r *run) readResponse() (resp *Response, err error) {
	defer func() {
		if x := recover(); x != nil {
			if e, ok := x.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("reading RESPONSE: %v", x)
			}
		}
	}()
	v := r.rt.GlobalObject().Get("RESPONSE")
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, responseError("must be an object with status, headers and body, not %s", describe(v))
	}
	status, headers, body := o.Get("status"), o.Get("headers"), o.Get("body")
	if unset(status) && unset(headers) && unset(body) {
		return nil, nil
	}
	resp = &Response{Status: http.StatusOK, Headers: http.Header{}}
	if !unset(status) {
		if resp.Status, err = responseStatus(status); err != nil {
			return nil, err
		}
	}
	if !unset(headers) {
		if err := r.responseHeaders(headers, resp.Headers); err != nil {
			return nil, err
		}
	}
	if !unset(body) {
		if err := r.responseBody(body, resp); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// unset reports whether a RESPONSE member was left out.
func unset(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }

// describe names a value's type for an error, never its content.
func describe(v goja.Value) string {
	switch v.(type) {
	case goja.String:
		return "a string"
	case *goja.Object:
		return "an object"
	}
	switch v.Export().(type) {
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	}
	return "a " + v.String()
}

// responseStatus checks RESPONSE.status: a whole number of a final HTTP
// status.
func responseStatus(v goja.Value) (int, error) {
	var f float64
	switch n := v.Export().(type) {
	case int64:
		f = float64(n)
	case float64:
		f = n
	default:
		return 0, responseError("status must be a number, not %s", describe(v))
	}
	if f != math.Trunc(f) || f < MinResponseStatus || f > MaxResponseStatus {
		return 0, responseError("status %v is not an HTTP status from %d to %d", v, MinResponseStatus, MaxResponseStatus)
	}
	return int(f), nil
}

// responseHeaders checks RESPONSE.headers into h: at most
// MaxResponseHeaders entries, names that are HTTP tokens and not
// framingHeaders, values of strings or numbers without control characters
// (a CR or LF would let a script add headers or a whole answer).
func (r *run) responseHeaders(v goja.Value, h http.Header) error {
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() == "Array" {
		return responseError("headers must be an object of names to values, not %s", describe(v))
	}
	keys := o.Keys()
	if len(keys) > MaxResponseHeaders {
		return responseError("headers has %d entries; the limit is %d", len(keys), MaxResponseHeaders)
	}
	for _, k := range keys {
		if len(k) > maxResponseHeaderName || !validHeaderName(k) {
			return responseError("header name %q is not a valid HTTP header name", truncateRunes(k, 64))
		}
		name := http.CanonicalHeaderKey(k)
		if framingHeaders[name] {
			return responseError("header %s is set by the server, not by scripts", name)
		}
		value, err := headerValue(o.Get(k))
		if err != nil {
			return responseError("header %s: %s", name, err)
		}
		h.Set(name, value)
	}
	return nil
}

// headerValue converts one header value, refusing what cannot travel in
// an HTTP header.
func headerValue(v goja.Value) (string, error) {
	var s string
	switch x := v.(type) {
	case goja.String:
		if x.Length() > MaxResponseHeaderValue {
			return "", fmt.Errorf("the value is over %d characters", MaxResponseHeaderValue)
		}
		s = x.String()
	default:
		switch v.Export().(type) {
		case int64, float64:
			s = v.String()
		default:
			return "", fmt.Errorf("the value must be a string or a number, not %s", describe(v))
		}
	}
	if len(s) > MaxResponseHeaderValue {
		return "", fmt.Errorf("the value is over %d bytes", MaxResponseHeaderValue)
	}
	if !validHeaderValue(s) {
		return "", errors.New("the value holds a control character (a CR or LF would start a new header)")
	}
	return s, nil
}

// responseBody checks RESPONSE.body into resp: a string as it is (text
// by default), anything else as JSON; at most MaxResponseBody bytes.
func (r *run) responseBody(v goja.Value, resp *Response) error {
	contentType := "application/json"
	s, isString := v.(goja.String)
	if isString {
		contentType = "text/plain; charset=utf-8"
	} else {
		j, err := r.jsonStringify(v)
		if err != nil {
			return err
		}
		if s, isString = j.(goja.String); !isString {
			return responseError("body %s cannot be written as JSON", describe(v))
		}
	}
	if s.Length() > MaxResponseBody {
		return responseError("body is over %d characters; the limit is %d bytes", MaxResponseBody, MaxResponseBody)
	}
	body := s.String()
	if len(body) > MaxResponseBody {
		return responseError("body is %d bytes; the limit is %d", len(body), MaxResponseBody)
	}
	if resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified {
		if body != "" {
			return responseError("a %d answer has no body", resp.Status)
		}
		return nil
	}
	resp.Body = []byte(body)
	if resp.Headers.Get("Content-Type") == "" {
		resp.Headers.Set("Content-Type", contentType)
	}
	return nil
}
