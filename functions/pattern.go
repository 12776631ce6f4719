package functions

import (
	"fmt"
	"strings"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/storage"
)

// Path patterns. A function's uri is split on "/" into segments; a
// segment "{name}" matches any one non-empty segment and gives its value
// as PATH_PARAMS.name, and a last segment "*" matches the non-empty rest
// of the URI, slashes included, as PATH_PARAMS["*"]. Segments are matched
// on the URI as recorded (decoded: %2F is a "/" like any other).
const (
	// RestParam is the PATH_PARAMS key of the rest a final "*" matched.
	RestParam = "*"
	// maxParamName bounds a {name}.
	maxParamName = 64
	// maxSegments bounds the segments of a uri: a pattern is walked
	// segment by segment for every message.
	maxSegments = 64
)

// segment is one segment of a pattern: a literal, or a parameter.
type segment struct {
	lit   string // the literal text; "" for a parameter
	param string // the parameter's name; "" for a literal
}

// pattern is a parsed uri with at least one parameter or a final "*".
type pattern struct {
	raw  string
	segs []segment // without the final "*"
	star bool
	lits int // literal segments
}

// parsePattern checks a normalised uri and parses it when it is a
// pattern (nil for an exact uri). Its errors say which segment is wrong
// and why.
func parsePattern(uri string) (*pattern, error) {
	parts := strings.Split(uri, "/")
	if len(parts) > maxSegments {
		return nil, field.Invalid("uri has %d segments, at most %d are allowed", len(parts), maxSegments)
	}
	p := &pattern{raw: uri}
	seen := map[string]bool{}
	for i, s := range parts {
		switch {
		case s == "":
			return nil, field.Invalid("uri %q has an empty segment (two slashes in a row)", uri)
		case s == RestParam:
			if i != len(parts)-1 {
				return nil, field.Invalid("uri %q: \"*\" may only be the whole last segment (it matches the rest of the URI)", uri)
			}
			p.star = true
		case strings.Contains(s, RestParam):
			return nil, field.Invalid("uri %q: segment %q holds a \"*\"; \"*\" may only be the whole last segment", uri, s)
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			if err := paramName(uri, name); err != nil {
				return nil, err
			}
			if seen[name] {
				return nil, field.Invalid("uri %q names the parameter {%s} twice", uri, name)
			}
			seen[name] = true
			p.segs = append(p.segs, segment{param: name})
		case strings.ContainsAny(s, "{}"):
			return nil, field.Invalid("uri %q: segment %q holds a brace; a parameter is a whole segment, like {repo}", uri, s)
		default:
			p.segs = append(p.segs, segment{lit: s})
			p.lits++
		}
	}
	if !p.star && len(seen) == 0 {
		return nil, nil
	}
	return p, nil
}

// paramName checks the name of a {name} segment: an identifier, so that
// PATH_PARAMS.name works in a script.
func paramName(uri, name string) error {
	if name == "" {
		return field.Invalid("uri %q has an empty parameter {}; name it, like {repo}", uri)
	}
	if len(name) > maxParamName {
		return field.Invalid("uri %q: parameter names are at most %d characters", uri, maxParamName)
	}
	for i, c := range name {
		letter := c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return field.Invalid("uri %q: parameter {%s} is not an identifier (letters, digits, _ and $, not starting with a digit)", uri, name)
		}
	}
	return nil
}

// match reports whether the URI's segments match p, and if so its
// parameters.
func (p *pattern) match(parts []string) (map[string]string, bool) {
	n := len(p.segs)
	if len(parts) < n || !p.star && len(parts) != n || p.star && len(parts) == n {
		return nil, false
	}
	for i, s := range p.segs {
		if parts[i] == "" || s.param == "" && s.lit != parts[i] {
			return nil, false
		}
	}
	params := make(map[string]string, n-p.lits+1)
	for i, s := range p.segs {
		if s.param != "" {
			params[s.param] = parts[i]
		}
	}
	if p.star {
		if params[RestParam] = strings.Join(parts[n:], "/"); params[RestParam] == "" {
			return nil, false
		}
	}
	return params, true
}

