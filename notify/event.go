package notify

import (
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
	return nil
}
