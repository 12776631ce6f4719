package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/storage"
)

// Test sends a test event to an endpoint now, outside the delivery queue,
// and returns the attempt. Nothing is recorded.
func (e *Engine) Test(ctx context.Context, ep storage.Endpoint) (storage.Attempt, error) {
	ev := systemEvent(TestType, map[string]any{"endpoint_id": ep.ID, "endpoint_name": ep.Name})
	r, err := e.probe(ctx, ep, ev)
	return r.attempt, err
}

// Validate sends the VALIDATE event ({"Msg": "This is a validate
// message."} under the endpoint's msg_key, or its body template) and
// returns an error wrapping storage.ErrInvalid unless the endpoint answers
// 200.
func (e *Engine) Validate(ctx context.Context, ep storage.Endpoint) error {
	ev := storage.Event{Type: ValidateType, Message: validateText}
	r, err := e.probe(ctx, ep, ev)
	if err != nil {
		return err
	}
	a := r.attempt
	switch {
	case a.Status == http.StatusOK, r.ok && a.Status == 0: // 0: a broker confirmed it
		return nil
	case a.Status == 0:
		return invalid("validate_on_create: the endpoint did not answer the VALIDATE request: %s", a.Error)
	default:
		return invalid("validate_on_create: the endpoint answered the VALIDATE request with %d, want 200", a.Status)
	}
}

// probe sends one event to an endpoint synchronously.
func (e *Engine) probe(ctx context.Context, ep storage.Endpoint, ev storage.Event) (result, error) {
	now := time.Now()
	t, err := newTarget(ep, now)
	if err != nil {
		return result{}, invalid("%v", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return result{}, err
	}
	ev.ID, ev.Time = id.String(), now.UTC()
	enc, err := storage.EncodeEvent(ev)
	if err != nil {
		return result{}, fmt.Errorf("notify: %w", err)
	}
	o, err := t.request(enc, "msg_"+id.String(), now)
	if err != nil {
		return result{}, invalid("building the request: %v", err)
	}
	if t.broker != nil {
		// A connection of its own, closed after: the endpoint may be
		// unsaved, or saved with other settings.
		pool := broker.NewPool(e.dial)
		defer pool.Close()
		pool.Retain(map[string]broker.Spec{"probe": *t.broker})
		return publish(ctx, pool, "probe", *t.broker, o, now), nil
	}
	return e.reach.send(ctx, t, o, now), nil
}
