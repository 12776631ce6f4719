package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// The schedule stage: which due delivery is attempted when. Deliveries
// come from two places:
//
//   - fresh: deliveries just published by this process, kept in memory
//     (up to maxFreshPerLane a lane) so they start without being read back,
//     on a store of one process only (see freshHolder);
//   - the store's claims (ClaimDue): retries that came due, replays,
//     deliveries a previous run left, whatever did not fit in fresh, and on
//     a store that nodes share every delivery.
//
// Every round starts what fresh deliveries the lanes have room for. The
// store is scanned only when it may hold something to start: on the poll
// tick, after a publish on a shared store, a replay, a reload, a resume or
// a fresh overflow, and again after a scan that left due deliveries
// behind (a lane was full, or the store gave less than was asked).

const (
	// maxFresh bounds the just-published deliveries kept in memory to be
	// started without reading them back; past it, they wait in the store.
	maxFresh = 20000
	// maxFreshPerLane bounds the fresh deliveries of one lane, so that a
	// dead endpoint's backlog waits in the store rather than in memory.
	maxFreshPerLane = 1024
)

// claimer hands out due deliveries, each held for this node until its
// outcome is recorded or it is released (Store has it).
type claimer interface {
	ClaimDue(ctx context.Context, now time.Time, take func(lane string) int) ([]storage.Delivery, error)
	ReleaseDeliveries(ctx context.Context, ids []string) error
}

// claimTimeout bounds one claim of due deliveries, so that a database
// that stops answering without closing the connection (a silent
// failover) holds up the loop for a while, not until the kernel gives up
// on the connection.
const claimTimeout = 30 * time.Second

// releaseTimeout bounds giving claims back.
const releaseTimeout = 10 * time.Second

// scheduler runs the delivery loop. It holds the lanes and every delivery
// in hand (fresh, being attempted or recorded, just ended) behind its own
// lock, and hands each delivery it starts to attempt.
type scheduler struct {
	claims claimer
	// hold, when set, holds in the store the fresh deliveries the loop
	// starts (freshHolder); when nil there is no fresh path: every
	// delivery is claimed from the store.
	hold      func(ds []storage.Delivery)
	endpoints *endpoints // a new lane takes its endpoint's settings from it
	// attempt runs one attempt at d in l, in its own goroutine; it reports
	// to answered and recorded.
	attempt func(d storage.Delivery, l *lane)
	log     *slog.Logger
	poll    time.Duration
	maxBusy int

	paused  atomic.Bool
	noLease bool        // the last claim found this node without a lease (loop only)
	failing bool        // the last claim failed otherwise, the store unreachable (loop only)
	scan    atomic.Bool // the store may hold due deliveries not yet read
	wake    chan struct{}
	rounds  atomic.Uint64 // loop rounds, for tests

	mu       sync.Mutex
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
}

func newScheduler(claims claimer, eps *endpoints, attempt func(storage.Delivery, *lane), log *slog.Logger, poll time.Duration, maxBusy int) *scheduler {
	s := &scheduler{
		claims: claims, endpoints: eps, attempt: attempt, log: log, poll: poll, maxBusy: maxBusy,
		wake:     make(chan struct{}, 1),
		lanes:    map[string]*lane{},
		inflight: map[string]struct{}{},
		ended:    map[string]uint64{},
		fresh:    map[string][]storage.Delivery{},
		freshIDs: map[string]struct{}{},
		freshN:   map[string]int{},
	}
	if h, ok := claims.(freshHolder); ok {
		s.hold = h.HoldDeliveries
	}
	return s
}

// freshPath reports whether the loop starts the deliveries just published
// from memory (a store of one process), rather than claiming them.
func (s *scheduler) freshPath() bool { return s.hold != nil }

// claim claims as fresh, before they are written, the deliveries the
// fresh queue has room for: once the write commits, a scan could read
// them from the store, and a claimed id is passed over, so each starts
// once, from memory. overflow says that some did not fit.
func (s *scheduler) claim(ds []storage.Delivery) (claimed []bool, overflow bool) {
	claimed = make([]bool, len(ds))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range ds {
		if len(s.freshIDs) < maxFresh && s.freshN[d.Lane] < maxFreshPerLane {
			s.freshIDs[d.ID] = struct{}{}
			s.freshN[d.Lane]++
			claimed[i] = true
		} else {
			overflow = true
		}
	}
	return claimed, overflow
}

