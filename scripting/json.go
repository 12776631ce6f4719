package scripting

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// maxJSONDepth is the deepest nesting of arrays and objects decoded, that of
// encoding/json. goja's JSON.parse has no limit and recurses in Go for each
// level: a few megabytes of "[" exhaust the goroutine stack, which kills
// the process. A deeper document is therefore not treated as JSON by
// PAYLOAD, and the runtime's JSON.parse is guarded (guardJSONParse).
const maxJSONDepth = 10000

// Errors of decodeJSON.
var (
	// errJSONSyntax: the document is not JSON; JSON.parse would throw.
	errJSONSyntax = errors.New("json: syntax error")
	// errJSONSlowPath: the document holds something this decoder leaves to
	// the runtime's JSON.parse (invalid UTF-8, a lone surrogate escape, a
	// number out of range).
	errJSONSlowPath = errors.New("json: left to JSON.parse")
)

// jsonDecoder materialises the values of a JSON document that
// validateJSON accepted, the same values the runtime's JSON.parse gives,
// lazily: an object becomes a lazyObject that indexes its members on first
// use and decodes each member when it is read; an array becomes a real
// array whose elements are decoded at once (objects in it lazily). It is
// shared by every lazy object of one document.
type jsonDecoder struct {
	rt    *goja.Runtime
	data  []byte
	pos   int
	buf   []byte
	items []any
	ends  []containerSpan // from validateJSON
}

// decodeJSON decodes data; errJSONSyntax when it is not JSON (or nested
// deeper than maxJSONDepth), errJSONSlowPath when JSON.parse must decide
// (the caller must then check jsonTooDeep first). The whole document is
// validated before anything is returned; objects are decoded lazily.
func decodeJSON(rt *goja.Runtime, data []byte) (v goja.Value, err error) {
	d := &jsonDecoder{rt: rt, data: data}
	if err := validateJSON(data, &d.ends); err != nil {
		return nil, err
	}
	d.skipSpace()
	return d.value()
}

// valueAt materialises the (valid) value starting at pos.
func (d *jsonDecoder) valueAt(pos int) goja.Value {
	d.pos = pos
	v, err := d.value()
	if err != nil {
		// validateJSON accepted the document: cannot happen.
		panic("scripting: lazy JSON decoder: " + err.Error())
	}
	return v
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (goja.Value, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, errJSONSyntax
	}
	switch c := d.data[d.pos]; c {
	case '{':
		o := &lazyObject{d: d, start: d.pos}
		d.pos = skipJSONValue(d.data, d.pos, d.ends)
		return d.rt.NewDynamicObject(o), nil
	case '[':
		return d.array()
	case '"':
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return d.rt.ToValue(s), nil
	case 't':
		return d.literal("true", d.rt.ToValue(true))
	case 'f':
		return d.literal("false", d.rt.ToValue(false))
	case 'n':
		return d.literal("null", goja.Null())
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return d.number()
		}
	}
	return nil, errJSONSyntax
}

func (d *jsonDecoder) literal(word string, v goja.Value) (goja.Value, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return nil, errJSONSyntax
	}
	d.pos += len(word)
	return v, nil
}

func (d *jsonDecoder) array() (goja.Value, error) {
	d.pos++ // '['
	// Elements of nested arrays share d.items as a stack.
	base := len(d.items)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return d.rt.NewArray(), nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.items = append(d.items, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errJSONSyntax
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			a := d.rt.NewArray(d.items[base:]...)
			clear(d.items[base:])
			d.items = d.items[:base]
			return a, nil
		default:
			return nil, errJSONSyntax
		}
	}
}

// string decodes the string starting at the opening quote.
func (d *jsonDecoder) string() (string, error) {
	d.pos++ // '"'
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := string(d.data[start:d.pos])
			d.pos++
			return s, nil
		case c == '\\':
			return d.escapedString(start)
		case c < 0x20:
			return "", errJSONSyntax
		}
		d.pos++
	}
	return "", errJSONSyntax
}

// escapedString finishes a string that holds escapes.
func (d *jsonDecoder) escapedString(start int) (string, error) {
	b := append(d.buf[:0], d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = b
			return string(b), nil
		case c < 0x20:
			return "", errJSONSyntax
		case c != '\\':
			b = append(b, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return "", errJSONSyntax
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", errJSONSyntax
			}
			if utf16.IsSurrogate(r) {
				// Only a proper pair is handled here; a lone surrogate
				// (legal in a JavaScript string) is left to JSON.parse.
				if r >= 0xdc00 || len(d.data)-d.pos < 6 || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
					return "", errJSONSlowPath
				}
				d.pos += 2
				r2, ok := d.hex4()
				if !ok || r2 < 0xdc00 || r2 > 0xdfff {
					return "", errJSONSlowPath
				}
				r = utf16.DecodeRune(r, r2)
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errJSONSyntax
		}
	}
	return "", errJSONSyntax
}

