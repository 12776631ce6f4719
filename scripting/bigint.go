package scripting

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
	"github.com/dop251/goja/unistring"
)

// BigInt arithmetic is a single math/big call that no interrupt can stop:
// 7n ** 50000000n runs for 17 s, 1n << 2n**40n asks for 128 GiB at once,
// and goja folds an expression of constants when it compiles it, so the
// same 7n ** 50000000n in a saved script ran for 34 s in the save request.
// goja offers no hook into its operators, so Compile rewrites them: in a
// script that can hold a BigInt (see reach.bigints), every a ** b, a * b,
// a << b, a >> b and their assignment forms (a **= b...), and every
// comparison (==, !=, <, <=, >, >=, which parse a string compared with a
// BigInt in time quadratic in its length) become a call of a helper
// (arithSource) that converts the operands as the operator would, asks
// checkArith whether the result stays within MaxBigIntBits, and then applies
// the operator itself. A call is not a constant, so nothing is folded at
// compile time. The rewrite is of the parsed tree, so line numbers stay
// those of the user's source (an error in a rewritten expression points at
// its left operand). A script that cannot hold a
// BigInt is not rewritten and pays nothing; one that can pays a call per
// rewritten operator (BenchmarkArith). eval and Function compile their code
// through the same rewrite (see guardDynamicCode).
const (
	// MaxBigIntBits is the largest BigInt a script may build: about 315,000
	// decimal digits. A multiplication of two such numbers takes 2 ms.
	MaxBigIntBits = 1 << 20
	// maxBigIntString is the longest string that may be converted to a
	// BigInt (decimal parsing is quadratic: 262,144 digits take 0.17 s, a
	// million 4 s).
	maxBigIntString = MaxBigIntBits / 4
)

// The names of the helpers a rewritten script calls. They are defined on
// the global object, read-only.
const (
	arithName    = "__switchyard_arith"
	arithSetName = "__switchyard_arith_set"
)

// The operators rewritten, by the number the helper is given.
var arithOps = map[token.Token]int64{
	token.EXPONENT: 0, token.MULTIPLY: 1, token.SHIFT_LEFT: 2, token.SHIFT_RIGHT: 3,
	token.EQUAL: 4, token.NOT_EQUAL: 5, token.LESS: 6, token.LESS_OR_EQUAL: 7,
	token.GREATER: 8, token.GREATER_OR_EQUAL: 9,
}

// arithSource makes the helpers, given checkArith and checkBigIntString.
// toPrimitive is ECMAScript's ToPrimitive, so that a valueOf runs once, as
// the operator would run it; -(-x) is ToNumeric.
const arithSource = `(function (check, checkString) {
	function isObject(v) { return typeof v === "object" && v !== null || typeof v === "function" }
	function toPrimitive(v, hint) {
		var f = v[Symbol.toPrimitive], r;
		if (f !== undefined && f !== null) {
			r = f.call(v, hint);
			if (!isObject(r)) return r;
			throw new TypeError("Cannot convert object to primitive value");
		}
		var order = hint === "string" ? ["toString", "valueOf"] : ["valueOf", "toString"];
		for (var i = 0; i < 2; i++) {
			f = v[order[i]];
			if (typeof f === "function") {
				r = f.call(v);
				if (!isObject(r)) return r;
			}
		}
		throw new TypeError("Cannot convert object to primitive value");
	}
	function compared(a, b) {
		if (typeof a === "bigint" && typeof b === "string") checkString(b);
		else if (typeof b === "bigint" && typeof a === "string") checkString(a);
	}
	function arith(a, b, op) {
		if (typeof a === "number" && typeof b === "number") {
			switch (op) {
			case 0: return a ** b;
			case 1: return a * b;
			case 2: return a << b;
			case 3: return a >> b;
			case 4: return a == b;
			case 5: return a != b;
			case 6: return a < b;
			case 7: return a <= b;
			case 8: return a > b;
			}
			return a >= b;
		}
		if (op >= 4) {
			if (op <= 5) {
				if (isObject(a) && !isObject(b)) a = toPrimitive(a, "default");
				else if (isObject(b) && !isObject(a)) b = toPrimitive(b, "default");
			} else {
				if (isObject(a)) a = toPrimitive(a, "number");
				if (isObject(b)) b = toPrimitive(b, "number");
			}
			compared(a, b);
			switch (op) {
			case 4: return a == b;
			case 5: return a != b;
			case 6: return a < b;
			case 7: return a <= b;
			case 8: return a > b;
			}
			return a >= b;
		}
		if (isObject(a)) a = -(-a);
		if (isObject(b)) b = -(-b);
		if (typeof a === "bigint" && typeof b === "bigint") check(a, b, op);
		switch (op) {
		case 0: return a ** b;
		case 1: return a * b;
		case 2: return a << b;
		}
		return a >> b;
	}
	function set(o, k, v, op) {
		return o[k] = arith(o[k], v, op);
	}
	return [arith, set, toPrimitive];
})`

