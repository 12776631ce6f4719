// Package server wires Switchyard together behind one HTTP port: inbound
// webhooks (/webhooks/v1/*), the admin API (/api/v1), the UI (/ui/),
// /healthz, /readyz and /metrics. Tests start a whole instance in-process with
// New + Run.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/internal/buildinfo"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// HTTP server timeouts. Echo leaves them at zero, which lets a slow client
// hold a connection forever. Writes may wait for a synchronous webhook, so
// WriteTimeout exceeds the longest function timeout.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	// bodyTimeout: a webhook body must have arrived this long after its
	// reading starts (408 otherwise).
	bodyTimeout    = readTimeout
	writeTimeout   = functions.MaxTimeout + providers.MaxMatchTimeout + time.Minute
	idleTimeout    = 2 * time.Minute
	maxHeaderBytes = 1 << 20
)

// Server is one Switchyard instance.
type Server struct {
	opts     Options
	log      *slog.Logger
	store    backend       // the whole store: the server opens and closes it, and hands out its parts
	location StoreLocation // where the store is
	unready  atomic.Bool   // the last /readyz found the store unreachable
	node     *node         // this process among the nodes sharing the store
	// lockFailing: the last periodic job could not take its lock.
	lockFailing atomic.Bool
	users       access.Store // users, tokens and sessions
	auth        *access.Authenticator
	disp        *functions.Dispatcher
	jobs        *jobRunner           // the filter jobs this node runs
	catalog     *functions.Catalogue // every change of providers and functions goes through it
	echo        *echo.Echo
	http        *http.Server
	listener    net.Listener
	metrics     *metrics
	registry    *prometheus.Registry
	token       tokenCheck
	egress      *egress.Client // every outbound request: scripts' HTTP.request, notifications
	notify      *notify.Engine
	logins      loginLimiter
	setup       setupGate // the first user's creation (POST /api/v1/setup)
	// bodies holds a token per webhook body being read
	// (--max-concurrent-bodies).
	bodies chan struct{}
	// rate limits webhooks per client address (nil: --rate-limit off).
	rate *rateLimiter
	// storeFull: the store's last measured size was over --max-store-bytes.
	storeFull atomic.Bool
	// storeMeasured is the store's size as last measured, and storeAdded
	// the webhook bodies accepted since: between two measures the store
	// is taken as full once their sum passes --max-store-bytes, so that a
	// burst cannot overshoot it by a measuring interval's worth.
	storeMeasured, storeAdded atomic.Int64
	// warnInsecureOnce: the warning about session cookies on plain HTTP.
	warnInsecureOnce sync.Once
}

// New validates opts, opens the store and binds the listener. Nothing runs
// until Run. On error, whatever was set up is released.
func New(opts Options) (_ *Server, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	s := &Server{opts: opts, log: opts.Logger, bodies: make(chan struct{}, opts.MaxConcurrentBodies),
		rate: newRateLimiter(opts.RateLimit, opts.RateLimitBurst, rateKeys)}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	// What can be found wrong cheaply is, before anything is made.
	if err := opts.Check(); err != nil {
		return nil, err
	}
	// The port first: a taken one (another switchyard?) fails before
	// anything is written to disk.
	ln, err := listen(opts.Listen)
	if err != nil {
		return nil, err
	}
	s.listener = ln
	cleanup = append(cleanup, func() { ln.Close() })
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, loc, err := opts.open()
	if err != nil {
		return nil, err
	}
	s.store, s.users, s.location = st, st, loc
	cleanup = append(cleanup, func() { st.Close() })
	s.auth = access.NewAuthenticator(st, s.log)
	if shared, ok := st.(storage.LoginLimits); ok {
		s.logins.shared = shared // nodes share the store: the limits hold for all of them
	}

	if s.token, err = s.adminToken(); err != nil {
		return nil, err
	}

	if err := providers.TemplatesError(); err != nil {
		s.log.Error("some provider templates are malformed and left out", "err", err)
	}
	s.egress, err = egress.New(egress.Options{AllowPrivate: opts.AllowPrivateTargets})
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, s.egress.CloseIdleConnections)
	s.registry = prometheus.NewRegistry()
	s.metrics = newMetrics(s.registry, opts.MaxStoreBytes > 0)
	s.notify, err = notify.New(notify.Options{
		Store:     st,
		Client:    s.egress.HTTPClient(),
		Dial:      s.egress.DialContext, // broker endpoints' connections
		Routes:    s.egress,             // endpoints with a proxy or TLS settings
		Logger:    s.log,
		Observer:  s.metrics,
		OnDisable: s.auditDisabled,
		// Zero: the default, 24 h.
		IdempotencyWindow: s.opts.IdempotencyWindow,
	})
	if err != nil {
		return nil, err
	}
	s.jobs = newJobRunner()
	s.disp, err = functions.New(functions.Options{
		Store:   st,
		Engine:  scripting.NewEngine(scripting.Limits{MaxHeap: opts.ScriptMaxHeap}),
		Logger:  s.log,
		Workers: opts.Workers,
		// Shared with other nodes: a dead node's messages are taken over
		// soon after its lease ends.
		SweepInterval: sweepInterval(loc, opts.Lease),
		Observer:      s.metrics,
		Reporter:      s.notify,
		Effects:       &scripting.Effects{Dedupe: st, HTTP: scriptHTTP{s.egress}, Notify: scriptNotify{s.notify}},
		Unmatched:     unmatchedKeep[opts.Unmatched],
	})
	if err != nil {
		return nil, err
	}
	s.catalog = functions.NewCatalogue(st, s.disp)
	s.metrics.watchQueue(s.registry, s.disp.QueueDepth)
	s.metrics.watchOutbound(s.registry, s.notify.InFlight)
	s.metrics.watchStore(s.registry, st.WriterStats)
	if rt, ok := st.(interface{ RoundTrips() uint64 }); ok {
		s.metrics.watchRoundTrips(s.registry, rt.RoundTrips)
	}

	s.echo = s.routes()
	s.http = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	regCtx, cancelReg := context.WithTimeout(context.Background(), storeOpenTimeout)
	defer cancelReg()
	advertise := opts.Advertise
	if advertise == "" {
		advertise = ln.Addr().String()
	}
	s.node, err = registerNode(regCtx, st, storage.Node{Address: advertise, Version: opts.Version, StartedAt: time.Now()}, opts.Lease, s.log)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", loc, err)
	}
	s.metrics.nodeInfo(s.registry, s.node.ID())
	s.metrics.buildInfo(s.registry, opts.Version, buildinfo.Read(""))
	return s, nil
}

