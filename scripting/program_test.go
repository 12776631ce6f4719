package scripting

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCompileError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src    string
		line, column int
		message      string
	}{
		{"line 3", "var a = 1;\nvar b = 2;\nvar c = );", 3, 9, "Unexpected token )"},
		{"line 1 column shifted back", "var c = );", 1, 9, "Unexpected token )"},
		{"unclosed block", "if (x) {\n  return 1;", 2, 12, "Unexpected end of input"},
		{"unfinished expression", "return 1 +", 1, 11, "Unexpected end of input"},
		{"redeclaration", "let a;\nlet a;", 2, 5, "Identifier 'a' has already been declared"},
		{"crlf lines", "var a = 1;\r\nvar b = 2;\r\nvar c = );", 3, 9, "Unexpected token )"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile("match.js", tt.src)
			if err == nil {
				t.Fatalf("Compile(%q) = %v, want an error", tt.src, p)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want *CompileError", err, err)
			}
			if ce.Name != "match.js" || ce.Line != tt.line || ce.Column != tt.column || ce.Message != tt.message {
				t.Errorf("got %+v, want line %d, column %d, %q", *ce, tt.line, tt.column, tt.message)
			}
		})
	}
}

func TestCompileErrorString(t *testing.T) {
	t.Parallel()
	e := &CompileError{Name: "x", Line: 3, Column: 5, Message: "Unexpected token )"}
	if got, want := e.Error(), "line 3, column 5: Unexpected token )"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestProgramName(t *testing.T) {
	t.Parallel()
	if got := mustCompile(t, "github match", "return 1").Name(); got != "github match" {
		t.Errorf("Name() = %q", got)
	}
}

func TestTopLevelReturn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      any
	}{
		{"number", "return 1 + 2", int64(3)},
		{"string", `return "a" + "b"`, "ab"},
		{"after statements", "var x = 2;\nif (x > 1) {\n  return x * 10;\n}\nreturn 0;", int64(20)},
		{"no return", "var x = 1;", nil},
		{"bare return", "return;", nil},
		{"object", `return {a: 1, b: [true, "x"]}`, map[string]any{"a": int64(1), "b": []any{true, "x"}}},
		{"line comment on the last line", "return 5 // five", int64(5)},
		{"float", "return 1.5", 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustValue(t, tt.src, nil)
			if !equalValues(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestTruthy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want bool
	}{
		{"return true", true},
		{"return false", false},
		{"return 1", true},
		{"return 0", false},
		{"return -0", false},
		{"return NaN", false},
		{`return "0"`, true},
		{`return ""`, false},
		{"return null", false},
		{"return undefined", false},
		{"", false},
		{"return []", true},
		{"return {}", true},
		{"return function(){}", true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, tt.src, nil)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if res.Truthy != tt.want {
				t.Errorf("Truthy = %v, want %v", res.Truthy, tt.want)
			}
		})
	}
}

// equalValues compares exported values.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !equalValues(v, b[k]) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// A BigInt literal of a million digits took seconds to parse (the parser
// converts it, quadratically): Compile refuses one longer than BigInt()
// takes from a string, before the parser sees it, naming its line.
func TestCompileLongBigIntLiteral(t *testing.T) {
	t.Parallel()
	digits := strings.Repeat("9", maxBigIntString+1)
	for _, src := range []string{"var a = 1;\nreturn " + digits + "n > 0n", "var a = 1;\nreturn 0x" + digits + "n > 0n"} {
		start := time.Now()
		_, err := Compile("big.js", src)
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Line != 2 || !strings.Contains(ce.Message, "BigInt literal") {
			t.Fatalf("err = %v, want a compile error on line 2 about the BigInt literal", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("refused after %s", d)
		}
	}
	// A long literal within the limit, and the digits in a string, compile.
	for _, src := range []string{"return 1" + strings.Repeat("0", 1000) + "n > 0n", "return '" + digits + "'.length", "var a" + digits + "n = 1; return 1"} {
		if _, err := Compile("ok.js", src); err != nil {
			t.Errorf("%.20s…: %v", src, err)
		}
	}
}
