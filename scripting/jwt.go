package scripting

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/switchyard-dev/switchyard/scripting/signature"
)

// jwtMethods are the functions of JWT.
var jwtMethods = []method{
	{"verify", func(r *run) func(goja.FunctionCall) goja.Value { return r.jwtVerify }},
}

var jwtNames = methodNames(jwtMethods)

// JWT.verify limits.
const (
	maxJWT       = 64 << 10 // bytes of a token
	maxJWTLeeway = 24 * time.Hour
	minJWTRSA    = 2048 // bits of an RSA key, as RFC 7518 asks
)

// jwtOptions are the members JWT.verify's options may have.
var jwtOptions = []string{"secret", "publicKey", "jwksUrl", "algorithms", "issuer", "audience", "leewaySeconds"}

// jwtAlg is a JWS algorithm (RFC 7518, RFC 8037).
type jwtAlg struct {
	hash  crypto.Hash
	kind  string         // "hmac", "rsa", "pss", "ecdsa" or "eddsa"
	curve elliptic.Curve // ecdsa only
}

var jwtAlgs = map[string]jwtAlg{
	"HS256": {crypto.SHA256, "hmac", nil},
	"HS384": {crypto.SHA384, "hmac", nil},
	"HS512": {crypto.SHA512, "hmac", nil},
	"RS256": {crypto.SHA256, "rsa", nil},
	"RS384": {crypto.SHA384, "rsa", nil},
	"RS512": {crypto.SHA512, "rsa", nil},
	"PS256": {crypto.SHA256, "pss", nil},
	"ES256": {crypto.SHA256, "ecdsa", elliptic.P256()},
	"ES384": {crypto.SHA384, "ecdsa", elliptic.P384()},
	"EdDSA": {0, "eddsa", nil},
}

// jwtAlgNames lists jwtAlgs for messages.
const jwtAlgNames = "HS256, HS384, HS512, RS256, RS384, RS512, PS256, ES256, ES384, EdDSA"

// suits reports whether key (an HMAC secret as []byte, or a public key)
// is a key of the algorithm. It is what keeps a token from choosing HMAC
// with a public key as the secret: a public key is never a []byte.
func (a jwtAlg) suits(key any) bool {
	switch k := key.(type) {
	case []byte:
		return a.kind == "hmac"
	case *rsa.PublicKey:
		return (a.kind == "rsa" || a.kind == "pss") && k.N.BitLen() >= minJWTRSA
	case *ecdsa.PublicKey:
		return a.kind == "ecdsa" && k.Curve == a.curve
	case ed25519.PublicKey:
		return a.kind == "eddsa"
	}
	return false
}

// verify checks sig over signed with key, which suits the algorithm.
func (a jwtAlg) verify(key any, signed, sig []byte) bool {
	if a.kind == "eddsa" {
		return ed25519.Verify(key.(ed25519.PublicKey), signed, sig)
	}
	if a.kind == "hmac" {
		m := hmac.New(a.hash.New, key.([]byte))
		m.Write(signed)
		return hmac.Equal(m.Sum(nil), sig)
	}
	h := a.hash.New()
	h.Write(signed)
	d := h.Sum(nil)
	switch a.kind {
	case "rsa":
		return rsa.VerifyPKCS1v15(key.(*rsa.PublicKey), a.hash, d, sig) == nil
	case "pss":
		return rsa.VerifyPSS(key.(*rsa.PublicKey), a.hash, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	}
	k := key.(*ecdsa.PublicKey)
	size := (k.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size { // JWS signatures are r||s, never DER
		return false
	}
	return ecdsa.Verify(k, d, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:]))
}

// jwtKey is a key a token may be verified with.
type jwtKey struct {
	kid, alg string // from a JWK; "" when not given
	key      any    // []byte or a public key
}

// isSecret reports whether the key is an HMAC secret: false for a public
// key or no key (a JWKS).
func (k *jwtKey) isSecret() bool {
	if k == nil {
		return false
	}
	_, ok := k.key.([]byte)
	return ok
}

