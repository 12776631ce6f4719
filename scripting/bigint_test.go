package scripting

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The rewritten operators keep their meaning, for BigInts and numbers.
func TestBigIntArithmetic(t *testing.T) {
	t.Parallel()
	src := `var x = 3n; x **= 2n; var o = {a: 2n, b: 5}; o.a *= 3n; o['b'] <<= 1; var n = 7; n *= 2;
		var v = {valueOf() { return 3n }};
		return [2n ** 10n, 3n * 4n, 1n << 3n, 256n >> 2n, 2 ** 10, 3 * 4, 1 << 3, -8 >> 1, v * 2n,
			1n == "1", 2n > 1, "10" < 9n, v == 3n, x, o.a, o.b, n, BigInt("123"), BigInt({valueOf() { return "7" }}),
			BigInt.asUintN(8, 257n), eval("var q = 5n; q * q"), Function("a", "b", "return a ** b")(2n, 3n),
			new Function("return 6n * 7n")(), typeof BigInt, BigInt.name, 10n ** 0n, (-2n) ** 3n].join(" ")`
	want := "1024 12 8 64 1024 12 8 -4 6 true true false true 9 6 10 14 123 7 1 25 8 42 function BigInt 1 -8"
	if got := mustValue(t, src, nil); got != want {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// An error in a rewritten expression is reported where the user wrote it.
func TestBigIntErrorPosition(t *testing.T) {
	t.Parallel()
	res := runScript(t, "var a = 1n;\n\nreturn a * 2", nil)
	var se *ScriptError
	if !errors.As(res.Err, &se) || se.Line != 3 || !strings.Contains(se.Message, "TypeError") {
		t.Fatalf("err = %v, want a TypeError on line 3", res.Err)
	}
}

// A save compiles the script: 7n ** 50000000n (34 s of work) must not be
// computed then. If the compiler folded it, the program would return the
// constant; it throws the cap's RangeError instead when run.
func TestBigIntNotFoldedAtCompile(t *testing.T) {
	t.Parallel()
	done := make(chan *Program, 1)
	go func() {
		p, err := Compile("save", "return 7n ** 50000000n")
		if err != nil {
			t.Error(err)
		}
		done <- p
	}()
	var p *Program
	select {
	case p = <-done:
	case <-time.After(30 * time.Second): // the work takes 34 s on a quiet machine
		t.Fatal("Compile is computing the constant")
	}
	if p == nil {
		return
	}
	res := NewEngine(Limits{}).Run(context.Background(), p, &Request{}, 20*time.Second)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "RangeError: BigInt") {
		t.Fatalf("err = %v, want the BigInt cap's RangeError", res.Err)
	}
}

// BenchmarkArith measures what the rewrite costs plain number arithmetic
// in a script that can hold a BigInt.
func BenchmarkArith(b *testing.B) {
	body := `var s = 0; for (var i = 0; i < 100000; i++) { s = (s * 3 + i) % 1000003 } return s`
	for _, bc := range []struct{ name, src string }{
		{"plain", body},
		{"rewritten", "var big = 1n;\n" + body},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := mustCompile(b, bc.name, bc.src)
			e := NewEngine(Limits{})
			for b.Loop() {
				if res := e.Run(context.Background(), p, &Request{}, time.Minute); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
		})
	}
}
