// Package notify is Switchyard's outbound engine. Events (from the admin
// API, from scripts' NOTIFY.send, from the router itself) are matched
// against the endpoints' subscriptions; each (event, endpoint) pair becomes
// a delivery, written durably before the publisher is answered. Delivery
// workers pick due deliveries from the store's time index, lane by lane
// (a lane is one endpoint, or the callbacks to one host), so that a slow
// or dead receiver only ever holds its own lane's slots. Each attempt
// renders the endpoint's templates, signs the body (Standard Webhooks),
// sends it through the guarded egress client and records the outcome; a
// failure is retried on the endpoint's schedule, honouring Retry-After.
//
// The store is the queue: an attempt cut short by a crash is still due in
// the index and is made again after a restart, with the same webhook-id
// (the delivery's id), so delivery is at least once.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

// Defaults of Options.
const (
	DefaultPollInterval = 500 * time.Millisecond
	DefaultMaxInFlight  = 512
	// maxCachedEvents bounds the events kept in memory for their pending
	// deliveries; past it, attempts read the event from the store.
	maxCachedEvents = 10000
	// maxFresh bounds the just-published deliveries kept in memory to be
	// started without reading them back; past it, they wait in the store.
	maxFresh = 20000
	// recordTimeout bounds writing an attempt's outcome.
	recordTimeout = 30 * time.Second
)

// pausedSetting is the store setting that holds the global pause switch.
const pausedSetting = "outbound.paused"

// Observer is told about every attempt (the server's metrics).
type Observer interface {
	// Attempted reports an attempt's outcome: "success", "retry" or
	// "failed" (no more attempts), and how long the request took.
	Attempted(outcome string, latency time.Duration)
}

// Options configure an Engine. Store and Client are required.
type Options struct {
	Store Store
	// Client sends every request; it should be the guarded egress
	// client's. The engine uses a copy that does not follow redirects.
	Client   *http.Client
	Logger   *slog.Logger // default slog.Default()
	Observer Observer
	// PollInterval is how often the time index is scanned for retries
	// that came due (default 500 ms); new events and freed slots wake the
	// scan at once.
	PollInterval time.Duration
	// MaxInFlight bounds the attempts in flight across all lanes
	// (default 512).
	MaxInFlight int
	// OnDisable, when set, is told when the engine disables an endpoint
	// (the server writes it to the audit log).
	OnDisable func(ctx context.Context, ep storage.Endpoint, reason string)
}

// Engine publishes events and delivers them.
type Engine struct {
	store     Store
	client    *http.Client
	log       *slog.Logger
	observer  Observer
	onDisable func(ctx context.Context, ep storage.Endpoint, reason string)
	poll      time.Duration
	maxBusy   int

	mu       sync.Mutex
	targets  map[string]*target // every endpoint, by id
	lanes    map[string]*lane
	inflight map[string]struct{} // deliveries being attempted or recorded
	busy     int                 // attempts waiting for an answer
	// A round reads due deliveries from a snapshot; an attempt that ends
	// while the round runs may have been read before its outcome was
	// written. round numbers the rounds, and ended notes the round during
	// which each attempt ended, so that a round skips those.
	round uint64
	ended map[string]uint64
	// fresh holds deliveries just published, by lane, so the loop can
	// start them without reading them back from the store. They are in
	// the store's due index too, and are skipped there while held here.
	fresh    map[string][]storage.Delivery
	freshIDs map[string]struct{}
	freshN   map[string]int // fresh ids claimed, by lane
	scan     atomic.Bool    // the store may hold due deliveries not yet read
	events   map[string]*cachedEvent

	healthMu sync.Mutex // serialises endpoint health changes

	paused   atomic.Bool
	wake     chan struct{}
	stopLoop context.CancelFunc
	abort    context.CancelFunc // ends attempts still running at Close's deadline
	work     context.Context
	loopDone chan struct{}
	attempts sync.WaitGroup
	rounds   atomic.Uint64 // loop rounds, for tests
}

type cachedEvent struct {
	ev   storage.Event
	data []byte // ev.Data as JSON, made once for the default bodies
	refs int    // deliveries not yet finished
}

