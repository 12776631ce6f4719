package notify

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/storage"
)

// Event limits, in characters.
const (
	MaxEventType    = 200
	MaxEventTitle   = 1000
	MaxEventMessage = 64 << 10
	// MaxNumberLength bounds a number in an event's data, as written:
	// every 64-bit integer (20 digits) and float64 (17 significant
	// digits and an exponent) fits, while a number of a million digits
	// would cost a schema's checks (exact arithmetic) seconds.
	MaxNumberLength = 100
)

// CheckEvent checks what a publisher (an API caller or a script) gives an
// event. The type is one line of at most MaxEventType characters without
// spaces or '*' (a '*' belongs to subscriptions: "alarm.*"); title,
// sub_title and message are free text of bounded size (every template
// escapes them); logo and image are one-line links.
func CheckEvent(ev storage.Event) error {
	if ev.Type == "" {
		return invalid("type is required")
	}
	if err := field.Line("type", ev.Type, MaxEventType); err != nil {
		return err
	}
	if i := strings.IndexFunc(ev.Type, func(r rune) bool { return r == '*' || unicode.IsSpace(r) }); i >= 0 {
		return invalid("type must not hold spaces or '*' (event types look like \"build.failed\"), got %s", field.Quote(ev.Type))
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"title", ev.Title, MaxEventTitle}, {"sub_title", ev.SubTitle, MaxEventTitle}, {"message", ev.Message, MaxEventMessage}} {
		if err := field.Length(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{{"logo", ev.Logo}, {"image", ev.Image}} {
		if err := field.Line(f.name, f.v, field.MaxURI); err != nil {
			return err
		}
	}
	return checkNumbers("data", ev.Data)
}

// checkNumbers refuses a number in an event's data that no receiver could
// read as a number: one past float64's range (1e400: JSON allows it, but
// it would reach filters and most receivers as infinity), or NaN or an
// infinity from a script, or one written with more than MaxNumberLength
// characters. The error names the value's path (data.x,
// data.list.2), as filters write it.
func checkNumbers(path string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) { // the first error is always the same one
			if err := checkNumbers(path+"."+k, x[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkNumbers(path+"."+strconv.Itoa(i), e); err != nil {
				return err
			}
		}
	case json.Number:
		if len(x) > MaxNumberLength {
			return invalid("%s: a number of at most %d characters, got %d", field.Clip(path, 200), MaxNumberLength, len(x))
		}
		if _, err := strconv.ParseFloat(string(x), 64); errors.Is(err, strconv.ErrRange) {
			return invalid("%s: number %s is out of range (at most about 1.8e308)", field.Clip(path, 200), field.Clip(string(x), 40))
		} else if err != nil {
			return invalid("%s: %s is not a number", field.Clip(path, 200), field.Quote(string(x)))
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return invalid("%s: %v is not a JSON number", field.Clip(path, 200), x)
		}
	}
	return nil
}
