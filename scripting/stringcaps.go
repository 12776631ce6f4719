package scripting

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/dop251/goja"
)

// spreadable is ECMAScript's IsConcatSpreadable: concat copies each index
// of such an object up to its length, Array or not. IsArray sees through
// a Proxy, which ClassName does not: the runtime's own Array.isArray,
// taken before the script runs, tells.
func (r *run) spreadable(o *goja.Object) bool {
	if v := o.GetSymbol(goja.SymIsConcatSpreadable); v != nil && !goja.IsUndefined(v) {
		return v.ToBoolean()
	}
	if r.isArray != nil {
		if v, err := r.isArray(goja.Undefined(), o); err == nil {
			return v.ToBoolean()
		}
	}
	return o.ClassName() == "Array"
}

// toString converts v as the built-ins do (it may run toString). goja's
// ToString gives a number or a boolean back as itself, not as a String.
func toString(v goja.Value) goja.String {
	sv := v.ToString()
	if s, ok := sv.(goja.String); ok {
		return s
	}
	return goja.StringFromUTF16(utf16.Encode([]rune(sv.String())))
}

// stopIfLate stops a built-in that calls back into Go (replace's and
// JSON.stringify's replacer) once the run's deadline has passed: the
// interrupt stops JavaScript only, and such a built-in may call back for
// seconds without running any. The run ends as a timeout (see runError);
// a script that catches the exception is interrupted at its next step.
func (r *run) stopIfLate() {
	if r.ctx.Err() != nil {
		panic(r.rt.NewGoError(errInterrupted))
	}
}

// checkSplit refuses a split that would give more than MaxArrayLength
// elements: split("") of a 32 Mi string built 1.6 GiB of elements in 3 s.
// For a string separator the pieces are counted; for a regular expression
// (whose matches cannot be counted without running it) a string longer
// than MaxArrayLength needs a limit.
func checkSplit(_ *run, call *goja.FunctionCall) string {
	n := stringLength(call.This)
	if n <= MaxArrayLength {
		return ""
	}
	if l := call.Argument(1); !goja.IsUndefined(l) && float64(uint32(l.ToInteger())) <= MaxArrayLength {
		return ""
	}
	pieces := n + 1
	switch sep := call.Argument(0).(type) {
	case *goja.Object:
		if s := sep.GetSymbol(goja.SymSplit); s == nil || goja.IsUndefined(s) || goja.IsNull(s) {
			pieces = float64(strings.Count(call.This.String(), sep.String()) + 1)
		}
	default:
		if goja.IsUndefined(sep) {
			return ""
		}
		if s := sep.String(); s != "" {
			pieces = float64(strings.Count(call.This.String(), s) + 1)
		}
	}
	if pieces > MaxArrayLength {
		return "String.prototype.split: " + formatCount(pieces) + " pieces (at most) are over Switchyard's limit of " + strconv.Itoa(MaxArrayLength) + " (give a limit, or split a shorter string)"
	}
	return ""
}

