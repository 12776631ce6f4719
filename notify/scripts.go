package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// Scripts returns the Publisher behind scripts' NOTIFY.send and
// NOTIFY.webhook.
func (e *Engine) Scripts() scripting.Publisher { return scriptPublisher{e} }

type scriptPublisher struct{ e *Engine }

// Publish implements NOTIFY.send. The scripting package has checked that
// fields hold only title, sub_title, message, logo, image and data.
func (p scriptPublisher) Publish(ctx context.Context, eventType string, fields map[string]any) (string, error) {
	ev, err := EventFromFields(eventType, fields)
	if err != nil {
		return "", err
	}
	ev.Source = "script"
	if ev, _, err = p.e.Publish(ctx, ev); errors.Is(err, storage.ErrInvalid) {
		return "", strip(err) // the script sees "type must ...", not "invalid: ..."
	}
	return ev.ID, err
}

// EventFromFields builds an event from NOTIFY.send's fields.
func EventFromFields(eventType string, fields map[string]any) (storage.Event, error) {
	ev := storage.Event{Type: eventType}
	for k, v := range fields {
		if k == "data" {
			if v == nil {
				continue
			}
			d, ok := v.(map[string]any)
			if !ok {
				return ev, fmt.Errorf("data must be an object")
			}
			ev.Data = d
			continue
		}
		s, ok := v.(string)
		if !ok && v != nil {
			return ev, fmt.Errorf("%s must be a string", k)
		}
		switch k {
		case "title":
			ev.Title = s
		case "sub_title":
			ev.SubTitle = s
		case "message":
			ev.Message = s
		case "logo":
			ev.Logo = s
		case "image":
			ev.Image = s
		}
	}
	return ev, nil
}

// Webhook implements NOTIFY.webhook: one delivery to the given URL, in the
// lane of its host, retried on the default schedule.
func (p scriptPublisher) Webhook(ctx context.Context, req *scripting.WebhookRequest) (string, error) {
	cb, err := callback(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", scripting.ErrBadWebhook, err)
	}
	u, _ := url.Parse(cb.URL)
	evID, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	did, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	ev := storage.Event{ID: evID.String(), Type: CallbackType, Time: now, Source: "script",
		Data: map[string]any{"host": u.Host, "method": cb.Method}}
	d := storage.Delivery{
		ID: did.String(), EventID: ev.ID, EventType: ev.Type,
		Lane: callbackLane(u), Callback: cb,
		Status: storage.DeliveryPending, NextAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	if err := p.e.enqueue(ctx, ev, []storage.Delivery{d}); err != nil {
		return "", err
	}
	return d.ID, nil
}

// callback checks a NOTIFY.webhook request as an endpoint would be.
func callback(req *scripting.WebhookRequest) (*storage.Callback, error) {
	cb := &storage.Callback{
		URL: req.URL, Method: req.Method, Headers: req.Headers, Cookies: req.Cookies,
		Auth: storage.Auth{Type: req.Auth.Type, Username: req.Auth.Username, Password: req.Auth.Password, Token: req.Auth.Token},
		Body: string(req.Body),
	}
	// The endpoint rules apply: borrow them with a throwaway endpoint.
	ep := storage.Endpoint{Name: "callback", URL: cb.URL, Method: cb.Method, EventTypes: []string{CallbackType},
		Cookies: cb.Cookies, Auth: cb.Auth, TimeoutMS: int(req.Timeout / time.Millisecond)}
	if req.Timeout > 0 && ep.TimeoutMS == 0 {
		ep.TimeoutMS = 1
	}
	if err := Normalize(&ep); err != nil {
		return nil, strip(err)
	}
	cb.Method, cb.Auth, cb.TimeoutMS = ep.Method, ep.Auth, ep.TimeoutMS
	return cb, nil
}

// strip removes the "invalid: " prefix of storage.ErrInvalid.
func strip(err error) error {
	return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), storage.ErrInvalid.Error()+": "))
}

const callbackPrefix = "callback:"

// callbackLane is the lane of callbacks to u's host.
func callbackLane(u *url.URL) string { return callbackPrefix + strings.ToLower(u.Host) }

func isCallbackLane(key string) bool { return strings.HasPrefix(key, callbackPrefix) }
