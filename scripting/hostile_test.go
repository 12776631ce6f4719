package scripting

import (
	"context"
	"errors"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostile are scripts written to crash, stall or exhaust the server. Each
// must end, within its deadline or a bounded time past it, with the error
// given (a substring), and leave the process alive. docs/security.md
// reports what each does. The ones whose cost is seconds by nature (memory
// growth stopped by the watchdog, multi-second built-ins) are measured by
// hand and not run here, to keep the suite fast under -race.
var hostile = []struct {
	name, src, err string
}{
	{"infinite loop", `while (true) {}`, "timed out"},
	{"loop in catch", `for (;;) { try { for (;;) {} } catch (e) {} finally { continue } }`, "timed out"},
	{"deep recursion", `function f() { return f() + 1 } return f()`, "Maximum call stack size exceeded"},
	{"eval", `return eval('while (true) {}')`, "timed out"},
	{"Function", `return Function('while (true) {}')()`, "timed out"},
	{"async loop", `return (async function () { while (true) { await 1 } })()`, "timed out"},
	{"promise chain", `var p = Promise.resolve(); function f() { p = p.then(f) } f(); return 1`, "timed out"},
	{"getter loop in the result", `return {get a() { while (true) {} }}`, "timed out"},
	{"toString loop in a throw", `throw {toString() { while (true) {} }}`, "timed out"},
	{"proxy trap loop", `var p = new Proxy({}, {get() { while (true) {} }}); return p.x`, "timed out"},
	{"repeat", `return 'x'.repeat(2**28).length`, "RangeError: String.prototype.repeat"},
	{"padStart", `return 'x'.padStart(2**30).length`, "RangeError: padStart/padEnd"},
	{"padEnd", `return 'x'.padEnd(2**30).length`, "RangeError: padStart/padEnd"},
	{"String concat", `var s = 'x'.repeat(1 << 20), a = []; for (var i = 0; i < 2000; i++) a.push(s); return ''.concat.apply('', a).length`, "RangeError: String.prototype.concat"},
	{"join of a sparse array", `return new Array(2**32 - 1).join('x').length`, "RangeError"},
	{"fill", `return Array(1e9).fill(0).length`, "RangeError"},
	{"Array.from", `return Array.from({length: 1e9}).length`, "RangeError: Array.from"},
	{"concat", `var a = new Array(1e7), b = []; for (var i = 0; i < 100; i++) b.push(a); return [].concat.apply([], b).length`, "RangeError: Array.prototype.concat"},
	{"apply with 1e8 arguments", `var a = []; a.length = 1e8; return Math.max.apply(null, a)`, "RangeError: apply"},
	{"sort of a sparse array", `var a = []; a.length = 2**32 - 1; a[5] = 1; return a.sort().length`, "RangeError"},
	{"forEach of a sparse array", `var a = []; a.length = 2**32 - 1; a.forEach(function () {}); return 1`, "RangeError"},
	{"indexOf of a sparse array", `var a = []; a[2**32 - 2] = 1; return a.indexOf(7)`, "RangeError"},
	{"ArrayBuffer of 2 GiB", `return new ArrayBuffer(2**31).byteLength`, "RangeError: ArrayBuffer"},
	{"ArrayBuffer of 1 TiB", `return new ArrayBuffer(2**40).byteLength`, "RangeError: ArrayBuffer"},
	{"Uint8Array of 32 GiB", `return new Uint8Array(2**35).length`, "RangeError: Uint8Array"},
	{"Float64Array from a sparse array", `var a = []; a.length = 1e9; return new Float64Array(a).length`, "RangeError: Float64Array"},
	{"typed array from()", `return Uint16Array.from({length: 1e9}).length`, "RangeError: Uint16Array"},
	{"computed name", `return 'x'['re' + 'peat'](2**28).length`, "RangeError"},
	{"name from a variable", `var k = ['re', 'peat'].join(''); return ''[k].call('x', 2**28)`, "RangeError"},
	{"name from eval", `return eval("'x'.re" + "peat(2**28)")`, "RangeError"},
	{"constructor chain", `var F = (function(){}).constructor; return F("return 'x'.re" + "peat(2**28)")()`, "RangeError"},
	{"global object", `var g = (function () { return this })(); return new g['Uint8' + 'Array'](2**35).length`, "RangeError"},
	{"JSON.parse nested 1M deep", `return JSON.parse('['.repeat(1e6)).length`, "SyntaxError: JSON.parse: nesting deeper than"},
	{"result nested 20000 deep", `var o = {}; for (var i = 0; i < 20000; i++) o = {a: o}; return o`, "the result nests deeper than"},
	{"backtracking regexp", `return /^(a+)+(?=!)$/.test('a'.repeat(40) + '!')`, "timed out"},
	{"backtracking regexp, backreference", `return new RegExp('(a+)+\\1$').test('a'.repeat(40) + '!')`, "timed out"},
}

func TestHostileScripts(t *testing.T) {
	t.Parallel()
	e := NewEngine(Limits{})
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, tc.name, tc.src)
			done := make(chan Result, 1)
			go func() { done <- e.Run(context.Background(), p, &Request{}, 300*time.Millisecond) }()
			var res Result
			select {
			case res = <-done:
			case <-time.After(30 * time.Second): // a hang, not a timing: the deadline is 300 ms
				t.Fatalf("still running 30 s after a deadline of 300 ms")
			}
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", res.Err, tc.err)
			}
		})
	}
}

