// Package template renders the templates of outbound endpoints: a body,
// header values and a URL with {{name}} placeholders filled from an event.
//
// A template is parsed once into literal text and placeholders, then
// rendered per delivery attempt in one of four modes: JSON (values escaped
// inside JSON string literals, JSON values elsewhere), Text (header values,
// control characters removed), URL (values query-escaped) and Raw (values
// as text, nothing escaped).
//
// presets.go holds the presets: ready-made endpoints for chat tools, each
// a body template with the verify and headers that go with it.
package template

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Vars are the values a template may name.
type Vars struct {
	ID, Type, Title, SubTitle, Message, Logo, Image string
	Time                                            string // RFC 3339
	Timestamp                                       string // Unix milliseconds, as text
	Sign                                            string
	// Data is decoded JSON: map[string]any, []any, string, float64, bool
	// and nil; json.Number and Go integer types are accepted too. Paths
	// walk map[string]any and []any only.
	Data map[string]any
}

// kind says which value a placeholder names.
type kind uint8

const (
	kindLiteral kind = iota
	kindID
	kindType
	kindTitle
	kindSubTitle
	kindMessage
	kindTime
	kindTimestamp
	kindSign
	kindLogo
	kindImage
	kindData
)

// names maps every accepted name to its kind; canonical gives the name
// Names reports.
var names = map[string]kind{
	"id": kindID, "type": kindType, "title": kindTitle,
	"subTitle": kindSubTitle, "sub_title": kindSubTitle,
	"message": kindMessage, "time": kindTime, "timestamp": kindTimestamp,
	"sign": kindSign, "logo": kindLogo, "image": kindImage, "data": kindData,
}

const knownNames = "id, type, title, subTitle (or sub_title), message, time, timestamp, sign, logo, image, data, data.<path>"

// jsonState is where the template's literal text stands in JSON terms
// when a placeholder comes.
type jsonState uint8

const (
	outside  jsonState = iota // not in a string literal
	inString                  // in a string literal
	inEscape                  // right after a backslash in a string literal
	inHex1                    // in \uXXXX, 1..4 hex digits to go
	inHex2
	inHex3
	inHex4
)

// segment is literal text (kind == kindLiteral) or a placeholder.
type segment struct {
	kind  kind
	lit   string   // literal text
	path  []string // kindData: the path below data
	pos   int      // byte offset in the source
	state jsonState
}

// Template is a parsed template. It is immutable and safe for concurrent
// use.
type Template struct {
	src    string
	segs   []segment
	names  []string
	litLen int
	// knownValid says JSON output is valid whatever the values: every
	// placeholder renders as one string token or inside a string, and
	// rendering with empty values gave valid JSON.
	knownValid bool
}

// ParseError is a template that does not parse, with where.
type ParseError struct {
	Offset    int // byte offset in the template
	Line, Col int // 1-based; Col counts characters
	Msg       string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, col %d (offset %d): %s", e.Line, e.Col, e.Offset, e.Msg)
}

