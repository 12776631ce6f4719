package scripting

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// The web built-ins: console, atob, btoa, URL, URLSearchParams,
// TextEncoder and TextDecoder, as browsers and Node.js have them, so that
// code copied from a sender's documentation runs. Each is installed only
// for a script that can reach it (see installWeb).

// consoleMethods are the functions of console: each writes a LOG line at
// the level its name says.
var consoleMethods = []method{
	{"log", consoleAt(LevelInfo)},
	{"info", consoleAt(LevelInfo)},
	{"warn", consoleAt(LevelWarning)},
	{"error", consoleAt(LevelSevere)},
	{"debug", consoleAt(LevelFine)},
}

var consoleNames = methodNames(consoleMethods)

// webClasses are the globals the polyfill (web.js) defines.
var webClasses = []string{"URL", "URLSearchParams", "TextEncoder", "TextDecoder"}

// installWeb installs the web built-ins the script can reach.
func (r *run) installWeb() {
	r.setIfReached("console", consoleMethods, consoleNames)
	g := r.rt.GlobalObject()
	if r.reach.can("atob") {
		g.Set("atob", r.named("atob", r.atob))
	}
	if r.reach.can("btoa") {
		g.Set("btoa", r.named("btoa", r.btoa))
	}
	for _, name := range webClasses {
		if r.reach.can(name) {
			r.lazyClass(name)
		}
	}
}

// named wraps f as a JavaScript function called name.
func (r *run) named(name string, f func(goja.FunctionCall) goja.Value) *goja.Object {
	o := r.fn(f)
	o.DefineDataProperty("name", r.rt.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return o
}

// consoleAt makes a console method writing lines at level.
func consoleAt(level string) func(r *run) func(goja.FunctionCall) goja.Value {
	return func(r *run) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			r.log(level, r.substitute(call.Arguments))
			return goja.Undefined()
		}
	}
}

// substitute applies a browser console's format directives when the first
// argument is a string holding one: %s (String), %d and %i (an integer),
// %f (a number), %o and %O (as LOG renders objects), %c (a CSS style:
// consumed, nothing written) and %% (a %). The arguments left over follow,
// as they would in a browser.
func (r *run) substitute(args []goja.Value) []goja.Value {
	if len(args) < 2 {
		return args
	}
	f, ok := args[0].(goja.String)
	if !ok || !strings.Contains(f.String(), "%") {
		return args
	}
	format, rest := f.String(), args[1:]
	var b strings.Builder
	for len(format) > 0 {
		i := strings.IndexByte(format, '%')
		if i < 0 || i == len(format)-1 || b.Len() > r.limits.MaxLogLine {
			b.WriteString(format)
			break
		}
		b.WriteString(format[:i])
		verb := format[i+1]
		format = format[i+2:]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if !strings.ContainsRune("sdifoOc", rune(verb)) || len(rest) == 0 {
			b.WriteByte('%')
			b.WriteByte(verb)
			continue
		}
		a := rest[0]
		rest = rest[1:]
		b.WriteString(r.directive(verb, a))
	}
	return append([]goja.Value{r.rt.ToValue(b.String())}, rest...)
}

// directive renders one argument for a format directive.
func (r *run) directive(verb byte, a goja.Value) string {
	switch verb {
	case 's':
		if _, ok := a.(*goja.Object); ok {
			return r.render(a)
		}
		if s, ok := a.(*goja.Symbol); ok {
			return "Symbol(" + s.String() + ")"
		}
		return a.String()
	case 'd', 'i':
		if _, ok := a.(*goja.Symbol); ok {
			return "NaN"
		}
		return formatCount(numberOf(a, true))
	case 'f':
		if _, ok := a.(*goja.Symbol); ok {
			return "NaN"
		}
		return formatCount(numberOf(a, false))
	case 'c':
		return ""
	}
	return r.render(a)
}

// numberOf converts a for %d (integer) or %f; an object gives NaN, as in
// browsers, without running its valueOf.
func numberOf(a goja.Value, integer bool) float64 {
	if _, ok := a.(*goja.Object); ok {
		return math.NaN()
	}
	f := a.ToFloat()
	if integer {
		return math.Trunc(f)
	}
	return f
}

