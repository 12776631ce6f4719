package scripting

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dop251/goja"
)

func TestPayload(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		contentType string
		body        string
		src         string
		want        any
	}{
		{"json object", "application/json", `{"ref":"refs/heads/main","commits":[{"id":"a"},{"id":"b"}]}`,
			"return PAYLOAD.ref + ' ' + PAYLOAD.commits.length + ' ' + PAYLOAD.commits[1].id", "refs/heads/main 2 b"},
		{"json without content type", "", `{"a":1}`, "return PAYLOAD.a", int64(1)},
		{"json array", "application/json", `[1, 2, 3]`, "return Array.isArray(PAYLOAD) && PAYLOAD.length", int64(3)},
		{"json string", "application/json", `"hi"`, "return PAYLOAD", "hi"},
		{"json number", "application/json", ` 42 `, "return PAYLOAD", int64(42)},
		{"json objects are plain", "application/json", `{"a":{"b":[]}}`,
			"return Object.getPrototypeOf(PAYLOAD.a) === Object.prototype && Array.isArray(PAYLOAD.a.b)", true},
		{"form", form, "payload=%7B%22a%22%3A1%7D&x=1&x=2&empty=",
			"return PAYLOAD.payload + ' ' + PAYLOAD.x + ' [' + PAYLOAD.empty + ']'", `{"a":1} 1 []`},
		{"form with charset", form + "; charset=UTF-8", "text=caf%C3%A9+au+lait", "return PAYLOAD.text", "café au lait"},
		{"form starting like a JSON literal", form, "token=abc&team_id=T1", "return PAYLOAD.token + PAYLOAD.team_id", "abcT1"},
		{"form keys in order", form, "b=2&a=1", "return Object.keys(PAYLOAD).join()", "a,b"},
		{"form-like body without form content type", "text/plain", "a=1", "return PAYLOAD", "a=1"},
		{"malformed json falls back to the raw string", "application/json", `{"a": 1,`, "return PAYLOAD", `{"a": 1,`},
		{"malformed json does not throw", "application/json", `{"a": tru}`, "return typeof PAYLOAD", "string"},
		{"plain text", "text/plain", "hello world", "return PAYLOAD", "hello world"},
		{"empty body", "application/json", "", `return PAYLOAD === ""`, true},
		{"cached", "application/json", `{"a":{}}`, "return PAYLOAD === PAYLOAD && PAYLOAD.a === PAYLOAD.a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := &Request{Body: []byte(tt.body), Headers: map[string]string{}}
			if tt.contentType != "" {
				req.Headers["content-type"] = tt.contentType
			}
			if got := mustValue(t, tt.src, req); got != tt.want {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestPayloadIsLazy(t *testing.T) {
	t.Parallel()
	var decodes atomic.Int64
	e := NewEngine(Limits{})
	e.decodeHook = func() { decodes.Add(1) }
	req := &Request{Body: []byte(`{"not json`), Headers: map[string]string{"content-type": "application/json"}}

	res := runWith(t, e, `return METHOD === "" && FLX_PRISTINE_PAYLOAD.length > 0`, req)
	if res.Err != nil || !res.Truthy {
		t.Fatalf("script not reading PAYLOAD: %+v", res)
	}
	if n := decodes.Load(); n != 0 {
		t.Fatalf("PAYLOAD decoded %d times by a script that never reads it", n)
	}

	res = runWith(t, e, `var a = PAYLOAD; var b = PAYLOAD; return a === b && typeof a === "string"`, req)
	if res.Err != nil || !res.Truthy {
		t.Fatalf("script reading PAYLOAD twice: %+v", res)
	}
	if n := decodes.Load(); n != 1 {
		t.Fatalf("PAYLOAD decoded %d times, want once", n)
	}
}

// TestPayloadGitHubExamples decodes the real GitHub payloads and compares
// PAYLOAD with what the runtime's JSON.parse gives.
func TestPayloadGitHubExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../testdata/github/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("testdata/github: %v, %d files", err, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req := &Request{Body: body, Headers: map[string]string{"content-type": "application/json"}}
			src := `return typeof PAYLOAD === "object" && JSON.stringify(PAYLOAD) === JSON.stringify(JSON.parse(FLX_PRISTINE_PAYLOAD))`
			if got := mustValue(t, src, req); got != true {
				t.Errorf("PAYLOAD differs from JSON.parse")
			}
		})
	}
	body, _ := os.ReadFile("../testdata/github/push.json")
	src := `return [PAYLOAD.ref, PAYLOAD.commits.length, PAYLOAD.repository.full_name, PAYLOAD.head_commit.id].join(" ")`
	want := "refs/heads/master 1 Codertocat/Hello-World 6113728f27ae82c7b1a177c8d03f9e96e0adf246"
	if got := mustValue(t, src, &Request{Body: body}); got != want {
		t.Errorf("push.json: got %q, want %q", got, want)
	}
}

