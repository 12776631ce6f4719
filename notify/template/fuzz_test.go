package template

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func fuzzVars(s string, n float64) Vars {
	return Vars{
		ID: s, Type: s, Title: s, SubTitle: s, Message: s, Logo: s, Image: s, Sign: s, Time: s,
		Timestamp: "1717243200000",
		Data: map[string]any{
			"s": s, "n": n, "b": true, "z": nil,
			"o": map[string]any{"a": s, "n": n},
			"l": []any{s, n, false, nil, map[string]any{"k": s}},
		},
	}
}

// FuzzJSON renders random templates with hostile values. The seed corpus
// is below and in testdata/fuzz/FuzzJSON.
func FuzzJSON(f *testing.F) {
	f.Add(`{"t": "{{title}}", "m": {{message}}}`, `"}, "x": 1, "y": {"`, "a\nb", 1.5)
	f.Add(`{"a": [{{data.l}}, "{{data.o}}", {{data.l.4.k}}, {{timestamp}}]}`, `\`, `\u0000`, math.Copysign(0, -1))
	f.Add(`["{{ data.s }}", {{data.n}}, "\u00e9{{sub_title}}\\"]`, "{{title}}", "\xff", 1e21)
	f.Add(`{"x": "\{{type}}"}`, `"`, "", 0.0)
	f.Add(`{{data}}`, "\u2028", "\x00\r\n", 3.0)
	f.Add(`Hello {{title}}`, "x", "y", 2.0)
	for _, p := range Presets() {
		f.Add(p.Body, `"}]`, "**x**\n", 7.0)
	}
	fixed, err := Parse(`{"t": "{{title}}", "m": {{message}}, "d": "{{data.s}}", "e": {{data.l.0}}, "o": {{data.o}}, "q": "{{data.o}}"}`)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src, title, message string, n float64) {
		// A value never leaves its place.
		v := fuzzVars(title, n)
		v.Message = message
		b, err := fixed.JSON(v)
		if err != nil {
			t.Fatalf("fixed template: %v", err)
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("fixed template renders %s: %v", b, err)
		}
		if len(got) != 6 {
			t.Fatalf("fixed template renders %d keys: %s", len(got), b)
		}
		want := string([]rune(title)) // invalid UTF-8 as U+FFFD
		for _, k := range []string{"t", "d", "e"} {
			var s string
			if err := json.Unmarshal(got[k], &s); err != nil || s != want {
				t.Fatalf("%q decodes to %q (%v), want %q", k, got[k], err, want)
			}
		}
		var m string
		if err := json.Unmarshal(got["m"], &m); err != nil || m != string([]rune(message)) {
			t.Fatalf("m decodes to %q (%v), want %q", got["m"], err, message)
		}
		var q string
		if err := json.Unmarshal(got["q"], &q); err != nil || q != string(got["o"]) {
			t.Fatalf("q = %s, want the text of o = %s", got["q"], got["o"])
		}

		// Any template: no panic, valid JSON or an error, and whether it
		// is valid does not depend on the strings' content.
		tpl, err := Parse(src)
		if err != nil {
			var pe *ParseError
			if !strings.HasPrefix(err.Error(), "line ") || !errors.As(err, &pe) {
				t.Fatalf("Parse error without a position: %v", err)
			}
			return
		}
		out, err := tpl.JSON(v)
		if src == "" {
			if err != nil || len(out) != 0 {
				t.Fatalf("empty template: %q, %v", out, err)
			}
			return
		}
		if err == nil && !json.Valid(out) {
			t.Fatalf("JSON returned invalid JSON without an error: %s", out)
		}
		_, benignErr := tpl.JSON(fuzzVars("x", n))
		if (err == nil) != (benignErr == nil) {
			t.Fatalf("validity depends on string values: hostile %v, benign %v; output %s", err, benignErr, out)
		}
		text := tpl.Text(v)
		for i := 0; i < len(text); i++ {
			if c := text[i]; c < 0x20 && c != '\t' || c == 0x7f {
				t.Fatalf("Text keeps control character %#x: %q", c, text)
			}
		}
		_ = tpl.URL(v)
		_ = tpl.Raw(v)
		_ = tpl.Names()
	})
}

func BenchmarkJSON(b *testing.B) {
	p, _ := PresetByName("slack")
	tpl, err := Parse(p.Body)
	if err != nil {
		b.Fatal(err)
	}
	v := Vars{
		ID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Type: "alarm.host_lost",
		Title: "Host db-1 lost", SubTitle: "production / eu-west-1",
		Message:   "No heartbeat from db-1 for 5 minutes.\nLast seen at 12:03:11 UTC; 3 replicas still \"healthy\".",
		Time:      "2024-06-01T12:00:00Z",
		Timestamp: "1717243200000",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tpl.JSON(v); err != nil {
			b.Fatal(err)
		}
	}
}
