// Package filter owns the language of endpoint filters: which events an
// endpoint is delivered, beyond its event types. A filter is a JSON
// object of dotted paths into the event, each to a value or to an object
// of operators:
//
//	{"data.severity": {"$in": ["critical", "major"]}, "data.host": {"$regex": "^db-"}}
//
// Parse checks a filter and compiles it once (when an endpoint is saved
// or loaded); Match then tests an event without encoding anything.
//
// Semantics (docs/notifications.md, "Filters"):
//   - Every path must match (AND); several operators on one path must all
//     hold (AND). An empty or absent filter matches every event.
//   - A plain value means $eq. Operands of $eq, $ne, $in and $nin are
//     strings, numbers, booleans or null; $gt, $gte, $lt, $lte take a
//     number or a string; $exists a boolean; $regex a Go (RE2) regular
//     expression, unanchored.
//   - A path starts at one of the event's fields: id, type, time (RFC 3339),
//     title, sub_title, message, logo, image, source, or data; only data
//     has fields below it (data.host, data.labels.env). A segment that is
//     a whole number indexes an array (data.items.0.name). An empty text
//     field of the event counts as missing.
//   - A missing path matches only $exists: false, $ne and $nin.
//   - Types are strict: the string "5" does not equal the number 5, and a
//     comparison between a number and a string is false. Numbers compare
//     as numbers, strings by their bytes (lexicographically).
//   - When the value at a path is an array, $eq, $in, $gt, $gte, $lt, $lte
//     and $regex match if any element does, and $ne and $nin if no element
//     equals (as in MongoDB).
package filter

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Limits of a filter.
const (
	MaxConditions = 50   // operators in a whole filter (a plain value is one)
	MaxPath       = 256  // characters of a path
	MaxDepth      = 16   // segments of a path
	MaxList       = 200  // values of one $in or $nin
	MaxString     = 1024 // characters of a string operand
	MaxRegex      = 512  // characters of a $regex
	// MaxRegexInput is the longest value a $regex is run on (bytes); a
	// longer one does not match.
	MaxRegexInput = 64 << 10
	// MaxRegexProgram bounds a $regex's compiled program (instructions),
	// as a schema's patterns are bounded.
	MaxRegexProgram = 10_000
)

// Roots are the event fields a path may start with.
var roots = []string{"id", "type", "time", "title", "sub_title", "message", "logo", "image", "source", "data"}

// Operators, in the order the docs list them.
var operators = []string{"$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists", "$regex"}

// Filter is a compiled filter. The nil *Filter matches every event.
type Filter struct {
	conds []cond
}

// cond is one path and what must hold of the value there.
type cond struct {
	root string   // the event field
	segs []string // below data
	ops  []op
}

type opKind int

const (
	opEq opKind = iota
	opNe
	opIn
	opNin
	opGt
	opGte
	opLt
	opLte
	opExists
	opRegex
)

// op is one operator with its operand.
type op struct {
	kind   opKind
	val    scalar   // $eq, $ne, $gt...
	set    []scalar // $in, $nin
	exists bool
	re     *regexp.Regexp
}

type scalarKind int

const (
	kNull scalarKind = iota
	kString
	kNumber
	kBool
)

// scalar is a JSON string, number, boolean or null.
type scalar struct {
	kind scalarKind
	s    string
	n    float64
	b    bool
}

// Error is a filter that cannot be used: Path names where (empty for the
// filter as a whole).
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return strconv.Quote(e.Path) + ": " + e.Reason
}

