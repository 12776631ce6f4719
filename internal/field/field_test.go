package field

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

func TestLineAndText(t *testing.T) {
	for _, c := range []struct {
		s          string
		line, text bool // accepted by Line, by Text
	}{
		{"Git push", true, true},
		{"名前 éè", true, true},
		{"", true, true},
		{strings.Repeat("é", 10), true, true}, // 10 characters, 20 bytes
		{strings.Repeat("a", 11), false, false},
		{"a\tb", false, true},
		{"a\nb\r\n", false, true},
		{"a\x00b", false, false},
		{"a\x1bb", false, false},
		{"a\x7fb", false, false},
		{"a\u0085b", false, false}, // C1
		{"a\u202eb", false, false}, // right-to-left override
		{"a\xffb", false, false},   // not UTF-8
		{"a\ufffdb", true, true},   // a real U+FFFD
	} {
		if err := Line("f", c.s, 10); (err == nil) != c.line {
			t.Errorf("Line(%q) = %v, want accepted %v", c.s, err, c.line)
		} else if err != nil && (!errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), "f ")) {
			t.Errorf("Line(%q) = %v: want ErrInvalid naming the field", c.s, err)
		}
		if err := Text("f", c.s, 10); (err == nil) != c.text {
			t.Errorf("Text(%q) = %v, want accepted %v", c.s, err, c.text)
		}
	}
}

// Names that look alike are alike: invisible characters are refused.
func TestNameRefusesInvisibleCharacters(t *testing.T) {
	for _, s := range []string{"gh", "Git push", "名前", "ſh", "café"} {
		if err := Name("name", s, 64); err != nil {
			t.Errorf("Name(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"gh\u200b", "g\u00adh", "\ufeffgh", "gh\u2060", "gh\u180e", "gh\u034f", "gh\ufe0f", "\u3164", "a\u202eb", "a\x00b"} {
		if err := Name("name", s, 64); err == nil || !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Name(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestInt(t *testing.T) {
	if err := Int("timeout_ms", 1<<62, 1, 1000); err == nil || !strings.Contains(err.Error(), "timeout_ms must be from 1 to 1000, got 4611686018427387904") {
		t.Errorf("Int = %v", err)
	}
	if err := Int("n", 5, 5, 5); err != nil {
		t.Errorf("Int(5, 5..5) = %v", err)
	}
}

func TestQuoteCutsLongValues(t *testing.T) {
	if q := Quote(strings.Repeat("x", 1000)); len(q) > 70 || !strings.HasSuffix(q, "…") {
		t.Errorf("Quote = %s", q)
	}
	if q := Quote("a\x00"); q != `"a\x00"` {
		t.Errorf("Quote = %s", q)
	}
}

func TestErrorKeepsItsReason(t *testing.T) {
	err := Int("timeout_ms", 0, 1, 10)
	var fe *Error
	if !errors.As(err, &fe) || !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("Int = %#v: want an *Error wrapping storage.ErrInvalid", err)
	}
	if fe.Reason != "timeout_ms must be from 1 to 10, got 0" || err.Error() != "invalid: "+fe.Reason {
		t.Errorf("reason %q, text %q", fe.Reason, err.Error())
	}
}
