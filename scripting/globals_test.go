package scripting

import (
	"net/url"
	"testing"
)

func TestGlobals(t *testing.T) {
	t.Parallel()
	req := &Request{
		MessageID:  "0190a6f4-7c1e-7d2a-9c1b-1f2e3d4c5b6a",
		Method:     "POST",
		URI:        "git/push",
		RemoteAddr: "140.82.115.1:51234",
		RemoteHost: "lb-140-82-115-1-iad.github.com",
		Headers: map[string]string{
			"x-github-event": "push",
			"content-type":   "application/json",
			"accept":         "*/*, text/plain",
		},
		Query:      url.Values{"token": {"first", "second"}, "empty": {""}},
		Body:       []byte(`{"ref":"refs/heads/main"}`),
		Properties: map[string]string{"secret": "s3cr3t", "branch": "main"},
	}
	tests := []struct {
		name, src string
		want      any
	}{
		{"FLX_MESSAGE_ID", "return FLX_MESSAGE_ID", req.MessageID},
		{"FLX_REMOTE_ADDR", "return FLX_REMOTE_ADDR", req.RemoteAddr},
		{"FLX_REMOTE_HOST", "return FLX_REMOTE_HOST", req.RemoteHost},
		{"URI", "return URI", "git/push"},
		{"METHOD", "return METHOD", "POST"},
		{"FLX_PRISTINE_PAYLOAD", "return FLX_PRISTINE_PAYLOAD", `{"ref":"refs/heads/main"}`},
		{"FLX_PRISTINE_PAYLOAD is a string", "return typeof FLX_PRISTINE_PAYLOAD", "string"},
		{"HTTP_HEADERS", `return HTTP_HEADERS["x-github-event"]`, "push"},
		{"HTTP_HEADERS joined value", `return HTTP_HEADERS.accept`, "*/*, text/plain"},
		{"HTTP_HEADERS missing", `return HTTP_HEADERS["x-missing"] === undefined`, true},
		{"HTTP_HEADERS is a plain object in key order", "return JSON.stringify(HTTP_HEADERS)",
			`{"accept":"*/*, text/plain","content-type":"application/json","x-github-event":"push"}`},
		{"HTTP_HEADERS prototype", "return Object.getPrototypeOf(HTTP_HEADERS) === Object.prototype", true},
		{"QUERY_PARAMS first value", "return QUERY_PARAMS.token", "first"},
		{"QUERY_PARAMS empty value", `return QUERY_PARAMS.empty === ""`, true},
		{"QUERY_PARAMS keys", "return Object.keys(QUERY_PARAMS).join()", "empty,token"},
		{"PROPERTIES", "return PROPERTIES.secret + '/' + PROPERTIES.branch", "s3cr3t/main"},
		{"PAYLOAD", "return PAYLOAD.ref", "refs/heads/main"},
		{"LOG functions", "return ['fine','debug','info','warning','warn','severe','error','setMessage'].every(n => typeof LOG[n] === 'function')", true},
		{"LOG keys", "return Object.keys(LOG).join()", "fine,debug,finest,finer,config,info,warning,warn,severe,error,setMessage"},
		{"HMAC functions", "return Object.keys(HMAC).every(n => typeof HMAC[n] === 'function')", true},
		{"HMAC keys", "return Object.keys(HMAC).join()", "generateHmacSHA1,generateHmacSHA256,generateHmacSHA512,sign,equals"},
		{"function names", "return [LOG.info.name, HMAC.sign.name].join()", "info,sign"},
		{"same function each time", "return LOG.info === LOG.info && HMAC.equals === HMAC.equals", true},
		{"LOG is read-only", "LOG.info = 1; delete LOG.warn; return typeof LOG.info + typeof LOG.warn", "functionfunction"},
		{"globals are on globalThis", "return globalThis.URI === URI && 'PAYLOAD' in globalThis", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustValue(t, tt.src, req); got != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
}

func TestGlobalsEmptyRequest(t *testing.T) {
	t.Parallel()
	src := `return [FLX_MESSAGE_ID, METHOD, URI, FLX_PRISTINE_PAYLOAD, PAYLOAD,
		Object.keys(HTTP_HEADERS).length, Object.keys(QUERY_PARAMS).length, Object.keys(PROPERTIES).length].join("|")`
	for _, req := range []*Request{nil, {}} {
		if got := mustValue(t, src, req); got != "|||||0|0|0" {
			t.Errorf("got %q", got)
		}
	}
}

// TestGlobalsProtoKey checks that a header or query parameter named
// __proto__ is an ordinary value, not a prototype change.
func TestGlobalsProtoKey(t *testing.T) {
	t.Parallel()
	for _, headers := range []map[string]string{{"__proto__": "h"}, {"__proto__": "h", "a": "1"}} {
		req := &Request{
			Headers: headers,
			Query:   url.Values{"__proto__": {"q"}},
			Body:    []byte("__proto__=f"),
		}
		req.Headers["content-type"] = "application/x-www-form-urlencoded"
		src := `return [HTTP_HEADERS["__proto__"], QUERY_PARAMS["__proto__"], PAYLOAD["__proto__"],
			Object.getPrototypeOf(HTTP_HEADERS) === Object.prototype,
			Object.getPrototypeOf(QUERY_PARAMS) === Object.prototype,
			Object.getPrototypeOf(PAYLOAD) === Object.prototype].join()`
		if got := mustValue(t, src, req); got != "h,q,f,true,true,true" {
			t.Errorf("headers %v: got %v", headers, got)
		}
	}
}
