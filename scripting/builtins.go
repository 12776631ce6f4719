package scripting

import (
	"math"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Caps on what one call of a built-in may build or walk. goja has no
// memory limit, and its built-ins run as Go loops that the run's deadline
// cannot interrupt: 'x'.repeat(2**28) allocates 256 MiB in one call,
// new ArrayBuffer(2**40) asks the Go runtime for a terabyte (a fatal error
// that kills the process), and Array(1e9).fill(0) runs for minutes past
// any deadline. capBuiltins wraps the built-ins that can do so with a check
// of the size they are asked for; past a cap they throw a RangeError, as
// they do in browsers past the engine's own limits. docs/security.md
// lists what is capped and what is left to the memory watchdog.
const (
	// MaxStringLength is the longest string (in UTF-16 code units) that
	// repeat, padStart, padEnd and join may build: 32 Mi, six times the
	// largest webhook body.
	MaxStringLength = 1 << 25
	// MaxArrayLength is the most elements that fill, join, concat,
	// split, Array(), Array.from and the typed array constructors may walk
	// or build.
	MaxArrayLength = 1 << 22
	// MaxBufferBytes is the largest ArrayBuffer or typed array.
	MaxBufferBytes = 64 << 20
	// MaxSortLength is the most elements sort and toSorted order without
	// a comparator: goja's default order (by string, or by number in a
	// typed array) is a Go loop: 14 s for 4 Mi strings, 1.8 s for 256 Ki.
	// With a comparator each comparison is a JavaScript call, which the
	// deadline stops, and MaxArrayLength applies.
	MaxSortLength = 1 << 16
	// MaxCollateLength is the longest string that localeCompare and
	// normalize take: they handle about a million characters a second.
	MaxCollateLength = 1 << 18
	// MaxApplyArguments is the most arguments that Function.prototype.apply,
	// Reflect.apply and Reflect.construct pass (V8 allows about as many).
	MaxApplyArguments = 1 << 17
	// MaxIterableLength is the most elements that the Set, Map, WeakSet
	// and WeakMap constructors, Promise.all (allSettled, any, race) and
	// Object.fromEntries take from an array, typed array or string: they
	// walk it as a Go loop, a step per element through the iterator
	// protocol (new Set(new Uint8Array(2**25)) ran 52 s and took 2 GiB; at
	// this cap one call takes about 1 s).
	MaxIterableLength = 1 << 19
	// MaxMatches is the most results that match with a global regular
	// expression gives: goja's matcher builds every match in one Go call
	// (8 Mi matches took 4 s and 1.4 GiB).
	MaxMatches = 1 << 16
)

// capped is one built-in to wrap: the object that holds it (a global
// name, or a global's prototype; typedArray for %TypedArray%), its name,
// and the check of a call. The check may also replace the call's
// arguments (a replacer function that counts what it gives).
type capped struct {
	global    string
	prototype bool
	name      string
	check     func(r *run, call *goja.FunctionCall) string // why the call is refused, "" to go on
}

// typedArray names %TypedArray%, the constructor the typed arrays inherit
// from, which is not a global.
const typedArray = "%TypedArray%"

// cappedMethods are the built-in methods wrapped in every runtime.
var cappedMethods = []capped{
	{"String", true, "repeat", checkRepeat},
	{"String", true, "padStart", checkPad},
	{"String", true, "padEnd", checkPad},
	{"String", true, "concat", checkStringConcat},
	{"String", true, "split", checkSplit},
	{"String", true, "replace", checkReplace(false)},
	{"String", true, "replaceAll", checkReplace(true)},
	{"String", true, "localeCompare", checkCollate("localeCompare")},
	{"String", true, "normalize", checkCollate("normalize")},
	{typedArray, true, "join", checkThisLength},
	{typedArray, true, "toLocaleString", checkThisLength},
	{typedArray, true, "sort", checkSort},
	{typedArray, true, "toSorted", checkSort},
	{"JSON", false, "stringify", checkStringify},
	{"Array", true, "join", checkJoin},
	{"Array", true, "concat", checkConcat},
	{"Array", false, "from", checkArrayFrom},
	{"Promise", false, "all", checkIterable("Promise.all")},
	{"Promise", false, "allSettled", checkIterable("Promise.allSettled")},
	{"Promise", false, "any", checkIterable("Promise.any")},
	{"Promise", false, "race", checkIterable("Promise.race")},
	{"Object", false, "fromEntries", checkIterable("Object.fromEntries")},
	{"Function", true, "apply", checkApply(1)},
	{"Reflect", false, "apply", checkApply(2)},
	{"Reflect", false, "construct", checkApply(1)},
	{"BigInt", false, "asIntN", checkBigIntN},
	{"BigInt", false, "asUintN", checkBigIntN},
}

// arrayWalkers are the Array.prototype methods that walk (or allocate)
// every index up to this.length, present or not: on a sparse array made
// with a.length = 2**32-1 they run for minutes, or (sort, reverse) ask for
// tens of gigabytes. They are capped at MaxArrayLength elements.
var arrayWalkers = []string{
	"copyWithin", "every", "fill", "filter", "find", "findIndex", "findLast",
	"findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf",
	"lastIndexOf", "map", "reduce", "reduceRight", "reverse", "shift", "slice", "some",
	"sort", "splice", "toLocaleString", "toReversed", "toSorted", "toSpliced",
	"unshift", "with",
}

func init() {
	for _, name := range arrayWalkers {
		check := checkThisLength
		if name == "sort" || name == "toSorted" {
			check = checkSort
		}
		cappedMethods = append(cappedMethods, capped{"Array", true, name, check})
	}
}

// cappedConstructors are the built-in constructors replaced by a wrapper
// that checks the size asked for, then constructs with the original; see
// capBuiltins for how the wrapper keeps instanceof, from and of working.
// The number is the bytes per element, 0 for the collections, whose
// argument is an iterable of at most MaxIterableLength elements. (A Proxy
// would be simpler, but goja's instanceof refuses a Proxy for its
// right-hand side.)
var cappedConstructors = []struct {
	name  string
	bytes int
}{
	{"ArrayBuffer", 1},
	{"SharedArrayBuffer", 1},
	{"Int8Array", 1}, {"Uint8Array", 1}, {"Uint8ClampedArray", 1},
	{"Int16Array", 2}, {"Uint16Array", 2},
	{"Int32Array", 4}, {"Uint32Array", 4}, {"Float32Array", 4},
	{"Float64Array", 8}, {"BigInt64Array", 8}, {"BigUint64Array", 8},
	{"Set", 0}, {"Map", 0}, {"WeakSet", 0}, {"WeakMap", 0},
}

// alwaysCapped are the methods wrapped whatever names the script writes:
// a conversion to a string (a + ”, `${a}`, String(a), a comparison)
// calls Array.prototype.toString, which calls join, without the script
// naming either.
var alwaysCapped = map[string]bool{"Array.join": true}

// reached reports whether the program can reach the capped method c.
func (r *run) reached(c *capped) bool {
	switch {
	case r.reach.can(c.name), alwaysCapped[c.global+"."+c.name]:
		return true
	case c.name == "stringify":
		return r.reach.can("LOG") || r.reach.can("console") || r.reach.can("RESPONSE") // they stringify objects
	case c.global == typedArray && c.name == "join":
		// A typed array converted to a string: as for Array, but only a
		// script that names a typed array can hold one.
		for _, k := range cappedConstructors {
			if strings.HasSuffix(k.name, "Array") && r.reach.can(k.name) {
				return true
			}
		}
	}
	return false
}

// capBuiltins wraps the built-ins of cappedMethods and cappedConstructors
// that the program can reach (see reach) in this run's runtime.
func (r *run) capBuiltins() {
	g := r.rt.GlobalObject()
	if a, ok := g.Get("Array").(*goja.Object); ok && r.reach.can("concat") {
		r.isArray, _ = goja.AssertFunction(a.Get("isArray"))
	}
	for i := range cappedMethods {
		c := &cappedMethods[i]
		if !r.reached(c) {
			continue
		}
		holder, ok := g.Get(c.global).(*goja.Object)
		if c.global == typedArray {
			if holder, ok = g.Get("Uint8Array").(*goja.Object); ok {
				holder = holder.Prototype()
				ok = holder != nil
			}
		}
		if ok && c.prototype {
			holder, ok = holder.Get("prototype").(*goja.Object)
		}
		if !ok {
			continue
		}
		orig, ok := goja.AssertFunction(holder.Get(c.name))
		if !ok {
			continue
		}
		f := r.fn(func(call goja.FunctionCall) goja.Value {
			if why := c.check(r, &call); why != "" {
				panic(r.newError("RangeError", why))
			}
			v, err := orig(call.This, call.Arguments...)
			if err != nil {
				panic(err) // re-thrown as it was: exception, interrupt or stack overflow
			}
			return v
		})
		f.DefineDataProperty("name", r.rt.ToValue(c.name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		holder.DefineDataProperty(c.name, f, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	if r.reach.can("match") {
		r.capMatch()
	}
	if r.reach.iterators() {
		r.capIterators()
	}
	r.stopIteratorsLate()
	for _, c := range cappedConstructors {
		if !r.reach.can(c.name) {
			continue
		}
		target, ok := g.Get(c.name).(*goja.Object)
		if !ok {
			continue
		}
		construct, ok := goja.AssertConstructor(target)
		if !ok {
			continue
		}
		name, bytes := c.name, c.bytes
		check := func(args []goja.Value) {
			if why := r.checkConstruct(name, bytes, args); why != "" {
				panic(r.newError("RangeError", why))
			}
		}
		w := r.rt.ToValue(func(call goja.ConstructorCall) *goja.Object {
			check(call.Arguments)
			o, err := construct(call.NewTarget, call.Arguments...)
			if err != nil {
				panic(err)
			}
			return o
		}).(*goja.Object)
		// The wrapper stands in for the constructor: same prototype (so
		// instanceof holds), same name, and the original for its
		// [[Prototype]], so Uint8Array.from and BYTES_PER_ELEMENT are found
		// (from constructs through the wrapper, hence checked too).
		proto := target.Get("prototype")
		w.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		w.DefineDataProperty("name", r.rt.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		w.DefineDataProperty("length", target.Get("length"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		if err := w.SetPrototype(target); err != nil {
			continue
		}
		if po, ok := proto.(*goja.Object); ok {
			po.DefineDataProperty("constructor", w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		}
		g.DefineDataProperty(name, w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
}

// capIterators wraps the [Symbol.iterator] of arrays, strings and (when
// the script names one) typed arrays with a check of the length walked:
// spread ([...a], f(...a)) and destructuring walk an iterator as one Go
// loop, like the Set constructor, and name nothing a script can be
// analysed for ([...a] of a sparse array of 2**23 elements ran 14 s
// against a 1 s deadline). Only a script that spreads, destructures an
// array, runs for-of or yield* gets them (see reach.iterates): the
// constructors and methods that take an iterable are capped on their own.
// for-of takes the same iterator, so it too is
// limited to MaxIterableLength elements.
func (r *run) capIterators() {
	g := r.rt.GlobalObject()
	holders := []struct {
		name   string
		holder *goja.Object
	}{{"Array", nil}, {"String", nil}}
	if r.reached(&capped{global: typedArray, name: "join"}) {
		if u, ok := g.Get("Uint8Array").(*goja.Object); ok && u.Prototype() != nil {
			holders = append(holders, struct {
				name   string
				holder *goja.Object
			}{"typed array", u.Prototype()})
		}
	}
	for _, h := range holders {
		holder := h.holder
		if holder == nil {
			holder, _ = g.Get(h.name).(*goja.Object)
		}
		if holder == nil {
			continue
		}
		proto, ok := holder.Get("prototype").(*goja.Object)
		if !ok {
			continue
		}
		orig, ok := goja.AssertFunction(proto.GetSymbol(goja.SymIterator))
		if !ok {
			continue
		}
		f := r.fn(func(call goja.FunctionCall) goja.Value {
			n := 0.0
			switch t := call.This.(type) {
			case *goja.Object:
				n = lengthOf(t)
			case goja.String:
				n = float64(t.Length())
			}
			if n > MaxIterableLength {
				panic(r.newError("RangeError", "iteration (spread, for-of, destructuring) of "+formatCount(n)+" elements is over Switchyard's limit of "+strconv.Itoa(MaxIterableLength)))
			}
			return r.callOrPanic(orig, call)
		})
		f.DefineDataProperty("name", r.rt.ToValue("[Symbol.iterator]"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		proto.DefineDataPropertySymbol(goja.SymIterator, f, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
}

// iteratorProtos gives the prototypes of the iterators of Set, Map and
// matchAll, which are not globals.
var iteratorProtos = goja.MustCompile("switchyard:iterators", `[Object.getPrototypeOf(new Set().values()), Object.getPrototypeOf(new Map().values()), Object.getPrototypeOf(''.matchAll(/x/g))]`, false)

// stopIteratorsLate makes the next of the iterators of Set, Map and
// matchAll stop at the run's deadline (see stopIfLate): spread, Array.from
// and the Set constructor walk them as one Go loop, without a length to
// check in advance ([...s] of a Set of a million numbers took 2.4 s,
// [...s.matchAll(/x/g)] of 4 Mi matches 31 s and 2 GiB).
func (r *run) stopIteratorsLate() {
	if !r.reach.can("Set") && !r.reach.can("Map") && !r.reach.can("matchAll") {
		return
	}
	v, err := r.rt.RunProgram(iteratorProtos)
	if err != nil {
		return
	}
	protos := v.(*goja.Object)
	for _, k := range []string{"0", "1", "2"} {
		proto, ok := protos.Get(k).(*goja.Object)
		if !ok {
			continue
		}
		orig, ok := goja.AssertFunction(proto.Get("next"))
		if !ok {
			continue
		}
		f := r.fn(func(call goja.FunctionCall) goja.Value {
			r.stopIfLate()
			return r.callOrPanic(orig, call)
		})
		f.DefineDataProperty("name", r.rt.ToValue("next"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		proto.DefineDataProperty("next", f, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
}

// checkConstruct checks the arguments of a capped constructor: a length
// (number) times the element size, or the length of an array-like.
func (r *run) checkConstruct(name string, bytes int, args []goja.Value) string {
	if len(args) == 0 {
		return ""
	}
	if bytes == 0 {
		return iterableOver(name, args[0])
	}
	var n float64
	if o, ok := args[0].(*goja.Object); ok {
		if isBuffer(o) {
			return "" // a view over an existing buffer allocates nothing
		}
		n = lengthOf(o)
	} else {
		n = args[0].ToFloat()
	}
	if n*float64(bytes) > MaxBufferBytes {
		return name + ": " + formatCount(n*float64(bytes)) + " bytes asked for, over Switchyard's limit of " + strconv.Itoa(MaxBufferBytes>>20) + " MiB"
	}
	return ""
}

// isBuffer reports whether o is an ArrayBuffer.
func isBuffer(o *goja.Object) bool {
	return o.ExportType() == arrayBufferType
}

// lengthOf returns an object's length property as a number (0 when it
// has none); it may run a getter.
func lengthOf(o *goja.Object) float64 {
	v := o.Get("length")
	if v == nil {
		return 0
	}
	f := v.ToFloat()
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return f
}

// thisLength returns the length of a method's this.
func (r *run) thisLength(call *goja.FunctionCall) float64 {
	if o, ok := call.This.(*goja.Object); ok {
		return lengthOf(o)
	}
	return 0
}

// stringLength returns the length, in UTF-16 code units, of v as a
// string; it may run toString.
func stringLength(v goja.Value) float64 {
	if s, ok := v.ToString().(goja.String); ok {
		return float64(s.Length())
	}
	return float64(len(v.String()))
}

func checkRepeat(r *run, call *goja.FunctionCall) string {
	count := call.Argument(0).ToFloat()
	if count <= 1 || math.IsInf(count, 1) {
		return "" // repeat throws its own RangeError for Infinity
	}
	if n := stringLength(call.This) * math.Trunc(count); n > MaxStringLength {
		return "String.prototype.repeat: a string of " + formatCount(n) + " characters is over Switchyard's limit of " + strconv.Itoa(MaxStringLength)
	}
	return ""
}

func checkPad(_ *run, call *goja.FunctionCall) string {
	if n := call.Argument(0).ToFloat(); n > MaxStringLength {
		return "padStart/padEnd: a string of " + formatCount(n) + " characters is over Switchyard's limit of " + strconv.Itoa(MaxStringLength)
	}
	return ""
}

func checkStringConcat(_ *run, call *goja.FunctionCall) string {
	n := stringLength(call.This)
	for _, a := range call.Arguments {
		n += stringLength(a)
	}
	if n > MaxStringLength {
		return "String.prototype.concat: a string of " + formatCount(n) + " characters is over Switchyard's limit of " + strconv.Itoa(MaxStringLength)
	}
	return ""
}

func checkThisLength(r *run, call *goja.FunctionCall) string {
	if n := r.thisLength(call); n > MaxArrayLength {
		return "an array of " + formatCount(n) + " elements is over Switchyard's limit of " + strconv.Itoa(MaxArrayLength) + " for this built-in"
	}
	return ""
}

func checkSort(r *run, call *goja.FunctionCall) string {
	if why := checkThisLength(r, call); why != "" {
		return why
	}
	if _, ok := goja.AssertFunction(call.Argument(0)); ok {
		return ""
	}
	if n := r.thisLength(call); n > MaxSortLength {
		return "sort: " + formatCount(n) + " elements are over Switchyard's limit of " + strconv.Itoa(MaxSortLength) + " for a sort without a comparator function"
	}
	return ""
}

func checkJoin(r *run, call *goja.FunctionCall) string {
	if why := checkThisLength(r, call); why != "" {
		return why
	}
	sep := 1.0
	if a := call.Argument(0); !goja.IsUndefined(a) {
		sep = stringLength(a)
	}
	if n := (r.thisLength(call) - 1) * sep; n > MaxStringLength {
		return "Array.prototype.join: a string of " + formatCount(n) + " characters is over Switchyard's limit of " + strconv.Itoa(MaxStringLength)
	}
	return ""
}

func checkConcat(r *run, call *goja.FunctionCall) string {
	n := 0.0
	for _, a := range append([]goja.Value{call.This}, call.Arguments...) {
		if o, ok := a.(*goja.Object); ok && r.spreadable(o) {
			n += lengthOf(o)
		} else {
			n++
		}
	}
	if n > MaxArrayLength {
		return "Array.prototype.concat: an array of " + formatCount(n) + " elements is over Switchyard's limit of " + strconv.Itoa(MaxArrayLength)
	}
	return ""
}

func checkArrayFrom(_ *run, call *goja.FunctionCall) string {
	n := 0.0
	switch a := call.Argument(0).(type) {
	case *goja.Object:
		n = lengthOf(a)
	case goja.String:
		n = float64(a.Length()) // one element per character (at most)
	}
	if n > MaxArrayLength {
		return "Array.from: an array of " + formatCount(n) + " elements is over Switchyard's limit of " + strconv.Itoa(MaxArrayLength)
	}
	return ""
}

// checkIterable checks the iterable argument of a built-in that walks it
// in Go.
func checkIterable(name string) func(*run, *goja.FunctionCall) string {
	return func(_ *run, call *goja.FunctionCall) string {
		return iterableOver(name, call.Argument(0))
	}
}

// iterableOver refuses an iterable v (an array, typed array or string)
// of more than MaxIterableLength elements.
func iterableOver(name string, v goja.Value) string {
	n := 0.0
	switch a := v.(type) {
	case *goja.Object:
		n = lengthOf(a)
	case goja.String:
		n = float64(a.Length())
	}
	if n > MaxIterableLength {
		return name + ": " + formatCount(n) + " elements are over Switchyard's limit of " + strconv.Itoa(MaxIterableLength) + " for this built-in"
	}
	return ""
}

// checkApply checks the array of arguments at position i.
func checkApply(i int) func(*run, *goja.FunctionCall) string {
	return func(_ *run, call *goja.FunctionCall) string {
		if o, ok := call.Argument(i).(*goja.Object); ok {
			if n := lengthOf(o); n > MaxApplyArguments {
				return "apply: " + formatCount(n) + " arguments are over Switchyard's limit of " + strconv.Itoa(MaxApplyArguments)
			}
		}
		return ""
	}
}

// formatCount renders a count that may be huge or fractional.
func formatCount(n float64) string {
	return strconv.FormatFloat(n, 'f', -1, 64)
}
