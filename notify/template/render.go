package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/switchyard-dev/switchyard/internal/jsonesc"
)

type mode uint8

const (
	modeJSON mode = iota
	modeText
	modeURL
	modeRaw
)

// maxDepth bounds the nesting of data values, so a cyclic map is an error
// rather than a crash.
const maxDepth = 1000

var errTooDeep = errors.New("data value nested too deeply (a cycle?)")

// JSON renders a JSON body. A placeholder inside a JSON string literal of
// the template gets its value JSON-escaped without quotes (objects and
// arrays as compact JSON text; null or a missing data path as nothing). A
// placeholder outside string literals gets a JSON value: strings quoted,
// numbers, bools, objects and arrays as JSON, null or a missing path as
// null; {{timestamp}} is a number. The result is valid JSON, or an error
// says where it is not. An empty template renders an empty body.
func (t *Template) JSON(v Vars) ([]byte, error) {
	if t.src == "" {
		return []byte{}, nil
	}
	for i := range t.segs {
		s := &t.segs[i]
		if s.kind != kindLiteral && s.state >= inEscape {
			line, col := position(t.src, s.pos)
			return nil, fmt.Errorf("line %d, col %d (offset %d): placeholder inside a JSON escape sequence (after a backslash)", line, col, s.pos)
		}
	}
	b := make([]byte, 0, t.estimate(&v))
	b, err := t.render(b, &v, modeJSON)
	if err != nil {
		return nil, err
	}
	if !t.knownValid && !json.Valid(b) {
		return nil, t.invalid(b, &v)
	}
	return b, nil
}

// Text renders an HTTP header value: values as text (objects and arrays
// as compact JSON, null as nothing), then every ASCII control character
// but tab (CR, LF, NUL, DEL, ...) removed from the result.
func (t *Template) Text(v Vars) string {
	b := make([]byte, 0, t.estimate(&v))
	b, _ = t.render(b, &v, modeText)
	n := 0
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			continue
		}
		b[n] = c
		n++
	}
	return string(b[:n])
}

// URL renders a URL: values query-escaped (as url.QueryEscape does) where
// they land; the literal text as written.
func (t *Template) URL(v Vars) string {
	b := make([]byte, 0, t.estimate(&v))
	b, _ = t.render(b, &v, modeURL)
	return string(b)
}

// Raw renders values as text (objects and arrays as compact JSON) with
// nothing escaped or removed: for bodies that are not JSON.
func (t *Template) Raw(v Vars) string {
	b := make([]byte, 0, t.estimate(&v))
	b, _ = t.render(b, &v, modeRaw)
	return string(b)
}

// MaxRendered bounds a rendered body: an event of up to 2 MiB repeated by
// a template's placeholders could otherwise make one attempt's body
// gigabytes long.
const MaxRendered = 8 << 20

// ErrTooLarge is a rendering that passed MaxRendered.
var ErrTooLarge = errors.New("the rendered body is too large")

// estimate guesses the rendered size.
func (t *Template) estimate(v *Vars) int {
	n := t.litLen
	for i := range t.segs {
		s := &t.segs[i]
		switch s.kind {
		case kindLiteral:
		case kindData:
			n += 32
		default:
			n += len(v.str(s.kind)) + 8
		}
	}
	return n
}

func (v *Vars) str(k kind) string {
	switch k {
	case kindID:
		return v.ID
	case kindType:
		return v.Type
	case kindTitle:
		return v.Title
	case kindSubTitle:
		return v.SubTitle
	case kindMessage:
		return v.Message
	case kindTime:
		return v.Time
	case kindTimestamp:
		return v.Timestamp
	case kindSign:
		return v.Sign
	case kindLogo:
		return v.Logo
	case kindImage:
		return v.Image
	}
	return ""
}

// render appends the template rendered in mode m to b. In Text, URL and
// Raw modes a value that cannot be encoded renders as nothing, and the
// error is only returned.
func (t *Template) render(b []byte, v *Vars, m mode) ([]byte, error) {
	var firstErr error
	for i := range t.segs {
		if len(b) > MaxRendered {
			// A template that repeats a large value many times: stop
			// before it costs more memory than any receiver takes.
			return b[:0], fmt.Errorf("%w: over %d MiB at placeholder %d of %d", ErrTooLarge, MaxRendered>>20, i, len(t.segs))
		}
		s := &t.segs[i]
		switch s.kind {
		case kindLiteral:
			b = append(b, s.lit...)
		case kindData:
			val, ok := lookup(v.Data, s.path)
			if !ok {
				val = nil
			}
			var err error
			b, err = appendValue(b, val, m, s.state != outside)
			if err != nil {
				if m == modeJSON {
					return nil, fmt.Errorf("{{%s}}: %w", s.name(), err)
				}
				if firstErr == nil {
					firstErr = err
				}
			}
		case kindTimestamp:
			if m == modeJSON && s.state == outside && isJSONNumber(v.Timestamp) {
				b = append(b, v.Timestamp...)
				break
			}
			fallthrough
		default:
			b = appendString(b, v.str(s.kind), m, s.state != outside)
		}
	}
	return b, firstErr
}