// New returns an engine; Start loads the endpoints and starts delivering.
func New(o Options) (*Engine, error) {
	if o.Store == nil || o.Client == nil {
		return nil, errors.New("notify: Store and Client are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	hc := *o.Client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Timeout = 0 // each attempt has its endpoint's timeout
	return &Engine{
		store:     o.Store,
		client:    &hc,
		log:       o.Logger,
		observer:  o.Observer,
		onDisable: o.OnDisable,
		poll:      o.PollInterval,
		maxBusy:   o.MaxInFlight,
		targets:   map[string]*target{},
		lanes:     map[string]*lane{},
		inflight:  map[string]struct{}{},
		ended:     map[string]uint64{},
		fresh:     map[string][]storage.Delivery{},
		freshIDs:  map[string]struct{}{},
		freshN:    map[string]int{},
		events:    map[string]*cachedEvent{},
		wake:      make(chan struct{}, 1),
	}, nil
}

// Start loads the endpoints and the pause switch and starts the delivery
// loop, which picks up whatever a previous run left due.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.Reload(ctx); err != nil {
		return err
	}
	v, err := e.store.Setting(ctx, pausedSetting)
	if err != nil {
		return fmt.Errorf("notify: read the pause switch: %w", err)
	}
	e.paused.Store(string(v) == "true")
	loopCtx, stop := context.WithCancel(context.Background())
	work, abort := context.WithCancel(context.Background())
	e.stopLoop, e.abort, e.work = stop, abort, work
	e.loopDone = make(chan struct{})
	go e.loop(loopCtx)
	return nil
}

// Close stops picking deliveries and waits for the attempts in flight
// until ctx ends; attempts still running then are cut off and left due,
// to be made again after the next start.
func (e *Engine) Close(ctx context.Context) error {
	if e.stopLoop == nil {
		return nil
	}
	e.stopLoop()
	<-e.loopDone
	done := make(chan struct{})
	go func() {
		e.attempts.Wait()
		close(done)
	}()
	select {
	case <-done:
		e.abort()
		return nil
	case <-ctx.Done():
		e.abort()
		<-done
		return fmt.Errorf("notify: attempts still running at shutdown were cut off; they run again after the next start")
	}
}

// Reload rebuilds the engine's view of the endpoints after a change.
func (e *Engine) Reload(ctx context.Context) error {
	eps, err := e.store.ListEndpoints(ctx)
	if err != nil {
		return fmt.Errorf("notify: load endpoints: %w", err)
	}
	now := time.Now()
	targets := make(map[string]*target, len(eps))
	for _, ep := range eps {
		t, err := newTarget(ep, now)
		if err != nil {
			// Normalize refuses such endpoints; one stored by an older
			// version is kept but cannot send.
			e.log.Error("endpoint cannot be used", "endpoint", ep.ID, "err", err)
			ep.Enabled = false
			t = &target{ep: ep}
		}
		targets[ep.ID] = t
	}
	e.mu.Lock()
	e.targets = targets
	for key, l := range e.lanes {
		if l.deleted || isCallbackLane(key) {
			continue
		}
		if t, ok := targets[key]; ok {
			l.configure(t)
		} else {
			l.deleted, l.target = true, nil
		}
	}
	e.mu.Unlock()
	e.rescan()
	return nil
}

// Paused reports whether outbound delivery is paused.
func (e *Engine) Paused() bool { return e.paused.Load() }

// SetPaused pauses or resumes all outbound delivery, durably. While
// paused, events are still accepted and their deliveries wait.
func (e *Engine) SetPaused(ctx context.Context, paused bool) error {
	if err := e.store.PutSetting(ctx, pausedSetting, []byte(fmt.Sprint(paused))); err != nil {
		return fmt.Errorf("notify: save the pause switch: %w", err)
	}
	e.paused.Store(paused)
	e.rescan()
	return nil
}

// InFlight is how many attempts are running.
func (e *Engine) InFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy
}

// kick wakes the delivery loop.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

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

