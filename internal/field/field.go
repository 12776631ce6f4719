// Package field checks the text and numbers that come from outside (API
// callers, configuration, scripts) against limits no real user reaches,
// and says what was wrong in the caller's terms: the field, what it must
// be, and what it got. Every error is an *Error, which wraps
// storage.ErrInvalid (a 400).
package field

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/storage"
)

// Lengths, in characters.
const (
	MaxName        = 200     // names of providers, functions, endpoints, users' display names, property and header names
	MaxURI         = 2048    // URIs, URLs, logo and image links
	MaxDescription = 4000    // descriptions
	MaxLine        = 8 << 10 // a header value, a token
	MaxValue       = 64 << 10
	MaxEntries     = 200 // entries of a map (properties, secrets, headers, cookies)
)

// Error is a value that breaks a rule. It wraps storage.ErrInvalid;
// Reason says what was wrong, and its text is "invalid: " + Reason, as
// the API answers it. A caller that shows the reason elsewhere (a
// script's exception) takes Reason, without the prefix.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return storage.ErrInvalid.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, storage.ErrInvalid) hold.
func (e *Error) Unwrap() error { return storage.ErrInvalid }

// Invalid returns an *Error with the formatted reason.
func Invalid(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// Line checks a one-line value: valid UTF-8, at most max characters, and
// no control characters (C0 including tab, DEL, C1) or bidirectional
// overrides, which would hide or reorder what an operator reads.
func Line(name, s string, max int) error {
	return check(name, s, max, false)
}

// Name checks a record's name (a provider's, a function's, an
// endpoint's): as Line, and without invisible characters (format
// characters such as U+200B ZERO WIDTH SPACE or U+00AD SOFT HYPHEN, the
// other default-ignorable code points, variation selectors), so that two
// names that look alike are alike: names are how people, the CLI and
// config as code tell records apart.
func Name(name, s string, max int) error {
	if err := Line(name, s, max); err != nil {
		return err
	}
	for i, r := range s {
		if unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) {
			return Invalid("%s must not hold invisible characters, got %U at byte %d", name, r, i)
		}
	}
	return nil
}

// Text checks text that may span lines: as Line, but tab, LF and CR are
// allowed.
func Text(name, s string, max int) error {
	return check(name, s, max, true)
}

// Length checks only that s has at most max characters, for free text
// that is escaped wherever it goes (an event's title and message).
func Length(name, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return Invalid("%s must be at most %d characters, got %d", name, max, n)
	}
	return nil
}

func check(name, s string, max int, lines bool) error {
	if err := Length(name, s, max); err != nil {
		return err
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			return Invalid("%s is not valid UTF-8 (byte %d)", name, i)
		case lines && (r == '\t' || r == '\n' || r == '\r'):
		case unicode.IsControl(r):
			return Invalid("%s must not hold control characters, got %U at byte %d", name, r, i)
		case unicode.Is(unicode.Bidi_Control, r):
			return Invalid("%s must not hold bidirectional controls, got %U at byte %d", name, r, i)
		}
	}
	return nil
}

// validAt reports whether the U+FFFD at byte i was written as such rather
// than stand for a bad byte.
func validAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError || size == 3
}

// Int checks that n is from lo to hi. Callers check a count of
// milliseconds or hours with it before they convert it to a
// time.Duration, which would wrap.
func Int(name string, n, lo, hi int) error {
	if n < lo || n > hi {
		return Invalid("%s must be from %d to %d, got %d", name, lo, hi, n)
	}
	return nil
}

// Clip cuts a value from an unauthenticated caller (a sign-in name) to
// n characters, ending with "…" when cut, before it is stored.
func Clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Quote shows a caller's value in an error, cut to 60 characters so an
// error never echoes a huge input.
func Quote(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		return fmt.Sprintf("%q…", string(r[:60]))
	}
	return fmt.Sprintf("%q", s)
}
