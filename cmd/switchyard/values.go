package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The flag values of serve (and of the commands that share its file).
// Each reads what a person writes, 7d or 5M, and says what it expected
// when it cannot: the caller names the flag, variable or key and the value
// ("SWITCHYARD_WORKERS: "abc" is not a whole number").

// expected is a Set error: what the value is not, e.g. "not a whole
// number"; the caller puts the name and the value in front.
type expected string

func (e expected) Error() string { return string(e) }

// durationValue is a duration flag that also reads days: 7d, 1d12h, and
// Go's forms (90m, 36h, 1h30m, 0).
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) String() string { return formatDuration(time.Duration(*d)) }

// parseDuration reads Go's durations with one more unit in front, d (24
// hours): 7d, 1d12h, 1.5d, -1d.
func parseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	bad := expected("not a duration such as 90s, 15m, 36h, 7d or 1d12h")
	if in == "" {
		return 0, bad
	}
	days, rest := 0.0, in
	if i := strings.IndexByte(in, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(in[:i], 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, bad
		}
		days, rest = n, in[i+1:]
		if rest == "" {
			rest = "0"
		} else if days < 0 || strings.HasPrefix(in, "-") || strings.ContainsAny(rest[:1], "+-") {
			return 0, bad // -1d12h: which part is negative?
		}
	}
	v, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	total := days*24*float64(time.Hour) + float64(v)
	if math.Abs(total) > math.MaxInt64 {
		return 0, expected("too long a duration")
	}
	return time.Duration(total), nil
}

// formatDuration writes d as a person would: 168h as 7d, 36h as 1d12h.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d <= 0 || d < day {
		return d.String()
	}
	days, rest := d/day, d%day
	if rest == 0 {
		return fmt.Sprintf("%dd", days)
	}
	r := rest.String() // 12h0m0s
	if strings.HasSuffix(r, "m0s") {
		r = r[:len(r)-2]
	}
	if strings.HasSuffix(r, "h0m") {
		r = r[:len(r)-2]
	}
	return fmt.Sprintf("%dd%s", days, r)
}

// sizeValue is a size in bytes: 5M, 5MiB, 512k, 1G, 2MB, 1048576.
type sizeValue struct {
	n     int64
	limit int64 // the largest size accepted
	zero  bool  // 0 is accepted (it means no limit)
}

func (v *sizeValue) Set(s string) error {
	n, err := parseSizeUpTo(s, v.limit, v.zero)
	if err != nil {
		return err
	}
	v.n = n
	return nil
}

func (v *sizeValue) String() string {
	if v == nil {
		return ""
	}
	return formatSize(v.n)
}

// The units of sizes. K, M, G and T are binary (1024-based) like KiB,
// MiB, GiB, TiB, as body and store limits usually are; KB, MB, GB and TB
// are decimal (1000-based). Case does not matter.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseSize reads a positive size of at most 1 TiB (a body).
func parseSize(s string) (int64, error) { return parseSizeUpTo(s, 1<<40, false) }

// parseSizeUpTo reads a size of at most limit bytes, positive unless
// zero allows 0.
func parseSizeUpTo(s string, limit int64, zero bool) (int64, error) {
	in := strings.TrimSpace(s)
	bad := expected("not a size such as 512k, 5M, 5MiB, 2MB, 1G or a number of bytes")
	if zero {
		bad = expected("not a size such as 500M, 10G, 20GiB or a number of bytes (0: no limit)")
	}
	num, mult := in, int64(1)
	lower := strings.ToLower(in)
	for _, u := range sizeUnits {
		if strings.HasSuffix(lower, u.suffix) {
			num, mult = strings.TrimSpace(in[:len(in)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange):
		return 0, expected("too large a size")
	case err != nil, n < 0, n == 0 && !zero:
		return 0, bad
	case n > limit/mult:
		return 0, expected(fmt.Sprintf("too large a size (at most %s)", formatSize(limit)))
	}
	return n * mult, nil
}

// formatSize writes n bytes in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// intValue is a whole number flag.
type intValue int

func (i *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return expected("not a whole number")
	}
	*i = intValue(n)
	return nil
}

func (i *intValue) String() string { return strconv.Itoa(int(*i)) }

// floatValue is a number flag.
type floatValue float64

func (f *floatValue) Set(s string) error {
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return expected("not a number")
	}
	*f = floatValue(n)
	return nil
}

func (f *floatValue) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }

// boolValue is a true/false flag (given alone on the command line, true).
type boolValue bool

func (b *boolValue) Set(s string) error {
	v, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return expected("not true or false")
	}
	*b = boolValue(v)
	return nil
}

func (b *boolValue) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }

// choiceValue is one of a few words.
type choiceValue struct {
	v       string
	choices []string
}

func (c *choiceValue) Set(s string) error {
	s = strings.TrimSpace(s)
	for _, ch := range c.choices {
		if s == ch {
			c.v = s
			return nil
		}
	}
	return expected("not " + oneOf(c.choices))
}

func (c *choiceValue) String() string {
	if c == nil {
		return ""
	}
	return c.v
}

// oneOf: [a b c] -> "a, b or c".
func oneOf(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
