package scripting

import (
	"net/url"
	"sort"
	"strings"

	"github.com/dop251/goja"
)

// payloadGetter is the getter of the global PAYLOAD: the body is decoded on
// first access only, so a script that never reads PAYLOAD pays nothing.
func (r *run) payloadGetter(goja.FunctionCall) goja.Value {
	if r.payload == nil {
		r.payload = r.decodePayload()
	}
	return r.payload
}

// decodePayload decodes the body: JSON (values that behave as those
// JSON.parse would give; objects are decoded lazily, member by member, see
// lazyObject) when the whole body is JSON, else an
// object of the first value of each key when the content type is
// application/x-www-form-urlencoded, else the raw body string.
func (r *run) decodePayload() goja.Value {
	if r.decodeHook != nil {
		r.decodeHook()
	}
	if looksLikeJSON(r.req.Body) {
		v, err := decodeJSON(r.rt, r.req.Body)
		if err == errJSONSlowPath && !jsonTooDeep(r.req.Body) {
			// A corner case: the runtime's JSON.parse decides.
			v, err = r.call(r.jsonFunc("parse"), r.pristine)
		}
		if err == nil {
			return v
		}
	}
	if isForm(r.req.Headers["content-type"]) {
		q, _ := url.ParseQuery(string(r.req.Body)) // keep what parses
		return r.firstValues(q)
	}
	return r.pristine
}

// looksLikeJSON is a cheap pre-check on the first significant byte that
// spares the JSON decoder bodies that cannot be JSON.
func looksLikeJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[', '"', '-', 't', 'f', 'n':
			return true
		}
		return c >= '0' && c <= '9'
	}
	return false
}

// isForm reports whether a Content-Type is application/x-www-form-urlencoded.
func isForm(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
}

// firstValues builds a plain object of the first value of each key, keys in
// sorted order.
func (r *run) firstValues(q url.Values) *goja.Object {
	o := r.rt.NewObject()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v string
		if vs := q[k]; len(vs) > 0 {
			v = vs[0]
		}
		r.putString(o, k, v)
	}
	return o
}

// putString sets o[k] = v. A key "__proto__" (an attacker may send such a
// header or query parameter) is defined as an own property rather than
// assigned, which would call Object.prototype's __proto__ setter instead.
func (r *run) putString(o *goja.Object, k, v string) {
	if k == "__proto__" {
		o.DefineDataProperty(k, r.rt.ToValue(v), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		return
	}
	o.Set(k, v)
}
