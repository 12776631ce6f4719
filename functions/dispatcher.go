package functions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// Observer is told about every processed message (the server's metrics).
type Observer interface {
	Processed(status string, elapsed time.Duration)
}

// Reporter is told about every message that ended, after its outcome is
// recorded (the outbound engine publishes message.failed,
// message.unmatched and message.succeeded events). It is called on the
// hot path for every SUCCESS: it must return at once when it has nothing
// to do.
type Reporter interface {
	Finished(ctx context.Context, m storage.Message, o storage.Outcome)
}

// Options configure a Dispatcher. Store and Engine are required.
type Options struct {
	Store  Store
	Engine *scripting.Engine
	Logger *slog.Logger // default: slog.Default()
	// Workers is how many messages are processed at once (default
	// DefaultWorkers). Scripts that wait on HTTP.request hold a worker, so
	// there are many more of them than cores.
	Workers int
	// ScriptSlots is how many scripts run JavaScript at once (default two
	// per core); a script waiting on HTTP, DEDUPE or NOTIFY gives its slot
	// up meanwhile.
	ScriptSlots int
	// QueueSize bounds the in-memory queue (default 16384). When it is
	// full, messages wait in the store as PENDING and are swept in later.
	QueueSize int
	// InlinePayload: bodies up to this size ride the queue with their
	// message; larger ones are read back from the store (default 64 KiB).
	InlinePayload int
	// QueueBytes bounds the bodies held by the queue (default 64 MiB);
	// past it, bodies are read back from the store.
	QueueBytes int64
	// SweepInterval is how often the store is swept for PENDING
	// messages besides when the queue overflows (default a minute). Nodes
	// sharing a store sweep more often, to take over a dead node's
	// messages soon after its lease ends.
	SweepInterval time.Duration
	Observer      Observer
	Reporter      Reporter
	// Effects are what scripts' HTTP, DEDUPE and NOTIFY do (nil: they
	// throw when called).
	Effects *scripting.Effects
	// Unmatched is what is kept of a message that ends UNMATCHED:
	// KeepAll (the default), KeepMetadata or KeepNothing.
	Unmatched Keep
}

// Keep says what is kept of a message once processed.
type Keep int

const (
	KeepAll      Keep = iota // everything
	KeepMetadata             // all but the payload and the headers
	KeepNothing              // nothing: the message is deleted
)

// maxRecording bounds the outcomes waiting to be written.
const maxRecording = 4096

// DefaultWorkers is the default number of messages processed at once.
// Only DefaultScriptSlots of them run JavaScript at any moment; the rest
// wait on the world (HTTP.request) or for a slot.
func DefaultWorkers() int { return max(64, 4*DefaultScriptSlots()) }

// DefaultScriptSlots is the default number of scripts running JavaScript
// at once: two per core. Scripts are CPU work; more at once only take CPU
// from the handlers that accept webhooks (measured in bench/ingest.sh).
func DefaultScriptSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// Dispatcher takes received messages through matching and functions and
// records the outcome. The durable queue is the set of PENDING messages: the
// in-memory queue only speeds up the common case, and whatever it cannot
// hold (or a crash lost) is swept in from the store.
type Dispatcher struct {
	opts   Options
	log    *slog.Logger
	store  Store
	engine *scripting.Engine

	slots   gate               // scripts running JavaScript
	effects *scripting.Effects // opts.Effects, giving up the slot while they wait

	catalog  atomic.Pointer[catalog]
	reloadMu sync.Mutex

	queue       chan job
	sweep       chan struct{} // a token asks the sweeper to look at the store
	stopSweep   chan struct{}
	sweeperDone chan struct{}
	backlog     atomic.Int64 // messages known to wait in the store only
	noLease     atomic.Bool  // the last sweep found this node without a lease
	sweepFails  atomic.Bool  // the last sweep failed otherwise, the store unreachable
	queued      atomic.Int64 // bytes of bodies in the queue
	mu          sync.Mutex
	inflight    map[string]struct{} // queued or running
	stopping    bool

	ctx       context.Context // ends when the dispatcher must stop scripts
	cancel    context.CancelFunc
	wg        sync.WaitGroup // workers
	records   sync.WaitGroup // outcomes being recorded
	recording chan struct{}  // bounds records in flight
}

// catalog is one consistent view of providers and routes.
type catalog struct {
	providers *providers.Set
	routes    *Routes
}

type job struct {
	msg     storage.Message
	payload []byte // nil: read it from the store
	swept   bool   // from the store: check it is still PENDING first
}

