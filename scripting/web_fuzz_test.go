package scripting

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzWebBuiltins feeds random text to atob, URL, URLSearchParams and
// TextDecoder. They must never fail but as the standards say, and keep
// their invariants: atob agrees with an oracle built on encoding/base64, a
// URL's href parses to itself, a serialised URLSearchParams parses to the
// same list, and decoding UTF-8 agrees with Go's on valid input.
func FuzzWebBuiltins(f *testing.F) {
	for _, s := range []string{"aGVsbG8=", " YQ = = ", "http://a/b/../c?d#e", "HTTP://[::1]:80/%2e/x", "mailto:x", "a=1&b=%zz+c&&=",
		"\xff\xfe\xe2\x82", "file:///C:/../x", "http://0x7f.1/", "//h", "?q", "#f", "\\\\h\\p"} {
		f.Add(s, "http://base/dir/file?q#f")
	}
	e := NewEngine(Limits{})
	p := mustCompile(f, "fuzz", `var s = PROPERTIES.s, out = [];
		var q = new URLSearchParams(s); out.push(new URLSearchParams(q.toString()).toString() === q.toString() ? "ok" : "params " + q);
		var b = new TextEncoder().encode(s); out.push(new TextDecoder().decode(b) === s ? "ok" : "text");
		try { out.push(atob(s)) } catch (e) { out.push(e.name) }
		try { var u = new URL(s, PROPERTIES.base); out.push(u.href); if (u.search) u.search = u.search; if (u.hash) u.hash = u.hash; u.pathname = u.pathname; out.push(u.href) } catch (e) { out.push(e.name) }
		return out`)
	f.Fuzz(func(t *testing.T, s, base string) {
		if !utf8.ValidString(s) || !utf8.ValidString(base) {
			return // PROPERTIES hold text
		}
		want, wantOK := atobOracle(s)
		got, ok := forgivingBase64(s)
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("atob(%q) = %q %v, oracle %q %v", s, got, ok, want, wantOK)
		}
		if b, err := parseWebURL(base, nil); err == nil {
			if u, err := parseWebURL(s, b); err == nil {
				again, err := parseWebURL(u.String(), nil)
				if err != nil || again.String() != u.String() {
					t.Fatalf("%q against %q gives %q, which parses to %v %v", s, base, u, again, err)
				}
			}
		}
		if !bytes.Equal([]byte(decodeUTF8([]byte(s))), []byte(s)) {
			t.Fatalf("decodeUTF8 changed valid %q", s)
		}
		res := e.Run(context.Background(), p, &Request{Properties: map[string]string{"s": s, "base": base}}, 20*time.Second)
		if res.Err != nil {
			t.Fatalf("%q, %q: %v", s, base, res.Err)
		}
		out := res.Value.([]any)
		if out[0] != "ok" || out[1] != "ok" {
			t.Fatalf("%q: %v", s, out)
		}
		if out[2] == "InvalidCharacterError" == wantOK {
			t.Fatalf("atob(%q) in a script: %v", s, out[2])
		}
		if len(out) == 5 && out[3] != out[4] {
			t.Fatalf("%q: setting search, hash and pathname to themselves changed %v into %v", s, out[3], out[4])
		}
	})
}

// atobOracle decodes as the HTML standard's forgiving-base64 says, with
// encoding/base64: without whitespace, padded to a multiple of four.
func atobOracle(s string) ([]byte, bool) {
	s = strings.Map(func(c rune) rune {
		if strings.ContainsRune("\t\n\f\r ", c) {
			return -1
		}
		return c
	}, s)
	if len(s)%4 == 0 && strings.HasSuffix(s, "==") {
		s = s[:len(s)-2]
	} else if len(s)%4 == 0 && strings.HasSuffix(s, "=") {
		s = s[:len(s)-1]
	}
	if len(s)%4 == 1 || strings.Contains(s, "=") {
		return nil, false
	}
	s += strings.Repeat("=", (4-len(s)%4)%4)
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return out, true
}
