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
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/storage"
)

// Defaults of Options.
const (
	DefaultPollInterval = 500 * time.Millisecond
	DefaultMaxInFlight  = 512
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
	Client *http.Client
	// Routes makes the clients of endpoints with a proxy or TLS settings
	// (the egress client); without it such endpoints cannot send.
	Routes   Router
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
	// IdempotencyWindow is how long PublishOnce remembers a key (default
	// storage.IdempotencyWindow, 24 h).
	IdempotencyWindow time.Duration
	// Dial opens the connections to endpoints' message brokers; it should
	// be the guarded egress client's DialContext (default: an unguarded
	// net.Dialer).
	Dial broker.Dialer
}

// Engine publishes events and delivers them. Each stage has its file:
// publish.go (an event becomes deliveries), schedule.go (which due
// delivery starts when), attempt.go (one request and its outcome) and
// health.go (an endpoint's failure record); this one wires them.
type Engine struct {
	store     Store
	client    *http.Client
	reach     *reach // endpoints' own clients and OAuth 2.0 tokens
	log       *slog.Logger
	observer  Observer
	onDisable func(ctx context.Context, ep storage.Endpoint, reason string)
	window    time.Duration // of idempotency keys
	dial      broker.Dialer
	brokers   *broker.Pool // a connection for each enabled broker endpoint

	endpoints endpoints // every endpoint, ready to send to
	catalogue catalogue // the declared event types (catalogue.go)
	seen      seenTypes // the event types published recently
	// catalogueMu makes a declaration's count check, its save and the
	// reload that follows one step.
	catalogueMu sync.Mutex
	events      eventCache // the events of pending deliveries
	sched       *scheduler // the lanes and the deliveries in hand
	healthMu    sync.Mutex // serialises endpoint health changes
	// reloadMu orders what writes the endpoints snapshot from the store:
	// a reload (list, build, replace) and a health change (store, update)
	// never interleave, so an older list cannot replace a newer state.
	reloadMu sync.Mutex
	// nameMu makes an endpoint's name check and its save one step.
	nameMu sync.Mutex

	stopLoop context.CancelFunc
	abort    context.CancelFunc // ends attempts still running at Close's deadline
	work     context.Context
	loopDone chan struct{}
	attempts sync.WaitGroup
}

// endpoints is the engine's view of the endpoints, each ready to send to:
// a snapshot that publishing, the scheduler and the health stage read
// without a lock. A reload replaces it whole, a health change one
// endpoint at a time; writers hold mu until the scheduler's lanes have
// the new settings, so that lanes see changes in the order they were made.
type endpoints struct {
	mu  sync.Mutex
	cur atomic.Pointer[map[string]*target]
	// changed, when set, is told of each new snapshot, under mu (the
	// broker pool keeps the connections of its endpoints).
	changed func(map[string]*target)
	// succeeded: some enabled endpoint of cur names message.succeeded,
	// kept with each snapshot so that a message that ends SUCCESS costs
	// one load when none does.
	succeeded atomic.Bool
}

// all returns the current snapshot, by endpoint id; it must not be
// modified.
func (p *endpoints) all() map[string]*target {
	if m := p.cur.Load(); m != nil {
		return *m
	}
	return nil
}

func (p *endpoints) get(id string) (*target, bool) {
	t, ok := p.all()[id]
	return t, ok
}

// replace swaps in a new set of endpoints and has the lanes take it.
func (p *endpoints) replace(targets map[string]*target, lanes *scheduler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur.Store(&targets)
	p.succeeded.Store(namesExactly(targets, MessageSucceeded))
	lanes.reconfigure(targets)
	if p.changed != nil {
		p.changed(targets)
	}
}

// update replaces the target of endpoint id, unless a reload has dropped
// the endpoint meanwhile, and has its lane take it.
func (p *endpoints) update(id string, t *target, lanes *scheduler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.all()
	if _, ok := cur[id]; !ok {
		return
	}
	next := maps.Clone(cur)
	next[id] = t
	p.cur.Store(&next)
	p.succeeded.Store(namesExactly(next, MessageSucceeded))
	lanes.configure(id, t)
	if p.changed != nil {
		p.changed(next)
	}
}

// namesExactly reports whether an enabled endpoint of targets names
// eventType in its event_types.
func namesExactly(targets map[string]*target, eventType string) bool {
	for _, t := range targets {
		if t.ep.Enabled && slices.Contains(t.ep.EventTypes, eventType) {
			return true
		}
	}
	return false
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
	e := &Engine{
		store:     o.Store,
		client:    &hc,
		reach:     newReach(&hc, o.Routes),
		log:       o.Logger,
		observer:  o.Observer,
		onDisable: o.OnDisable,
		window:    o.IdempotencyWindow,
		dial:      o.Dial,
		brokers:   broker.NewPool(o.Dial),
		events:    eventCache{m: map[string]*cachedEvent{}},
	}
	e.endpoints.changed = func(targets map[string]*target) { e.brokers.Retain(brokerSpecs(targets)) }
	e.sched = newScheduler(o.Store, &e.endpoints, e.launch, o.Logger, o.PollInterval, o.MaxInFlight)
	return e, nil
}

// Start loads the endpoints and the pause switch and starts the delivery
// loop, which picks up whatever a previous run left due.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.Reload(ctx); err != nil {
		return err
	}
	if err := e.ReloadPaused(ctx); err != nil {
		return err
	}
	loopCtx, stop := context.WithCancel(context.Background())
	work, abort := context.WithCancel(context.Background())
	e.stopLoop, e.abort, e.work = stop, abort, work
	e.loopDone = make(chan struct{})
	go func() {
		defer close(e.loopDone)
		e.sched.run(loopCtx)
	}()
	return nil
}

// Close stops picking deliveries and waits for the attempts in flight
// until ctx ends; attempts still running then are cut off and left due,
// to be made again after the next start.
func (e *Engine) Close(ctx context.Context) error {
	if e.stopLoop == nil {
		e.brokers.Close()
		return nil
	}
	e.stopLoop()
	<-e.loopDone
	done := make(chan struct{})
	go func() {
		e.attempts.Wait()
		e.brokers.Close() // after the last publish
		close(done)
	}()
	defer e.reach.prune(nil) // the endpoints' own connections
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

// Reload rebuilds the engine's view of the endpoints and of the declared
// event types after a change.
func (e *Engine) Reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
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
	e.endpoints.replace(targets, e.sched)
	e.reach.prune(targets)
	e.sched.rescan()
	e.catalogueMu.Lock()
	defer e.catalogueMu.Unlock()
	return e.reloadCatalogue(ctx)
}

// Paused reports whether outbound delivery is paused.
func (e *Engine) Paused() bool { return e.sched.paused.Load() }

// SetPaused pauses or resumes all outbound delivery, durably. While
// paused, events are still accepted and their deliveries wait.
func (e *Engine) SetPaused(ctx context.Context, paused bool) error {
	if err := e.store.PutSetting(ctx, pausedSetting, []byte(fmt.Sprint(paused))); err != nil {
		return fmt.Errorf("notify: save the pause switch: %w", err)
	}
	e.sched.setPaused(paused)
	return nil
}

// ReloadPaused reads the pause switch again from the store, after
// another node changed it.
func (e *Engine) ReloadPaused(ctx context.Context) error {
	v, err := e.store.Setting(ctx, pausedSetting)
	if err != nil {
		return fmt.Errorf("notify: read the pause switch: %w", err)
	}
	e.sched.setPaused(string(v) == "true")
	return nil
}

// InFlight is how many attempts are running.
func (e *Engine) InFlight() int { return e.sched.inFlight() }