var arithProgram = goja.MustCompile("switchyard:arith", arithSource, false)

// installArith defines the helpers a rewritten program calls, and wraps
// BigInt() so that it refuses a string too long to parse in time.
func (r *run) installArith() {
	v, err := r.rt.RunProgram(arithProgram)
	if err != nil {
		panic(err)
	}
	factory, _ := goja.AssertFunction(v)
	helpers, err := factory(goja.Undefined(), r.fn(r.checkArith), r.fn(r.checkBigIntString))
	if err != nil {
		panic(err)
	}
	h := helpers.(*goja.Object)
	g := r.rt.GlobalObject()
	g.DefineDataProperty(arithName, h.Get("0"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	g.DefineDataProperty(arithSetName, h.Get("1"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	toPrimitive, _ := goja.AssertFunction(h.Get("2"))
	r.wrapBigInt(toPrimitive)
}

// wrapBigInt replaces the global BigInt with a function that checks the
// length of a string argument (after ToPrimitive, which it runs once) and
// then calls the original. It keeps BigInt.prototype and, through its own
// [[Prototype]], BigInt.asIntN and BigInt.asUintN.
func (r *run) wrapBigInt(toPrimitive goja.Callable) {
	g := r.rt.GlobalObject()
	target, ok := g.Get("BigInt").(*goja.Object)
	if !ok {
		return
	}
	orig, ok := goja.AssertFunction(target)
	if !ok {
		return
	}
	w := r.fn(func(call goja.FunctionCall) goja.Value {
		v := call.Argument(0)
		if o, ok := v.(*goja.Object); ok {
			p, err := toPrimitive(goja.Undefined(), o, r.rt.ToValue("number"))
			if err != nil {
				panic(err)
			}
			v = p
		}
		r.checkBigIntString(goja.FunctionCall{Arguments: []goja.Value{v}})
		out, err := orig(goja.Undefined(), v)
		if err != nil {
			panic(err)
		}
		return out
	})
	proto := target.Get("prototype")
	w.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	w.DefineDataProperty("name", r.rt.ToValue("BigInt"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	w.DefineDataProperty("length", target.Get("length"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	if err := w.SetPrototype(target); err != nil {
		return
	}
	if po, ok := proto.(*goja.Object); ok {
		po.DefineDataProperty("constructor", w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	g.DefineDataProperty("BigInt", w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}

// checkArith throws a RangeError if op (see arithOps) on two BigInts
// would build one over MaxBigIntBits.
func (r *run) checkArith(call goja.FunctionCall) goja.Value {
	a, _ := call.Argument(0).Export().(*big.Int)
	b, _ := call.Argument(1).Export().(*big.Int)
	if a == nil || b == nil {
		return goja.Undefined()
	}
	if bits := arithBits(a, b, call.Argument(2).ToInteger()); bits > MaxBigIntBits {
		panic(r.newError("RangeError", "BigInt: a result of about "+formatCount(math.Round(bits))+" bits is over Switchyard's limit of "+strconv.Itoa(MaxBigIntBits)+" bits"))
	}
	return goja.Undefined()
}

// arithBits estimates the size in bits of a op b (+Inf when it is past
// any limit).
func arithBits(a, b *big.Int, op int64) float64 {
	shift := func(n *big.Int) float64 {
		if a.Sign() == 0 || n.Sign() <= 0 {
			return 0
		}
		if !n.IsInt64() {
			return math.Inf(1)
		}
		return float64(a.BitLen()) + float64(n.Int64())
	}
	switch op {
	case 0:
		if b.Sign() <= 0 || a.BitLen() <= 1 {
			return 1 // a negative exponent throws; 0, 1 and -1 stay small
		}
		if !b.IsInt64() {
			return math.Inf(1)
		}
		perUnit := float64(a.BitLen())
		if a.BitLen() <= 53 {
			f, _ := new(big.Float).SetInt(a).Float64()
			perUnit = math.Log2(math.Abs(f))
		}
		return float64(b.Int64()) * perUnit
	case 1:
		return float64(a.BitLen() + b.BitLen())
	case 2:
		return shift(b)
	case 3:
		return shift(new(big.Int).Neg(b))
	}
	return 0
}

// checkBigIntString throws a RangeError if its argument is a string too
// long to convert to a BigInt in time.
func (r *run) checkBigIntString(call goja.FunctionCall) goja.Value {
	v := call.Argument(0)
	if _, ok := v.Export().(string); !ok {
		return goja.Undefined()
	}
	if n := stringLength(v); n > maxBigIntString {
		panic(r.newError("RangeError", "BigInt: a string of "+formatCount(n)+" characters is over Switchyard's limit of "+strconv.Itoa(maxBigIntString)+" for a conversion to BigInt"))
	}
	return goja.Undefined()
}

// checkBigIntN checks BigInt.asIntN and BigInt.asUintN: a width over
// MaxBigIntBits, or a string to parse, is refused.
func checkBigIntN(r *run, call *goja.FunctionCall) string {
	if n := call.Argument(0).ToFloat(); n > MaxBigIntBits {
		return "BigInt.asIntN/asUintN: a width of " + formatCount(n) + " bits is over Switchyard's limit of " + strconv.Itoa(MaxBigIntBits)
	}
	if v := call.Argument(1); v.ExportType() != nil && v.ExportType().Kind() == reflect.String {
		if n := stringLength(v); n > maxBigIntString {
			return "BigInt.asIntN/asUintN: a string of " + formatCount(n) + " characters is over Switchyard's limit of " + strconv.Itoa(maxBigIntString) + " for a conversion to BigInt"
		}
	}
	return ""
}

// rewriteArith replaces, in a parsed program, the operators of arithOps
// with calls of the helpers (see the comment at the top of this file).
func rewriteArith(prog *ast.Program) {
	rewriteValue(reflect.ValueOf(prog))
}

// rewriteValue walks the tree as reach's walker does, children first, and
// replaces each expression that rewriteNode rewrites.
func rewriteValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || v.Type() == fileType {
			return
		}
		rewriteValue(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		rewriteValue(v.Elem())
		if e, ok := v.Interface().(ast.Expression); ok && v.CanSet() {
			if n := rewriteNode(e); n != nil {
				v.Set(reflect.ValueOf(n))
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanInterface() && f.Type() != idxType {
				rewriteValue(f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			rewriteValue(v.Index(i))
		}
	}
}

// rewriteNode returns the call that replaces e, nil to keep e.
func rewriteNode(e ast.Expression) ast.Expression {
	switch e := e.(type) {
	case *ast.BinaryExpression:
		if op, ok := arithOps[e.Operator]; ok {
			return helperCall(arithName, e.Idx0(), e.Left, e.Right, opLiteral(e.Idx0(), op))
		}
	case *ast.AssignExpression:
		op, ok := arithOps[e.Operator]
		if !ok || op > 3 {
			return nil
		}
		idx := e.Idx0()
		switch l := e.Left.(type) {
		case *ast.DotExpression:
			if _, super := l.Left.(*ast.SuperExpression); !super {
				key := &ast.StringLiteral{Idx: l.Identifier.Idx, Literal: strconv.Quote(l.Identifier.Name.String()), Value: l.Identifier.Name}
				return helperCall(arithSetName, idx, l.Left, key, e.Right, opLiteral(idx, op))
			}
		case *ast.BracketExpression:
			if _, super := l.Left.(*ast.SuperExpression); !super {
				return helperCall(arithSetName, idx, l.Left, l.Member, e.Right, opLiteral(idx, op))
			}
		}
		// An identifier, a private member or a member of super: the
		// target is evaluated twice (a = f(a, b)), which for these has
		// no effect a script can see, except a getter of a private or
		// super member, run twice.
		return &ast.AssignExpression{Operator: token.ASSIGN, Left: e.Left, Right: helperCall(arithName, idx, e.Left, e.Right, opLiteral(idx, op))}
	}
	return nil
}

func helperCall(name string, idx file.Idx, args ...ast.Expression) *ast.CallExpression {
	return &ast.CallExpression{
		Callee:           &ast.Identifier{Name: unistring.String(name), Idx: idx},
		LeftParenthesis:  idx,
		ArgumentList:     args,
		RightParenthesis: idx,
	}
}

func opLiteral(idx file.Idx, op int64) *ast.NumberLiteral {
	return &ast.NumberLiteral{Idx: idx, Literal: strconv.FormatInt(op, 10), Value: op}
}

// functionProtos gives the prototypes of async and generator functions
// (goja has no async generators), whose constructors compile code as Function does.
var functionProtos = goja.MustCompile("switchyard:protos", `[Object.getPrototypeOf(async function () {}), Object.getPrototypeOf(function* () {})]`, false)

// guardDynamicCode makes eval, Function and the constructors of async and
// generator functions compile their code through rewriteArith, as Compile
// does: otherwise eval('7n ** 50000000n') would fold the constant, and run
// the BigInt operators unchecked. The cost: eval is always an indirect eval
// (its code runs in the global scope and does not see the caller's local
// variables), since only goja's own eval can be a direct one.
func (r *run) guardDynamicCode() {
	rt := r.rt
	g := rt.GlobalObject()
	eval := r.fn(func(call goja.FunctionCall) goja.Value {
		src, ok := call.Argument(0).Export().(string)
		if !ok {
			return call.Argument(0)
		}
		return r.evalGuarded(src)
	})
	eval.DefineDataProperty("name", rt.ToValue("eval"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	g.DefineDataProperty("eval", eval, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)

	v, err := rt.RunProgram(functionProtos)
	if err != nil {
		return
	}
	protos := v.(*goja.Object)
	kinds := []struct {
		name, prefix string
		proto        goja.Value
	}{
		{"Function", "(function anonymous(", g.Get("Function").(*goja.Object).Get("prototype")},
		{"AsyncFunction", "(async function anonymous(", protos.Get("0")},
		{"GeneratorFunction", "(function* anonymous(", protos.Get("1")},
	}
	for _, k := range kinds {
		prefix := k.prefix
		ctor := rt.ToValue(func(call goja.ConstructorCall) *goja.Object {
			src := prefix
			args := call.Arguments
			for i := 0; i+1 < len(args); i++ {
				if i > 0 {
					src += ","
				}
				src += args[i].String()
			}
			src += "\n) {\n"
			if len(args) > 0 {
				src += args[len(args)-1].String()
			}
			return r.evalGuarded(src + "\n})").ToObject(rt)
		}).(*goja.Object)
		ctor.DefineDataProperty("name", rt.ToValue(k.name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		ctor.DefineDataProperty("prototype", k.proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		if po, ok := k.proto.(*goja.Object); ok {
			po.DefineDataProperty("constructor", ctor, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		}
		if k.name == "Function" {
			g.DefineDataProperty("Function", ctor, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		}
	}
}

// evalGuarded compiles src with the arithmetic rewritten and runs it in
// the global scope.
func (r *run) evalGuarded(src string) goja.Value {
	if line, col, n := longBigIntLiteral(src); n > 0 {
		panic(r.newError("SyntaxError", fmt.Sprintf("line %d, column %d: %s", line, col, bigIntLiteralError(n))))
	}
	prog, err := parser.ParseFile(nil, "", src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		panic(r.newError("SyntaxError", err.Error()))
	}
	rewriteArith(prog)
	p, err := goja.CompileAST(prog, false)
	if err != nil {
		panic(r.newError("SyntaxError", err.Error()))
	}
	v, err := r.rt.RunProgram(p)
	if err != nil {
		panic(err)
	}
	return v
}

// longBigIntLiteral finds, in a script's source, a BigInt literal (digits,
// or a 0x, 0o or 0b number, followed by n) longer than maxBigIntString
// characters, which BigInt() refuses from a string. The parser converts
// such a literal as it reads it, in quadratic time (a million digits took
// 2.4 s), so the source is scanned before it is parsed. The scan does not
// tell code from strings and comments: a string holding 262,145 digits
// and an n is refused too. It returns the 1-based line and column of the
// literal and its length, or 0.
func longBigIntLiteral(src string) (line, col, n int) {
	start := -1
	for i := 0; i <= len(src); i++ {
		var c byte
		if i < len(src) {
			c = src[i]
		}
		word := c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		switch {
		case word && start < 0:
			if c >= '0' && c <= '9' && (i == 0 || !identPart(src[i-1])) {
				start = i
			} else {
				start = -2 // inside a name: skip the rest of it
			}
		case !word && start != -1:
			if start >= 0 && src[i-1] == 'n' && i-start-1 > maxBigIntString {
				line = strings.Count(src[:start], "\n") + 1
				return line, start - (strings.LastIndexByte(src[:start], '\n') + 1) + 1, i - start - 1
			}
			start = -1
		}
	}
	return 0, 0, 0
}

// identPart reports whether c may be part of a name, or of a number
// before a digit (1.5).
func identPart(c byte) bool {
	return c == '_' || c == '$' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// bigIntLiteralError describes a literal found by longBigIntLiteral.
func bigIntLiteralError(n int) string {
	return "a BigInt literal of " + strconv.Itoa(n) + " digits is over Switchyard's limit of " + strconv.Itoa(maxBigIntString)
}
