package scripting

import (
	"context"
	"errors"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostile are scripts written to crash, stall or exhaust the server. Each
// must end with the error given (a substring, or one of several separated
// by "|"), and leave the process
// alive. docs/security.md reports what each does. A row that expects
// "timed out" runs with a short deadline: what it proves is that the
// deadline stops it. Any other row runs with a long deadline, so a busy
// machine cannot make it time out first: what it proves is that a cap
// stops it (a timeout is a failure); those rows run one at a time. Rows
// marked heavy allocate tens of MiB before their cap refuses the rest;
// they run one at a time too, whatever they expect. The ones
// whose cost is seconds by nature (memory growth stopped by the watchdog,
// multi-second built-ins) are measured by hand and not run here.
var hostile = []struct {
	name, src, err string
	heavy          bool
}{
	{"infinite loop", `while (true) {}`, "timed out", false},
	{"RESPONSE body of 1 GiB as JSON", `var s = 'x'.repeat(1 << 20), a = []; for (var i = 0; i < 1024; i++) a.push(s); RESPONSE.body = a; return 1`, "RangeError: JSON.stringify", true},
	{"RESPONSE header splitting", `RESPONSE.headers = {"X-A": "1\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK"}; return 1`, "control character", false},
	{"RESPONSE with 5000 headers", `var h = {}; for (var i = 0; i < 5000; i++) h["x" + i] = "v"; RESPONSE.headers = h; return 1`, "the limit is 32", false},
	{"RESPONSE getter loop", `RESPONSE = {get body() { while (true) {} }}; return 1`, "timed out", false},
	{"loop in catch", `for (;;) { try { for (;;) {} } catch (e) {} finally { continue } }`, "timed out", false},
	{"deep recursion", `function f() { return f() + 1 } return f()`, "Maximum call stack size exceeded", false},
	{"eval", `return eval('while (true) {}')`, "timed out", false},
	{"Function", `return Function('while (true) {}')()`, "timed out", false},
	{"async loop", `return (async function () { while (true) { await 1 } })()`, "timed out", false},
	{"promise chain", `var p = Promise.resolve(); function f() { p = p.then(f) } f(); return 1`, "timed out", false},
	{"getter loop in the result", `return {get a() { while (true) {} }}`, "timed out", false},
	{"toString loop in a throw", `throw {toString() { while (true) {} }}`, "timed out", false},
	{"proxy trap loop", `var p = new Proxy({}, {get() { while (true) {} }}); return p.x`, "timed out", false},
	{"repeat", `return 'x'.repeat(2**28).length`, "RangeError: String.prototype.repeat", false},
	{"padStart", `return 'x'.padStart(2**30).length`, "RangeError: padStart/padEnd", false},
	{"padEnd", `return 'x'.padEnd(2**30).length`, "RangeError: padStart/padEnd", false},
	{"String concat", `var s = 'x'.repeat(1 << 20), a = []; for (var i = 0; i < 2000; i++) a.push(s); return ''.concat.apply('', a).length`, "RangeError: String.prototype.concat", true},
	{"join of a sparse array", `return new Array(2**32 - 1).join('x').length`, "RangeError", false},
	{"fill", `return Array(1e9).fill(0).length`, "RangeError", false},
	{"Array.from", `return Array.from({length: 1e9}).length`, "RangeError: Array.from", false},
	{"concat", `var a = new Array(1e7), b = []; for (var i = 0; i < 100; i++) b.push(a); return [].concat.apply([], b).length`, "RangeError: Array.prototype.concat", false},
	{"apply with 1e8 arguments", `var a = []; a.length = 1e8; return Math.max.apply(null, a)`, "RangeError: apply", false},
	{"sort of a sparse array", `var a = []; a.length = 2**32 - 1; a[5] = 1; return a.sort().length`, "RangeError", false},
	{"forEach of a sparse array", `var a = []; a.length = 2**32 - 1; a.forEach(function () {}); return 1`, "RangeError", false},
	{"indexOf of a sparse array", `var a = []; a[2**32 - 2] = 1; return a.indexOf(7)`, "RangeError", false},
	{"ArrayBuffer of 2 GiB", `return new ArrayBuffer(2**31).byteLength`, "RangeError: ArrayBuffer", false},
	{"ArrayBuffer of 1 TiB", `return new ArrayBuffer(2**40).byteLength`, "RangeError: ArrayBuffer", false},
	{"Uint8Array of 32 GiB", `return new Uint8Array(2**35).length`, "RangeError: Uint8Array", false},
	{"Float64Array from a sparse array", `var a = []; a.length = 1e9; return new Float64Array(a).length`, "RangeError: Float64Array", false},
	{"typed array from()", `return Uint16Array.from({length: 1e9}).length`, "RangeError: Uint16Array", false},
	{"computed name", `return 'x'['re' + 'peat'](2**28).length`, "RangeError", false},
	{"name from a variable", `var k = ['re', 'peat'].join(''); return ''[k].call('x', 2**28)`, "RangeError", false},
	{"name from eval", `return eval("'x'.re" + "peat(2**28)")`, "RangeError", false},
	{"constructor chain", `var F = (function(){}).constructor; return F("return 'x'.re" + "peat(2**28)")()`, "RangeError", false},
	{"global object", `var g = (function () { return this })(); return new g['Uint8' + 'Array'](2**35).length`, "RangeError", false},
	{"JSON.parse nested 1M deep", `return JSON.parse('['.repeat(1e6)).length`, "SyntaxError: JSON.parse: nesting deeper than", true},
	{"result nested 20000 deep", `var o = {}; for (var i = 0; i < 20000; i++) o = {a: o}; return o`, "the result nests deeper than", false},
	{"backtracking regexp", `return /^(a+)+(?=!)$/.test('a'.repeat(40) + '!')`, "timed out", false},
	{"backtracking regexp, backreference", `return new RegExp('(a+)+\\1$').test('a'.repeat(40) + '!')`, "timed out", false},
	{"concat of a spreadable array-like", `var o = {length: 2**23}; o[Symbol.isConcatSpreadable] = true; return [].concat(o).length`, "RangeError: Array.prototype.concat", false},
	{"concat of a Proxy of an array", `var p = new Proxy(new Array(2**23), {}); return [].concat(p).length`, "RangeError: Array.prototype.concat", false},
	{"concat of a spreadable this", `var o = {length: 2**23}; o[Symbol.isConcatSpreadable] = true; return Array.prototype.concat.call(o).length`, "RangeError: Array.prototype.concat", false},
	{"BigInt **", `return (7n ** 5000000n) > 0n`, "RangeError: BigInt", false},
	{"BigInt ** of variables", `var a = 7n, b = 5000000n; return (a ** b) > 0n`, "RangeError: BigInt", false},
	{"BigInt **=", `var a = 7n; a **= 5000000n; return a > 0n`, "RangeError: BigInt", false},
	{"BigInt ** through valueOf", `var a = {valueOf() { return 7n }}; return (a ** 5000000n) > 0n`, "RangeError: BigInt", false},
	{"BigInt squared", `var x = 7n ** 100000n; for (var i = 0; i < 12; i++) x = x * x; return x > 0n`, "RangeError: BigInt", false},
	{"BigInt *= on a member", `var o = {x: 7n ** 100000n}; for (var i = 0; i < 12; i++) o['x'] *= o.x; return o.x > 0n`, "RangeError: BigInt", false},
	{"BigInt <<", `return (1n << 2n**31n) > 0n`, "RangeError: BigInt", true},
	{"BigInt >> of a negative shift", `return (1n >> -(2n**31n)) > 0n`, "RangeError: BigInt", true},
	{"BigInt of a long string", `return BigInt('9'.repeat(2**20)) > 0n`, "RangeError: BigInt", false},
	{"BigInt.asUintN", `return BigInt.asUintN(2**31, -1n) > 0n`, "RangeError: BigInt.asIntN/asUintN", true},
	{"BigInt in eval", `return eval('(7n ** 5000000n) > 0n')`, "RangeError: BigInt", false},
	{"BigInt in Function", `return Function('return (7n ** 5000000n) > 0n')()`, "RangeError: BigInt", false},
	{"split into characters", `return 'x'.repeat(2**23).split('').length`, "RangeError: String.prototype.split", true},
	{"split by a regexp", `return 'x'.repeat(2**23).split(/(?:)/).length`, "RangeError: String.prototype.split", true},
	{"replaceAll with a long replacement", `var s = 'x'.repeat(2**13); return s.replaceAll('', s).length`, "RangeError: String.prototype.replaceAll", false},
	{"replace with $' (the rest of the string)", `return 'x'.repeat(2**14).replace(/(?:)/g, "$'").length`, "RangeError: String.prototype.replace", false},
	{"replace with a function", `var s = 'x'.repeat(2**20); return 'x'.repeat(64).replace(/x/g, function () { return s }).length`, "RangeError: String.prototype.replace", false},
	{"localeCompare of 16 Mi characters", `var s = 'x'.repeat(2**24); return s.localeCompare(s + 'y')`, "RangeError: String.prototype.localeCompare", true},
	{"normalize of 16 Mi characters", `return 'x'.repeat(2**24).normalize('NFD').length`, "RangeError: String.prototype.normalize", true},
	{"Array.from of a string", `return Array.from('x'.repeat(2**23)).length`, "RangeError: Array.from", true},
	{"sort of 2**20 numbers without a comparator", `return Array(2**20).fill(1).sort().length`, "RangeError: sort", false},
	{"typed array sort without a comparator", `return new Float64Array(2**20).sort().length`, "RangeError: sort", false},
	{"typed array join", `return new Uint8Array(2**23).join().length`, "RangeError", false},
	{"JSON.stringify of a 32 Mi string twice", `var s = 'x'.repeat(2**25); return JSON.stringify([s, s]).length`, "RangeError: JSON.stringify", true},
	{"JSON.stringify indented, 5000 deep", `var a = []; for (var i = 0; i < 5000; i++) a = [a, 1]; return JSON.stringify(a, null, 10).length`, "RangeError: JSON.stringify", true},
	{"shift of a sparse array", `var a = [1]; a.length = 2**25; return a.shift()`, "RangeError", false},
	{"implicit toString of a sparse array", `var a = []; a.length = 2**26; return (a + '').length`, "RangeError", false},
	{"template literal of a sparse array", "var a = []; a.length = 2**26; return `${a}`.length", "RangeError", false},
	{"String() of a typed array", `return String(new Uint8Array(2**26)).length`, "RangeError", false},
	{"Set of a typed array", `return new Set(new Uint8Array(2**25)).size`, "RangeError: Set", false},
	{"Map of 2 Mi entries", `return new Map(Array(2**21).fill([1, 1])).size`, "RangeError: Map", false},
	{"Promise.all of a typed array", `return Promise.all(new Uint8Array(2**25))`, "RangeError: Promise.all", false},
	{"match of a global regexp", `return 'x'.repeat(2**23).match(/x/g).length`, "RangeError: String.prototype.match", false},
	{"Symbol.match of a global regexp", `return /x/g[Symbol.match]('x'.repeat(2**23)).length`, "RangeError: String.prototype.match", false},
	{"BigInt literal of 1e6 digits in eval", `return eval('9'.repeat(1e6) + 'n') > 0n`, "SyntaxError", false},
	{"spread of a sparse array", `var a = []; a.length = 2**23; return [...a].length`, "RangeError: iteration", false},
	{"spread of a typed array", `return [...new Uint8Array(2**24)].length`, "RangeError: iteration", false},
	{"NET.inCIDR of a huge array", `var a = []; a.length = 2**32 - 1; return NET.inCIDR('10.0.0.1', a)`, "TypeError: NET.inCIDR: cidrs holds", false},
	{"NET.inCIDR of a long list of ranges", `var a = Array(10000).fill('10.0.0.0/8'); for (;;) NET.inCIDR('10.0.0.1', a)`, "timed out", false},
	{"NET.inCIDR of a Proxy that loops", `var p = new Proxy([], {get(t, k) { if (k === 'length') return 1; for (;;) {} }}); return NET.inCIDR('10.0.0.1', p)`, "timed out", false},
	{"spread of a long string into arguments", `return Math.max(...'1'.repeat(2**23))`, "RangeError: iteration", false},
	{"btoa of 32 Mi characters", `return btoa('x'.repeat(2**25)).length`, "RangeError: btoa", true},
	{"btoa of 32 Mi characters past Latin-1", `return btoa('€'.repeat(2**25)).length`, "RangeError: btoa", true},
	{"atob of 32 Mi invalid characters", `return atob('€'.repeat(2**25)).length`, "InvalidCharacterError", true},
	{"URL of 4 MiB", `return new URL('http://h/' + 'a'.repeat(2**22)).href.length`, "TypeError: Invalid URL", false},
	{"URL base of 4 MiB", `return new URL('a', 'http://h/' + 'a'.repeat(2**22)).href.length`, "TypeError: Invalid base URL", false},
	{"URLSearchParams of 4 Mi pairs", `return new URLSearchParams('a&'.repeat(2**22)).size`, "RangeError: URLSearchParams", true},
	{"URLSearchParams of an array-like pair", `return new URLSearchParams([{length: 2**32 - 1}]).size`, "TypeError", false},
	{"URLSearchParams growing", `var p = new URLSearchParams(); for (;;) p.append('a', 'b')`, "timed out", false},
	{"URLSearchParams iterated while growing", `var p = new URLSearchParams('a=1'); for (var e of p) p.append('b', '2')`, "timed out", false},
	{"URLSearchParams serialised past 32 Mi", `var p = new URLSearchParams(), v = '€'.repeat(2**20); for (var i = 0; i < 4; i++) p.append('a', v); return p.toString().length`, "RangeError: URLSearchParams", true},
	{"TextEncoder of 96 MiB", `return new TextEncoder().encode('€'.repeat(2**25)).length`, "RangeError: TextEncoder", true},
	{"TextDecoder of 48 MiB", `return new TextDecoder().decode(new Uint8Array(48 << 20)).length`, "RangeError: TextDecoder", true},
	{"console.log in a loop", `for (;;) console.log({a: [1, 2, 3]})`, "timed out", false},
	{"CRYPTO.sha512 in a loop", `for (;;) CRYPTO.sha512('x'.repeat(2**20))`, "timed out", false},
	{"CRYPTO.sha256 of an object", `return CRYPTO.sha256({toString() { while (true) {} }})`, "TypeError: CRYPTO.sha256: data must be", false},
	{"CRYPTO.verify of a 16 MiB key", `return CRYPTO.verify('ed25519', 'a'.repeat(2**24), '00', 'x')`, "TypeError: CRYPTO.verify: the public key is longer than 64 KiB", false},
	{"CRYPTO.verify of a 16 MiB signature", `if (CRYPTO.verify('ed25519', 'a'.repeat(64), 'a'.repeat(2**24), 'x')) return 1; throw 'refused'`, "refused", false},
	{"CRYPTO.verify of a looping key", `return CRYPTO.verify('ed25519', {toString() { while (true) {} }}, '00', 'x')`, "TypeError: CRYPTO.verify: the public key must be", false},
	{"JWT.verify of an 8 MiB token", `return JWT.verify('a.'.repeat(2**22), {secret: 's'})`, "Error: JWT.verify: the token is longer than 64 KiB", false},
	{"JWT.verify with a throwing getter", `return JWT.verify('a.b.c', {get secret() { throw 'boom' }})`, "boom", false},
	{"JWT.verify with a looping proxy", `return JWT.verify('a.b.c', new Proxy({}, {ownKeys() { while (true) {} }}))`, "timed out", false},
	{"JWT.verify with 2**32-1 algorithms", `return JWT.verify('a.b.c', {secret: 's', algorithms: new Array(2**32 - 1)})`, "TypeError: JWT.verify: algorithms must hold 1 to 64 strings", false},
	{"JWT.verify of a JWKS without HTTP", `return JWT.verify('eyJhbGciOiJFUzI1NiJ9.e30.AA', {jwksUrl: 'https://issuer.example/jwks'})`, "Error: JWT.verify: outbound HTTP is not available here", false},
	{"STANDARD.verify of 2**32-1 secrets", `return STANDARD.verify(new Array(2**32 - 1))`, "TypeError: STANDARD.verify: an array of secrets must hold 1 to 16", false},
	{"DISCORD.verify of a 16 MiB key", `return DISCORD.verify('a'.repeat(2**24))`, "TypeError: DISCORD.verify: the public key is longer than 64 KiB", false},
	{"SENDGRID.verify of a thrown key", `return SENDGRID.verify([{toString() { throw 'x' }}])`, "TypeError: SENDGRID.verify: the public key at index 0 must be", false},
	// Stopped by whichever comes first, the deadline or the cap (about
	// 3 M holes in: a fast machine gets there within 300 ms); either way
	// not by returning, and a stop at the deadline cannot be caught.
	{"JSON.stringify of a sparse array", `return JSON.stringify(new Array(2**32 - 2)).length`, "timed out|RangeError: JSON.stringify", false},
	{"JSON.stringify of a sparse array, caught", `try { JSON.stringify(new Array(2**32 - 2)) } catch (e) { if (e instanceof RangeError) throw e } return 'went on'`, "timed out|RangeError: JSON.stringify", false},
}

// heavy serialises the hostile rows stopped by a cap and those that
// allocate tens of MiB, so that they do not share a small machine.
var heavy sync.Mutex

func TestHostileScripts(t *testing.T) {
	t.Parallel()
	e := NewEngine(Limits{})
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The deadline is what stops a "timed out" row; any other row
			// must be stopped by a cap long before its deadline. Those run
			// one at a time: on a loaded 2-core machine under -race, thirty
			// of them at once shared the CPU so thinly that one reached its
			// cap only after 20 s of wall time.
			deadline := 300 * time.Millisecond
			if tc.heavy || !strings.Contains(tc.err, "timed out") {
				heavy.Lock()
				defer heavy.Unlock()
				deadline = 60 * time.Second
			}
			p := mustCompile(t, tc.name, tc.src)
			done := make(chan Result, 1)
			go func() { done <- e.Run(context.Background(), p, &Request{}, deadline) }()
			var res Result
			select {
			case res = <-done:
			case <-time.After(deadline + 60*time.Second): // a hang, not a timing
				t.Fatalf("still running 60 s after a deadline of %s", deadline)
			}
			if res.Err == nil || !slices.ContainsFunc(strings.Split(tc.err, "|"), func(want string) bool { return strings.Contains(res.Err.Error(), want) }) {
				t.Fatalf("err = %v, want %q", res.Err, tc.err)
			}
		})
	}
}