// admit queues the claimed deliveries once their write is done (stored):
// durable now, they may start. When the write failed, their claims are
// dropped.
func (s *scheduler) admit(ds []storage.Delivery, claimed []bool, stored bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range ds {
		switch {
		case !claimed[i]:
		case !stored:
			s.unclaim(d)
		default:
			s.fresh[d.Lane] = append(s.fresh[d.Lane], d)
		}
	}
}

// unclaim drops a delivery's fresh claim. Called with s.mu held.
func (s *scheduler) unclaim(d storage.Delivery) {
	delete(s.freshIDs, d.ID)
	if s.freshN[d.Lane]--; s.freshN[d.Lane] <= 0 {
		delete(s.freshN, d.Lane)
	}
}

// rescan asks the loop to read the store's due index in its next round.
func (s *scheduler) rescan() {
	s.scan.Store(true)
	s.kick()
}

// kick wakes the delivery loop.
func (s *scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// setPaused stops or resumes starting attempts.
func (s *scheduler) setPaused(paused bool) {
	s.paused.Store(paused)
	s.rescan()
}

// run runs rounds whenever something may have come due, until ctx ends.
func (s *scheduler) run(ctx context.Context) {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	s.scan.Store(true) // whatever a previous run left
	for {
		s.fill(ctx)
		s.rounds.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
			s.scan.Store(true)
		}
	}
}

// start is a delivery the loop has claimed a slot for.
type start struct {
	d storage.Delivery
	l *lane
}

// fill starts attempts for due deliveries, as many as each lane has room
// for: fresh ones first, then, when the store may hold more, the store's.
func (s *scheduler) fill(ctx context.Context) {
	if s.paused.Load() {
		return
	}
	now := time.Now()
	s.mu.Lock()
	s.round++
	round := s.round
	for id, r := range s.ended {
		if r < round {
			delete(s.ended, id) // ended before this round began: its snapshot sees the outcome
		}
	}
	var starts []start
	for key, q := range s.fresh {
		l, i := s.lane(key), 0
		for ; i < len(q) && s.room() > 0 && l.start(now); i++ {
			s.unclaim(q[i])
			s.inflight[q[i].ID] = struct{}{}
			s.busy++
			starts = append(starts, start{q[i], l})
		}
		if i == len(q) {
			delete(s.fresh, key)
		} else {
			s.fresh[key] = q[i:]
		}
	}
	s.mu.Unlock()
	if s.hold != nil && len(starts) > 0 {
		ds := make([]storage.Delivery, len(starts))
		for i, st := range starts {
			ds[i] = st.d
		}
		s.hold(ds) // before they start: held, no claim hands them out
	}
	s.launch(starts)
	if s.scan.Swap(false) {
		s.launch(s.scanStore(ctx, now, round))
	}
}

// launch has each start attempted.
func (s *scheduler) launch(starts []start) {
	for _, st := range starts {
		s.attempt(st.d, st.l)
	}
}

// scanStore claims due deliveries from the store for the lanes with
// room, takes their slots and returns them; a claimed delivery it cannot
// start goes back. When it leaves due deliveries behind (a lane was full,
// the store gave a lane less than was asked, or a delivery went back),
// it asks for another scan.
func (s *scheduler) scanStore(ctx context.Context, now time.Time, round uint64) []start {
	behind, asked := false, 0
	s.mu.Lock()
	budget := s.room()
	s.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	ds, err := s.claims.ClaimDue(cctx, now, func(key string) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		l := s.lane(key)
		n := min(l.free(now), budget)
		if n == 0 && (budget == 0 || l.inflight >= l.limit) {
			behind = true // full: slots free up as answers come in
		}
		budget -= n
		asked += n
		return n
	})
	if err != nil {
		s.claimFailed(ctx, err)
		return nil
	}
	if s.noLease {
		s.noLease = false
		s.log.Info("this node holds a lease again: claiming deliveries")
	}
	if s.failing {
		s.failing = false
		s.log.Info("claiming due deliveries works again")
	}
	var starts []start
	var back []string
	s.mu.Lock()
	for _, d := range ds {
		// A claim is always new: the store passes over deliveries it
		// holds. One still in hand here (its outcome written, the claim
		// ended, but the health stage not done) goes back, or it would
		// stay claimed and never start.
		_, fresh := s.freshIDs[d.ID]
		l := s.lane(d.Lane)
		if fresh || s.held(d.ID, round) || s.room() == 0 || !l.start(now) {
			behind = true
			back = append(back, d.ID)
			continue
		}
		s.inflight[d.ID] = struct{}{}
		s.busy++
		starts = append(starts, start{d, l})
	}
	s.mu.Unlock()
	if len(back) > 0 {
		s.release(back)
	}
	if behind || asked > 0 {
		// More may be due behind what was taken.
		s.scan.Store(true)
	}
	return starts
}