// jsonCases are bodies on which the fast decoder must agree with JSON.parse;
// they also seed FuzzDecodeJSON.
var jsonCases = []string{
	`{}`, `[]`, `{"a":[]}`, `[[[]]]`, ` {"a" : 1 , "b" : [ 1 , 2 ] } `, "\t\r\n[1]\n",
	`"plain"`, `"esc\"aped \\ \/ \b\f\n\r\t"`, `"\u00e9\u4e2d\uD83D\uDE00"`, `"caf\u00E9"`, `"é中😀"`,
	`"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `"\ud800\ud800"`, `"\u12"`, `"\x41"`, "\"raw\x01control\"",
	`0`, `-0`, `1`, `-1`, `123456789012345`, `1234567890123456789012`, `1.5`, `-1.5e3`, `1E+2`, `1e-7`, `1e400`, `-1e400`,
	`01`, `-`, `1.`, `.5`, `1e`, `+1`, `0x10`, `NaN`, `Infinity`,
	`true`, `false`, `null`, `tru`, `nul`, `True`,
	`{"a":1,"a":2}`, `{"__proto__":{"x":1}}`, `{"constructor":1,"toString":2,"hasOwnProperty":3}`,
	`{"2":"b","1":"a","x":"c"}`, `{"":0}`,
	`{"a":1,}`, `[1,]`, `[,1]`, `{a:1}`, `{'a':1}`, `{"a" 1}`, `{"a":1}}`, `[1] [2]`, `[1]x`, `{"a":1`, `"unterminated`,
	``, ` `, `[`, `{`, `]`,
	"[\"\xff\xfe\"]", "\xef\xbb\xbf{}", `{"a":"\u0000"}`,
	strings.Repeat("[", 50) + strings.Repeat("]", 50),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300),
}

func TestDecodeJSONMatchesJSONParse(t *testing.T) {
	t.Parallel()
	for _, c := range jsonCases {
		checkDecodeJSON(t, []byte(c))
	}
}

// FuzzDecodeJSON checks that the fast decoder and the runtime's JSON.parse
// agree on what is JSON and on what it decodes to.
func FuzzDecodeJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	body, err := os.ReadFile("../testdata/github/ping.json")
	if err == nil {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeJSON(t, data)
	})
}

// checkDecodeJSON compares decodeJSON with JSON.parse on data.
func checkDecodeJSON(t *testing.T, data []byte) {
	t.Helper()
	rt := goja.New()
	if jsonTooDeep(data) {
		// Not JSON for PAYLOAD: goja's JSON.parse could exhaust the stack.
		if _, err := decodeJSON(rt, data); err != errJSONSyntax && err != errJSONSlowPath {
			t.Fatalf("%s: nested too deep, decodeJSON: %v", short(data), err)
		}
		return
	}
	str := rt.ToValue(string(data))
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	stringify, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
	render := func(v goja.Value) string {
		s, err := stringify(goja.Undefined(), v)
		if err != nil {
			t.Fatalf("stringify: %v", err)
		}
		if n, ok := v.Export().(float64); ok && n == 0 && 1/n < 0 {
			return "-0"
		}
		return s.String()
	}

	want, parseErr := parse(goja.Undefined(), str)
	got, err := decodeJSON(rt, data)
	switch {
	case err == errJSONSlowPath:
		return // JSON.parse decides, by construction the same
	case err != nil && parseErr == nil:
		t.Fatalf("%s: decodeJSON: %v, JSON.parse accepts it: %s", short(data), err, render(want))
	case err == nil && parseErr != nil:
		t.Fatalf("%s: decodeJSON accepts it (%s), JSON.parse: %v", short(data), render(got), parseErr)
	case err == nil:
		if g, w := render(got), render(want); g != w {
			t.Fatalf("%s: decodeJSON gives %s, JSON.parse %s", short(data), g, w)
		}
		if g, w := ownKeys(t, rt, got), ownKeys(t, rt, want); g != w {
			t.Fatalf("%s: own keys %s, JSON.parse %s", short(data), g, w)
		}
		// A fresh lazy decode, read member by member before any listing of
		// keys, then walked with for-in, Object.keys and Object.entries,
		// then changed the same way as the JSON.parse result.
		got, err = decodeJSON(rt, data)
		if err != nil {
			t.Fatalf("%s: second decodeJSON: %v", short(data), err)
		}
		if len(data) > 1<<16 || bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > 200 {
			return // the walk below is quadratic in the depth
		}
		compare, err := rt.RunString(compareJS)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := goja.AssertFunction(compare)
		res, err := f(goja.Undefined(), got, want)
		if err != nil {
			t.Fatalf("%s: compare: %v", short(data), err)
		}
		if res.String() != "" {
			t.Fatalf("%s: lazy and JSON.parse results differ: %s", short(data), res)
		}
	}
}