// checkReplace caps the string replace and replaceAll build at
// MaxStringLength. A replacement can make the result far longer than the
// string: s.replaceAll("", s) squares it, "$'" inserts the rest of the
// string at each match, a replacer function may return a long string each
// time. With a string pattern and a string replacement the result's
// length is computed in advance; otherwise the replacement is made a Go
// function that computes each match's text (ECMAScript's GetSubstitution,
// see substitute), adds it up, refuses the call once past the cap, and
// stops at the run's deadline, which an interrupt alone cannot do inside
// the built-in.
func checkReplace(all bool) func(*run, *goja.FunctionCall) string {
	name := "String.prototype.replace"
	if all {
		name += "All"
	}
	return func(r *run, call *goja.FunctionCall) string {
		for len(call.Arguments) < 2 {
			call.Arguments = append(call.Arguments, goja.Undefined())
		}
		over := func(n float64) string {
			return name + ": a string of " + formatCount(n) + " characters (at most) is over Switchyard's limit of " + strconv.Itoa(MaxStringLength)
		}
		thisLen := stringLength(call.This)
		pattern := call.Arguments[0]
		fn, isFn := goja.AssertFunction(call.Arguments[1])
		var repl goja.String
		if !isFn {
			repl = toString(call.Arguments[1])
			call.Arguments[1] = repl // converted once, here
			if _, isObj := pattern.(*goja.Object); !isObj {
				pat := pattern.String()
				s := call.This.String()
				count := 0.0
				switch {
				case !strings.Contains(s, pat):
				case !all:
					count = 1
				case pat == "":
					count = thisLen + 1
				default:
					count = float64(strings.Count(s, pat))
				}
				if n := thisLen + count*substitutionBound(repl, stringLength(pattern), thisLen); n > MaxStringLength {
					return over(n)
				}
				return ""
			}
			// A regular expression: left to goja if even a match at every
			// position could not reach the cap, and the string is short
			// enough for goja to go through it in well under a second (11
			// Mi matches took 1.2 s, past the deadline).
			if n := thisLen + (thisLen+1)*substitutionBound(repl, thisLen, thisLen); n <= MaxStringLength && thisLen <= 1<<20 {
				return ""
			}
		}
		total := thisLen
		call.Arguments[1] = r.fn(func(c goja.FunctionCall) goja.Value {
			r.stopIfLate()
			var s goja.String
			if isFn {
				v, err := fn(c.This, c.Arguments...)
				if err != nil {
					panic(err)
				}
				s = toString(v)
			} else {
				s = substitute(repl, c.Arguments)
			}
			if total += float64(s.Length()); total > MaxStringLength {
				panic(r.newError("RangeError", over(total)))
			}
			return s
		})
		return ""
	}
}

// substitutionBound is the longest text one match's replacement can give:
// "$`" and "$'" insert up to the whole string, "$&" and "$1"... a match.
func substitutionBound(repl goja.String, matchLen, thisLen float64) float64 {
	s := repl.String()
	n := float64(repl.Length())
	n += float64(strings.Count(s, "$`")+strings.Count(s, "$'")) * thisLen
	n += float64(strings.Count(s, "$")) * matchLen // $&, $1, $<name>
	return n
}

// substitute is ECMAScript's GetSubstitution: the text that replaces one
// match, given repl and the arguments a replacer function receives
// (matched, captures..., position, string[, groups]).
func substitute(repl goja.String, args []goja.Value) goja.String {
	n := len(args)
	var groups *goja.Object
	if n >= 3 {
		if o, ok := args[n-1].(*goja.Object); ok {
			groups, n = o, n-1
		}
	}
	if n < 3 {
		return repl
	}
	matched := toString(args[0])
	str := toString(args[n-1])
	pos := int(args[n-2].ToInteger())
	caps := args[1 : n-2]
	capture := func(i int) goja.String {
		if v := caps[i-1]; !goja.IsUndefined(v) {
			return toString(v)
		}
		return goja.StringFromUTF16(nil)
	}
	var sb goja.StringBuilder
	l := repl.Length()
	lit := 0 // start of the literal text not yet written
	flush := func(i int) {
		if i > lit {
			sb.WriteString(repl.Substring(lit, i))
		}
	}
	digit := func(i int) int {
		if i < l {
			if c := repl.CharAt(i); c >= '0' && c <= '9' {
				return int(c - '0')
			}
		}
		return -1
	}
	for i := 0; i+1 < l; i++ {
		if repl.CharAt(i) != '$' {
			continue
		}
		var text goja.String
		end := i + 2
		switch c := repl.CharAt(i + 1); {
		case c == '$':
			text = repl.Substring(i, i+1)
		case c == '&':
			text = matched
		case c == '`':
			text = str.Substring(0, min(max(pos, 0), str.Length()))
		case c == '\'':
			tail := min(max(pos+matched.Length(), 0), str.Length())
			text = str.Substring(tail, str.Length())
		case c >= '0' && c <= '9':
			d := int(c - '0')
			if d2 := digit(i + 2); d2 >= 0 && d*10+d2 >= 1 && d*10+d2 <= len(caps) {
				text, end = capture(d*10+d2), i+3
			} else if d >= 1 && d <= len(caps) {
				text = capture(d)
			} else {
				continue
			}
		case c == '<' && groups != nil:
			gt := i + 2
			for gt < l && repl.CharAt(gt) != '>' {
				gt++
			}
			if gt == l {
				continue
			}
			end = gt + 1
			if v := groups.Get(repl.Substring(i+2, gt).String()); v != nil && !goja.IsUndefined(v) {
				text = toString(v)
			} else {
				text = goja.StringFromUTF16(nil)
			}
		default:
			continue
		}
		flush(i)
		sb.WriteString(text)
		lit = end
		i = end - 1
	}
	flush(l)
	return sb.String()
}