// jwtOpts are JWT.verify's options, checked.
type jwtOpts struct {
	key       *jwtKey  // secret or publicKey
	jwks      *url.URL // or jwksUrl
	algs      []string // allowed algorithms; nil: every one that suits the key
	issuers   []string
	audiences []string
	leeway    time.Duration
}

// jwtVerify implements JWT.verify(token, options): the token's claims
// when its signature, algorithm and claims are right. A token that is not
// throws an Error; bad options throw a TypeError.
func (r *run) jwtVerify(call goja.FunctionCall) goja.Value {
	const fn = "JWT.verify"
	o := r.jwtOptions(fn, call.Argument(1))
	tok := call.Argument(0)
	if !isString(tok) || tok.String() == "" {
		panic(r.newError("Error", fn+": the token must be a non-empty string, got "+describeNonString(tok)))
	}
	s := strings.TrimSpace(tok.String())
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	claims, why := r.jwtCheck(fn, o, s)
	if why != "" {
		panic(r.newError("Error", fn+": "+why))
	}
	return claims
}

// jsonMembers decodes a JSON object into its members, by their exact
// names: JOSE and JWT names are case-sensitive, and encoding/json matches
// struct fields in any case ("ALG" would be read as alg).
func jsonMembers(data []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if p := bytes.TrimLeft(data, " \t\r\n"); len(p) == 0 || p[0] != '{' || json.Unmarshal(data, &m) != nil {
		return nil, false
	}
	return m, true
}

// stringMember returns a string member; ok is false when it is present and
// not a string.
func stringMember(m map[string]json.RawMessage, name string) (s string, ok bool) {
	raw, present := m[name]
	if !present {
		return "", true
	}
	return s, json.Unmarshal(raw, &s) == nil
}

// jwtCheck verifies token s; it returns the claims, or why the token is
// refused.
func (r *run) jwtCheck(fn string, o *jwtOpts, s string) (goja.Value, string) {
	if len(s) > maxJWT {
		return nil, "the token is longer than " + strconv.Itoa(maxJWT>>10) + " KiB"
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, "the token is not a signed JWT (want header.payload.signature)"
	}
	rawHeader, err1 := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	payload, err2 := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, "the token is not base64url"
	}
	hm, ok := jsonMembers(rawHeader)
	if !ok {
		return nil, "the token's header is not a JSON object"
	}
	if _, crit := hm["crit"]; crit {
		return nil, "the token has critical header extensions (crit), which are not supported"
	}
	var h struct{ Alg, Kid string }
	var okAlg, okKid bool
	h.Alg, okAlg = stringMember(hm, "alg")
	h.Kid, okKid = stringMember(hm, "kid")
	if !okAlg || !okKid {
		return nil, "the token's alg or kid is not a string"
	}
	alg, ok := jwtAlgs[h.Alg]
	switch {
	case strings.EqualFold(h.Alg, "none"):
		return nil, `the token is unsigned (alg "none"), which is never accepted`
	case !ok:
		return nil, "the token's algorithm " + strconv.Quote(truncateRunes(h.Alg, 16)) + " is not supported (" + jwtAlgNames + ")"
	case o.algs != nil && !slices.Contains(o.algs, h.Alg):
		return nil, "the token's algorithm " + h.Alg + " is not allowed (algorithms: " + strings.Join(o.algs, ", ") + ")"
	case o.jwks != nil && alg.kind == "hmac": // refused before anything is fetched
		return nil, "the token's algorithm " + h.Alg + " needs a secret; a JWKS holds public keys"
	}
	keys := []jwtKey{}
	if o.key != nil {
		keys = append(keys, *o.key)
	} else {
		var why string
		if keys, why = r.jwksKeys(fn, o.jwks, h.Kid); why != "" {
			return nil, why
		}
	}
	signed := []byte(parts[0] + "." + parts[1])
	tried := 0
	for _, k := range keys {
		if (h.Kid != "" && k.kid != h.Kid && o.jwks != nil) || (k.alg != "" && k.alg != h.Alg) || !alg.suits(k.key) {
			continue
		}
		tried++
		if alg.verify(k.key, signed, sig) {
			return r.jwtClaims(o, payload)
		}
	}
	switch {
	case tried > 0:
		return nil, "the signature does not match"
	case o.jwks != nil && h.Kid != "":
		return nil, "the JWKS has no " + h.Alg + " key with kid " + strconv.Quote(truncateRunes(h.Kid, 64))
	case o.jwks != nil:
		return nil, "the JWKS has no " + h.Alg + " key"
	}
	return nil, "the token's algorithm " + h.Alg + " does not suit the " + jwtKeyType(o.key.key) + " key"
}