// lane returns the lane of key, creating it. Called with e.mu held.
func (e *Engine) lane(key string) *lane {
	if l, ok := e.lanes[key]; ok {
		return l
	}
	var l *lane
	switch t, ok := e.targets[key]; {
	case ok:
		l = newLane(key, t)
	case isCallbackLane(key):
		l = newLane(key, nil)
	default:
		l = newLane(key, nil)
		l.deleted = true
	}
	e.lanes[key] = l
	return l
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

// defaultPolicy is the retry policy of callbacks.
var defaultPolicy = storage.RetryPolicy{MaxAttempts: len(defaultSchedule), Backoff: "exponential"}

// attempt makes one attempt at d and records it.
func (e *Engine) attempt(d storage.Delivery, l *lane) {
	defer e.attempts.Done()
	ctx := e.work
	start := time.Now()
	policy, final := defaultPolicy, false
	e.mu.Lock()
	t, deleted := l.target, l.deleted
	e.mu.Unlock()

	var r result
	ev, data, err := e.event(ctx, d.EventID)
	switch {
	case err != nil:
		r.attempt = storage.Attempt{At: start.UTC(), Error: "the event cannot be read: " + err.Error()}
		final = !errors.Is(err, storage.ErrClosed) && ctx.Err() == nil
	case d.Callback != nil:
		r = send(ctx, e.client, callbackRequest(d.Callback, ev, d.ID), start)
	case deleted || t == nil:
		r.attempt = storage.Attempt{At: start.UTC(), Error: "the endpoint was deleted"}
		final = true
	default:
		policy = t.ep.Retry
		o, err := t.request(ev, data, d.ID, start)
		if err != nil {
			r.attempt = storage.Attempt{At: start.UTC(), Error: "building the request: " + err.Error()}
		} else {
			r = send(ctx, e.client, o, start)
		}
	}
	now := time.Now()
	if ctx.Err() != nil {
		// Shutting down: the attempt did not really happen; the delivery
		// stays due and is made again after the next start.
		e.answered(l, nil, now)
		e.recorded(d.ID)
		return
	}
	// The lane's slot is free once the answer is in; the delivery stays
	// held until its outcome is written.
	e.answered(l, &r, now)

	u := storage.DeliveryUpdate{Status: storage.DeliveryFailed}
	outcome := "failed"
	switch {
	case r.ok:
		u.Status, outcome = storage.DeliverySuccess, "success"
	case final:
	default:
		delay, more := nextDelay(policy, d.AttemptCount+1-d.Base)
		if more || r.gone {
			delay = max(delay, r.retryAfter)
			next := now.Add(delay).UTC()
			u.Status, u.NextAt, outcome = storage.DeliveryPending, &next, "retry"
		}
	}
	rctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if _, err := e.store.RecordAttempt(rctx, d.ID, r.attempt, u); err != nil {
		e.log.Error("recording a delivery attempt; the delivery will be attempted again", "delivery", d.ID, "err", err)
	} else if u.Status != storage.DeliveryPending {
		e.finished(d.EventID)
	}
	if e.observer != nil {
		e.observer.Attempted(outcome, time.Duration(r.attempt.LatencyMS*float64(time.Millisecond)))
	}
	if t != nil && !deleted {
		e.health(rctx, t.ep.ID, d, r, u.Status)
	}
	e.recorded(d.ID)
}

// health updates an endpoint's failure record after an attempt: a 410
// disables it at once; a success clears the record; an exhausted delivery
// adds to it and disables the endpoint past its auto_disable thresholds.
func (e *Engine) health(ctx context.Context, id string, d storage.Delivery, r result, status string) {
	e.healthMu.Lock()
	defer e.healthMu.Unlock()
	e.mu.Lock()
	t, ok := e.targets[id]
	e.mu.Unlock()
	if !ok || !t.ep.Enabled {
		return
	}
	h := t.ep.EndpointHealth
	switch {
	case r.gone:
		e.disable(ctx, t.ep, h, "the endpoint answered 410 Gone")
		return
	case status == storage.DeliverySuccess:
		if h.FailingSince == nil && h.ConsecutiveFailures == 0 {
			return
		}
		h.FailingSince, h.ConsecutiveFailures = nil, 0
	case status == storage.DeliveryFailed:
		h.ConsecutiveFailures++
		if h.FailingSince == nil {
			since := d.CreatedAt
			h.FailingSince = &since
		}
		ad := t.ep.AutoDisable
		failingFor := time.Duration(ad.FailingForHours) * time.Hour
		switch {
		case ad.ConsecutiveFailures > 0 && h.ConsecutiveFailures >= ad.ConsecutiveFailures:
			e.disable(ctx, t.ep, h, fmt.Sprintf("%d deliveries in a row failed", h.ConsecutiveFailures))
			return
		case failingFor > 0 && time.Since(*h.FailingSince) >= failingFor:
			e.disable(ctx, t.ep, h, fmt.Sprintf("deliveries have been failing since %s", h.FailingSince.UTC().Format(time.RFC3339)))
			return
		}
	default:
		return
	}
	e.setHealth(ctx, id, h)
}

// disable turns an endpoint off and publishes endpoint.disabled.
func (e *Engine) disable(ctx context.Context, ep storage.Endpoint, h storage.EndpointHealth, reason string) {
	h.Enabled, h.DisabledReason = false, reason
	if !e.setHealth(ctx, ep.ID, h) {
		return
	}
	e.log.Warn("outbound endpoint disabled", "endpoint", ep.ID, "name", ep.Name, "reason", reason)
	if e.onDisable != nil {
		e.onDisable(ctx, ep, reason)
	}
	ev := systemEvent(EndpointDisabled, map[string]any{"endpoint_id": ep.ID, "endpoint_name": ep.Name, "reason": reason})
	if _, _, err := e.Publish(ctx, ev); err != nil {
		e.log.Error("publishing endpoint.disabled", "endpoint", ep.ID, "err", err)
	}
}

// setHealth stores h and refreshes the endpoint's target.
func (e *Engine) setHealth(ctx context.Context, id string, h storage.EndpointHealth) bool {
	ep, err := e.store.SetEndpointHealth(ctx, id, h)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			e.log.Error("recording endpoint health", "endpoint", id, "err", err)
		}
		return false
	}
	t, err := newTarget(ep, time.Now())
	if err != nil {
		return false
	}
	e.mu.Lock()
	if _, ok := e.targets[id]; ok {
		e.targets[id] = t
		if l, ok := e.lanes[id]; ok {
			l.configure(t)
		}
	}
	e.mu.Unlock()
	return true
}
