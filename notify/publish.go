package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

// The publish stage: an event becomes one delivery per endpoint that
// wants it, written durably with the event before the publisher is
// answered, and handed to the scheduler; a replay makes a finished
// delivery due again.

// Publish records an event and one delivery per enabled endpoint that
// subscribes to its type and whose filter it matches, durably, and
// returns the event (with its id and time) and how many deliveries it
// made. An event no endpoint wants is not stored.
func (e *Engine) Publish(ctx context.Context, ev storage.Event) (storage.Event, int, error) {
	ev, ds, err := e.prepare(ev)
	if err != nil || len(ds) == 0 {
		return ev, 0, err
	}
	if _, err := e.enqueue(ctx, ev, ds, e.appendEvent); err != nil {
		return ev, 0, err
	}
	return ev, len(ds), nil
}

// appendEvent is enqueue's write without a key: it always writes.
func (e *Engine) appendEvent(ctx context.Context, enc storage.EncodedEvent, ds []storage.Delivery) (bool, error) {
	return true, e.store.AppendEvent(ctx, enc, ds)
}

// Published is the answer to a publish: the event and how many
// deliveries it made.
type Published struct {
	storage.Event
	Deliveries int `json:"deliveries"`
}

// PublishOnce publishes ev like Publish under an idempotency key: the
// first publish with key records the key (with bodyHash, a SHA-256 of the
// request, and the answer) in the same write as the event and its
// deliveries, and the event even if no endpoint wants it; a repeat within
// the window (Options.IdempotencyWindow) writes and delivers nothing and returns the
// first answer with replayed true, or ErrConflict if its bodyHash differs.
// The answer is the JSON of a Published.
func (e *Engine) PublishOnce(ctx context.Context, ev storage.Event, key string, bodyHash []byte) (answer json.RawMessage, replayed bool, err error) {
	ev, ds, err := e.prepare(ev)
	if err != nil {
		return nil, false, err
	}
	answer, err = json.Marshal(Published{Event: ev, Deliveries: len(ds)})
	if err != nil {
		return nil, false, fmt.Errorf("notify: publish: %w", err)
	}
	window := e.window
	if window <= 0 {
		window = storage.IdempotencyWindow
	}
	rec := storage.Idempotency{Key: key, BodyHash: bodyHash, EventID: ev.ID, Response: answer,
		CreatedAt: ev.Time, ExpiresAt: ev.Time.Add(window)}
	var held storage.Idempotency
	write := func(ctx context.Context, enc storage.EncodedEvent, ds []storage.Delivery) (bool, error) {
		var first bool
		var err error
		held, first, err = e.store.AppendEventOnce(ctx, rec, enc, ds)
		return first, err
	}
	var first bool
	if len(ds) == 0 {
		// Nothing to schedule: no cache entry, no claims.
		enc, err := storage.EncodeEvent(ev)
		if err != nil {
			return nil, false, fmt.Errorf("notify: record event: %w", err)
		}
		if first, err = write(ctx, enc, nil); err != nil {
			return nil, false, fmt.Errorf("notify: record event: %w", err)
		}
	} else if first, err = e.enqueue(ctx, ev, ds, write); err != nil {
		return nil, false, err
	}
	if first {
		return answer, false, nil
	}
	if !bytes.Equal(held.BodyHash, bodyHash) {
		return nil, false, fmt.Errorf("%w: idempotency key %q was used with another request (event %s); use a new key for a new event",
			storage.ErrConflict, key, held.EventID)
	}
	return held.Response, true, nil
}