// LOG of a sparse array of 2**32-1 elements (or a Proxy of one) walked
// every index (through JSON.stringify, then String(a)) for minutes; it is
// logged as its size.
func TestLogHugeSparseArray(t *testing.T) {
	t.Parallel()
	src := `LOG.info(new Array(2**32 - 1)); LOG.info(new Proxy(new Array(2**32 - 1), {})); return 1`
	res := NewEngine(Limits{}).Run(context.Background(), mustCompile(t, "log", src), &Request{}, 20*time.Second)
	if res.Err != nil || len(res.Logs) != 2 || res.Logs[0].Text != "[an array of 4294967295 elements]" || res.Logs[1].Text != "[an object of length 4294967295]" {
		t.Fatalf("got %v, logs %+v", res.Err, res.Logs)
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
	for _, src := range []string{`return [...PAYLOAD.a]`, `return f(...PAYLOAD.a)`, `var [a] = PAYLOAD.a; return a`, `for (var x of PAYLOAD.a) {} return 1`, `function* g() { yield* PAYLOAD.a } return 1`} {
		if p := mustCompile(t, "reach", src); !p.reach.iterators() {
			t.Errorf("%s: does not walk an iterator", src)
		}
	}
	if p := mustCompile(t, "reach", `var a = PAYLOAD.a; return a.length`); p.reach.iterators() {
		t.Errorf("a script without spread or for-of walks an iterator")
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
			new (class B extends Uint8Array {})(4).length, [1, 2] + '', String(new Uint8Array(2)),
			new Set([1, 2, 2]).size, new Map([[1, 5]]).get(1), new Set([1]) instanceof Set,
			Object.fromEntries([['a', 1]]).a, new WeakSet([{}]) instanceof WeakSet,
			[...'ab', ...[1], ...new Uint8Array(1)].join(''), Math.max(...[1, 2])].join(" ")`
	if got := mustValue(t, src, nil); got != "1-2-3 ababab ...x 3 012 9 16 8 true Uint8Array 2 abc 1 true 1 2 4 1,2 0,0 2 5 true 1 true ab10 2" {
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
	if res := e.Run(context.Background(), mustCompile(t, "ok", "return 1"), &Request{}, 20*time.Second); res.Err != nil || res.Value != int64(1) {
		t.Fatalf("after the watchdog: %+v", res)
	}
}

// An exception carries its message into the execution record: a thrown
// 8 Mi-character string (or a TypeError quoting one) is cut.
func TestLongExceptionMessage(t *testing.T) {
	t.Parallel()
	for _, src := range []string{`throw 'x'.repeat(2**20)`, `throw new Error('x'.repeat(2**20))`, `return Uint8Array.from('1'.repeat(2**20))`} {
		res := NewEngine(Limits{}).Run(context.Background(), mustCompile(t, "throw", src), &Request{}, 60*time.Second)
		var se *ScriptError
		if !errors.As(res.Err, &se) || len(se.Message) > maxErrorMessage+len("…") || !strings.HasSuffix(se.Message, "…") {
			t.Errorf("%s: got a message of %d bytes", src, len(res.Err.Error()))
		}
	}
}
