package notify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// TestPublishChecksEvents: events from the API and from scripts'
// NOTIFY.send both go through Publish, which refuses a type with control
// characters, spaces or '*', or longer than 200 characters, and texts
// past their sizes, before anything is stored.
func TestPublishChecksEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	e.endpoint(t, storage.Endpoint{URL: "https://example.com/h", EventTypes: []string{"*"}})
	for _, c := range []struct {
		ev   storage.Event
		want string
	}{
		{storage.Event{}, "type is required"},
		{storage.Event{Type: "build\x00done"}, "type"},
		{storage.Event{Type: "build\ndone"}, "type"},
		{storage.Event{Type: "build done"}, "type"},
		{storage.Event{Type: "build.*"}, "type"},
		{storage.Event{Type: strings.Repeat("a", 100_000)}, "type"},
		{storage.Event{Type: "t", Title: strings.Repeat("a", notify.MaxEventTitle+1)}, "title"},
		{storage.Event{Type: "t", SubTitle: strings.Repeat("a", notify.MaxEventTitle+1)}, "sub_title"},
		{storage.Event{Type: "t", Message: strings.Repeat("a", notify.MaxEventMessage+1)}, "message"},
		{storage.Event{Type: "t", Logo: "https://x/\r\n"}, "logo"},
	} {
		_, n, err := e.eng.Publish(t.Context(), c.ev)
		if !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), c.want) || n != 0 {
			t.Errorf("Publish(type %.20q): %d deliveries, %v; want ErrInvalid naming %s", c.ev.Type, n, err, c.want)
		}
	}
	// What real publishers send is accepted, hostile text included: the
	// templates escape it.
	if _, n, err := e.eng.Publish(t.Context(), storage.Event{Type: "github.push:main/v1", Title: "a\r\nb\x00", Message: strings.Repeat("m", notify.MaxEventMessage)}); err != nil || n != 1 {
		t.Errorf("ordinary event: %d deliveries, %v", n, err)
	}
}
