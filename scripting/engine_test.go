package scripting

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"
)

func TestScriptErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src    string
		message      string
		line, column int
	}{
		{"throw Error on line 3", "var a = 1;\nvar b = 2;\n  throw new Error('boom');", "Error: boom", 3, 9},
		{"throw string", `throw "x"`, "x", 1, 1},
		{"throw number", "\nthrow 42", "42", 2, 1},
		{"type error", "var o = {};\no.f();", "TypeError: Object has no member 'f'", 2, 4},
		{"reference error", "  missing.x", "ReferenceError: missing is not defined", 1, 3},
		{"thrown in a function", "function f() {\n  throw new RangeError('deep');\n}\nreturn f();", "RangeError: deep", 2, 9},
		// The position is where the error object was made (here the
		// super call), as in the error's own stack.
		{"custom error", "class E extends Error { constructor(m) { super(m); this.name = 'E'; } }\nthrow new E('mine')", "E: mine", 1, 47},
		// Code run by eval has no position in the user's source: the eval
		// call's is given.
		{"thrown from eval", "eval('throw new Error(\"in eval\")')", "Error: in eval", 1, 5},
		{"thrown from Go", "\n\nHMAC.sign('md4', 'd', 'k')", `TypeError: HMAC.sign: unsupported algorithm "md4" (use sha1, sha256 or sha512)`, 3, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, tt.src, nil)
			var se *ScriptError
			if !errors.As(res.Err, &se) {
				t.Fatalf("Err = %T %v, want *ScriptError", res.Err, res.Err)
			}
			if se.Message != tt.message || se.Line != tt.line || se.Column != tt.column {
				t.Errorf("got %q at %d:%d, want %q at %d:%d", se.Message, se.Line, se.Column, tt.message, tt.line, tt.column)
			}
			if res.Value != nil || res.Truthy {
				t.Errorf("failed run has a value: %v %v", res.Value, res.Truthy)
			}
		})
	}
}

func TestScriptErrorString(t *testing.T) {
	t.Parallel()
	e := &ScriptError{Message: "TypeError: x is not a function", Line: 3, Column: 7}
	if got, want := e.Error(), "TypeError: x is not a function (line 3, column 7)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (&ScriptError{Message: "x"}).Error(); got != "x" {
		t.Errorf("Error() without position = %q", got)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src string }{
		{"infinite loop", "while (true) {}"},
		{"busy recursion-free loop", "for (var i = 0; ; i++) { Math.sqrt(i) }"},
		{"loop in a catch", "for (;;) { try { throw 1 } catch (e) {} }"},
		{"loop in a finally", "try { while (true) {} } finally { while (true) {} }"},
		{"getter of the result", "return {get x() { while (true) {} }}"},
		{"toString of the exception", "throw {toString() { while (true) {} }}"},
		{"loop in a toJSON called by LOG", "LOG.info({toJSON() { while (true) {} }})"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, "loop", tt.src)
			start := time.Now()
			res := NewEngine(Limits{}).Run(context.Background(), p, &Request{}, 100*time.Millisecond)
			elapsed := time.Since(start)
			if !errors.Is(res.Err, ErrTimeout) {
				t.Fatalf("Err = %v, want ErrTimeout", res.Err)
			}
			if got, want := res.Err.Error(), "script timed out after 100ms"; got != want {
				t.Errorf("Err = %q, want %q", got, want)
			}
			if elapsed > 20*time.Second { // a hang, not a timing
				t.Errorf("returned after %s", elapsed)
			}
			if res.Duration < 100*time.Millisecond || res.Duration > elapsed {
				t.Errorf("Duration = %s (elapsed %s)", res.Duration, elapsed)
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "loop", "LOG.info('started'); while (true) {}")
	e := NewEngine(Limits{})

	t.Run("cancelled while running", func(t *testing.T) {
		t.Parallel()
		// The script reads PAYLOAD after its first log line: the decode
		// hook cancels there, so the cancel comes while it runs, however
		// slow the machine.
		ctx, cancel := context.WithCancel(context.Background())
		e := NewEngine(Limits{})
		e.decodeHook = cancel
		p := mustCompile(t, "loop", "LOG.info('started'); PAYLOAD; while (true) {}")
		start := time.Now()
		res := e.Run(ctx, p, &Request{Body: []byte(`{}`)}, time.Minute)
		if !errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, ErrTimeout) {
			t.Fatalf("Err = %v, want context.Canceled", res.Err)
		}
		if time.Since(start) > 20*time.Second { // a hang, not a timing
			t.Errorf("returned after %s", time.Since(start))
		}
		if len(res.Logs) != 1 {
			t.Errorf("logs before the cancel lost: %+v", res.Logs)
		}
	})
	t.Run("cancelled before", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := e.Run(ctx, p, &Request{}, time.Second)
		if !errors.Is(res.Err, context.Canceled) {
			t.Fatalf("Err = %v, want context.Canceled", res.Err)
		}
	})
	t.Run("caller deadline shorter than the timeout", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		res := e.Run(ctx, p, &Request{}, 10*time.Second)
		if !errors.Is(res.Err, context.DeadlineExceeded) || errors.Is(res.Err, ErrTimeout) {
			t.Fatalf("Err = %v, want the caller's context.DeadlineExceeded", res.Err)
		}
	})
}