// before reports whether p takes precedence over q where both match: more
// literal segments first; then a pattern without "*" over one with; then
// more segments; then, at the first position where one has a literal and
// the other a parameter, the literal; then the uri's text, byte by byte.
// Patterns saved through the catalogue never overlap, so these rules
// decide only between patterns saved before overlap was refused, or at
// once on two nodes of a cluster.
func (p *pattern) before(q *pattern) bool {
	if p.lits != q.lits {
		return p.lits > q.lits
	}
	if p.star != q.star {
		return !p.star
	}
	if len(p.segs) != len(q.segs) {
		return len(p.segs) > len(q.segs)
	}
	for i, s := range p.segs {
		if pl, ql := s.param == "", q.segs[i].param == ""; pl != ql {
			return pl
		}
	}
	return p.raw < q.raw
}

// overlaps reports whether some URI matches both p and q.
func (p *pattern) overlaps(q *pattern) bool {
	a, b := p, q
	if len(a.segs) > len(b.segs) {
		a, b = b, a
	}
	// a has no more fixed segments than b. Without a "*" on either, both
	// must have as many. A "*" on a alone covers b's longer fixed part (b
	// must have one: "*" needs a non-empty rest); a "*" on b alone needs
	// more segments than a ever matches.
	switch {
	case !a.star && !b.star:
		if len(a.segs) != len(b.segs) {
			return false
		}
	case a.star && !b.star:
		if len(b.segs) == len(a.segs) {
			return false
		}
	case !a.star && b.star:
		return false
	}
	for i, s := range a.segs {
		t := b.segs[i]
		if s.param == "" && t.param == "" && s.lit != t.lit {
			return false
		}
	}
	return true
}

// example is a URI that both p and q match, for an error to show; p and
// q must overlap.
func (p *pattern) example(q *pattern) string {
	a, b := p, q
	if len(a.segs) > len(b.segs) {
		a, b = b, a
	}
	parts := make([]string, 0, len(b.segs)+1)
	for i, t := range b.segs {
		lit := t.lit
		if i < len(a.segs) && a.segs[i].lit != "" {
			lit = a.segs[i].lit
		}
		if lit == "" {
			lit = "x"
		}
		parts = append(parts, lit)
	}
	if b.star {
		parts = append(parts, "x")
	}
	return strings.Join(parts, "/")
}

// checkOverlap refuses f, when it is active with a pattern uri, if some
// URI could match both it and the pattern of another active function of
// its provider: which of them runs would depend on precedence rules the
// sender cannot see. Functions with the very same uri are allowed (they
// all run), and so are an exact uri and a pattern (the exact one wins).
// Inactive functions are not checked, so that a replacement can be
// prepared before the one it replaces is switched off.
func checkOverlap(f storage.Function, all []storage.Function) error {
	if !f.Active {
		return nil
	}
	p, err := parsePattern(f.URI)
	if err != nil || p == nil {
		return err
	}
	for _, o := range all {
		if o.ID == f.ID || !o.Active || o.ProviderID != f.ProviderID || o.URI == f.URI {
			continue
		}
		q, err := parsePattern(o.URI)
		if err != nil || q == nil || !p.overlaps(q) {
			continue
		}
		return fmt.Errorf("%w: uri %q overlaps the pattern %q of function %q (%s) of the same provider: both would match %q; give them the same uri to run both, or make one of them more specific", storage.ErrConflict, f.URI, o.URI, o.Name, o.ID, p.example(q))
	}
	return nil
}

// CheckOverlap is the overlap check the catalogue makes before it saves
// f, for callers that check a set of functions before they send it
// (config as code's plan): f against all, ids telling records apart.
func CheckOverlap(f storage.Function, all []storage.Function) error {
	return checkOverlap(f, all)
}