func newParseError(src string, off int, format string, args ...any) *ParseError {
	line, col := position(src, off)
	return &ParseError{Offset: off, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// position gives the 1-based line and column (in characters) of byte
// offset off in src.
func position(src string, off int) (line, col int) {
	off = min(off, len(src))
	before := src[:off]
	line = 1 + strings.Count(before, "\n")
	if i := strings.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, 1 + utf8.RuneCountInString(before)
}

// Parse checks a template. Unknown names, an unclosed "{{" and an empty
// name are errors (a *ParseError) that give the position. An empty source
// is a valid template that renders "". In a run of braces ("{{{title}}}")
// the placeholder is the innermost pair; the rest is literal text.
func Parse(src string) (*Template, error) {
	t := &Template{src: src}
	state := outside
	seen := make(map[string]bool)
	addLit := func(s string, pos int) {
		if s == "" {
			return
		}
		t.segs = append(t.segs, segment{kind: kindLiteral, lit: s, pos: pos})
		t.litLen += len(s)
		state = scanJSON(state, s)
	}
	i := 0
	for {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			break
		}
		j += i
		for j+2 < len(src) && src[j+2] == '{' {
			j++
		}
		body := src[j+2:]
		k := strings.Index(body, "}}")
		if k < 0 {
			return nil, newParseError(src, j, `unclosed "{{": no "}}" follows`)
		}
		raw := body[:k]
		if o := strings.Index(raw, "{{"); o >= 0 {
			return nil, newParseError(src, j, `unclosed "{{": another "{{" comes before "}}"`)
		}
		name := strings.Trim(raw, " \t\r\n")
		nameOff := j + 2 + strings.Index(raw, name)
		if name == "" {
			return nil, newParseError(src, j, "empty name in %q", "{{"+raw+"}}")
		}
		seg, err := placeholder(name)
		if err != nil {
			return nil, newParseError(src, nameOff, "%s", err.Error())
		}
		addLit(src[i:j], i)
		seg.pos = j
		seg.state = state
		t.segs = append(t.segs, seg)
		canon := name
		if seg.kind == kindSubTitle {
			canon = "subTitle"
		}
		if !seen[canon] {
			seen[canon] = true
			t.names = append(t.names, canon)
		}
		i = j + 2 + k + 2
	}
	addLit(src[i:], i)
	t.knownValid = t.valueIndependent()
	return t, nil
}

// valueIndependent says whether the validity of the template's JSON output
// cannot depend on the values, and the output is valid. Then JSON skips
// checking it.
func (t *Template) valueIndependent() bool {
	if t.src == "" {
		return false
	}
	for i := range t.segs {
		s := &t.segs[i]
		switch {
		case s.kind == kindLiteral:
		case s.state >= inEscape:
			return false
		case s.state == outside && (s.kind == kindData || s.kind == kindTimestamp):
			return false // a value of any JSON kind
		}
	}
	b, err := t.render(nil, &Vars{}, modeJSON)
	return err == nil && json.Valid(b)
}

// placeholder checks a name and gives its segment.
func placeholder(name string) (segment, error) {
	if k, ok := names[name]; ok {
		return segment{kind: k}, nil
	}
	if rest, ok := strings.CutPrefix(name, "data."); ok {
		path := strings.Split(rest, ".")
		for _, p := range path {
			if p == "" {
				return segment{}, fmt.Errorf("empty key in data path %q", name)
			}
			if i := strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == '{' || r == '}' }); i >= 0 {
				return segment{}, fmt.Errorf("data path %q holds %q: keys must not hold spaces, control characters or braces", name, p[i:i+1])
			}
		}
		return segment{kind: kindData, path: path}, nil
	}
	for n := range names {
		if strings.EqualFold(n, name) {
			return segment{}, fmt.Errorf("unknown name %q (did you mean %q?)", name, canonical(n))
		}
	}
	if len(name) > 5 && strings.EqualFold(name[:5], "data.") {
		return segment{}, fmt.Errorf("unknown name %q (did you mean %q?)", name, "data."+name[5:])
	}
	return segment{}, fmt.Errorf("unknown name %q; known names: %s", name, knownNames)
}

func canonical(n string) string {
	if n == "sub_title" {
		return "subTitle"
	}
	return n
}

// scanJSON follows the string literals of JSON text s from state st.
func scanJSON(st jsonState, s string) jsonState {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch st {
		case outside:
			if c == '"' {
				st = inString
			}
		case inString:
			// Skip plain string content fast.
			for c != '"' && c != '\\' {
				i++
				if i == len(s) {
					return st
				}
				c = s[i]
			}
			if c == '"' {
				st = outside
			} else {
				st = inEscape
			}
		case inEscape:
			if c == 'u' {
				st = inHex4
			} else {
				st = inString
			}
		case inHex4, inHex3, inHex2:
			st--
		case inHex1:
			st = inString
		}
	}
	return st
}

// Names lists the distinct names the template uses, in order of first
// use. "sub_title" is reported as "subTitle"; data paths as written
// ("data.commits.0.id").
func (t *Template) Names() []string {
	return append([]string(nil), t.names...)
}

// String is the template's source.
func (t *Template) String() string { return t.src }