// New returns a Dispatcher; Start begins processing.
func New(opts Options) (*Dispatcher, error) {
	if opts.Store == nil || opts.Engine == nil {
		return nil, errors.New("functions: Store and Engine are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers()
	}
	if opts.ScriptSlots <= 0 {
		opts.ScriptSlots = DefaultScriptSlots()
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 16384
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = 64 << 20
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Minute
	}
	if opts.InlinePayload <= 0 {
		opts.InlinePayload = 64 << 10
	}
	ctx, cancel := context.WithCancel(context.Background())
	slots := newGate(opts.ScriptSlots)
	return &Dispatcher{
		opts:        opts,
		slots:       slots,
		effects:     gatedEffects(opts.Effects, slots),
		log:         opts.Logger,
		store:       opts.Store,
		engine:      opts.Engine,
		queue:       make(chan job, opts.QueueSize),
		sweep:       make(chan struct{}, 1),
		stopSweep:   make(chan struct{}),
		sweeperDone: make(chan struct{}),
		inflight:    map[string]struct{}{},
		ctx:         ctx,
		cancel:      cancel,
		recording:   make(chan struct{}, maxRecording),
	}, nil
}

// Start loads providers and functions, starts the workers, and sweeps in
// the messages a previous run left PENDING.
func (d *Dispatcher) Start(ctx context.Context) error {
	if err := d.Reload(ctx); err != nil {
		return err
	}
	for range d.opts.Workers {
		d.wg.Go(d.worker)
	}
	go d.sweeper()
	d.sweep <- struct{}{}
	return nil
}

// Reload rebuilds the catalog from the store. Only Catalogue.Refresh
// calls it outside this package: changes to providers and functions go
// through the Catalogue.
func (d *Dispatcher) Reload(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	plist, err := d.store.ListProviders(ctx)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	flist, err := d.store.ListFunctions(ctx)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	cat, err := buildCatalog(d.catalog.Load(), plist, flist)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	d.catalog.Store(cat)
	return nil
}

// buildCatalog compiles providers and functions into a catalog, reusing
// the programs of prev (nil: none) for the scripts that did not change.
// The live catalog (Reload) and a dry run's are built by it alike.
func buildCatalog(prev *catalog, plist []storage.Provider, flist []storage.Function) (*catalog, error) {
	var prevSet *providers.Set
	var prevRoutes *Routes
	if prev != nil {
		prevSet, prevRoutes = prev.providers, prev.routes
	}
	set, err := providers.Build(plist, prevSet)
	if err != nil {
		return nil, err
	}
	routes, err := BuildRoutes(flist, prevRoutes)
	if err != nil {
		return nil, err
	}
	return &catalog{providers: set, routes: routes}, nil
}

// Accept records a received message durably (status PENDING) and hands it
// to the workers; when it returns nil the message will be processed, even
// across a crash. It never waits for a worker: when the queue is full the
// message waits in the store and the sweeper brings it in later.
func (d *Dispatcher) Accept(ctx context.Context, m storage.Message, payload []byte) error {
	if !d.claim(m.ID) {
		return ErrStopping
	}
	m.Status, m.Size = storage.StatusPending, len(payload)
	if err := d.store.AppendMessage(ctx, m, payload); err != nil {
		d.release(m.ID)
		return err
	}
	if len(payload) > d.opts.InlinePayload || d.queued.Load()+int64(len(payload)) > d.opts.QueueBytes {
		payload = nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		delete(d.inflight, m.ID) // recorded: it runs after the next start
		return nil
	}
	select {
	case d.queue <- job{msg: m, payload: payload}:
		d.queued.Add(int64(len(payload)))
	default:
		delete(d.inflight, m.ID)
		d.backlog.Add(1)
		select {
		case d.sweep <- struct{}{}:
		default:
		}
	}
	return nil
}

// QueueDepth is how many accepted messages wait to be processed.
func (d *Dispatcher) QueueDepth() int { return len(d.queue) + int(d.backlog.Load()) }

// ErrStopping: the dispatcher is shutting down; the message stays PENDING
// and is processed after the next start.
var ErrStopping = errors.New("dispatcher is stopping")

// AcceptAndProcess records a received message durably, then processes it
// in the caller's goroutine and records the outcome (the synchronous
// path). The caller's ctx bounds only the recording: once accepted, the
// message is finished. ErrStopping after the message was recorded means it
// runs after the next start; recorded tells which case it is.
func (d *Dispatcher) AcceptAndProcess(ctx context.Context, m storage.Message, payload []byte) (o Processed, recorded bool, err error) {
	if !d.claim(m.ID) {
		return o, false, ErrStopping
	}
	defer d.release(m.ID)
	if err := d.store.AppendMessage(ctx, m, payload); err != nil {
		return o, false, err
	}
	o, err = d.processAndRecord(job{msg: m, payload: payload})
	return o, true, err
}

// Close stops taking work and lets running messages finish until ctx
// ends, then interrupts the scripts still running. Messages not finished,
// queued ones included, stay PENDING and run after the next start.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return nil
	}
	d.stopping = true // from here on nothing is sent on d.queue but by the sweeper
	d.mu.Unlock()
	close(d.stopSweep)
	<-d.sweeperDone
	close(d.queue)
	stop := context.AfterFunc(ctx, d.cancel)
	defer stop()
	d.wg.Wait()
	d.records.Wait()
	d.cancel()
	return ctx.Err()
}

