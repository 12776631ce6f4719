package notify

import (
	"context"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// The delivery loop. Deliveries come from two places:
//
//   - fresh: deliveries just published by this process, kept in memory
//     (up to maxFreshPerLane a lane) so they start without being read back;
//   - the store's due index: retries that came due, replays, deliveries a
//     previous run left, and whatever did not fit in fresh.
//
// Every round starts what fresh deliveries the lanes have room for. The
// store is scanned only when it may hold something to start: on the poll
// tick, after a replay, a reload, a resume or a fresh overflow, and again
// after a scan that left due deliveries behind (a lane was full).

// maxFreshPerLane bounds the fresh deliveries of one lane, so that a dead
// endpoint's backlog waits in the store rather than in memory.
const maxFreshPerLane = 1024

// unclaim drops a delivery's fresh claim. Called with e.mu held.
func (e *Engine) unclaim(d storage.Delivery) {
	delete(e.freshIDs, d.ID)
	if e.freshN[d.Lane]--; e.freshN[d.Lane] <= 0 {
		delete(e.freshN, d.Lane)
	}
}

// rescan asks the loop to read the store's due index in its next round.
func (e *Engine) rescan() {
	e.scan.Store(true)
	e.kick()
}

// loop runs rounds whenever something may have come due.
func (e *Engine) loop(ctx context.Context) {
	defer close(e.loopDone)
	t := time.NewTicker(e.poll)
	defer t.Stop()
	e.scan.Store(true) // whatever a previous run left
	for {
		e.fill(ctx)
		e.rounds.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-t.C:
			e.scan.Store(true)
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
func (e *Engine) fill(ctx context.Context) {
	if e.paused.Load() {
		return
	}
	now := time.Now()
	e.mu.Lock()
	e.round++
	round := e.round
	for id, r := range e.ended {
		if r < round {
			delete(e.ended, id) // ended before this round began: its snapshot sees the outcome
		}
	}
	var starts []start
	for key, q := range e.fresh {
		l, i := e.lane(key), 0
		for ; i < len(q) && e.room() > 0 && l.start(now); i++ {
			e.unclaim(q[i])
			e.inflight[q[i].ID] = struct{}{}
			e.busy++
			starts = append(starts, start{q[i], l})
		}
		if i == len(q) {
			delete(e.fresh, key)
		} else {
			e.fresh[key] = q[i:]
		}
	}
	e.mu.Unlock()
	e.launch(starts)
	if e.scan.Swap(false) {
		e.launch(e.scanStore(ctx, now, round))
	}
}

func (e *Engine) launch(starts []start) {
	for _, st := range starts {
		e.attempts.Add(1)
		go e.attempt(st.d, st.l)
	}
}

// scanStore reads due deliveries from the store for the lanes with room,
// claims their slots and returns them. When it leaves due deliveries
// behind (a lane was full, or a delivery was passed over because its
// outcome may be newer than the snapshot), it asks for another scan.
func (e *Engine) scanStore(ctx context.Context, now time.Time, round uint64) []start {
	behind := false
	ds, err := e.store.DueDeliveries(ctx, now, func(key string) int {
		e.mu.Lock()
		defer e.mu.Unlock()
		l := e.lane(key)
		n := min(l.free(now), e.room())
		if n == 0 && (e.room() == 0 || l.inflight >= l.limit) {
			behind = true // full: slots free up as answers come in
		}
		return n
	}, func(id string) bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, fresh := e.freshIDs[id]; fresh {
			return true
		}
		if _, ok := e.inflight[id]; ok {
			return true
		}
		if r, ok := e.ended[id]; ok && r >= round {
			behind = true
			return true
		}
		return false
	})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading due deliveries", "err", err)
			e.scan.Store(true)
		}
		return nil
	}
	var starts []start
	e.mu.Lock()
	for _, d := range ds {
		l := e.lane(d.Lane)
		if e.held(d.ID, round) || e.room() == 0 || !l.start(now) {
			behind = true
			continue
		}
		e.inflight[d.ID] = struct{}{}
		e.busy++
		starts = append(starts, start{d, l})
	}
	e.mu.Unlock()
	if behind || len(ds) > 0 {
		// More may be due behind what was taken.
		e.scan.Store(true)
	}
	return starts
}

// room is how many more attempts may start: at most maxBusy waiting for
// an answer, and as many again waiting for their outcome to be written.
// Called with e.mu held.
func (e *Engine) room() int {
	return max(0, min(e.maxBusy-e.busy, 2*e.maxBusy-len(e.inflight)))
}

// held reports whether the loop must leave a due delivery alone: it is
// being attempted or recorded, or its attempt ended during this round, so
// the round's snapshot may predate its outcome. Called with e.mu held.
func (e *Engine) held(id string, round uint64) bool {
	if _, ok := e.inflight[id]; ok {
		return true
	}
	r, ok := e.ended[id]
	return ok && r >= round
}

// answered frees an attempt's lane slot, adjusts the lane to the answer
// (nil when there was none), and wakes the loop.
func (e *Engine) answered(l *lane, r *result, now time.Time) {
	e.mu.Lock()
	e.busy--
	l.inflight--
	if r != nil {
		l.feedback(*r, now)
	}
	if l.inflight == 0 && l.target == nil && !now.Before(l.coolUntil) {
		// An idle callback (or deleted endpoint) lane holds nothing worth
		// keeping; dropping it keeps the map from growing with every host.
		delete(e.lanes, l.key)
	}
	e.mu.Unlock()
	e.kick()
}

// recorded lets go of a delivery whose outcome is written (or, at
// shutdown, abandoned), and wakes the loop.
func (e *Engine) recorded(id string) {
	e.mu.Lock()
	delete(e.inflight, id)
	e.ended[id] = e.round
	e.mu.Unlock()
	e.kick()
}

// kick wakes the delivery loop.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
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