func (s *segment) name() string {
	n := "data"
	for _, p := range s.path {
		n += "." + p
	}
	return n
}

// lookup walks path from data. Keys of []any are decimal indexes.
func lookup(data map[string]any, path []string) (any, bool) {
	if data == nil {
		return nil, false
	}
	var cur any = data
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[p]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) || (len(p) > 1 && p[0] == '0') || p[0] == '+' {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// appendString appends a string value in mode m; inStr says the JSON
// template has it inside a string literal.
func appendString(b []byte, s string, m mode, inStr bool) []byte {
	switch m {
	case modeJSON:
		if inStr {
			return appendEscaped(b, s)
		}
		b = append(b, '"')
		b = appendEscaped(b, s)
		return append(b, '"')
	case modeURL:
		return appendQueryEscape(b, s)
	}
	return append(b, s...)
}

// appendValue appends a data value in mode m.
func appendValue(b []byte, val any, m mode, inStr bool) ([]byte, error) {
	switch x := val.(type) {
	case nil:
		if m == modeJSON && !inStr {
			b = append(b, "null"...)
		}
		return b, nil
	case string:
		return appendString(b, x, m, inStr), nil
	case json.Number:
		if !isJSONNumber(string(x)) { // not a number: a string
			return appendString(b, string(x), m, inStr), nil
		}
		if m == modeURL {
			return appendQueryEscape(b, string(x)), nil
		}
		return append(b, x...), nil
	case float64, float32, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		var arr [32]byte
		text, _ := appendJSON(arr[:0], val, 0)
		if string(text) == "null" { // NaN, ±Inf
			return appendValue(b, nil, m, inStr)
		}
		if m == modeURL { // only the '+' of an exponent needs escaping
			return appendQueryEscape(b, string(text)), nil // no allocation: the conversion does not escape
		}
		return append(b, text...), nil
	}
	// Objects, arrays and other types: compact JSON text.
	if m == modeJSON && !inStr || m == modeText || m == modeRaw {
		n := len(b)
		b, err := appendJSON(b, val, 0)
		if err != nil {
			return b[:n], err
		}
		return b, nil
	}
	text, err := appendJSON(nil, val, 0)
	if err != nil {
		return b, err
	}
	if m == modeURL {
		return appendQueryEscape(b, string(text)), nil
	}
	return appendEscaped(b, string(text)), nil
}

// appendJSON appends val as compact JSON, maps with sorted keys, HTML
// characters not escaped. NaN and ±Inf are null.
func appendJSON(b []byte, val any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, errTooDeep
	}
	switch x := val.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		b = append(b, '"')
		b = appendEscaped(b, x)
		return append(b, '"'), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uintptr:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case json.Number:
		if !isJSONNumber(string(x)) {
			return b, fmt.Errorf("invalid number %q", string(x))
		}
		return append(b, x...), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = appendEscaped(b, k)
			b = append(b, '"', ':')
			var err error
			if b, err = appendJSON(b, x[k], depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	j, err := json.Marshal(val)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// appendFloat formats f as encoding/json does; NaN and ±Inf are null.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 → e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// isJSONNumber says whether s is a JSON number.
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}

// appendEscaped appends s escaped for the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte { return jsonesc.Append(b, s, false) }

// appendQueryEscape appends s escaped as url.QueryEscape does.
func appendQueryEscape(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
		}
	}
	return b
}

// invalid explains why rendered body b is not valid JSON: the offset of
// the syntax error, an excerpt, and where that is in the template.
func (t *Template) invalid(b []byte, v *Vars) error {
	var raw json.RawMessage
	err := json.Unmarshal(b, &raw)
	off := len(b)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = int(se.Offset)
	}
	msg := "syntax error"
	if err != nil {
		msg = err.Error()
	}
	// Offset counts the offending byte; point at it.
	at := off
	if at > 0 && se != nil && msg != "unexpected end of JSON input" {
		at--
	}
	lo, hi := max(0, at-20), min(len(b), at+20)
	where := ""
	if pos, ok := t.sourcePos(at, v); ok {
		line, col := position(t.src, pos)
		where = fmt.Sprintf(" (template line %d, col %d)", line, col)
	}
	return fmt.Errorf("rendered body is not valid JSON: %s at offset %d%s, near %#q", msg, at, where, b[lo:hi])
}

// sourcePos maps an offset in the rendered JSON body back to the
// template.
func (t *Template) sourcePos(at int, v *Vars) (int, bool) {
	var b []byte
	for i := range t.segs {
		s := &t.segs[i]
		start := len(b)
		one := Template{segs: t.segs[i : i+1]}
		b, _ = one.render(b, v, modeJSON)
		if at < len(b) || i == len(t.segs)-1 {
			if s.kind == kindLiteral {
				return s.pos + min(at-start, len(s.lit)), true
			}
			return s.pos, true
		}
	}
	return 0, false
}
