package scripting

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"reflect"
	"strings"

	"github.com/dop251/goja"
)

// hmacMethods are the functions of HMAC.
var hmacMethods = []method{
	{"generateHmacSHA1", hmacGenerate("generateHmacSHA1", sha1.New)},
	{"generateHmacSHA256", hmacGenerate("generateHmacSHA256", sha256.New)},
	{"generateHmacSHA512", hmacGenerate("generateHmacSHA512", sha512.New)},
	{"sign", func(r *run) func(goja.FunctionCall) goja.Value { return r.hmacSign }},
	{"equals", func(r *run) func(goja.FunctionCall) goja.Value { return r.hmacEquals }},
}

var hmacNames = methodNames(hmacMethods)

// hmacGenerate makes HMAC.generateHmacSHAxxx(data, key): lowercase hex.
func hmacGenerate(name string, h func() hash.Hash) func(r *run) func(goja.FunctionCall) goja.Value {
	return func(r *run) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			data, key := r.hmacArgs("HMAC."+name, call.Argument(0), call.Argument(1))
			return r.rt.ToValue(hex.EncodeToString(mac(h, key, data)))
		}
	}
}

// hmacSign implements HMAC.sign(alg, data, key, encoding).
func (r *run) hmacSign(call goja.FunctionCall) goja.Value {
	alg := call.Argument(0)
	h := hashFor(alg)
	if h == nil {
		panic(r.rt.NewTypeError("%s", "HMAC.sign: unsupported algorithm "+quote(alg)+" (use sha1, sha256 or sha512)"))
	}
	enc := "hex"
	if e := call.Argument(3); !goja.IsUndefined(e) && !goja.IsNull(e) {
		enc = strings.ToLower(e.String())
	}
	if enc != "hex" && enc != "base64" {
		panic(r.rt.NewTypeError("%s", "HMAC.sign: unsupported encoding "+quote(call.Argument(3))+" (use hex or base64)"))
	}
	data, key := r.hmacArgs("HMAC.sign", call.Argument(1), call.Argument(2))
	sum := mac(h, key, data)
	if enc == "base64" {
		return r.rt.ToValue(base64.StdEncoding.EncodeToString(sum))
	}
	return r.rt.ToValue(hex.EncodeToString(sum))
}

// hmacEquals implements HMAC.equals(a, b): a constant-time comparison of
// two strings; anything but two strings is unequal.
func (r *run) hmacEquals(call goja.FunctionCall) goja.Value {
	a, b := call.Argument(0), call.Argument(1)
	if !isString(a) || !isString(b) {
		return r.rt.ToValue(false)
	}
	eq := subtle.ConstantTimeCompare([]byte(a.String()), []byte(b.String())) == 1
	return r.rt.ToValue(eq)
}

// hmacArgs checks and converts the data and key arguments. Data that is
// FLX_PRISTINE_PAYLOAD (or a string equal to it) is the request body byte for
// byte, even when the body is not valid UTF-8 and the JavaScript string
// therefore differs from it; any other data and the key are UTF-8 encoded.
// The key is never put in an error message.
func (r *run) hmacArgs(fn string, data, key goja.Value) ([]byte, []byte) {
	if goja.IsUndefined(data) || goja.IsNull(data) {
		panic(r.rt.NewTypeError("%s", fn+": data is "+data.String()))
	}
	if goja.IsUndefined(key) || goja.IsNull(key) {
		panic(r.rt.NewTypeError("%s", fn+": key is "+key.String()))
	}
	return r.bytesOf(data), []byte(key.String())
}

// bytesOf returns the bytes to sign for data.
func (r *run) bytesOf(data goja.Value) []byte {
	// Data is usually the very value set as FLX_PRISTINE_PAYLOAD, which
	// SameAs recognises without comparing the contents (a Go string compare
	// of two identical strings returns at once).
	if r.pristine != nil && data.SameAs(r.pristine) {
		return r.req.Body
	}
	return []byte(data.String())
}

// mac computes the HMAC of data under key.
func mac(h func() hash.Hash, key, data []byte) []byte {
	m := hmac.New(h, key)
	m.Write(data)
	return m.Sum(nil)
}

// hashFor maps "sha256", "SHA-256", "HmacSHA256", "hmac-sha256" and the
// like to a hash; nil when unsupported.
func hashFor(alg goja.Value) func() hash.Hash {
	if !isString(alg) {
		return nil
	}
	a := strings.ToLower(alg.String())
	a = strings.TrimPrefix(a, "hmac")
	a = strings.ReplaceAll(a, "-", "")
	switch a {
	case "sha1":
		return sha1.New
	case "sha256":
		return sha256.New
	case "sha512":
		return sha512.New
	}
	return nil
}

// isString reports whether v is a JavaScript string primitive.
func isString(v goja.Value) bool {
	if _, sym := v.(*goja.Symbol); sym || v == nil {
		return false // a Symbol exports as a string too
	}
	return v.ExportType() == stringType
}

// stringType is the Go type a JavaScript string exports to.
var stringType = reflect.TypeOf("")

// quote renders a value for an error message, e.g. "md5" or undefined.
func quote(v goja.Value) string {
	if isString(v) {
		s := truncateRunes(v.String(), 64)
		return `"` + s + `"`
	}
	if v == nil {
		return "undefined"
	}
	return v.String()
}