// claimFailed handles a claim's error: without a lease the node claims
// nothing until its heartbeat restores one (tried again on the poll
// tick); any other error (the store unreachable) has the next round scan
// again. Each is logged once per change, not once per poll: an outage of
// the database is one line, and its end another.
func (s *scheduler) claimFailed(ctx context.Context, err error) {
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, storage.ErrNoLease):
		if !s.noLease {
			s.noLease = true
			s.log.Warn("this node holds no lease: no deliveries are claimed until it has one again", "err", err)
		}
	default:
		if !s.failing {
			s.failing = true
			s.log.Error("claiming due deliveries failed; trying again every poll until it works", "err", err)
		}
		s.scan.Store(true)
	}
}

// release gives back the claims on deliveries ids, not attempted, so that
// a later scan (here or on another node) claims them again.
func (s *scheduler) release(ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := s.claims.ReleaseDeliveries(ctx, ids); err != nil && !errors.Is(err, storage.ErrClosed) {
		s.log.Error("releasing claimed deliveries", "err", err)
	}
}

// room is how many more attempts may start: at most maxBusy waiting for
// an answer, and as many again waiting for their outcome to be written.
// Called with s.mu held.
func (s *scheduler) room() int {
	return max(0, min(s.maxBusy-s.busy, 2*s.maxBusy-len(s.inflight)))
}

// held reports whether the loop must leave a due delivery alone: it is
// being attempted or recorded, or its attempt ended during this round, so
// the round's snapshot may predate its outcome. Called with s.mu held.
func (s *scheduler) held(id string, round uint64) bool {
	if _, ok := s.inflight[id]; ok {
		return true
	}
	r, ok := s.ended[id]
	return ok && r >= round
}

// answered frees an attempt's lane slot, adjusts the lane to the answer
// (nil when there was none), and wakes the loop.
func (s *scheduler) answered(l *lane, r *result, now time.Time) {
	s.mu.Lock()
	s.busy--
	l.inflight--
	if r != nil {
		l.feedback(*r, now)
	}
	if l.inflight == 0 && l.target == nil && !now.Before(l.coolUntil) {
		// An idle callback (or deleted endpoint) lane holds nothing worth
		// keeping; dropping it keeps the map from growing with every host.
		delete(s.lanes, l.key)
	}
	s.mu.Unlock()
	s.kick()
}

// recorded lets go of a delivery whose outcome is written (or, at
// shutdown, abandoned), and wakes the loop.
func (s *scheduler) recorded(id string) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.ended[id] = s.round
	s.mu.Unlock()
	s.kick()
}

// lane returns the lane of key, creating it. Called with s.mu held.
func (s *scheduler) lane(key string) *lane {
	if l, ok := s.lanes[key]; ok {
		return l
	}
	var l *lane
	switch t, ok := s.endpoints.get(key); {
	case ok:
		l = newLane(key, t)
	case isCallbackLane(key):
		l = newLane(key, nil)
	default:
		l = newLane(key, nil)
		l.deleted = true
	}
	s.lanes[key] = l
	return l
}

// reconfigure gives the lanes their endpoints' new settings after a
// reload; the lane of an endpoint no longer in targets is marked deleted.
func (s *scheduler) reconfigure(targets map[string]*target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, l := range s.lanes {
		if l.deleted || isCallbackLane(key) {
			continue
		}
		if t, ok := targets[key]; ok {
			l.configure(t)
		} else {
			l.deleted, l.target = true, nil
		}
	}
}

// configure gives the lane of endpoint id, if it has one, the endpoint's
// new settings.
func (s *scheduler) configure(id string, t *target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.lanes[id]; ok {
		l.configure(t)
	}
}

// target returns the endpoint l sends to (nil for callbacks), and whether
// that endpoint was deleted.
func (s *scheduler) target(l *lane) (*target, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return l.target, l.deleted
}

// inFlight is how many attempts wait for an answer.
func (s *scheduler) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy
}