// compareJS compares a lazy PAYLOAD value with JSON.parse's, returning ""
// when they agree.
const compareJS = `(function (lazy, want) {
	function walk(v) {
		if (v === null || typeof v !== "object") {
			return typeof v + ":" + (Object.is(v, -0) ? "-0" : String(v));
		}
		if (Array.isArray(v)) {
			return "[" + v.length + ":" + v.map(walk).join(",") + "]";
		}
		var parts = [];
		for (var k in v) parts.push(JSON.stringify(k) + ":" + walk(v[k]));
		return "{" + JSON.stringify(Object.keys(v)) + "|" + JSON.stringify(Object.entries(v).map(function (e) { return e[0]; })) +
			"|" + parts.join(",") + "|" + (Object.getPrototypeOf(v) === Object.prototype) +
			"|" + JSON.stringify(Object.assign({}, v)) + "}";
	}
	function touch(l, w) {
		if (w === null || typeof w !== "object") return;
		var ks = Object.keys(w);
		for (var i = ks.length - 1; i >= 0; i--) {
			if (!(ks[i] in l)) throw new Error("missing key " + ks[i]);
			touch(l[ks[i]], w[ks[i]]);
		}
	}
	touch(lazy, want);
	var a = walk(lazy), b = walk(want);
	if (a !== b) return a + " != " + b;
	if (lazy !== null && typeof lazy === "object" && !Array.isArray(lazy)) {
		var ks = Object.keys(want);
		[lazy, want].forEach(function (o) {
			o.added = 1;
			o["7"] = "seven";
			if (ks.length > 0) { delete o[ks[0]]; o[ks[0]] = "again"; }
			if (ks.length > 1) o[ks[ks.length - 1]] = "changed";
			delete o.missing;
		});
		a = walk(lazy); b = walk(want);
		if (a !== b) return "after changes: " + a + " != " + b;
		if (("added" in lazy) !== true || Object.prototype.hasOwnProperty.call(lazy, "missing")) return "has";
	}
	return "";
})`

// ownKeys lists the own keys of an object (including "__proto__", which
// JSON.stringify shows but a mistaken assignment would hide).
func ownKeys(t *testing.T, rt *goja.Runtime, v goja.Value) string {
	t.Helper()
	o, ok := v.(*goja.Object)
	if !ok {
		return ""
	}
	f, _ := goja.AssertFunction(rt.Get("Reflect").ToObject(rt).Get("ownKeys"))
	keys, err := f(goja.Undefined(), o)
	if err != nil {
		t.Fatal(err)
	}
	proto := o.Prototype()
	return keys.String() + " proto-is-Object.prototype=" + boolString(proto != nil && proto.SameAs(rt.Get("Object").ToObject(rt).Get("prototype")))
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// short quotes data for a message, cut to 200 bytes.
func short(data []byte) string {
	if len(data) > 200 {
		return strconv.Quote(string(data[:200])) + "..."
	}
	return strconv.Quote(string(data))
}
