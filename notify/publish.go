package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

// The publish stage: an event becomes one delivery per endpoint that
// wants it, written durably with the event before the publisher is
// answered, and handed to the scheduler; a replay makes a finished
// delivery due again.

// Publish records an event and one delivery per enabled endpoint that
// subscribes to its type, durably, and returns the event (with its id and
// time) and how many deliveries it made. An event no endpoint wants is
// not stored.
func (e *Engine) Publish(ctx context.Context, ev storage.Event) (storage.Event, int, error) {
	if ev.Source != "system" {
		if err := CheckEvent(ev); err != nil {
			return ev, 0, err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return ev, 0, err
	}
	now := time.Now().UTC()
	ev.ID, ev.Time = id.String(), now
	e.mu.Lock()
	var ds []storage.Delivery
	for _, t := range e.targets {
		if !t.ep.Enabled || !Subscribed(t.ep.EventTypes, ev.Type) {
			continue
		}
		did, err := uuid.NewV7()
		if err != nil {
			e.mu.Unlock()
			return ev, 0, err
		}
		ds = append(ds, storage.Delivery{
			ID: did.String(), EventID: ev.ID, EventType: ev.Type,
			EndpointID: t.ep.ID, Lane: t.ep.ID,
			Status: storage.DeliveryPending, NextAt: &now, CreatedAt: now, UpdatedAt: now,
		})
	}
	e.mu.Unlock()
	if len(ds) == 0 {
		return ev, 0, nil
	}
	if err := e.enqueue(ctx, ev, ds); err != nil {
		return ev, 0, err
	}
	return ev, len(ds), nil
}

// enqueue stores an event with its deliveries and wakes the loop.
func (e *Engine) enqueue(ctx context.Context, ev storage.Event, ds []storage.Delivery) error {
	// Before the write: once it commits, a scan could read the deliveries
	// from the store. Claiming their ids as fresh makes scans pass them
	// over, so each is started once, from memory. The event is cached for
	// the same reason.
	e.mu.Lock()
	cached := len(e.events) < maxCachedEvents
	if cached {
		c := &cachedEvent{ev: ev, refs: len(ds)}
		if ev.Data != nil {
			c.data, _ = json.Marshal(ev.Data) // on error, each body reports it
		}
		e.events[ev.ID] = c
	}
	claimed := make([]bool, len(ds))
	overflow := false
	for i, d := range ds {
		if len(e.freshIDs) < maxFresh && e.freshN[d.Lane] < maxFreshPerLane {
			e.freshIDs[d.ID] = struct{}{}
			e.freshN[d.Lane]++
			claimed[i] = true
		} else {
			overflow = true
		}
	}
	e.mu.Unlock()
	err := e.store.AppendEvent(ctx, ev, ds)
	e.mu.Lock()
	for i, d := range ds {
		switch {
		case !claimed[i]:
		case err != nil:
			e.unclaim(d)
		default: // durable now: it may start
			e.fresh[d.Lane] = append(e.fresh[d.Lane], d)
		}
	}
	if err != nil && cached {
		delete(e.events, ev.ID)
	}
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("notify: record event: %w", err)
	}
	if overflow {
		e.rescan()
	} else {
		e.kick()
	}
	return nil
}

type cachedEvent struct {
	ev   storage.Event
	data []byte // ev.Data as JSON, made once for the default bodies
	refs int    // deliveries not yet finished
}

// event returns a delivery's event, from memory when it can, with its
// data as JSON when that is known (nil otherwise).
func (e *Engine) event(ctx context.Context, id string) (storage.Event, []byte, error) {
	e.mu.Lock()
	c, ok := e.events[id]
	e.mu.Unlock()
	if ok {
		return c.ev, c.data, nil
	}
	ev, err := e.store.GetEvent(ctx, id)
	return ev, nil, err
}

// finished drops a finished delivery's hold on its cached event.
func (e *Engine) finished(eventID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.events[eventID]; ok {
		if c.refs--; c.refs <= 0 {
			delete(e.events, eventID)
		}
	}
}

// Replay makes one finished delivery due again now, with a fresh retry
// budget and the same webhook-id.
func (e *Engine) Replay(ctx context.Context, id string) (storage.Delivery, error) {
	d, err := e.store.ReplayDelivery(ctx, id, time.Now().UTC())
	if err != nil {
		return d, err
	}
	e.rescan()
	return d, nil
}

// ReplayFailed replays every FAILED delivery of an endpoint created in
// [since, until) and says how many.
func (e *Engine) ReplayFailed(ctx context.Context, endpointID string, since, until time.Time) (int, error) {
	if _, err := e.store.GetEndpoint(ctx, endpointID); err != nil {
		return 0, err
	}
	if !until.IsZero() && !since.Before(until) {
		return 0, invalid("since must be before until")
	}
	n, err := e.store.ReplayFailed(ctx, endpointID, since, until, time.Now().UTC())
	if err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	e.rescan()
	return n, nil
}
