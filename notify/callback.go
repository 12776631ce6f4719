package notify

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

// Callback queues one request to one URL (a script's NOTIFY.webhook): it
// is checked as an endpoint's request would be, written durably with its
// event, delivered in the lane of its host and retried on the default
// schedule. It fills cb's defaults (method, timeout) and returns the
// delivery's id. A request it refuses is a *field.Error, which wraps
// storage.ErrInvalid.
func (e *Engine) Callback(ctx context.Context, cb storage.Callback) (string, error) {
	if err := checkCallback(&cb); err != nil {
		return "", err
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
		Lane: callbackLane(u), Callback: &cb,
		Status: storage.DeliveryPending, NextAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := e.enqueue(ctx, ev, []storage.Delivery{d}, e.appendEvent); err != nil {
		return "", err
	}
	return d.ID, nil
}

// checkCallback holds a callback to the rules of an endpoint's request
// (Normalize): its url, method, cookies, auth and timeout. Its headers are
// sent as the script gave them, checked by the scripting package as
// HTTP.request's are.
func checkCallback(cb *storage.Callback) error {
	if err := checkURL(cb.URL); err != nil {
		return err
	}
	if err := normalizeMethod(&cb.Method); err != nil {
		return err
	}
	if err := checkEntries(nil, cb.Cookies); err != nil {
		return err
	}
	if err := checkCookies(cb.Cookies); err != nil {
		return err
	}
	if cb.Auth.Type == "oauth2" {
		return invalid("auth type oauth2 is for endpoints only; a callback takes none, basic or bearer")
	}
	if err := checkAuth(&cb.Auth); err != nil {
		return err
	}
	return normalizeTimeout(&cb.TimeoutMS)
}

const callbackPrefix = "callback:"

// callbackLane is the lane of callbacks to u's host.
func callbackLane(u *url.URL) string { return callbackPrefix + strings.ToLower(u.Host) }

func isCallbackLane(key string) bool { return strings.HasPrefix(key, callbackPrefix) }