func TestDeepRecursion(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src string }{
		{"plain", "function f(n) { return f(n + 1) + 1 }\nreturn f(0)"},
		{"caught and retried", "function f() { try { return f() } catch (e) { return f() } }\nreturn f()"},
		{"through a getter", "var o = { get x() { return this.x } };\nreturn o.x"},
		{"mutual", "function a() { return b() }\nfunction b() { return a() }\nreturn a()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, tt.src, nil)
			var se *ScriptError
			if !errors.As(res.Err, &se) {
				t.Fatalf("Err = %T %v, want *ScriptError", res.Err, res.Err)
			}
			if !strings.HasPrefix(se.Message, "RangeError") || se.Line < 1 {
				t.Errorf("got %+v", *se)
			}
		})
	}
	// A recursion within the limit is fine.
	e := NewEngine(Limits{MaxCallStack: 200})
	res := runWith(t, e, "function f(n) { return n === 0 ? 0 : 1 + f(n - 1) }\nreturn f(150)", nil)
	if res.Err != nil || res.Value != int64(150) {
		t.Errorf("recursion of 150 under a limit of 200: %v %v", res.Value, res.Err)
	}
	res = runWith(t, e, "function f(n) { return n === 0 ? 0 : 1 + f(n - 1) }\nreturn f(250)", nil)
	if res.Err == nil {
		t.Errorf("recursion of 250 under a limit of 200 succeeded")
	}
}

// TestDeepJSON checks that a body nested millions of levels deep, which
// would exhaust the stack in goja's JSON.parse and kill the process, is
// handled.
func TestDeepJSON(t *testing.T) {
	t.Parallel()
	const n = 3_000_000
	deep := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	tests := []struct {
		name string
		body []byte
		src  string
		want any
	}{
		{"PAYLOAD is the raw string", deep, "return typeof PAYLOAD", "string"},
		{"JSON.parse throws", deep, "try { JSON.parse(FLX_PRISTINE_PAYLOAD); return 'parsed' } catch (e) { return e.name }", "SyntaxError"},
		{"JSON.parse of a deep string inside a shallow body", []byte(`{"inner":"` + strings.Repeat("[", n) + `"}`),
			"try { JSON.parse(PAYLOAD.inner + ']'.repeat(" + fmt.Sprint(n) + ")); return 'parsed' } catch (e) { return e.name }", "SyntaxError"},
		{"escaped brackets", []byte(`{"inner":"` + strings.Repeat(`\u005b`, 20000) + `"}`),
			"try { JSON.parse(PAYLOAD.inner + ']'.repeat(20000)); return 'parsed' } catch (e) { return e.name }", "SyntaxError"},
		{"guarded JSON.parse still parses", append(deep[:0:0], `{"big":"`+strings.Repeat("{", 20000)+`","a":[1,2]}`...),
			`return JSON.parse(FLX_PRISTINE_PAYLOAD).a[1] + JSON.parse('{"x":3}').x + JSON.parse.name + JSON.parse.length`, "5parse2"},
		{"guarded JSON.parse throws the usual errors", append(deep[:0:0], strings.Repeat("{", 20000)...),
			`try { JSON.parse("{bad") } catch (e) { return e instanceof SyntaxError && e.name }`, "SyntaxError"},
		{"nesting at the limit", []byte(strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)),
			"return Array.isArray(PAYLOAD) && Array.isArray(JSON.parse(FLX_PRISTINE_PAYLOAD))", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, "deep", tt.src)
			res := NewEngine(Limits{}).Run(context.Background(), p, &Request{Body: tt.body}, 10*time.Second)
			if res.Err != nil || res.Value != tt.want {
				t.Errorf("got %v, %v; want %v", res.Value, res.Err, tt.want)
			}
		})
	}
	if needsJSONGuard(githubPush(t)) {
		t.Errorf("the GitHub push example should not need the JSON.parse guard")
	}
}