// jwtKeyType names a key's type for messages.
func jwtKeyType(k any) string {
	if _, ok := k.([]byte); ok {
		return "secret"
	}
	return signature.KeyType(k)
}

// jwtClaims checks the claims of a token whose signature is right and
// returns them as a plain object.
func (r *run) jwtClaims(o *jwtOpts, payload []byte) (goja.Value, string) {
	c, ok := jsonMembers(payload)
	if !ok {
		return nil, "the token's claims are not a JSON object"
	}
	t := float64(now().Unix())
	leeway := o.leeway.Seconds()
	exp, okExp := numericDate(c["exp"])
	nbf, okNbf := numericDate(c["nbf"])
	_, okIat := numericDate(c["iat"])
	switch {
	case !okExp || !okNbf || !okIat:
		return nil, "the token's exp, nbf or iat is not a number"
	case c["exp"] != nil && exp <= t-leeway:
		return nil, "the token expired " + strconv.FormatFloat(t-exp, 'f', -1, 64) + " s ago"
	case c["nbf"] != nil && nbf > t+leeway:
		return nil, "the token is not valid for another " + strconv.FormatFloat(nbf-t, 'f', -1, 64) + " s (nbf)"
	}
	if o.issuers != nil {
		var iss string
		if json.Unmarshal(c["iss"], &iss) != nil || !slices.Contains(o.issuers, iss) {
			return nil, "the token's issuer (iss) is not " + strings.Join(o.issuers, " or ")
		}
	}
	if o.audiences != nil {
		var one string
		var many []string
		if json.Unmarshal(c["aud"], &one) == nil {
			many = []string{one}
		} else if json.Unmarshal(c["aud"], &many) != nil {
			many = nil
		}
		if !slices.ContainsFunc(many, func(a string) bool { return slices.Contains(o.audiences, a) }) {
			return nil, "the token's audience (aud) is not " + strings.Join(o.audiences, " or ")
		}
	}
	v, err := decodeJSON(r.rt, payload)
	if err == errJSONSlowPath {
		v, err = r.call(r.jsonFunc("parse"), r.rt.ToValue(string(payload)))
	}
	if err != nil {
		return nil, "the token's claims are not a JSON object"
	}
	return v, ""
}