func errf(path, format string, args ...any) error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Parse checks a filter as the API or a manifest gives it (decoded JSON:
// maps, slices, strings, float64 or other numbers, booleans, nil) and
// compiles it. An empty filter compiles to nil, which matches everything.
// Paths are checked in sorted order, so the first error is always the
// same one.
func Parse(f map[string]any) (*Filter, error) {
	if len(f) == 0 {
		return nil, nil
	}
	out := &Filter{}
	n := 0
	for _, path := range slices.Sorted(maps.Keys(f)) {
		c, err := parsePath(path)
		if err != nil {
			return nil, err
		}
		if c.ops, err = parseOps(path, f[path]); err != nil {
			return nil, err
		}
		if n += len(c.ops); n > MaxConditions {
			return nil, errf("", "a filter may hold at most %d conditions", MaxConditions)
		}
		out.conds = append(out.conds, c)
	}
	return out, nil
}

func parsePath(path string) (cond, error) {
	if strings.HasPrefix(path, "$") {
		return cond{}, errf(path, "is not a path: keys are dotted paths into the event (data.severity, type); operators go inside a path's object, and $and/$or are not supported (every path must match)")
	}
	if len(path) > MaxPath {
		return cond{}, errf(path[:40]+"…", "a path may be at most %d characters", MaxPath)
	}
	segs := strings.Split(path, ".")
	if len(segs) > MaxDepth {
		return cond{}, errf(path, "a path may have at most %d parts", MaxDepth)
	}
	if slices.Contains(segs, "") {
		return cond{}, errf(path, "a path has no empty parts: write data.host, not data..host or .host")
	}
	if !slices.Contains(roots, segs[0]) {
		return cond{}, errf(path, "a path starts with one of the event's fields: %s (the publisher's fields are under data: data.%s)", strings.Join(roots, ", "), path)
	}
	if segs[0] != "data" && len(segs) > 1 {
		return cond{}, errf(path, "%s is text and has no fields; only data has (data.host)", segs[0])
	}
	return cond{root: segs[0], segs: segs[1:]}, nil
}

// parseOps reads a path's value: a plain value ($eq) or an object of
// operators.
func parseOps(path string, v any) ([]op, error) {
	m, ok := v.(map[string]any)
	if !ok {
		if _, isList := v.([]any); isList {
			return nil, errf(path, "a plain value must be a string, number, boolean or null; to match one of several values use {\"$in\": [...]}")
		}
		s, err := toScalar(path, "a plain value", v)
		if err != nil {
			return nil, err
		}
		return []op{{kind: opEq, val: s}}, nil
	}
	if len(m) == 0 {
		return nil, errf(path, "an empty object; give a value or operators such as {\"$eq\": \"critical\"}")
	}
	var ops []op
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if !strings.HasPrefix(name, "$") {
			return nil, errf(path, "%q is not an operator (%s); to match a field of an object, use its dotted path (%s.%s)", name, strings.Join(operators, ", "), path, name)
		}
		o, err := parseOp(path, name, m[name])
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func parseOp(path, name string, v any) (op, error) {
	switch name {
	case "$eq", "$ne":
		s, err := toScalar(path, name, v)
		kind := opEq
		if name == "$ne" {
			kind = opNe
		}
		return op{kind: kind, val: s}, err
	case "$in", "$nin":
		list, ok := v.([]any)
		if !ok {
			return op{}, errf(path, "%s needs an array of values, got %s", name, kindOf(v))
		}
		if len(list) > MaxList {
			return op{}, errf(path, "%s may list at most %d values, got %d", name, MaxList, len(list))
		}
		o := op{kind: opIn}
		if name == "$nin" {
			o.kind = opNin
		}
		for _, x := range list {
			s, err := toScalar(path, name+" value", x)
			if err != nil {
				return op{}, err
			}
			o.set = append(o.set, s)
		}
		return o, nil
	case "$gt", "$gte", "$lt", "$lte":
		s, err := toScalar(path, name, v)
		if err != nil {
			return op{}, err
		}
		if s.kind != kNumber && s.kind != kString {
			return op{}, errf(path, "%s needs a number or a string, got %s", name, kindOf(v))
		}
		kind := map[string]opKind{"$gt": opGt, "$gte": opGte, "$lt": opLt, "$lte": opLte}[name]
		return op{kind: kind, val: s}, nil
	case "$exists":
		b, ok := v.(bool)
		if !ok {
			return op{}, errf(path, "$exists needs true or false, got %s", kindOf(v))
		}
		return op{kind: opExists, exists: b}, nil
	case "$regex":
		s, ok := v.(string)
		if !ok {
			return op{}, errf(path, "$regex needs a string (a Go regular expression), got %s", kindOf(v))
		}
		if len(s) > MaxRegex {
			return op{}, errf(path, "$regex may be at most %d characters", MaxRegex)
		}
		// Go's regexp expands counted repeats ("[ab]{1000}" is a
		// thousand steps), and a match costs the program's size times
		// the value's length: measure the program before compiling.
		parsed, err := syntax.Parse(s, syntax.Perl)
		if err != nil {
			return op{}, errf(path, "$regex: %v", err)
		}
		prog, err := syntax.Compile(parsed.Simplify())
		if err != nil {
			return op{}, errf(path, "$regex: %v", err)
		}
		if len(prog.Inst) > MaxRegexProgram {
			return op{}, errf(path, "$regex is too large once its repeats are expanded (%d instructions, at most %d)", len(prog.Inst), MaxRegexProgram)
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return op{}, errf(path, "$regex: %v", err)
		}
		return op{kind: opRegex, re: re}, nil
	}
	return op{}, errf(path, "unknown operator %q; the operators are %s", name, strings.Join(operators, ", "))
}

// toScalar reads an operand that must be a string, number, boolean or
// null.
func toScalar(path, what string, v any) (scalar, error) {
	switch x := v.(type) {
	case nil:
		return scalar{kind: kNull}, nil
	case string:
		if len(x) > MaxString {
			return scalar{}, errf(path, "%s may be at most %d characters", what, MaxString)
		}
		return scalar{kind: kString, s: x}, nil
	case bool:
		return scalar{kind: kBool, b: x}, nil
	}
	if n, ok := number(v); ok {
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return scalar{}, errf(path, "%s must be a finite number", what)
		}
		return scalar{kind: kNumber, n: n}, nil
	}
	return scalar{}, errf(path, "%s must be a string, number, boolean or null, got %s", what, kindOf(v))
}

// number reads any Go number a decoder or a script may give.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// Match reports whether ev passes the filter. The nil filter passes
// every event.
func (f *Filter) Match(ev *storage.Event) bool {
	if f == nil {
		return true
	}
	for i := range f.conds {
		c := &f.conds[i]
		v, ok := c.lookup(ev)
		for j := range c.ops {
			if !c.ops[j].holds(v, ok) {
				return false
			}
		}
	}
	return true
}

// lookup finds the value at the condition's path; ok is false when it is
// missing.
func (c *cond) lookup(ev *storage.Event) (any, bool) {
	var s string
	switch c.root {
	case "data":
		if ev.Data == nil {
			return nil, false
		}
		var cur any = ev.Data
		for _, seg := range c.segs {
			switch x := cur.(type) {
			case map[string]any:
				v, ok := x[seg]
				if !ok {
					return nil, false
				}
				cur = v
			case []any:
				i, err := strconv.Atoi(seg)
				if err != nil || i < 0 || i >= len(x) {
					return nil, false
				}
				cur = x[i]
			default:
				return nil, false
			}
		}
		return cur, true
	case "id":
		s = ev.ID
	case "type":
		s = ev.Type
	case "time":
		if ev.Time.IsZero() {
			return nil, false
		}
		s = ev.Time.UTC().Format(time.RFC3339Nano)
	case "title":
		s = ev.Title
	case "sub_title":
		s = ev.SubTitle
	case "message":
		s = ev.Message
	case "logo":
		s = ev.Logo
	case "image":
		s = ev.Image
	case "source":
		s = ev.Source
	}
	if s == "" {
		return nil, false
	}
	return s, true
}

// holds tests one operator against the value at its path (present says
// whether there is one).
func (o *op) holds(v any, present bool) bool {
	switch o.kind {
	case opExists:
		return present == o.exists
	case opNe:
		return !present || !anyElem(v, func(x any) bool { return equal(x, o.val) })
	case opNin:
		return !present || !anyElem(v, func(x any) bool { return inSet(x, o.set) })
	}
	if !present {
		return false
	}
	switch o.kind {
	case opEq:
		return anyElem(v, func(x any) bool { return equal(x, o.val) })
	case opIn:
		return anyElem(v, func(x any) bool { return inSet(x, o.set) })
	case opRegex:
		return anyElem(v, func(x any) bool {
			s, ok := x.(string)
			// RE2 is linear in the input, but a large pattern over a large
			// value still costs seconds; past MaxRegexInput, no match.
			return ok && len(s) <= MaxRegexInput && o.re.MatchString(s)
		})
	default: // $gt, $gte, $lt, $lte
		return anyElem(v, func(x any) bool {
			c, ok := compare(x, o.val)
			if !ok {
				return false
			}
			switch o.kind {
			case opGt:
				return c > 0
			case opGte:
				return c >= 0
			case opLt:
				return c < 0
			default:
				return c <= 0
			}
		})
	}
}

// anyElem applies test to v, or, when v is an array, to each of its
// elements (an operand is never an array, so the array itself never
// equals one).
func anyElem(v any, test func(any) bool) bool {
	if list, ok := v.([]any); ok {
		return slices.ContainsFunc(list, test)
	}
	return test(v)
}

func inSet(v any, set []scalar) bool {
	for _, s := range set {
		if equal(v, s) {
			return true
		}
	}
	return false
}

// equal compares an event value with an operand, types strictly.
func equal(v any, s scalar) bool {
	switch x := v.(type) {
	case nil:
		return s.kind == kNull
	case string:
		return s.kind == kString && x == s.s
	case bool:
		return s.kind == kBool && x == s.b
	}
	if n, ok := number(v); ok {
		return s.kind == kNumber && n == s.n
	}
	return false
}

// compare orders an event value against an operand of the same type
// (number or string); ok is false for any other pair.
func compare(v any, s scalar) (int, bool) {
	if x, ok := v.(string); ok {
		if s.kind != kString {
			return 0, false
		}
		return strings.Compare(x, s.s), true
	}
	n, ok := number(v)
	if !ok || s.kind != kNumber || math.IsNaN(n) {
		return 0, false
	}
	switch {
	case n < s.n:
		return -1, true
	case n > s.n:
		return 1, true
	}
	return 0, true
}