// invalidCharacter returns the error atob and btoa throw, shaped as the
// DOMException browsers throw: name InvalidCharacterError, code 5.
func (r *run) invalidCharacter(msg string) *goja.Object {
	e := r.newError("Error", msg)
	e.DefineDataProperty("name", r.rt.ToValue("InvalidCharacterError"), goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	e.DefineDataProperty("code", r.rt.ToValue(5), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return e
}

// btoa implements btoa(data): the base64 of a string of characters up to
// U+00FF, each taken as one byte.
func (r *run) btoa(call goja.FunctionCall) goja.Value {
	if len(call.Arguments) == 0 {
		panic(r.rt.NewTypeError("btoa: 1 argument required, but only 0 present."))
	}
	gs := toString(call.Argument(0))
	if n := base64.StdEncoding.EncodedLen(gs.Length()); n > MaxStringLength {
		panic(r.newError("RangeError", "btoa: a string of "+strconv.Itoa(n)+" characters is over Switchyard's limit of "+strconv.Itoa(MaxStringLength)))
	}
	s := gs.String() // a lone surrogate becomes U+FFFD, refused as any character past U+00FF
	data := make([]byte, 0, len(s))
	for _, c := range s {
		if c > 0xFF {
			panic(r.invalidCharacter("btoa: the string to be encoded contains characters outside of the Latin1 range."))
		}
		data = append(data, byte(c))
	}
	return r.rt.ToValue(base64.StdEncoding.EncodeToString(data))
}

// atob implements atob(data) with the forgiving-base64 decode of the HTML
// standard: ASCII whitespace is ignored, padding is optional but must be
// right when present, and each byte decoded becomes one character.
func (r *run) atob(call goja.FunctionCall) goja.Value {
	if len(call.Arguments) == 0 {
		panic(r.rt.NewTypeError("atob: 1 argument required, but only 0 present."))
	}
	s := toString(call.Argument(0))
	data, ok := []byte(nil), isASCII(s)
	if ok {
		data, ok = forgivingBase64(s.String())
	}
	if !ok {
		panic(r.invalidCharacter("atob: the string to be decoded is not correctly encoded."))
	}
	return r.latin1(data)
}

// isASCII reports whether s holds only ASCII characters, without
// converting it (a 32 Mi-character string of others would take 96 MiB).
func isASCII(s goja.String) bool {
	for i, n := 0, s.Length(); i < n; i++ {
		if s.CharAt(i) >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// forgivingBase64 is the forgiving-base64 decode of the HTML standard.
func forgivingBase64(s string) ([]byte, bool) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ':
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=':
			clean = append(clean, c)
		default:
			return nil, false // a non-ASCII character is one or more bytes >= 0x80
		}
	}
	if k := len(clean); k%4 == 0 && k > 0 && clean[k-1] == '=' {
		clean = clean[:k-1]
		if clean[k-2] == '=' {
			clean = clean[:k-2]
		}
	}
	if len(clean)%4 == 1 || bytes.IndexByte(clean, '=') >= 0 {
		return nil, false
	}
	// RawStdEncoding ignores the bits a final quantum leaves over, as the
	// standard does.
	out, err := base64.RawStdEncoding.DecodeString(string(clean))
	return out, err == nil
}

// latin1 makes a string of one character per byte.
func (r *run) latin1(data []byte) goja.Value {
	for _, c := range data {
		if c >= utf8.RuneSelf {
			u := make([]uint16, len(data))
			for i, c := range data {
				u[i] = uint16(c)
			}
			return goja.StringFromUTF16(u)
		}
	}
	return r.rt.ToValue(string(data))
}

//go:embed web.js
var webJS string

// webProgram is web.js compiled, once, on first use.
var webProgram = sync.OnceValue(func() *goja.Program {
	return goja.MustCompile("switchyard:web.js", webJS, true)
})

// lazyClass defines name on the global object as an accessor that, on
// first use, runs the polyfill's maker of the class and replaces itself
// with the classes it made: a script that names URL in a string, or a
// dynamic script, pays for the accessor only.
func (r *run) lazyClass(name string) {
	g := r.rt.GlobalObject()
	get := r.fn(func(goja.FunctionCall) goja.Value {
		r.makeClasses(name)
		return g.Get(name)
	})
	set := r.fn(func(call goja.FunctionCall) goja.Value {
		g.DefineDataProperty(name, call.Argument(0), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		return goja.Undefined()
	})
	g.DefineAccessorProperty(name, get, set, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// makeClasses runs the polyfill's maker of name and defines the classes
// it makes (URL's makes URLSearchParams too).
func (r *run) makeClasses(name string) {
	if r.makers == nil {
		v, err := r.rt.RunProgram(webProgram())
		if err != nil {
			panic(err)
		}
		factory, ok := goja.AssertFunction(v)
		if !ok {
			panic("web.js does not give a function")
		}
		native := r.rt.NewObject()
		for name, f := range map[string]func(goja.FunctionCall) goja.Value{
			"parse": r.urlParse, "set": r.urlSet,
			"formParse": r.formParse, "formSerialize": r.formSerialize,
			"encode": r.utf8Encode, "encodeInto": r.utf8EncodeInto, "decode": r.utf8Decode,
		} {
			native.Set(name, f)
		}
		makers, err := factory(goja.Undefined(), native)
		if err != nil {
			panic(err)
		}
		r.makers = makers.(*goja.Object)
	}
	maker, _ := goja.AssertFunction(r.makers.Get(name))
	v, err := maker(goja.Undefined())
	if err != nil {
		panic(err)
	}
	classes, g := v.(*goja.Object), r.rt.GlobalObject()
	for _, k := range classes.Keys() {
		g.DefineDataProperty(k, classes.Get(k), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// maxURLLength is the longest string URL parses (and a setter's value):
// browsers take 2 MiB (Chrome) and more; a webhook's URL is far shorter.
const maxURLLength = 1 << 21

// urlParse is native.parse(input, base, throws): the URL's record, or
// (when throws is false) null for an invalid URL.
func (r *run) urlParse(call goja.FunctionCall) goja.Value {
	input, throws := urlString(call.Argument(0)), call.Argument(2).ToBoolean()
	var base *webURL
	var err error
	if b := call.Argument(1); !goja.IsUndefined(b) {
		if base, err = parseWebURL(urlString(b), nil); err != nil {
			if !throws {
				return goja.Null()
			}
			panic(r.rt.NewTypeError("Invalid base URL: %s", cutForError(b.String())))
		}
	}
	u, err := parseWebURL(input, base)
	if err != nil {
		if !throws {
			return goja.Null()
		}
		panic(r.rt.NewTypeError("Invalid URL: %s", cutForError(input)))
	}
	return r.urlRecord(u)
}

// urlString converts v, a string, to Go, or gives "\x00" (an invalid URL)
// past maxURLLength characters.
func urlString(v goja.Value) string {
	if s := toString(v); s.Length() <= maxURLLength {
		return s.String()
	}
	return "\x00"
}

// cutForError shortens a string quoted in an error message.
func cutForError(s string) string { return truncateBytes(s, 200) }

// urlSet is native.set(href, field, value): the record after a setter, or
// null when the value is refused (a browser then leaves the URL as it is).
func (r *run) urlSet(call goja.FunctionCall) goja.Value {
	u, err := parseWebURL(call.Argument(0).String(), nil)
	value := urlString(call.Argument(2))
	if err != nil {
		return goja.Null()
	}
	if u, err = u.set(call.Argument(1).String(), value); err != nil {
		return goja.Null()
	}
	return r.urlRecord(u)
}

// urlRecord is what the URL object keeps: each getter's value.
func (r *run) urlRecord(u *webURL) goja.Value {
	o := r.rt.NewObject()
	host := u.host
	if u.port != "" {
		host += ":" + u.port
	}
	search, hash := "", ""
	if u.hasQuery && u.query != "" {
		search = "?" + u.query
	}
	if u.hasFragment && u.fragment != "" {
		hash = "#" + u.fragment
	}
	for _, kv := range [][2]string{
		{"href", u.String()}, {"origin", u.origin()}, {"protocol", u.scheme + ":"},
		{"username", u.username}, {"password", u.password}, {"host", host}, {"hostname", u.host},
		{"port", u.port}, {"pathname", u.path}, {"search", search}, {"hash", hash},
	} {
		o.Set(kv[0], kv[1])
	}
	return o
}