// sweepInterval is how often the dispatcher sweeps the store for pending
// messages: a third of the lease on a store other nodes may share, the
// dispatcher's default otherwise (a store of one process has no other
// node's messages to take over).
func sweepInterval(loc StoreLocation, lease time.Duration) time.Duration {
	if loc.shared() {
		return lease / 3
	}
	return 0
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Handler is the HTTP handler of the whole instance.
func (s *Server) Handler() http.Handler { return s.echo }

// Run starts processing (including the messages a previous run left
// PENDING and the deliveries it left due) and serves until ctx ends, then
// shuts down gracefully: it stops accepting, finishes the requests in
// flight (so every 202 it sent is on disk), lets running scripts and
// delivery attempts finish within ShutdownTimeout, and closes the store.
// Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	if err := s.notify.Start(ctx); err != nil {
		s.listener.Close()
		s.store.Close()
		return stoppedBeforeStart(ctx, err)
	}
	if err := s.disp.Start(ctx); err != nil {
		_ = s.notify.Close(ctx)
		s.listener.Close()
		s.store.Close()
		return stoppedBeforeStart(ctx, err)
	}
	runCtx, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	var background sync.WaitGroup
	background.Add(1)
	go func() {
		defer background.Done()
		s.purgeLoop(runCtx)
	}()
	background.Add(1)
	go func() {
		defer background.Done()
		s.followChanges(runCtx)
	}()
	background.Add(1)
	go func() {
		defer background.Done()
		s.watchBacklog(runCtx)
	}()
	if s.opts.MaxStoreBytes > 0 {
		background.Add(1)
		go func() {
			defer background.Done()
			s.watchStoreSize(runCtx)
		}()
	}
	heartCtx, stopHeart := context.WithCancel(context.Background())
	defer stopHeart()
	heartDone := make(chan struct{})
	go func() {
		defer close(heartDone)
		s.node.run(heartCtx)
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.listener) }()
	s.log.Info("switchyard listening", "addr", s.Addr().String(), "ui", uiURL(s.Addr()), "data", s.opts.DataDir, "store", s.location.String(), "node", s.node.ID(), "version", s.opts.Version)

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	s.log.Info("switchyard shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if e := s.http.Shutdown(shutCtx); e != nil && !errors.Is(e, http.ErrServerClosed) {
		s.log.Warn("HTTP shutdown did not finish in time", "err", e)
	}
	s.jobs.close() // before the dispatcher: a resubmit job hands it messages
	if e := s.disp.Close(shutCtx); e != nil {
		s.log.Warn("some messages were still running; they stay PENDING and run after the next start", "err", e)
	}
	if e := s.notify.Close(shutCtx); e != nil {
		s.log.Warn("some deliveries were still being attempted; they are attempted again after the next start", "err", e)
	}
	stopBackground()
	background.Wait()
	// The heartbeats go on until the work has stopped: a node that held
	// no lease while finishing its work could see it taken over.
	stopHeart()
	<-heartDone
	s.node.forget(shutCtx)
	if e := s.store.Close(); e != nil && err == nil {
		err = fmt.Errorf("close store: %w", e)
	}
	s.log.Info("switchyard stopped")
	return err
}

// The periodic jobs, each the name of the lock (storage.Cluster's
// TryLock) that one node at a time runs it under.
const (
	jobPurgeMessages   = "purge-messages"
	jobPurgeDeliveries = "purge-deliveries"
	jobPurgeAudit      = "purge-audit"
	jobPurgeExpired    = "purge-expired"
	jobPurgeNodes      = "purge-nodes"
)

