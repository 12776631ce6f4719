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