// A script that only reads what it is given does not pay for the caps,
// and the analysis tells such a script from one that makes names up.
func TestReach(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src     string
		dynamic bool
		names   []string
	}{
		{`return HMAC.equals(HTTP_HEADERS["x-hub-signature-256"], "x")`, false, []string{"HTTP_HEADERS", "x-hub-signature-256", "equals"}},
		{`const got = HTTP_HEADERS[PROPERTIES.header.toLowerCase()]; return got === QUERY_PARAMS[PROPERTIES.q]`, false, nil},
		{`return PAYLOAD.commits.map(c => c.id).join(",")`, false, []string{"map", "join"}},
		{`return [1, 2][0]`, false, nil},
		{`var k = 0; return PAYLOAD.commits[k]`, true, nil},
		{`var HTTP_HEADERS = ''; return HTTP_HEADERS[PAYLOAD.k]`, true, nil},
		{`function f(HTTP_HEADERS) { return HTTP_HEADERS[PAYLOAD.k] } return f('')`, true, nil},
		{`return [HTTP_HEADERS][0][PAYLOAD.k]`, true, nil},
		{`return ({}).constructor`, true, nil},
		{`return this`, true, nil},
		{`return globalThis.x`, true, nil},
		{`return eval("1")`, true, nil},
		{`with (PAYLOAD) { return x }`, true, nil},
		{`return {[PAYLOAD.k]: 1}`, true, nil},
		{`return {["a"]: 1}`, false, nil},
		{`class A { [PAYLOAD.k]() {} } return 1`, true, nil},
		{`return Reflect.ownKeys({})`, true, nil},
	} {
		p := mustCompile(t, "reach", tc.src)
		if p.reach.dynamic != tc.dynamic {
			t.Errorf("%s: dynamic = %v, want %v", tc.src, p.reach.dynamic, tc.dynamic)
		}
		for _, n := range tc.names {
			if !p.reach.names[n] {
				t.Errorf("%s: %q not among the names", tc.src, n)
			}
		}
	}
	if p := mustCompile(t, "reach", `return 1`); p.reach.can("repeat") {
		t.Errorf("a script that writes no name reaches repeat")
	}
}

// The caps stay out of the way of ordinary use.
func TestCapsAllowOrdinaryUse(t *testing.T) {
	t.Parallel()
	src := `var a = [3, 1, 2]; a.sort(); var k = "join";
		var buf = new Uint8Array(16); buf.fill(7);
		return [a[k]("-"), 'ab'.repeat(3), 'x'.padStart(4, '.'), [1].concat([2], 3).length,
			Array.from({length: 3}, (_, i) => i).join(""), Math.max.apply(null, [1, 9, 2]),
			buf.length, new ArrayBuffer(8).byteLength, buf instanceof Uint8Array, Uint8Array.name,
			Uint8Array.from([1, 2]).length, 'a'.concat('b', 'c'), JSON.parse('[[1]]')[0][0],
			buf.constructor === Uint8Array, Uint8Array.BYTES_PER_ELEMENT, Float64Array.of(1, 2).length,
			new (class B extends Uint8Array {})(4).length].join(" ")`
	if got := mustValue(t, src, nil); got != "1-2-3 ababab ...x 3 012 9 16 8 true Uint8Array 2 abc 1 true 1 2 4" {
		t.Fatalf("got %v", got)
	}
}

// A //# sourceMappingURL= naming a FIFO would block the compiler on
// open(2) if source maps were read; they are not.
func TestSourceMapFIFO(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "map.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	src := "//# sourceMappingURL=" + fifo + "\nreturn eval('1\\n//# sourceMappingURL=" + fifo + "') + Function('return 1\\n//# sourceMappingURL=file://" + fifo + "')()"
	done := make(chan any, 1)
	go func() { done <- mustValue(t, src, nil) }()
	select {
	case v := <-done:
		if v != int64(2) {
			t.Fatalf("got %v", v)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("blocked on the FIFO")
	}
}

// The watchdog stops a script that grows the heap past Limits.MaxHeap.
func TestMemoryWatchdog(t *testing.T) {
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	limit := sample[0].Value.Uint64() + 64<<20
	e := NewEngine(Limits{MaxHeap: limit})
	p := mustCompile(t, "grow", `var a = [], s = 'x'.repeat(1000); for (;;) a.push(s + a.length)`)
	res := e.Run(context.Background(), p, &Request{}, 20*time.Second)
	if !errors.Is(res.Err, ErrMemory) {
		t.Fatalf("err = %v, want ErrMemory", res.Err)
	}
	// The next script runs as usual.
	if res := e.Run(context.Background(), mustCompile(t, "ok", "return 1"), &Request{}, time.Second); res.Err != nil || res.Value != int64(1) {
		t.Fatalf("after the watchdog: %+v", res)
	}
}