// prepare checks an event, gives it an id and time, and makes one
// delivery per enabled endpoint that subscribes to its type.
func (e *Engine) prepare(ev storage.Event) (storage.Event, []storage.Delivery, error) {
	if ev.Source != "system" {
		if err := CheckEvent(ev); err != nil {
			return ev, nil, err
		}
		if err := e.checkData(&ev); err != nil {
			return ev, nil, err
		}
		e.seen.saw(ev.Type, time.Now())
	}
	id, err := uuid.NewV7()
	if err != nil {
		return ev, nil, err
	}
	now := time.Now().UTC()
	ev.ID, ev.Time = id.String(), now
	var ds []storage.Delivery
	for _, t := range e.endpoints.all() {
		if !t.ep.Enabled || !Subscribed(t.ep.EventTypes, ev.Type) || !t.filter.Match(&ev) {
			continue
		}
		did, err := uuid.NewV7()
		if err != nil {
			return ev, nil, err
		}
		ds = append(ds, storage.Delivery{
			ID: did.String(), EventID: ev.ID, EventType: ev.Type,
			EndpointID: t.ep.ID, Lane: t.ep.ID,
			Status: storage.DeliveryPending, NextAt: &now, CreatedAt: now, UpdatedAt: now,
		})
	}
	return ev, ds, nil
}

// enqueue stores an event with its deliveries through write and hands
// them to the scheduler. write says whether it wrote them (an idempotent
// publish may find its key taken and write nothing); so does enqueue.
func (e *Engine) enqueue(ctx context.Context, ev storage.Event, ds []storage.Delivery,
	write func(context.Context, storage.EncodedEvent, []storage.Delivery) (bool, error)) (bool, error) {
	enc, err := storage.EncodeEvent(ev)
	if err != nil {
		return false, fmt.Errorf("notify: record event: %w", err)
	}
	if !e.sched.freshPath() {
		// A store that nodes share: any node may claim the deliveries,
		// so they are not started from memory (nor their event cached,
		// since another node may finish them); a scan claims them now.
		wrote, err := write(ctx, enc, ds)
		if err != nil {
			return false, fmt.Errorf("notify: record event: %w", err)
		}
		if wrote {
			e.sched.rescan()
		}
		return wrote, nil
	}
	// Before the write: once it commits, a scan could claim the
	// deliveries from the store. Claiming their ids as fresh makes scans
	// give them back, so each is started once, from memory. The event is
	// cached for the same reason.
	cached := e.events.add(enc, len(ds))
	claimed, overflow := e.sched.claim(ds)
	wrote, err := write(ctx, enc, ds)
	e.sched.admit(ds, claimed, err == nil && wrote)
	if err != nil || !wrote {
		if cached {
			e.events.drop(ev.ID)
		}
		if err != nil {
			return false, fmt.Errorf("notify: record event: %w", err)
		}
		return false, nil
	}
	if overflow {
		e.sched.rescan()
	} else {
		e.sched.kick()
	}
	return true, nil
}

// maxCachedEvents bounds the events kept in memory for their pending
// deliveries; past it, attempts read the event from the store.
const maxCachedEvents = 10000

// eventCache holds the events of pending deliveries, so that an attempt
// does not read its event back from the store.
type eventCache struct {
	mu sync.Mutex
	m  map[string]*cachedEvent
}

type cachedEvent struct {
	ev   storage.EncodedEvent
	refs int // deliveries not yet finished
}

// add caches ev for refs deliveries, unless the cache is full.
func (c *eventCache) add(ev storage.EncodedEvent, refs int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedEvents {
		return false
	}
	c.m[ev.ID] = &cachedEvent{ev: ev, refs: refs}
	return true
}

// get returns a cached event.
func (c *eventCache) get(id string) (storage.EncodedEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ce, ok := c.m[id]
	if !ok {
		return storage.EncodedEvent{}, false
	}
	return ce.ev, true
}

// release drops a finished delivery's hold on its event.
func (c *eventCache) release(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ce, ok := c.m[id]; ok {
		if ce.refs--; ce.refs <= 0 {
			delete(c.m, id)
		}
	}
}

// drop forgets an event whose write failed.
func (c *eventCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// len is how many events are cached.
func (c *eventCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Replay makes one finished delivery due again now, with a fresh retry
// budget and the same webhook-id.
func (e *Engine) Replay(ctx context.Context, id string) (storage.Delivery, error) {
	d, err := e.store.ReplayDelivery(ctx, id, time.Now().UTC())
	if err != nil {
		return d, err
	}
	e.sched.rescan()
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
	e.sched.rescan()
	return n, nil
}