// numericDate decodes an optional NumericDate claim; ok is false when it is
// present and not a finite number.
func numericDate(raw json.RawMessage) (float64, bool) {
	if raw == nil {
		return 0, true
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// jwtOptions checks JWT.verify's options.
func (r *run) jwtOptions(fn string, arg goja.Value) *jwtOpts {
	obj, ok := arg.(*goja.Object)
	if !ok || obj.ClassName() == "Array" || obj.ClassName() == "Function" {
		panic(r.rt.NewTypeError("%s", fn+": expects options {secret | publicKey | jwksUrl, algorithms, issuer, audience, leewaySeconds}, got "+describeNonString(arg)))
	}
	given := 0
	for _, k := range obj.Keys() {
		if !slices.Contains(jwtOptions, k) {
			panic(r.rt.NewTypeError("%s: unknown option %q (the options are %s)", fn, truncateRunes(k, 64), strings.Join(jwtOptions, ", ")))
		}
		if k == "secret" || k == "publicKey" || k == "jwksUrl" {
			given++
		}
	}
	if given != 1 {
		panic(r.rt.NewTypeError("%s", fn+": give exactly one of secret, publicKey and jwksUrl"))
	}
	o := &jwtOpts{}
	switch {
	case obj.Get("secret") != nil:
		o.key = &jwtKey{key: []byte(r.nonEmpty(fn, "secret", option(obj, "secret")))}
	case obj.Get("publicKey") != nil:
		pub, err := signature.ParsePublicKey(r.nonEmpty(fn, "publicKey", option(obj, "publicKey")))
		if err != nil {
			panic(r.rt.NewTypeError("%s", fn+": the publicKey "+err.Error()))
		}
		o.key = &jwtKey{key: pub}
	default:
		o.jwks = r.httpURL(fn+": jwksUrl", option(obj, "jwksUrl"))
	}
	o.algs = r.jwtAlgorithms(fn, option(obj, "algorithms"), o.key)
	o.issuers = r.stringOrList(fn, "issuer", option(obj, "issuer"))
	o.audiences = r.stringOrList(fn, "audience", option(obj, "audience"))
	if v := option(obj, "leewaySeconds"); !goja.IsUndefined(v) && !goja.IsNull(v) {
		f := v.ToFloat()
		if math.IsNaN(f) || f < 0 || f > maxJWTLeeway.Seconds() {
			panic(r.rt.NewTypeError("%s", fn+": leewaySeconds must be a number from 0 to 86400, got "+quote(v)))
		}
		o.leeway = time.Duration(f * float64(time.Second))
	}
	return o
}

// jwtAlgorithms checks the algorithms option against the key: HMAC only
// with a secret, never with a public key or a JWKS, and never "none".
func (r *run) jwtAlgorithms(fn string, v goja.Value, key *jwtKey) []string {
	list := r.stringOrList(fn, "algorithms", v)
	if list == nil {
		return nil
	}
	secret := key.isSecret()
	suits := false
	for _, a := range list {
		alg, ok := jwtAlgs[a]
		switch {
		case strings.EqualFold(a, "none"):
			panic(r.rt.NewTypeError("%s", fn+`: algorithm "none" is never accepted`))
		case !ok:
			panic(r.rt.NewTypeError("%s", fn+": unknown algorithm "+strconv.Quote(truncateRunes(a, 16))+" (use "+jwtAlgNames+")"))
		case alg.kind == "hmac" && !secret:
			panic(r.rt.NewTypeError("%s", fn+": algorithm "+a+" needs a secret, not a publicKey or a jwksUrl"))
		case alg.kind != "hmac" && secret:
			panic(r.rt.NewTypeError("%s", fn+": algorithm "+a+" needs a publicKey or a jwksUrl, not a secret"))
		}
		suits = suits || key == nil || alg.suits(key.key)
	}
	if !suits {
		panic(r.rt.NewTypeError("%s", fn+": none of the algorithms suits the "+jwtKeyType(key.key)+" key"))
	}
	return list
}

// stringOrList reads an option that is a string or an array of strings;
// nil when absent.
func (r *run) stringOrList(fn, name string, v goja.Value) []string {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	if isString(v) && v.String() != "" {
		return []string{v.String()}
	}
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Array" {
		panic(r.rt.NewTypeError("%s", fn+": "+name+" must be a string or an array of strings, got "+describeNonString(v)))
	}
	n := o.Get("length").ToInteger()
	if n < 1 || n > 64 {
		panic(r.rt.NewTypeError("%s: %s must hold 1 to 64 strings, got %d", fn, name, n))
	}
	list := make([]string, n)
	for i := range list {
		e := o.Get(strconv.Itoa(i))
		if e == nil || !isString(e) || e.String() == "" {
			panic(r.rt.NewTypeError("%s: %s[%d] must be a non-empty string, got %s", fn, name, i, describeNonString(e)))
		}
		list[i] = e.String()
	}
	return list
}

// nonEmpty checks that an option is a non-empty string, without showing
// it (it may be a secret).
func (r *run) nonEmpty(fn, name string, v goja.Value) string {
	if !isString(v) || v.String() == "" {
		panic(r.rt.NewTypeError("%s", fn+": "+name+" must be a non-empty string, got "+describeNonString(v)))
	}
	return v.String()
}