func TestNoStateLeaks(t *testing.T) {
	t.Parallel()
	e := NewEngine(Limits{})
	first := `
globalThis.x = 1;
var declared = 2;
Object.prototype.polluted = 1;
Array.prototype.push = function() { return "hijacked" };
JSON.parse = function() { return "hijacked" };
HTTP_HEADERS.added = "1";
String.prototype.trim = null;
return true`
	if res := runWith(t, e, first, &Request{}); res.Err != nil || !res.Truthy {
		t.Fatalf("first run: %+v", res)
	}
	second := `return typeof x === "undefined" && typeof declared === "undefined" &&
  ({}).polluted === undefined && !("polluted" in Object.prototype) &&
  [].push(1) === 1 && JSON.parse("1") === 1 && HTTP_HEADERS.added === undefined &&
  typeof "".trim === "function"`
	if res := runWith(t, e, second, &Request{}); res.Err != nil || !res.Truthy {
		t.Fatalf("state leaked from the first run: %+v", res)
	}
}

// sourceMapDir writes a valid source map, evil.js.map, that would move every
// position to evil.js, 100 lines down, and returns its directory. goja
// resolves a sourceMappingURL against the script's name, so a script named
// dir/plain.js with "//# sourceMappingURL=evil.js.map" would load it.
func sourceMapDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sm := `{"version":3,"sources":["evil.js"],"names":[],"mappings":"AAoGA;AACA;AACA;AACA;AACA;AACA;AACA;AACA"}`
	if err := os.WriteFile(filepath.Join(dir, "evil.js.map"), []byte(sm), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSourceMapsNotRead(t *testing.T) {
	t.Parallel()
	dir := sourceMapDir(t)
	name := filepath.Join(dir, "plain.js")
	smPath := filepath.Join(dir, "evil.js.map")

	// Sanity check: goja left alone does read it, which moves positions.
	raw, err := goja.Compile(name, "\n\nthrow new Error('x')\n//# sourceMappingURL=evil.js.map", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = goja.New().RunProgram(raw)
	var ex *goja.Exception
	if !errors.As(err, &ex) || !strings.Contains(ex.String(), "evil.js:103") {
		t.Fatalf("test is void: goja did not load the source map: %v", err)
	}

	t.Run("in the script", func(t *testing.T) {
		t.Parallel()
		for _, url := range []string{"evil.js.map", smPath, "file://" + smPath, "/etc/passwd"} {
			p, err := Compile(name, "\n\nthrow new Error('x')\n//# sourceMappingURL="+url)
			if err != nil {
				t.Fatal(err)
			}
			res := NewEngine(Limits{}).Run(context.Background(), p, &Request{}, 20*time.Second)
			var se *ScriptError
			if !errors.As(res.Err, &se) || se.Line != 3 || se.Column != 7 || se.Message != "Error: x" {
				t.Errorf("%s: got %v, want Error: x at line 3, column 7", url, res.Err)
			}
			p, err = Compile(name, "return 1\n//# sourceMappingURL="+url)
			if err != nil {
				t.Fatal(err)
			}
			if res := NewEngine(Limits{}).Run(context.Background(), p, &Request{}, 20*time.Second); res.Value != int64(1) {
				t.Errorf("%s: got %+v", url, res)
			}
		}
	})
	t.Run("in eval and Function", func(t *testing.T) {
		t.Parallel()
		// Sanity check: a runtime left alone reads it from eval.
		code := fmt.Sprintf("eval(%q)", "\n\nthrow new Error('e')\n//# sourceMappingURL=file://"+smPath)
		v, err := goja.New().RunString("(function(){ try { " + code + " } catch (e) { return e.stack } })()")
		if err != nil || !strings.Contains(v.String(), "evil.js") {
			t.Fatalf("test is void: goja did not load the source map in eval: %v %v", v, err)
		}
		for _, f := range []string{"eval(%q)", "new Function(%q)()"} {
			for _, url := range []string{smPath, "file://" + smPath, "/etc/passwd"} {
				code := fmt.Sprintf(f, "\n\nthrow new Error('e')\n//# sourceMappingURL="+url)
				src := "try { " + code + " } catch (e) { return e.stack }"
				stack, ok := mustValue(t, src, nil).(string)
				if !ok || strings.Contains(stack, "evil.js") || !strings.Contains(stack, "<eval>:") {
					t.Errorf("%s: the source map was read: %q", f, stack)
				}
			}
			if got := mustValue(t, "return eval('1 + 1\\n//# sourceMappingURL=/etc/passwd')", nil); got != int64(2) {
				t.Errorf("eval: got %v", got)
			}
		}
	})
}

func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	e := NewEngine(Limits{})
	p := mustCompile(t, "concurrent", `
LOG.info("run", FLX_MESSAGE_ID);
var n = 0;
for (var i = 0; i < 1000; i++) { n += i }
globalThis.counter = (globalThis.counter || 0) + 1;
return [FLX_MESSAGE_ID, PAYLOAD.n, counter, n, HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, "k")].join("|")`)
	const goroutines, runs = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*runs)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range runs {
				id := fmt.Sprintf("m-%d-%d", g, i)
				body := fmt.Sprintf(`{"n":%d}`, g*1000+i)
				res := e.Run(context.Background(), p, &Request{MessageID: id, Body: []byte(body)}, 20*time.Second)
				want := fmt.Sprintf("%s|%d|1|499500|%s", id, g*1000+i, goHex(sha256.New, "k", []byte(body)))
				if res.Err != nil || res.Value != want || len(res.Logs) != 1 || res.Logs[0].Text != "run "+id {
					errs <- fmt.Errorf("%s: got %v, %v, %+v; want %s", id, res.Value, res.Err, res.Logs, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRunWithoutProgram(t *testing.T) {
	t.Parallel()
	e := NewEngine(Limits{})
	if res := e.Run(context.Background(), nil, &Request{}, time.Second); res.Err == nil {
		t.Error("Run(nil program) succeeded")
	}
	if res := e.Run(context.Background(), &Program{}, &Request{}, time.Second); res.Err == nil {
		t.Error("Run(zero program) succeeded")
	}
}

func TestDefaultTimeout(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "loop", "while (true) {}")
	start := time.Now()
	res := NewEngine(Limits{}).Run(context.Background(), p, nil, 0)
	if !errors.Is(res.Err, ErrTimeout) || time.Since(start) > 20*time.Second { // a hang, not a timing
		t.Errorf("zero timeout: %v after %s", res.Err, time.Since(start))
	}
}

func TestNewEngineDefaults(t *testing.T) {
	t.Parallel()
	e := NewEngine(Limits{MaxLogLines: -1})
	want := Limits{MaxLogLines: DefaultMaxLogLines, MaxLogLine: DefaultMaxLogLine, MaxLogBytes: DefaultMaxLogBytes, MaxCallStack: DefaultMaxCallStack, MaxHeap: DefaultMaxHeap}
	if e.limits != want {
		t.Errorf("limits = %+v, want %+v", e.limits, want)
	}
	if got := NewEngine(Limits{MaxLogLines: 5, MaxLogLine: 6, MaxLogBytes: 8, MaxCallStack: 7, MaxHeap: 9}).limits; got != (Limits{MaxLogLines: 5, MaxLogLine: 6, MaxLogBytes: 8, MaxCallStack: 7, MaxHeap: 9}) {
		t.Errorf("limits = %+v", got)
	}
}

// TestResultDetachedFromBody checks that nothing in a Result shares memory
// with Request.Body: changing the body after Run changes no result.
func TestResultDetachedFromBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		check     func(Result) string // what the result shows of the body
	}{
		{"value", "return FLX_PRISTINE_PAYLOAD.slice(0, 12)", func(r Result) string { return r.Value.(string) }},
		{"nested value", "var o = {}; o[FLX_PRISTINE_PAYLOAD.slice(0, 4)] = [FLX_PRISTINE_PAYLOAD.slice(4, 12)]; return o",
			func(r Result) string {
				for k, v := range r.Value.(map[string]any) {
					return k + v.([]any)[0].(string)
				}
				return ""
			}},
		{"summary", "LOG.setMessage(FLX_PRISTINE_PAYLOAD.slice(0, 12))", func(r Result) string { return r.Summary }},
		{"log", "LOG.info(FLX_PRISTINE_PAYLOAD.slice(0, 12))", func(r Result) string { return r.Logs[0].Text }},
		{"error", "throw FLX_PRISTINE_PAYLOAD.slice(0, 12)", func(r Result) string { return r.Err.(*ScriptError).Message }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte("abcdefghijkl and more")
			res := runScript(t, tt.src, &Request{Body: body})
			if got := tt.check(res); got != "abcdefghijkl" {
				t.Fatalf("got %q (%v)", got, res.Err)
			}
			copy(body, "XXXXXXXXXXXX")
			if got := tt.check(res); got != "abcdefghijkl" {
				t.Errorf("result changed with the body: %q", got)
			}
		})
	}
}

func TestCyclicResult(t *testing.T) {
	t.Parallel()
	res := runScript(t, "var o = {name: 'o'}; o.self = o; var a = [o]; a.push(a); o.list = a; return o", nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	o := res.Value.(map[string]any)
	if o["name"] != "o" || o["self"].(map[string]any)["name"] != "o" || len(o["list"].([]any)) != 2 {
		t.Errorf("got %v", o)
	}
}
