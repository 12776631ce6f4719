package template

import (
	"errors"
	"strings"
	"testing"
)

// A template that repeats a large value many times stops at MaxRendered
// instead of building a body of gigabytes (review: 2000 copies of a
// 65,000-character message made a 130 MB request).
func TestRenderStopsPastTheLimit(t *testing.T) {
	tpl, err := Parse("[" + strings.Repeat(`"{{message}}",`, 2000) + `""]`)
	if err != nil {
		t.Fatal(err)
	}
	v := Vars{Message: strings.Repeat("a", 65000)}
	if _, err := tpl.JSON(v); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("JSON of a 130 MB body: %v", err)
	}
	if s := tpl.Raw(v); len(s) > MaxRendered+len(v.Message)+64 {
		t.Fatalf("Raw rendered %d bytes", len(s))
	}
	// Below the limit nothing changes.
	v.Message = "a"
	if b, err := tpl.JSON(v); err != nil || len(b) < 2000*4 {
		t.Fatalf("a small body: %d bytes, %v", len(b), err)
	}
}
