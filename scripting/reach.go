package scripting

import (
	"math/big"
	"reflect"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
)

// reach is what a script can get at, as far as its source tells: the
// names it writes (identifiers, property names, string literals), and
// whether it can make up names at run time. capBuiltins wraps only the
// built-ins a script can reach, because wrapping forces goja to build
// objects it otherwise builds on first use: wrapping every capped
// built-in in every runtime would cost about 90 µs a run, five times the
// runtime itself.
type reach struct {
	names map[string]bool
	// dynamic is true when the script can reach a member whose name is not
	// written in its source: a computed member (o[k], {[k]: v}) with a key
	// other than a literal, or a way to run new code or enumerate built-ins
	// (eval, Function, constructor, Reflect, getOwnPropertyDescriptor...).
	dynamic bool
	// bigint is true when the source holds a BigInt literal.
	bigint bool
	// iterates is true when the source spreads (...a), destructures an
	// array ([x] = a), runs for-of or yield*: each walks an iterator.
	iterates bool
}

// iterators reports whether the script may walk an iterator without
// naming a built-in (see capIterators).
func (re *reach) iterators() bool { return re == nil || re.dynamic || re.iterates }

// bigintNames are the names through which a script gets a BigInt without
// writing a literal.
var bigintNames = []string{"BigInt", "BigInt64Array", "BigUint64Array", "getBigInt64", "getBigUint64"}

// bigints reports whether the script may hold a BigInt, and so needs its
// arithmetic rewritten (see rewriteArith).
func (re *reach) bigints() bool {
	if re == nil || re.dynamic || re.bigint {
		return true
	}
	for _, n := range bigintNames {
		if re.names[n] {
			return true
		}
	}
	return false
}

// dynamicNames are the names that give a script the means to reach any
// built-in without writing its name.
var dynamicNames = []string{
	"eval", "Function", "constructor", "Reflect",
	"getOwnPropertyDescriptor", "getOwnPropertyDescriptors",
	"__lookupGetter__", "__lookupSetter__", "__defineGetter__", "globalThis",
}

// stringMaps are the globals whose members are the request's strings.
// o[k] on one of them gives a string or a member of Object.prototype, from
// which any further step needs a written name or another computed member,
// so the generic-HMAC template's HTTP_HEADERS[PROPERTIES.header] does not
// make a script dynamic. That holds only while the name is the global
// itself: a script that declares, assigns or passes it is dynamic.
var stringMaps = map[string]bool{"HTTP_HEADERS": true, "QUERY_PARAMS": true, "PROPERTIES": true, "PATH_PARAMS": true}

// can reports whether the script may reach something named name.
func (re *reach) can(name string) bool { return re == nil || re.dynamic || re.names[name] }

// analyse walks a parsed program.
func analyse(prog *ast.Program) *reach {
	re := &reach{names: map[string]bool{}}
	w := &walker{re: re, uses: map[string]int{}, lefts: map[string]int{}}
	w.walk(reflect.ValueOf(prog))
	for name, n := range w.mapKeys {
		if n > 0 && w.uses[name] != w.lefts[name] {
			re.dynamic = true // the name is also used otherwise: it may not be the global
		}
	}
	for _, n := range dynamicNames {
		if re.names[n] {
			re.dynamic = true
		}
	}
	return re
}

var (
	idxType  = reflect.TypeOf(file.Idx(0))
	fileType = reflect.TypeOf(&file.File{})
)

// walker walks an AST into a reach.
type walker struct {
	re      *reach
	uses    map[string]int // identifiers of stringMaps, wherever they are
	lefts   map[string]int // ... of them as the object of a member (o.k, o[k])
	mapKeys map[string]int // computed members with a variable key on them
}

// walk visits every node under v. The AST is a tree of pointers,
// interfaces, structs and slices; reflection spares a visitor for each of
// goja's node types, and a node type added by a goja release is walked
// like the others.
func (w *walker) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() || v.Type() == fileType {
			return
		}
		w.node(v.Interface())
		w.walk(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanInterface() && f.Type() != idxType {
				w.walk(f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			w.walk(v.Index(i))
		}
	}
}

// node records what one node tells.
func (w *walker) node(n any) {
	re := w.re
	switch n := n.(type) {
	case *ast.Identifier:
		w.name(n.Name.String())
	case *ast.StringLiteral:
		re.names[n.Value.String()] = true
	case *ast.NumberLiteral:
		if _, ok := n.Value.(*big.Int); ok {
			re.bigint = true
		}
	case *ast.SpreadElement, *ast.ArrayPattern, *ast.ForOfStatement:
		re.iterates = true
	case *ast.YieldExpression:
		if n.Delegate {
			re.iterates = true
		}
	case *ast.ThisExpression, *ast.WithStatement:
		re.dynamic = true // the global object (the script is not strict), or names resolved at run time
	case *ast.DotExpression:
		w.name(n.Identifier.Name.String())
		w.left(n.Left)
	case *ast.BracketExpression:
		if !literal(n.Member) {
			if id, ok := n.Left.(*ast.Identifier); ok && stringMaps[id.Name.String()] {
				if w.mapKeys == nil {
					w.mapKeys = map[string]int{}
				}
				w.mapKeys[id.Name.String()]++
			} else {
				re.dynamic = true
			}
		}
		w.left(n.Left)
	case *ast.PropertyKeyed:
		w.computed(n.Computed, n.Key)
	case *ast.FieldDefinition:
		w.computed(n.Computed, n.Key)
	case *ast.MethodDefinition:
		w.computed(n.Computed, n.Key)
	}
}

// name records a name written in the source.
func (w *walker) name(s string) {
	w.re.names[s] = true
	if stringMaps[s] {
		w.uses[s]++
	}
}

// left records the object of a member expression.
func (w *walker) left(e ast.Expression) {
	if id, ok := e.(*ast.Identifier); ok && stringMaps[id.Name.String()] {
		w.lefts[id.Name.String()]++
	}
}

// computed records an object literal's or a class's key: a computed key
// other than a literal could name any member.
func (w *walker) computed(isComputed bool, key ast.Expression) {
	if isComputed && !literal(key) {
		w.re.dynamic = true
	}
}

// literal reports whether e is a string or number literal.
func literal(e ast.Expression) bool {
	switch e.(type) {
	case *ast.StringLiteral, *ast.NumberLiteral:
		return true
	}
	return false
}
