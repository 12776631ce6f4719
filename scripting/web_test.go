package scripting

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/switchyard-dev/switchyard/internal/npmtest"
)

// TestWebBuiltins checks the web built-ins against what browsers and
// Node.js give (the expected values were taken from Node.js 22).
func TestWebBuiltins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      any
	}{
		{"btoa", `return btoa("hello") + btoa("") + btoa("\xff\x00")`, "aGVsbG8=/wA="},
		{"atob", `return atob("aGVsbG8=") + atob(" aGVs\nbG8 ") + atob("aGVsbG8") + atob("")`, "hellohellohello"},
		{"atob latin1", `var s = atob("/wA="); return s.length + ":" + s.charCodeAt(0) + ":" + s.charCodeAt(1)`, "2:255:0"},
		{"atob trailing bits", `return atob("YR==") + atob("YQ")`, "aa"},
		{"atob errors", `var out = []; for (var s of ["a", "ab=c", "abc==", "a===", "é", "ab=", "*"]) {
			try { atob(s); out.push("ok") } catch (e) { out.push(e.name + "/" + e.code + "/" + (e instanceof Error)) } } return out.join()`,
			strings.Repeat("InvalidCharacterError/5/true,", 6) + "InvalidCharacterError/5/true"},
		{"atob padding ok", `return atob("ab==").length + atob("abc=").length`, int64(3)},
		{"btoa error", `try { btoa("€") } catch (e) { return e.name + ": " + e.message }`, "InvalidCharacterError: btoa: the string to be encoded contains characters outside of the Latin1 range."},
		{"btoa of non-strings", `return btoa(12) + btoa(null) + btoa(undefined)`, "MTI=bnVsbA==dW5kZWZpbmVk"},
		{"btoa atob round trip", `var s = ""; for (var i = 0; i < 256; i++) s += String.fromCharCode(i); return atob(btoa(s)) === s`, true},
		{"atob no argument", `try { atob() } catch (e) { return e instanceof TypeError }`, true},

		{"URL parts", `var u = new URL("HTTPS://User:Pa%20ss@EXAMPLE.com:443/a/./b/../C?x=1&y=%20z#Frag");
			return [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin].join(" | ")`,
			"https://User:Pa%20ss@example.com/a/C?x=1&y=%20z#Frag | https: | User | Pa%20ss | example.com | example.com |  | /a/C | ?x=1&y=%20z | #Frag | https://example.com"},
		{"URL port kept", `var u = new URL("http://h:8080"); return u.href + " " + u.host + " " + u.port + " " + u.origin`, "http://h:8080/ h:8080 8080 http://h:8080"},
		{"URL relative", `return [new URL("../d?q", "http://h/a/b/c").href, new URL("/x", "http://h/a/b").href, new URL("?q=1", "http://h/a?z#f").href,
			new URL("#g", "http://h/a?z#f").href, new URL("//o/p", "https://h/a").href, new URL("", "http://h/a#f").href, new URL("e", "http://h").href].join(" ")`,
			"http://h/a/d?q http://h/x http://h/a?q=1 http://h/a?z#g https://o/p http://h/a http://h/e"},
		{"URL encodes", `var u = new URL("http://h/a b/é?q=a b'\"#x y\u0060"); return u.pathname + u.search + u.hash`, "/a%20b/%C3%A9?q=a%20b%27%22#x%20y%60"},
		{"URL keeps path case and escapes", `return new URL("http://h/AbC/%7e%zz").pathname`, "/AbC/%7e%zz"},
		{"URL backslashes", `return new URL("http:\\\\h\\a\\b?c\\d").href`, "http://h/a/b?c\\d"},
		{"URL IPv4 and IPv6", `return new URL("http://0x7f.1/").host + " " + new URL("http://[::FFFF:1.2.3.4]:81/").host + " " +
			new URL("http://[0:0:1:0:0:0:0:1]").host + " " + new URL("http://[::]").host + " " + new URL("http://[1:0:0:2::]").host`,
			"127.0.0.1 [::ffff:102:304]:81 [0:0:1::1] [::] [1:0:0:2::]"},
		{"URL IDN", `return new URL("https://Bücher.example/").hostname`, "xn--bcher-kva.example"},
		{"URL non-special", `var u = new URL("mailto:Someone@Example.com?subject=hi"); return [u.href, u.pathname, u.host, u.origin, new URL("git+ssh://git@H/x").host].join(" ")`,
			"mailto:Someone@Example.com?subject=hi Someone@Example.com  null H"},
		{"URL file", `return new URL("file:///etc/passwd").href + " " + new URL("file://localhost/x").href`, "file:///etc/passwd file:///x"},
		{"URL trims", `return new URL("  http://h/a\tb\n  ").href`, "http://h/ab"},
		{"URL invalid", `var out = []; for (var s of ["", "nope", "http://", "http://a b/", "http://h:99999/", "http://h:x/", "http://[::1/", "http://1.2.3.4.5/", "http://256.0.0.1/"]) {
			try { new URL(s); out.push(s) } catch (e) { out.push(e instanceof TypeError) } } return out.join()`, "true,true,true,true,true,true,true,true,true"},
		{"URL invalid base", `try { new URL("a", "b") } catch (e) { return e.name + ": " + e.message }`, "TypeError: Invalid base URL: b"},
		{"URL canParse", `return URL.canParse("http://h") + " " + URL.canParse("h") + " " + URL.canParse("h", "http://b") + " " + URL.parse("x")`, "true false true null"},
		{"URL string forms", `var u = new URL("http://h/p"); return String(u) + " " + u + " " + JSON.stringify({u}) + " " + Object.prototype.toString.call(u)`,
			`http://h/p http://h/p {"u":"http://h/p"} [object URL]`},
		{"URL setters", `var u = new URL("http://h/p?q#f"); u.pathname = "a b/c?d"; u.search = "x=1 2"; u.hash = "y"; u.port = "8080"; u.hostname = "Other";
			u.username = "a@b"; u.password = "p"; u.protocol = "https"; return u.href`, "https://a%40b:p@other:8080/a%20b/c%3Fd?x=1%202#y"},
		{"URL setters ignore bad values", `var u = new URL("http://h/p"); u.port = "x"; u.protocol = "mailto"; u.hostname = "a b"; u.host = ""; u.port = "99999"; return u.href`, "http://h/p"},
		{"URL setters clear", `var u = new URL("http://h:81/p?q#f"); u.search = ""; u.hash = ""; u.port = ""; return u.href`, "http://h/p"},
		{"URL href setter throws", `var u = new URL("http://h/"); try { u.href = "nope" } catch (e) { return (e instanceof TypeError) + u.href }`, "truehttp://h/"},
		{"URL searchParams", `var u = new URL("http://h/p?a=1&b=x+y&a=2"); var p = u.searchParams;
			var r = [p.get("a"), p.getAll("a").join("/"), p.get("b"), p.has("c"), p === u.searchParams];
			p.append("c", "d e"); r.push(u.search); u.search = "?z=9"; r.push(p.get("z"), p.size); p.delete("z"); r.push(u.href); return r.join(" ")`,
			"1 1/2 x y false true ?a=1&b=x+y&a=2&c=d+e 9 1 http://h/p"},

		{"URLSearchParams from string", `var p = new URLSearchParams("?a=1&a=2&&b=%20%zz+c&=e&f&%E2%82%AC=%FF");
			return [p.size, p.getAll("a").join(), p.get("b"), p.get(""), p.get("f"), p.get("€"), p.get("x"), p.toString()].join("|")`,
			"6|1,2| %zz c|e||\uFFFD||a=1&a=2&b=+%25zz+c&=e&f=&%E2%82%AC=%EF%BF%BD"},
		{"URLSearchParams from object and pairs", `return new URLSearchParams({a: 1, "b c": "d&e"}) + " " + new URLSearchParams([["x", "1"], ["x", "2"]]) + " " +
			new URLSearchParams(new Map([["m", "n"]])) + " " + new URLSearchParams(new URLSearchParams("k=v"))`, "a=1&b+c=d%26e x=1&x=2 m=n k=v"},
		{"URLSearchParams bad pair", `try { new URLSearchParams([["a"]]) } catch (e) { return e instanceof TypeError }`, true},
		{"URLSearchParams encodes", `return new URLSearchParams({q: "a b+c/~*-._!'()é"}).toString()`, "q=a+b%2Bc%2F%7E*-._%21%27%28%29%C3%A9"},
		{"URLSearchParams methods", `var p = new URLSearchParams("b=2&a=1&b=3&c=4"); p.set("b", "9"); p.delete("c"); p.append("a", "0"); var r = [p.toString(), p.has("a", "0"), p.has("a", "7")];
			p.sort(); r.push(p.toString()); p.delete("a", "1"); r.push(p.toString()); return r.join(" ")`,
			"b=9&a=1&a=0 true false a=1&a=0&b=9 a=0&b=9"},
		{"URLSearchParams iteration", `var p = new URLSearchParams("a=1&b=2"), r = [];
			for (var [k, v] of p) r.push(k + v); for (var e of p.entries()) r.push(e.join(":")); r.push([...p.keys()].join(), [...p.values()].join());
			p.forEach(function (v, k, o) { r.push(k + "=" + v + (o === p)) }); r.push(Object.prototype.toString.call(p)); return r.join(" ")`,
			"a1 b2 a:1 b:2 a,b 1,2 a=1true b=2true [object URLSearchParams]"},

		{"TextEncoder", `var b = new TextEncoder().encode("a€😀"); return [b instanceof Uint8Array, b.length, Array.from(b).join(), new TextEncoder().encoding, new TextEncoder().encode().length].join(" ")`,
			"true 8 97,226,130,172,240,159,152,128 utf-8 0"},
		{"TextEncoder lone surrogate", `return Array.from(new TextEncoder().encode("\uD800")).join()`, "239,191,189"},
		{"TextEncoder encodeInto", `var d = new Uint8Array(5), r = new TextEncoder().encodeInto("a€😀", d); return r.read + " " + r.written + " " + d.join()`, "2 4 97,226,130,172,0"},
		{"TextDecoder", `var d = new TextDecoder(); var b = new Uint8Array([0xEF, 0xBB, 0xBF, 104, 105, 0xE2, 0x82, 0xAC]);
			return [d.decode(b), d.decode(b.buffer), d.decode(new DataView(b.buffer, 3, 2)), d.decode(), d.encoding, d.fatal, new TextDecoder("utf-8", {ignoreBOM: true}).decode(b).length].join(" ")`,
			"hi€ hi€ hi  utf-8 false 4"},
		{"TextDecoder replacement", `return new TextDecoder().decode(new Uint8Array([0x61, 0xE2, 0x82, 0x62, 0xF0, 0x80, 0x80, 0xFF, 0xED, 0xA0, 0x80]))`, "a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"TextDecoder fatal", `try { new TextDecoder("utf8", {fatal: true}).decode(new Uint8Array([0xC3])) } catch (e) { return e instanceof TypeError }`, true},
		{"TextDecoder label", `try { new TextDecoder("latin1") } catch (e) { return e instanceof RangeError }`, true},
		{"round trip", `var s = "Grüße 😀"; return new TextDecoder().decode(new TextEncoder().encode(s)) === s`, true},

		{"Pub/Sub push", `var m = PAYLOAD.message; var data = JSON.parse(new TextDecoder().decode(new Uint8Array(Array.from(atob(m.data), c => c.charCodeAt(0))))); return data.build + m.attributes.kind`, "42done"},
		{"LOG levels", `LOG.finest("a"); LOG.finer("b"); LOG.config("c"); return 1`, int64(1)},
	}
	req := &Request{Body: []byte(`{"message":{"data":"eyJidWlsZCI6NDJ9","attributes":{"kind":"done"}}}`)}
	if f := os.Getenv("ZZDUMP"); f != "" {
		var out []map[string]any
		for _, tt := range tests {
			out = append(out, map[string]any{"name": tt.name, "src": tt.src, "want": tt.want})
		}
		b, _ := json.Marshal(out)
		os.WriteFile(f, b, 0o644)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustValue(t, tt.src, req); got != tt.want {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// webCorpus are URLs (input, base) that Switchyard's URL must parse as
// Node.js does, or refuse as it does.
var webCorpus = [][2]string{
	{"https://example.com", ""}, {"HTTP://EXAMPLE.COM:80/A/B?C=D#E", ""}, {"https://a.b/c/../../../d", ""},
	{"https://a.b/%2e%2E/x/%2e/y", ""}, {"https://a.b/./", ""}, {"https://a.b/..", ""}, {"http://a/b/c/", "http://x"},
	{"https://user:pass@host:8443/p", ""}, {"https://user@host", ""}, {"https://:pass@host", ""}, {"https://u:p:q@h", ""},
	{"https://a@b@c/", ""}, {"http://h:0/", ""}, {"http://h:065535/", ""}, {"http://h:65536/", ""}, {"http://h:/", ""},
	{"ws://h:80/", ""}, {"wss://h:443/", ""}, {"ftp://h:21/", ""}, {"ftp://h:22/", ""},
	{"http://[::1]/", ""}, {"http://[2001:DB8::0:1]:8080/", ""}, {"http://[::1", ""}, {"http://[fe80::1%25eth0]/", ""},
	{"http://1.2.3/", ""}, {"http://0x100/", ""}, {"http://4294967295/", ""}, {"http://4294967296/", ""}, {"http://1.2.3.4./", ""},
	{"http://1.2.3.09/", ""}, {"http://a.1/", ""}, {"http://foo.09/", ""}, {"http://h..", ""}, {"http://EXAMPLE.com./", ""},
	{"http://ex%41mple.com/", ""}, {"http://ex%zzmple.com/", ""}, {"http://a_b.com/", ""}, {"http://münchen.de/", ""},
	{"http://xn--mnchen-3ya.de/", ""}, {"http://a<b/", ""}, {"http://a^b/", ""}, {"http://a|b/", ""},
	{"http://h/a?b=c d&e='f'", ""}, {"foo://h/a?b=c d&e='f'", ""}, {"http://h/#a b<c>`d\"", ""}, {"http://h/{a}|b^c`d", ""},
	{"http://h/\u00e9?\u00e9#\u00e9", ""}, {"http://h/\x01\x7f", ""}, {"http://h/%", ""},
	{"mailto:a@b.c", ""}, {"urn:isbn:0451450523", ""}, {"data:text/plain,hi there", ""}, {"javascript:alert(1)", ""},
	{"foo:/a/../b", ""}, {"foo://H:1/a/./b", ""}, {"foo://", ""}, {"foo:", ""}, {"foo:///x", ""}, {"git+ssh://git@github.com:org/repo.git", ""},
	{"file:///C:/a/../../b", ""}, {"file://host/share/x", ""}, {"file:/a/b", ""}, {"file:a", ""}, {"file://LOCALHOST/x", ""},
	{"blob:https://a.b/uuid", ""}, {"HtTp://h/", ""}, {"http:/h/p", ""}, {"http:h/p", ""}, {"http:\\\\h\\p", ""},
	{"", "http://h/a/b?c#d"}, {"x", "http://h/a/b"}, {"./x", "http://h/a/b"}, {"../../../x", "http://h/a/b"}, {"/x", "http://h/a/b"},
	{"//o", "http://h/a/b"}, {"//o:81/p", "https://h/"}, {"?q", "http://h/a/b?c#d"}, {"#f", "http://h/a/b?c#d"}, {"http:x", "http://h/a/b"},
	{"https:x", "http://h/a/b"}, {"\\x", "http://h/a/b"}, {"x", "mailto:a@b"}, {"#f", "mailto:a@b"}, {"x", "foo://h/a/b"},
	{"x", "foo:/a"}, {"", "data:x"}, {"x", "nope"}, {"a b", "http://h/"}, {"  http://h/\t\n  ", ""}, {"http://h:8080abc/", ""},
	{"http://", ""}, {"http:///", ""}, {"http://@/", ""}, {"https://h/p?", ""}, {"https://h/p#", ""}, {"https://h?#", ""},
}

// TestURLAgainstNode parses webCorpus with Switchyard's URL and with
// Node.js's (skipped when Node.js is not installed; see npmtest).
func TestURLAgainstNode(t *testing.T) {
	t.Parallel()
	var srcs []string
	for _, c := range webCorpus {
		in, _ := json.Marshal(c[0])
		base := "undefined"
		if c[1] != "" {
			b, _ := json.Marshal(c[1])
			base = string(b)
		}
		srcs = append(srcs, `var u = new URL(`+string(in)+`, `+base+`);
			return JSON.stringify([u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash])`)
	}
	srcs = append(srcs, webSetterCases...)
	var node []struct {
		Value any
		Error string
	}
	npmtest.Node(t, "web.mjs", srcs, &node)
	for i, src := range srcs {
		res := runScript(t, src, nil)
		got, gotErr := res.Value, ""
		var se *ScriptError
		if errors.As(res.Err, &se) {
			gotErr, _, _ = strings.Cut(se.Message, ":")
		} else if res.Err != nil {
			t.Fatalf("%s: %v", src, res.Err)
		}
		if got != node[i].Value || gotErr != node[i].Error {
			t.Errorf("%s\n  switchyard: %v %s\n  node:       %v %s", src, got, gotErr, node[i].Value, node[i].Error)
		}
	}
}

// webSetterCases set each URL member to values good and bad.
var webSetterCases = func() []string {
	var out []string
	for _, c := range [][2]string{
		{"protocol", "https"}, {"protocol", "WS:"}, {"protocol", "foo"}, {"protocol", "1x"}, {"protocol", "file"},
		{"username", "a b@c:d"}, {"username", ""}, {"password", "p/q"}, {"host", "other:81"}, {"host", "other:x"}, {"host", "a b"},
		{"host", "o/p?q"}, {"host", ""}, {"hostname", "o:81"}, {"hostname", "[::1]"}, {"hostname", "Ö.de"}, {"port", "8080"}, {"port", "443"},
		{"port", "81x"}, {"port", "x"}, {"port", ""}, {"port", "70000"}, {"pathname", "a/../b c"}, {"pathname", "/x?y#z"},
		{"pathname", "\\a\\b"}, {"pathname", ""}, {"search", "a=b c"}, {"search", "?"}, {"search", ""}, {"search", "#x"},
		{"hash", "a b"}, {"hash", "#"}, {"hash", ""}, {"href", "foo:bar"},
	} {
		for _, base := range []string{"https://u:p@h:81/a/b?q#f", "foo://h/a", "mailto:x@y"} {
			f, _ := json.Marshal(c[0])
			v, _ := json.Marshal(c[1])
			b, _ := json.Marshal(base)
			out = append(out, `var u = new URL(`+string(b)+`); u[`+string(f)+`] = `+string(v)+`; return u.href + " " + u.searchParams`)
		}
	}
	return out
}()

// TestWebBuiltinsLazy checks that a script that does not name a web
// built-in does not get it (it costs nothing), that one that names it in
// a string only gets a cheap accessor, and that a dynamic script gets them
// all.
func TestWebBuiltinsLazy(t *testing.T) {
	t.Parallel()
	e := NewEngine(Limits{})
	names := append([]string{"console", "atob", "btoa"}, webClasses...)
	installed := func(src string) *run {
		p := mustCompile(t, "lazy", src)
		r := &run{rt: goja.New(), ctx: context.Background(), req: &Request{}, limits: &e.limits, reach: p.reach}
		r.installGlobals()
		return r
	}
	r := installed(`return PAYLOAD.url + HTTP_HEADERS["x-console"]`)
	for _, name := range names {
		if r.rt.GlobalObject().Get(name) != nil {
			t.Errorf("%s is installed for a script that does not name it", name)
		}
	}
	r = installed(`return "URL"`)
	if r.makers != nil || r.rt.GlobalObject().Get("TextEncoder") != nil {
		t.Errorf("a script that names URL in a string ran the polyfill, or got TextEncoder")
	}
	r = installed(`var k = "x"; return PAYLOAD[k]`)
	for _, name := range names {
		if r.rt.GlobalObject().Get(name) == nil {
			t.Errorf("%s is missing for a dynamic script", name)
		}
	}
	if r.makers == nil {
		t.Errorf("reading URL did not run the polyfill")
	}
	got := mustValue(t, `var g = globalThis, k = "URL"; var a = typeof g[k]; URL = 5; TextDecoder = 1; return a + URL + typeof TextEncoder + TextDecoder + typeof URLSearchParams`, nil)
	if got != "function5function1function" {
		t.Errorf("got %v", got)
	}
}

// TestConsole checks console's levels and formatting.
func TestConsole(t *testing.T) {
	t.Parallel()
	src := `console.log("a", 1, {b: [2]}, null, undefined, true); console.info("i"); console.warn("w"); console.error(new TypeError("e")); console.debug("d");
		console.log("%s is %d years and %f, %o %O %c%i%%", "Bob", 42.9, 1.5, {x: 1}, [1], "color: red", "7", "extra", 8);
		console.log("%d %s", {}, Symbol("s")); console.log("100%", "x"); console.log("%s"); console.log("%x", 1);
		var o = {}; o.self = o; console.log(o); console.log([1, [2, [3]]]); console.log(Symbol("y"), function f() {});
		LOG.finest("ft"); LOG.finer("fr"); LOG.config("cf"); return typeof console.log`
	res := runScript(t, src, nil)
	if res.Err != nil || res.Value != "function" {
		t.Fatalf("%v %v", res.Value, res.Err)
	}
	want := []LogLine{
		{Level: LevelInfo, Text: `a 1 {"b":[2]} null undefined true`},
		{Level: LevelInfo, Text: "i"},
		{Level: LevelWarning, Text: "w"},
		{Level: LevelSevere, Text: "TypeError: e"},
		{Level: LevelFine, Text: "d"},
		{Level: LevelInfo, Text: `Bob is 42 years and 1.5, {"x":1} [1] 7% extra 8`},
		{Level: LevelInfo, Text: "NaN Symbol(s)"},
		{Level: LevelInfo, Text: "100% x"},
		{Level: LevelInfo, Text: "%s"},
		{Level: LevelInfo, Text: "%x 1"},
		{Level: LevelInfo, Text: "[object Object]"},
		{Level: LevelInfo, Text: "[1,[2,[3]]]"},
		{Level: LevelInfo, Text: "Symbol(y) function f() {}"},
		{Level: LevelFine, Text: "ft"},
		{Level: LevelFine, Text: "fr"},
		{Level: LevelFine, Text: "cf"},
	}
	if len(res.Logs) != len(want) {
		t.Fatalf("got %d lines: %+v", len(res.Logs), res.Logs)
	}
	for i, w := range want {
		if g := res.Logs[i]; g.Level != w.Level || g.Text != w.Text {
			t.Errorf("line %d = %s %q, want %s %q", i, g.Level, g.Text, w.Level, w.Text)
		}
	}
}

// TestWebBuiltinsBounded gives the web built-ins large inputs within the
// caps: they succeed, and what they log is cut to a line.
func TestWebBuiltinsBounded(t *testing.T) {
	t.Parallel()
	heavy.Lock()
	defer heavy.Unlock()
	src := `var big = []; for (var i = 0; i < 1e5; i++) big.push({i: i, s: "x"});
		var cyclic = {a: [1]}; cyclic.a.push(cyclic); console.log(big); console.log(cyclic, 'x'.repeat(2**24));
		return [atob('QUJD'.repeat(2**23)).length, new URL('http://h/' + 'a'.repeat(2**20)).pathname.length,
			new URLSearchParams('a=1&'.repeat(1e6)).size, new TextEncoder().encode('x'.repeat(2**25)).length,
			new TextDecoder().decode(new Uint8Array(2**24)).length, btoa('x'.repeat(3 * 2**20)).length].join()`
	res := NewEngine(Limits{}).Run(context.Background(), mustCompile(t, "bounded", src), &Request{}, 120*time.Second)
	if res.Err != nil || res.Value != "25165824,1048577,1000000,33554432,16777216,4194304" {
		t.Fatalf("got %v, %v", res.Value, res.Err)
	}
	if len(res.Logs) != 2 || len(res.Logs[0].Text) > DefaultMaxLogLine || !strings.HasPrefix(res.Logs[0].Text, `[{"i":0,"s":"x"},`) ||
		!strings.HasPrefix(res.Logs[1].Text, "[object Object] xxx") {
		t.Fatalf("logs %.200v", res.Logs)
	}
}

// TestWebDocsExamples runs the examples of docs/scripts.md, "Web
// built-ins".
func TestWebDocsExamples(t *testing.T) {
	t.Parallel()
	src := `var m = PAYLOAD.message;
		var build = JSON.parse(atob(m.data));
		var text = new TextDecoder().decode(new Uint8Array(Array.from(atob(m.data), c => c.charCodeAt(0))));
		LOG.info("build", build.id, "from", m.attributes.source);
		var form = new URLSearchParams("command=%2Fdeploy&text=prod+now");
		if (form.get("command") !== "/deploy") return false;
		var link = new URL(PAYLOAD.target_url);
		console.log(link.hostname, link.searchParams.get("tab"));
		return text + " " + form.get("text")`
	body := `{"message":{"data":"eyJpZCI6IjQyIiwibmFtZSI6Ikdyw7zDn2UifQ==","attributes":{"source":"ci"}},"target_url":"https://ci.example.com/job/42/?tab=log#end"}`
	res := runScript(t, src, &Request{Body: []byte(body)})
	if res.Err != nil || res.Value != `{"id":"42","name":"Grüße"} prod now` || len(res.Logs) != 2 ||
		res.Logs[0].Text != "build 42 from ci" || res.Logs[1].Text != "ci.example.com log" {
		t.Fatalf("got %v %v %+v", res.Value, res.Err, res.Logs)
	}
}
