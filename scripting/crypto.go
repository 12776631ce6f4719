package scripting

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"slices"
	"strings"

	"github.com/dop251/goja"
	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/scripting/signature"
)

// cryptoMethods are the functions of CRYPTO.
var cryptoMethods = []method{
	{"verify", func(r *run) func(goja.FunctionCall) goja.Value { return r.cryptoVerify }},
	{"sha1", cryptoHash("CRYPTO.sha1", sha1.New)},
	{"sha256", cryptoHash("CRYPTO.sha256", sha256.New)},
	{"sha512", cryptoHash("CRYPTO.sha512", sha512.New)},
	{"randomUUID", func(r *run) func(goja.FunctionCall) goja.Value {
		return func(goja.FunctionCall) goja.Value { return r.rt.ToValue(uuid.NewString()) }
	}},
}

var cryptoNames = methodNames(cryptoMethods)

// maxSignatureText bounds a signature argument: an RSA-16384 signature in
// hex is 4 KiB.
const maxSignatureText = 16 << 10

// cryptoVerify implements CRYPTO.verify(alg, publicKey, signature, data).
// A signature that is malformed or wrong gives false (it comes from the
// sender); an unknown algorithm or a key that does not parse or does not
// suit the algorithm throws a TypeError (the script is misconfigured).
func (r *run) cryptoVerify(call goja.FunctionCall) goja.Value {
	const fn = "CRYPTO.verify"
	alg, key, sig := call.Argument(0), call.Argument(1), call.Argument(2)
	if !isString(alg) || !slices.Contains(signature.PublicAlgorithms, strings.ToLower(alg.String())) {
		panic(r.rt.NewTypeError("%s", fn+": unknown algorithm "+quote(alg)+" (use "+strings.Join(signature.PublicAlgorithms, ", ")+")"))
	}
	if !isString(key) || key.String() == "" {
		panic(r.rt.NewTypeError("%s", fn+": the public key must be a non-empty string, got "+describeNonString(key)))
	}
	pub, err := signature.ParsePublicKey(key.String())
	if err != nil {
		panic(r.rt.NewTypeError("%s", fn+": the public key "+err.Error()))
	}
	data := r.binaryArg(fn, "data", call.Argument(3))
	if !isString(sig) {
		panic(r.rt.NewTypeError("%s", fn+": the signature must be a string (hex or base64), got "+describeNonString(sig)))
	}
	raw, ok := []byte(nil), false
	if s := strings.TrimSpace(sig.String()); len(s) <= maxSignatureText {
		raw, ok = signature.DecodeBinary(s)
	}
	valid, err := signature.VerifyPublic(strings.ToLower(alg.String()), pub, raw, data)
	if err != nil { // the key does not suit the algorithm
		panic(r.rt.NewTypeError("%s", fn+": "+err.Error()))
	}
	return r.rt.ToValue(ok && valid)
}

// binaryArg reads bytes to hash or verify: a string (UTF-8;
// FLX_PRISTINE_PAYLOAD is the raw body), an ArrayBuffer or a Uint8Array.
func (r *run) binaryArg(fn, name string, v goja.Value) []byte {
	switch {
	case isString(v):
		return r.bytesOf(v)
	case v.ExportType() == arrayBufferType:
		return v.Export().(goja.ArrayBuffer).Bytes()
	case v.ExportType() == bytesType:
		return v.Export().([]byte)
	}
	panic(r.rt.NewTypeError("%s", fn+": "+name+" must be a string, an ArrayBuffer or a Uint8Array, got "+describeNonString(v)))
}

// cryptoHash makes CRYPTO.shaN(data, encoding): the digest in lower-case
// hex (the default) or base64.
func cryptoHash(fn string, h func() hash.Hash) func(r *run) func(goja.FunctionCall) goja.Value {
	return func(r *run) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			data := r.binaryArg(fn, "data", call.Argument(0))
			enc := "hex"
			if e := call.Argument(1); isString(e) {
				enc = strings.ToLower(e.String())
			} else if !goja.IsUndefined(e) && !goja.IsNull(e) {
				enc = "" // refused below
			}
			if enc != "hex" && enc != "base64" {
				panic(r.rt.NewTypeError("%s", fn+": unsupported encoding "+quote(call.Argument(1))+" (use hex or base64)"))
			}
			d := h()
			d.Write(data)
			sum := d.Sum(nil)
			if enc == "base64" {
				return r.rt.ToValue(base64.StdEncoding.EncodeToString(sum))
			}
			return r.rt.ToValue(hex.EncodeToString(sum))
		}
	}
}