// purgeLoop deletes messages and deliveries older than the retention,
// expired DEDUPE keys and sessions, and nodes long dead, in small batches
// so ingest is never paused for long. Each job runs on one node at a
// time: a node finding it running elsewhere skips it this round.
func (s *Server) purgeLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.PurgeInterval)
	defer t.Stop()
	for {
		s.exclusive(ctx, jobPurgeMessages, s.purgeOnce)
		s.exclusive(ctx, jobPurgeDeliveries, s.purgeDeliveries)
		s.exclusive(ctx, jobPurgeAudit, s.purgeAudit)
		s.exclusive(ctx, jobPurgeExpired, s.purgeExpired)
		s.exclusive(ctx, jobPurgeNodes, s.purgeNodes)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// exclusive runs job under the lock called name, unless another node
// (or this one) holds it: then the job is running elsewhere, and this
// node skips it this round. A store that cannot take the lock skips it
// too, logged once per change.
func (s *Server) exclusive(ctx context.Context, name string, job func(context.Context)) {
	unlock, ok, err := s.store.TryLock(ctx, name)
	if err != nil {
		if ctx.Err() == nil && !s.lockFailing.Swap(true) {
			s.log.Error("cannot take the lock of a periodic job; skipping the jobs until it can", "job", name, "err", err)
		}
		return
	}
	if s.lockFailing.Swap(false) {
		s.log.Info("the periodic jobs' locks can be taken again", "job", name)
	}
	if !ok {
		return
	}
	defer unlock()
	job(ctx)
}

const purgeBatch = 500

// deadNodesFor is how long after its lease ended a dead node's row is
// deleted, in leases (GET /api/v1/cluster lists the live nodes only).
const deadNodesFor = 2

// purgeNodes deletes the nodes whose lease ended deadNodesFor leases ago.
func (s *Server) purgeNodes(ctx context.Context) {
	n, err := s.store.PurgeNodes(ctx, deadNodesFor*s.opts.Lease)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("purging dead nodes", "err", err)
	case n > 0:
		s.log.Info("forgot dead nodes", "count", n)
	}
}

func (s *Server) purgeOnce(ctx context.Context) {
	n := s.purgeOld(ctx, "messages", s.store.PurgeMessages)
	n += s.purgeBefore(ctx, "unmatched messages", time.Now().Add(-s.opts.RetentionUnmatched), s.store.PurgeUnmatched)
	if n > 0 {
		s.metrics.purged.Add(float64(n))
	}
}

// purgeDeliveries deletes deliveries (with their attempts) and events
// older than the retention.
func (s *Server) purgeDeliveries(ctx context.Context) {
	s.purgeOld(ctx, "deliveries and events", s.store.PurgeDeliveries)
}

// purgeAudit deletes audit entries older than the audit retention.
func (s *Server) purgeAudit(ctx context.Context) {
	if s.opts.AuditRetention > 0 {
		s.purgeBefore(ctx, "audit entries", time.Now().Add(-s.opts.AuditRetention), s.store.PurgeAudit)
	}
}

// purgeOld deletes what is older than the retention with purge, in
// batches, and says how many records went.
func (s *Server) purgeOld(ctx context.Context, what string, purge func(context.Context, time.Time, int) (int, error)) int {
	return s.purgeBefore(ctx, what, time.Now().Add(-s.opts.Retention), purge)
}

// purgeBefore deletes what purge finds older than cutoff, in batches.
func (s *Server) purgeBefore(ctx context.Context, what string, cutoff time.Time, purge func(context.Context, time.Time, int) (int, error)) int {
	total := 0
	for ctx.Err() == nil {
		n, err := purge(ctx, cutoff, purgeBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("purging old "+what, "err", err)
			}
			break
		}
		total += n
		if n < purgeBatch {
			break
		}
	}
	if total > 0 {
		s.log.Info("purged old "+what, "count", total, "older_than", cutoff.UTC().Format(time.RFC3339))
	}
	return total
}

// purgeExpired forgets DEDUPE keys whose TTL has ended, idempotency keys
// of POST /events past their 24 hours, UI sessions that have expired,
// and the shared sign-in buckets that are full again.
func (s *Server) purgeExpired(ctx context.Context) {
	purges := map[string]func(context.Context, time.Time, int) (int, error){
		"expired dedupe keys":      s.store.PurgeSeen,
		"expired idempotency keys": s.store.PurgeIdempotency,
		"expired sessions":         s.users.PurgeSessions,
	}
	if s.logins.shared != nil {
		purges["full sign-in buckets"] = s.logins.shared.PurgeLoginBuckets
	}
	for what, purge := range purges {
		for ctx.Err() == nil {
			n, err := purge(ctx, time.Now(), purgeBatch)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("purging "+what, "err", err)
				}
				break
			}
			if n < purgeBatch {
				break
			}
		}
	}
}

// stoppedBeforeStart is nil when a start failed because ctx was done:
// told to stop before it had started, Run stops cleanly.
func stoppedBeforeStart(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
