package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// The adapters between packages that do not know each other: each stands
// on its own, and the server, which wires them, fits them together.

// scriptHTTP sends scripts' HTTP.request through the egress guard.
type scriptHTTP struct{ c *egress.Client }

// Do implements scripting.HTTPClient. The two packages' request and
// response have the same fields, so they convert as they are.
func (h scriptHTTP) Do(ctx context.Context, r *scripting.HTTPRequest) (*scripting.HTTPResponse, error) {
	resp, err := h.c.Do(ctx, (*egress.Request)(r))
	return (*scripting.HTTPResponse)(resp), err
}

// scriptNotify hands scripts' NOTIFY.send and NOTIFY.webhook to the
// outbound engine.
type scriptNotify struct{ e *notify.Engine }

// Publish implements scripting.Publisher: NOTIFY.send publishes an event
// whose source is "script".
func (n scriptNotify) Publish(ctx context.Context, eventType string, f scripting.EventFields) (string, error) {
	out, _, err := n.e.Publish(ctx, storage.Event{Type: eventType, Title: f.Title, SubTitle: f.SubTitle,
		Message: f.Message, Logo: f.Logo, Image: f.Image, Data: f.Data, Source: "script"})
	if err != nil {
		return "", scriptError(err)
	}
	return out.ID, nil
}

// Webhook implements scripting.Publisher: NOTIFY.webhook queues a
// callback. A request the engine refuses wraps scripting.ErrBadWebhook.
func (n scriptNotify) Webhook(ctx context.Context, req *scripting.WebhookRequest) (string, error) {
	cb := storage.Callback{
		URL: req.URL, Method: req.Method, Headers: req.Headers, Cookies: req.Cookies,
		Auth:      storage.Auth{Type: req.Auth.Type, Username: req.Auth.Username, Password: req.Auth.Password, Token: req.Auth.Token},
		TimeoutMS: int(req.Timeout / time.Millisecond), Body: string(req.Body),
	}
	if req.Timeout > 0 && cb.TimeoutMS == 0 {
		cb.TimeoutMS = 1 // too short, not the default that 0 stands for
	}
	id, err := n.e.Callback(ctx, cb)
	var fe *field.Error
	if errors.As(err, &fe) {
		return "", fmt.Errorf("%w: %w", scripting.ErrBadWebhook, refusal{fe})
	}
	return id, err
}

// scriptError is err as a script sees it: a refused value (a
// *field.Error) says what was wrong, without the "invalid: " that the
// API's answers start with.
func scriptError(err error) error {
	var fe *field.Error
	if errors.As(err, &fe) {
		return refusal{fe}
	}
	return err
}

// refusal shows a *field.Error by its reason alone; it still wraps it,
// and so storage.ErrInvalid.
type refusal struct{ err *field.Error }

func (r refusal) Error() string { return r.err.Reason }
func (r refusal) Unwrap() error { return r.err }
