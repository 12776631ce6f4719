package scripting

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLogLevels(t *testing.T) {
	t.Parallel()
	before := time.Now()
	res := runScript(t, `
LOG.fine("f"); LOG.debug("d"); LOG.info("i");
LOG.warning("w"); LOG.warn("w2"); LOG.severe("s"); LOG.error("e");`, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []LogLine{
		{Level: "FINE", Text: "f"}, {Level: "FINE", Text: "d"}, {Level: "INFO", Text: "i"},
		{Level: "WARNING", Text: "w"}, {Level: "WARNING", Text: "w2"}, {Level: "SEVERE", Text: "s"}, {Level: "SEVERE", Text: "e"},
	}
	if len(res.Logs) != len(want) {
		t.Fatalf("got %d lines: %+v", len(res.Logs), res.Logs)
	}
	for i, l := range res.Logs {
		if l.Level != want[i].Level || l.Text != want[i].Text {
			t.Errorf("line %d = %s %q, want %s %q", i, l.Level, l.Text, want[i].Level, want[i].Text)
		}
		if l.Time.Before(before) || l.Time.After(time.Now()) {
			t.Errorf("line %d time %v", i, l.Time)
		}
	}
}

func TestLogRendering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, args, want string
	}{
		{"string", `"hello"`, "hello"},
		{"multiple args", `"a", 1, true, null, undefined, 1.5`, "a 1 true null undefined 1.5"},
		{"object", `{a: 1, b: "x"}`, `{"a":1,"b":"x"}`},
		{"array", `[1, "two", {three: 3}]`, `[1,"two",{"three":3}]`},
		{"mixed", `"payload:", {ref: "main"}, [1]`, `payload: {"ref":"main"} [1]`},
		{"nested", `{a: {b: {c: []}}}`, `{"a":{"b":{"c":[]}}}`},
		{"error", `new Error("boom")`, "Error: boom"},
		{"type error", `new TypeError("bad")`, "TypeError: bad"},
		{"circular", `(function(){ var o = {}; o.self = o; return o })()`, "[object Object]"},
		{"toJSON", `{toJSON() { return "custom" }}`, `"custom"`},
		{"no args", ``, ""},
		{"symbol", `Symbol("s")`, "Symbol(s)"},
		{"date", `new Date(0)`, `"1970-01-01T00:00:00.000Z"`},
		{"PAYLOAD", `PAYLOAD`, `{"a":[1,2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, "LOG.info("+tt.args+")", &Request{Body: []byte(`{"a":[1,2]}`)})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if len(res.Logs) != 1 || res.Logs[0].Text != tt.want {
				t.Errorf("LOG.info(%s) logged %+v, want %q", tt.args, res.Logs, tt.want)
			}
		})
	}
}

func TestLogFunctionRendering(t *testing.T) {
	t.Parallel()
	res := runScript(t, "LOG.info(function named() { return 1 })", nil)
	if res.Err != nil || len(res.Logs) != 1 || !strings.Contains(res.Logs[0].Text, "named") {
		t.Errorf("got %+v, %v", res.Logs, res.Err)
	}
}

func TestSetMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 2000)
	tests := []struct {
		name, src, want string
	}{
		{"never called", `LOG.info("x")`, ""},
		{"set", `LOG.setMessage("push to main")`, "push to main"},
		{"last wins", `LOG.setMessage("one"); LOG.setMessage("two")`, "two"},
		{"non-string", `LOG.setMessage(42)`, "42"},
		{"cleared", `LOG.setMessage("one"); LOG.setMessage()`, ""},
		{"exactly 1024", `LOG.setMessage("a".repeat(1024))`, strings.Repeat("a", 1024)},
		{"truncated to 1024 characters", `LOG.setMessage("é".repeat(2000))`, string([]rune(long)[:1023]) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, tt.src, nil)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if res.Summary != tt.want {
				t.Errorf("Summary = %q (%d chars), want %d chars", res.Summary, utf8.RuneCountInString(res.Summary), utf8.RuneCountInString(tt.want))
			}
		})
	}
}

func TestLogLimits(t *testing.T) {
	t.Parallel()
	t.Run("line count", func(t *testing.T) {
		t.Parallel()
		e := NewEngine(Limits{MaxLogLines: 3})
		res := runWith(t, e, `for (var i = 0; i < 10; i++) LOG.info("line " + i); return true`, nil)
		if res.Err != nil || !res.Truthy {
			t.Fatal(res.Err)
		}
		if len(res.Logs) != 4 {
			t.Fatalf("got %d lines, want 3 and a truncation notice: %+v", len(res.Logs), res.Logs)
		}
		if res.Logs[2].Text != "line 2" {
			t.Errorf("third line %q", res.Logs[2].Text)
		}
		if last := res.Logs[3]; last.Level != "WARNING" || !strings.Contains(last.Text, "log truncated") {
			t.Errorf("last line %+v", last)
		}
	})
	t.Run("total bytes", func(t *testing.T) {
		t.Parallel()
		e := NewEngine(Limits{MaxLogBytes: 25})
		res := runWith(t, e, `for (var i = 0; i < 10; i++) LOG.info("0123456789"); return true`, nil)
		if res.Err != nil || len(res.Logs) != 3 {
			t.Fatalf("got %d lines, want 2 and a truncation notice: %+v %v", len(res.Logs), res.Logs, res.Err)
		}
		if last := res.Logs[2]; last.Level != "WARNING" || !strings.Contains(last.Text, "more than 25 bytes") {
			t.Errorf("last line %+v", last)
		}
	})
	t.Run("default total bytes", func(t *testing.T) {
		t.Parallel()
		res := runScript(t, `for (var i = 0; i < 1000; i++) LOG.info("x".repeat(8000))`, nil)
		total := 0
		for _, l := range res.Logs {
			total += len(l.Text)
		}
		if total > DefaultMaxLogBytes+100 || !strings.Contains(res.Logs[len(res.Logs)-1].Text, "log truncated") {
			t.Errorf("kept %d bytes in %d lines", total, len(res.Logs))
		}
	})
	t.Run("default line count", func(t *testing.T) {
		t.Parallel()
		res := runScript(t, `for (var i = 0; i < 5000; i++) LOG.fine(i)`, nil)
		if len(res.Logs) != DefaultMaxLogLines+1 {
			t.Errorf("got %d lines, want %d", len(res.Logs), DefaultMaxLogLines+1)
		}
	})
	t.Run("line size", func(t *testing.T) {
		t.Parallel()
		e := NewEngine(Limits{MaxLogLine: 10})
		res := runWith(t, e, `LOG.info("abcdefghijklmnop"); LOG.info("abcdefghij"); LOG.info("abcdefgéé"); LOG.info("ab", {c: "defghijklmn"}, "never rendered")`, nil)
		want := []string{"abcdefg…", "abcdefghij", "abcdefg…", `ab {"c"…`}
		if len(res.Logs) != len(want) {
			t.Fatalf("got %+v", res.Logs)
		}
		for i, l := range res.Logs {
			if l.Text != want[i] || len(l.Text) > 10 {
				t.Errorf("line %d = %q, want %q", i, l.Text, want[i])
			}
		}
	})
	t.Run("default line size", func(t *testing.T) {
		t.Parallel()
		res := runScript(t, `LOG.info("x".repeat(100000))`, nil)
		if len(res.Logs) != 1 || len(res.Logs[0].Text) != DefaultMaxLogLine || !strings.HasSuffix(res.Logs[0].Text, "…") {
			t.Errorf("got a line of %d bytes", len(res.Logs[0].Text))
		}
	})
}

func TestLogsKeptOnError(t *testing.T) {
	t.Parallel()
	res := runScript(t, `LOG.info("before"); LOG.setMessage("half done"); throw new Error("boom")`, nil)
	if res.Err == nil || len(res.Logs) != 1 || res.Logs[0].Text != "before" || res.Summary != "half done" {
		t.Errorf("got %+v", res)
	}
}