// checkCollate refuses localeCompare and normalize on strings longer than
// MaxCollateLength: on 16 Mi characters they ran for 2 s and 23 s.
func checkCollate(name string) func(*run, *goja.FunctionCall) string {
	return func(_ *run, call *goja.FunctionCall) string {
		n := stringLength(call.This)
		if name == "localeCompare" {
			n = math.Max(n, stringLength(call.Argument(0)))
		}
		if n > MaxCollateLength {
			return "String.prototype." + name + ": a string of " + formatCount(n) + " characters is over Switchyard's limit of " + strconv.Itoa(MaxCollateLength) + " for this built-in"
		}
		return ""
	}
}

// checkStringify bounds JSON.stringify: the text it builds can be far
// larger than what the script built (a 1 MiB string in an array 64 times,
// a sparse array of 2**32-1 holes, each "null"), and its walk is a Go loop
// the deadline cannot stop. The replacer becomes a Go function (calling
// the script's replacer, if any) that adds up the length of each key and
// string, refuses the call past MaxStringLength, and stops at the run's
// deadline. Indentation is counted: each value's depth is its holder's
// plus one (5000 nested arrays indented by 10 wrote 250 Mi characters). A
// replacer that is an array (a list of keys) is left as it is, and the
// call unbounded.
func checkStringify(r *run, call *goja.FunctionCall) string {
	if o, ok := call.Argument(1).(*goja.Object); ok && o.ClassName() == "Array" {
		return ""
	}
	fn, isFn := goja.AssertFunction(call.Argument(1))
	for len(call.Arguments) < 2 {
		call.Arguments = append(call.Arguments, goja.Undefined())
	}
	gap := 0.0 // the indentation per level, as JSON.stringify reads it
	switch sp := call.Argument(2).(type) {
	case goja.String:
		gap = math.Min(10, float64(sp.Length()))
	case *goja.Object:
	default:
		if !goja.IsUndefined(sp) && !goja.IsNull(sp) {
			if f := sp.ToFloat(); f >= 1 {
				gap = math.Min(10, math.Floor(f))
			}
		}
	}
	var depth map[*goja.Object]float64 // of the objects seen, when indenting
	if gap > 0 {
		depth = map[*goja.Object]float64{}
	}
	total := 0.0
	call.Arguments[1] = r.fn(func(c goja.FunctionCall) goja.Value {
		r.stopIfLate()
		v := c.Argument(1)
		if isFn {
			var err error
			if v, err = fn(c.This, c.Arguments...); err != nil {
				panic(err)
			}
		}
		total += stringLength(c.Argument(0)) + 4 // "key": and a separator
		if s, ok := v.(goja.String); ok {
			total += float64(s.Length())
		}
		if depth != nil {
			d := 1.0
			if h, ok := c.This.(*goja.Object); ok {
				d = depth[h] + 1
			}
			if o, ok := v.(*goja.Object); ok {
				depth[o] = d
			}
			total += d * gap
		}
		if total > MaxStringLength {
			panic(r.newError("RangeError", "JSON.stringify: a text of more than "+formatCount(total)+" characters is over Switchyard's limit of "+strconv.Itoa(MaxStringLength)))
		}
		return v
	})
	return ""
}

