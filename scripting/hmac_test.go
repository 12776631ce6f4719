package scripting

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"testing"
)

func goHMAC(h func() hash.Hash, key string, data []byte) []byte {
	m := hmac.New(h, []byte(key))
	m.Write(data)
	return m.Sum(nil)
}

func goHex(h func() hash.Hash, key string, data []byte) string {
	return hex.EncodeToString(goHMAC(h, key, data))
}

func TestHMAC(t *testing.T) {
	t.Parallel()
	data := []byte("The quick brown fox jumps over the lazy dog")
	const key = "key"
	tests := []struct {
		name, src, want string
	}{
		{"sha1", `return HMAC.generateHmacSHA1(d, k)`, goHex(sha1.New, key, data)},
		{"sha256", `return HMAC.generateHmacSHA256(d, k)`, goHex(sha256.New, key, data)},
		{"sha512", `return HMAC.generateHmacSHA512(d, k)`, goHex(sha512.New, key, data)},
		{"sign default hex", `return HMAC.sign("sha256", d, k)`, goHex(sha256.New, key, data)},
		{"sign hex", `return HMAC.sign("sha1", d, k, "hex")`, goHex(sha1.New, key, data)},
		{"sign base64", `return HMAC.sign("sha256", d, k, "base64")`, base64.StdEncoding.EncodeToString(goHMAC(sha256.New, key, data))},
		{"sign sha512 base64", `return HMAC.sign("sha512", d, k, "BASE64")`, base64.StdEncoding.EncodeToString(goHMAC(sha512.New, key, data))},
		{"sign HmacSHA256", `return HMAC.sign("HmacSHA256", d, k)`, goHex(sha256.New, key, data)},
		{"sign HMACSHA1", `return HMAC.sign("HMACSHA1", d, k)`, goHex(sha1.New, key, data)},
		{"sign SHA-512", `return HMAC.sign("SHA-512", d, k)`, goHex(sha512.New, key, data)},
		{"sign hmac-sha256", `return HMAC.sign("hmac-sha256", d, k)`, goHex(sha256.New, key, data)},
		{"non-ASCII string and key", `return HMAC.generateHmacSHA256("héllo wörld ✓ 😀", "clé")`,
			goHex(sha256.New, "clé", []byte("héllo wörld ✓ 😀"))},
		{"empty key", `return HMAC.generateHmacSHA256(d, "")`, goHex(sha256.New, "", data)},
		{"number data", `return HMAC.generateHmacSHA256(42, k)`, goHex(sha256.New, key, []byte("42"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := `var d = "The quick brown fox jumps over the lazy dog", k = "key";` + "\n" + tt.src
			if got := mustValue(t, src, nil); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHMACPristinePayload checks that an HMAC over FLX_PRISTINE_PAYLOAD is
// the HMAC of the bytes received, whatever they are.
func TestHMACPristinePayload(t *testing.T) {
	t.Parallel()
	const secret = "It's a Secret to Everybody"
	bodies := map[string][]byte{
		"ascii":           []byte(`{"zen":"Keep it logically awesome."}`),
		"non-ASCII UTF-8": []byte(`{"msg":"héllo wörld ✓ 😀","name":"Zoë"}`),
		"invalid UTF-8":   {'{', '"', 'a', '"', ':', '"', 0xff, 0xfe, '"', '}'},
		"only 0xff 0xfe":  {0xff, 0xfe},
		"lone surrogate encoded in UTF-8 (invalid)": []byte("x\xed\xa0\x80y"),
		"latin-1": []byte("caf\xe9"),
		"empty":   {},
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := &Request{
				Body:       body,
				Properties: map[string]string{"secret": secret},
				Headers:    map[string]string{"x-hub-signature-256": "sha256=" + goHex(sha256.New, secret, body)},
			}
			tests := []struct{ src, want string }{
				{`return HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret)`, goHex(sha256.New, secret, body)},
				{`return HMAC.generateHmacSHA1(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret)`, goHex(sha1.New, secret, body)},
				{`return HMAC.sign("sha512", FLX_PRISTINE_PAYLOAD, PROPERTIES.secret, "base64")`,
					base64.StdEncoding.EncodeToString(goHMAC(sha512.New, secret, body))},
				{`var p = FLX_PRISTINE_PAYLOAD; return HMAC.generateHmacSHA256(p, PROPERTIES.secret)`, goHex(sha256.New, secret, body)},
				{`return String(HMAC.equals("sha256=" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret), HTTP_HEADERS["x-hub-signature-256"]))`, "true"},
			}
			for _, tt := range tests {
				if got := mustValue(t, tt.src, req); got != tt.want {
					t.Errorf("%s: got %v, want %v", tt.src, got, tt.want)
				}
			}
		})
	}
}

func TestHMACEquals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args string
		want bool
	}{
		{`"abc", "abc"`, true},
		{`"", ""`, true},
		{`"abc", "abd"`, false},
		{`"abc", "abcd"`, false},
		{`"abcd", "abc"`, false},
		{`"é", "é"`, true},
		{`"sha256=ab", undefined`, false},
		{`undefined, undefined`, false},
		{`null, null`, false},
		{`1, 1`, false},
		{`"1", 1`, false},
		{`"abc"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			t.Parallel()
			if got := mustValue(t, "return HMAC.equals("+tt.args+")", nil); got != tt.want {
				t.Errorf("HMAC.equals(%s) = %v, want %v", tt.args, got, tt.want)
			}
		})
	}
}

func TestHMACErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"unknown algorithm", `HMAC.sign("md5", "d", "k")`, `TypeError: HMAC.sign: unsupported algorithm "md5" (use sha1, sha256 or sha512)`},
		{"missing algorithm", `HMAC.sign()`, `TypeError: HMAC.sign: unsupported algorithm undefined (use sha1, sha256 or sha512)`},
		{"unknown encoding", `HMAC.sign("sha256", "d", "k", "base32")`, `TypeError: HMAC.sign: unsupported encoding "base32" (use hex or base64)`},
		{"missing key", `HMAC.generateHmacSHA256("d")`, `TypeError: HMAC.generateHmacSHA256: key is undefined`},
		{"null key", `HMAC.generateHmacSHA1("d", null)`, `TypeError: HMAC.generateHmacSHA1: key is null`},
		{"missing data", `HMAC.sign("sha1")`, `TypeError: HMAC.sign: data is undefined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, "// check\n"+tt.src, nil)
			var se *ScriptError
			if !errors.As(res.Err, &se) {
				t.Fatalf("Err = %v, want *ScriptError", res.Err)
			}
			if se.Message != tt.want || se.Line != 2 {
				t.Errorf("got %q at line %d, want %q at line 2", se.Message, se.Line, tt.want)
			}
		})
	}
	// The key never appears in an error.
	res := runScript(t, `HMAC.sign("md5", "data", "hunter2-secret")`, nil)
	if res.Err == nil || strings.Contains(res.Err.Error(), "hunter2") {
		t.Errorf("error %v", res.Err)
	}
	// A script can catch them.
	if got := mustValue(t, `try { HMAC.sign("md5", "d", "k") } catch (e) { return e instanceof TypeError }`, nil); got != true {
		t.Errorf("catching the TypeError: got %v", got)
	}
}
