package scripting

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// substitute gives the text goja's own replace gives, for every form of
// "$" in a replacement.
func TestSubstitute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ pattern, repl string }{
		{`/b/g`, `[$&]`},
		{`/b/g`, "[$`|$']"},
		{`/(a)(b)?/g`, `$1-$2-$3-$0-$$-$`},
		{`/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/`, `$11|$10|$01|$1|$012|$99`},
		{`/(?<x>a)/g`, `<$<x>|$<y>|$<x|$>`},
		{`/(?:)/g`, `$'.`},
		{`/é(.)/g`, "$1$`"},
		{`"b"`, `$&$&$'`},
		{`"zz"`, `never`},
	} {
		rt := goja.New()
		repl := rt.ToValue(tc.repl).(goja.String)
		rt.Set("sub", func(call goja.FunctionCall) goja.Value { return substitute(repl, call.Arguments) })
		rt.Set("repl", tc.repl)
		src := `var s = "abcabé!déjà abcdefghijk"; [s.replace(` + tc.pattern + `, repl), s.replace(` + tc.pattern + `, sub)]`
		v, err := rt.RunString(src)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.pattern, tc.repl, err)
		}
		got := v.Export().([]any)
		if got[0] != got[1] {
			t.Errorf("%s %q:\n goja %q\n ours %q", tc.pattern, tc.repl, got[0], got[1])
		}
	}
}

// The caps of split, replace, localeCompare, normalize, JSON.stringify and
// concat stay out of the way of ordinary use, including the Go replacer
// that replace uses on long strings.
func TestStringCapsAllowOrdinaryUse(t *testing.T) {
	t.Parallel()
	src := `var long = 'ab'.repeat(2e4), o = {length: 2, 0: 'x', 1: 'y'}; o[Symbol.isConcatSpreadable] = true;
		var r = long.replace(/(a)/g, '<$1>'), f = long.replace(/b/g, function (m) { return m.toUpperCase() });
		return [
			'a,b,,c'.split(',').length, 'abc'.split('').join('.'), long.split('b').length, long.split(/a/, 3).length,
			r.length, r.slice(0, 8), f.slice(0, 4), 'aXbX'.replaceAll('X', '$&$&'), 'x'.replace('x', "$'$\u0060"),
			'a'.localeCompare('b'), 'e\u0301'.normalize('NFC').length, Array.from('héllo').length,
			JSON.stringify({a: [1, 'two', null], b: {c: true}}), JSON.stringify({a: 1, b: 2}, ['b']),
			JSON.stringify({a: 1, b: 'x'}, function (k, v) { return typeof v === 'number' ? v + 1 : v }),
			JSON.stringify([1, [2]], null, 1).length, JSON.stringify(undefined), JSON.stringify(new Date(0)),
			new Uint8Array([3, 1, 2]).sort().join('-'), [].concat(o, [1]).join(''), LOG.info({a: 1}) === undefined,
			'abc'.replace('b', 5), 'abc'.replaceAll(/b/g, () => 1.5), 'abc'.replace(/b/, true),
		].join(' ')`
	want := `4 a.b.c 20001 3 80000 <a>b<a>b aBaB aXXbXX  -1 1 5 {"a":[1,"two",null],"b":{"c":true}} {"b":2} {"a":2,"b":"x"} 17  "1970-01-01T00:00:00.000Z" 1-2-3 xy1 true a5c a1.5c atruec`
	if got := mustValue(t, src, nil); got != want {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// match with a global regular expression on a string too long for goja's
// matcher gives, through matchAll, what the matcher gives: matches in
// order, an empty match advancing lastIndex.
func TestMatchGlobalLongString(t *testing.T) {
	t.Parallel()
	src := `var s = 'x'.repeat(2**18) + 'yzy';
		var m = s.match(/x*/g);
		return [s.match(/y/g).join(','), s.match(/q/g), /z/g[Symbol.match](s).length, m.length, m[0].length, m[4], 'aXbX'.match(/X/g).length].join(' ')`
	if got := mustValue(t, src, nil); got != "y,y  1 5 262144  2" {
		t.Fatalf("got %v", got)
	}
}

// Spread and Array.from walk the iterators of matchAll, Set and Map as one
// Go loop: [...s.matchAll(/x/g)] of 4 Mi matches ran 31 s against a 1 s
// deadline and took 2 GiB. Their next checks the deadline, so the run
// ends soon after it (10 s is a generous bound for a 300 ms deadline).
func TestIteratorStopsAtTheDeadline(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`return [...'x'.repeat(2**21).matchAll(/x/g)].length`,
		`return Array.from('x'.repeat(2**21).matchAll(/x/g)).length`,
	} {
		start := time.Now()
		res := NewEngine(Limits{}).Run(context.Background(), mustCompile(t, "iter", src), &Request{}, 300*time.Millisecond)
		if res.Err == nil || !strings.Contains(res.Err.Error(), "timed out") {
			t.Errorf("%s: err = %v, want a timeout", src, res.Err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: ended %s after the start, for a deadline of 300 ms", src, d)
		}
	}
}