// capMatch wraps RegExp.prototype[Symbol.match], which String.prototype.match
// calls. With a global regular expression goja's matcher builds every
// match in one Go call: 'x'.repeat(2**23).match(/x/g) ran 4 s and took
// 1.4 GiB. A string too short to give more than MaxMatches matches goes
// to the original; a longer one is matched here, as ECMAScript's
// RegExp.prototype[@@match] does, an exec at a time: past MaxMatches
// results the call is refused, and it stops at the run's deadline.
func (r *run) capMatch() {
	re, ok := r.rt.GlobalObject().Get("RegExp").(*goja.Object)
	if !ok {
		return
	}
	proto, ok := re.Get("prototype").(*goja.Object)
	if !ok {
		return
	}
	orig, ok := goja.AssertFunction(proto.GetSymbol(goja.SymMatch))
	if !ok {
		return
	}
	f := r.fn(func(call goja.FunctionCall) goja.Value {
		rx, ok := call.This.(*goja.Object)
		if !ok {
			return r.callOrPanic(orig, call)
		}
		flags := rx.Get("flags")
		if flags == nil || !strings.ContainsRune(flags.String(), 'g') {
			return r.callOrPanic(orig, call)
		}
		s := toString(call.Argument(0))
		if s.Length()+1 <= MaxMatches {
			return r.callOrPanic(orig, goja.FunctionCall{This: rx, Arguments: []goja.Value{s}})
		}
		return r.matchAll(rx, s, strings.ContainsAny(flags.String(), "uv"))
	})
	f.DefineDataProperty("name", r.rt.ToValue("[Symbol.match]"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	proto.DefineDataPropertySymbol(goja.SymMatch, f, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}

// callOrPanic calls a built-in, re-throwing its error as it was.
func (r *run) callOrPanic(f goja.Callable, call goja.FunctionCall) goja.Value {
	v, err := f(call.This, call.Arguments...)
	if err != nil {
		panic(err) // exception, interrupt or stack overflow
	}
	return v
}

// matchAll gives the matches of the global regular expression rx in s,
// at most MaxMatches of them.
func (r *run) matchAll(rx *goja.Object, s goja.String, unicode bool) goja.Value {
	exec, ok := goja.AssertFunction(rx.Get("exec"))
	if !ok {
		panic(r.newError("TypeError", "exec is not a function"))
	}
	rx.Set("lastIndex", 0)
	var matches []any
	for {
		r.stopIfLate()
		res := r.callOrPanic(exec, goja.FunctionCall{This: rx, Arguments: []goja.Value{s}})
		o, ok := res.(*goja.Object)
		if !ok {
			break // null: no more matches
		}
		if len(matches) == MaxMatches {
			panic(r.newError("RangeError", "String.prototype.match: more than "+strconv.Itoa(MaxMatches)+" matches are over Switchyard's limit"))
		}
		m := toString(o.Get("0"))
		matches = append(matches, m)
		if m.Length() == 0 {
			i := rx.Get("lastIndex").ToInteger()
			next := i + 1
			if unicode && next < int64(s.Length()) && isHighSurrogate(s.CharAt(int(i))) && isLowSurrogate(s.CharAt(int(next))) {
				next++
			}
			rx.Set("lastIndex", next)
		}
	}
	if len(matches) == 0 {
		return goja.Null()
	}
	return r.rt.NewArray(matches...)
}

func isHighSurrogate(c uint16) bool { return c >= 0xd800 && c <= 0xdbff }
func isLowSurrogate(c uint16) bool  { return c >= 0xdc00 && c <= 0xdfff }