// claim marks id in flight; false if it already is or the dispatcher stops.
func (d *Dispatcher) claim(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		return false
	}
	if _, busy := d.inflight[id]; busy {
		return false
	}
	d.inflight[id] = struct{}{}
	return true
}

func (d *Dispatcher) release(id string) {
	d.mu.Lock()
	delete(d.inflight, id)
	d.mu.Unlock()
}

// worker processes queued messages. It does not wait for an outcome to be
// on disk: recording joins the next group commit while the worker goes on
// (at most maxRecording at once). Until it is recorded the message stays
// in flight, so the sweeper cannot take it again; if the process dies
// first, the message is still PENDING and runs again after the restart.
func (d *Dispatcher) worker() {
	for j := range d.queue {
		d.queued.Add(-int64(len(j.payload)))
		if d.isStopping() {
			d.release(j.msg.ID) // left PENDING for the next start
			continue
		}
		ev, start, err := d.process(j)
		if err != nil {
			if !errors.Is(err, ErrStopping) && !errors.Is(err, errSkip) {
				d.log.Error("processing failed; the message stays PENDING", "message_id", j.msg.ID, "err", err)
			}
			d.release(j.msg.ID)
			continue
		}
		d.recording <- struct{}{}
		d.records.Go(func() {
			defer func() { <-d.recording }()
			defer d.release(j.msg.ID)
			switch err := d.record(j.msg, ev.Outcome, start); {
			case errors.Is(err, storage.ErrNotFound):
				d.log.Info("the message was deleted while it ran; its outcome is not kept", "message_id", j.msg.ID)
			case err != nil:
				d.log.Error("could not record an outcome; the message stays PENDING and runs again", "message_id", j.msg.ID, "err", err)
			}
		})
	}
}

func (d *Dispatcher) isStopping() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopping
}

// sweeper brings PENDING messages from the store into the queue, oldest
// first, when asked (at start, after an overflow) and every
// SweepInterval.
func (d *Dispatcher) sweeper() {
	defer close(d.sweeperDone)
	tick := time.NewTicker(d.opts.SweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-d.sweep:
		case <-tick.C:
		case <-d.stopSweep:
			return
		}
		d.sweepOnce()
	}
}

// claimTimeout bounds one claim of pending messages, so that a database
// that stops answering without closing the connection (a silent
// failover) holds up the sweeper for a while, not until the kernel gives
// up on the connection.
const claimTimeout = 30 * time.Second

// sweepOnce claims the PENDING messages that no live node holds (and
// those this node holds already), page by page, into the queue.
func (d *Dispatcher) sweepOnce() {
	after := ""
	for {
		ctx, cancel := context.WithTimeout(d.ctx, claimTimeout)
		page, err := d.store.ClaimPending(ctx, after, 256)
		cancel()
		if errors.Is(err, storage.ErrNoLease) {
			if !d.noLease.Swap(true) {
				d.log.Warn("not sweeping pending messages: this node holds no lease", "err", err)
			}
			return
		}
		if err != nil {
			// Once per change, not once per sweep: an outage of the
			// database is one line, and its end another.
			if !d.isStopping() && !d.sweepFails.Swap(true) {
				d.log.Error("sweeping pending messages failed; trying again every sweep until it works", "err", err)
			}
			return
		}
		if d.sweepFails.Swap(false) {
			d.log.Info("sweeping pending messages works again")
		}
		if d.noLease.Swap(false) {
			d.log.Info("sweeping pending messages again: this node holds a lease")
		}
		if len(page) == 0 {
			d.backlog.Store(0)
			return
		}
		for _, m := range page {
			after = m.ID
			if !d.claim(m.ID) {
				continue
			}
			if !d.enqueueSwept(m) {
				d.release(m.ID)
				return
			}
			if d.backlog.Load() > 0 {
				d.backlog.Add(-1)
			}
		}
	}
}

// enqueueSwept waits for room in the queue; false when stopping.
func (d *Dispatcher) enqueueSwept(m storage.Message) bool {
	select {
	case d.queue <- job{msg: m, swept: true}:
		return true
	case <-d.stopSweep:
		return false
	}
}