// hex4 reads the four hex digits of a \u escape.
func (d *jsonDecoder) hex4() (rune, bool) {
	r, ok := hex4At(d.data, d.pos)
	if ok {
		d.pos += 4
	}
	return r, ok
}

// number decodes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) number() (goja.Value, error) {
	start := d.pos
	data := d.data
	if data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(data) && data[d.pos] >= '0' && data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	intStart := d.pos
	n := digits()
	if n == 0 || n > 1 && data[intStart] == '0' {
		return nil, errJSONSyntax
	}
	integer := true
	if d.pos < len(data) && data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, errJSONSyntax
		}
		integer = false
	}
	if d.pos < len(data) && (data[d.pos] == 'e' || data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(data) && (data[d.pos] == '+' || data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, errJSONSyntax
		}
		integer = false
	}
	text := string(data[start:d.pos])
	if integer && n <= 15 {
		i, err := strconv.ParseInt(text, 10, 64)
		if err == nil && !(i == 0 && data[start] == '-') { // -0 is a float
			return d.rt.ToValue(i), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, errJSONSlowPath // out of range: JSON.parse decides
	}
	return d.rt.ToValue(f), nil
}

// jsonTooDeep reports whether a document nests arrays and objects deeper
// than maxJSONDepth (brackets inside strings do not count).
func jsonTooDeep[T string | []byte](s T) bool {
	depth, inString, escaped := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > maxJSONDepth {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}

// needsJSONGuard reports whether the request could hand a script a string
// nested deeper than maxJSONDepth: only if the body, a header or the query
// holds that many brackets, or escapes ("\u005b", "%5B") that decode to
// brackets. Guarding JSON.parse costs more than the rest of a match
// script's setup, so it is done only when needed.
func needsJSONGuard(req *Request) bool {
	n := countJSONRisk(req.Body)
	for _, v := range req.Headers {
		n += countJSONRisk(v)
	}
	for _, vs := range req.Query {
		for _, v := range vs {
			n += countJSONRisk(v)
		}
	}
	return n > maxJSONDepth
}

// countJSONRisk counts the bytes of s that are, or may decode to, brackets.
func countJSONRisk[T string | []byte](s T) int {
	if len(s) <= maxJSONDepth/4 {
		return len(s) // too short to matter alone; not worth scanning
	}
	b := []byte(s)
	n := 0
	for _, c := range []byte("[{\\%") {
		n += bytes.Count(b, []byte{c})
	}
	return n
}

// guardJSONParse replaces the runtime's JSON.parse with one that refuses
// (with a SyntaxError) a document nested deeper than maxJSONDepth before
// goja's parser could exhaust the stack on it; see maxJSONDepth.
func (r *run) guardJSONParse() {
	j, ok := r.rt.Get("JSON").(*goja.Object)
	if !ok {
		return
	}
	orig, ok := goja.AssertFunction(j.Get("parse"))
	if !ok {
		return
	}
	guarded := r.rt.ToValue(func(call goja.FunctionCall) goja.Value {
		if jsonTooDeep(call.Argument(0).String()) {
			panic(r.newError("SyntaxError", "JSON.parse: nesting deeper than "+strconv.Itoa(maxJSONDepth)+" levels"))
		}
		v, err := orig(call.This, call.Arguments...)
		if err != nil {
			panic(err) // re-thrown as it was: exception, interrupt or stack overflow
		}
		return v
	}).(*goja.Object)
	guarded.DefineDataProperty("name", r.rt.ToValue("parse"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	guarded.DefineDataProperty("length", r.rt.ToValue(2), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	j.DefineDataProperty("parse", guarded, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// newError creates a JavaScript error of the named built-in constructor.
func (r *run) newError(ctor, msg string) *goja.Object {
	c, ok := r.rt.Get(ctor).(*goja.Object)
	if ok {
		if o, err := r.rt.New(c, r.rt.ToValue(msg)); err == nil {
			return o
		}
	}
	return r.rt.NewTypeError("%s", msg)
}
