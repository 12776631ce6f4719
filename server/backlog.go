package server

import (
	"context"
	"time"
)

// backlogEvery is how often the outbound backlog is counted: the count
// reads an index of the store, so it is polled, never taken per scrape.
const backlogEvery = 15 * time.Second

// backlogLimit bounds one count: past it, the gauge says backlogLimit. A
// count walks at most this many index entries (bbolt's due index,
// PostgreSQL's partial index of PENDING deliveries), a few tens of
// milliseconds, whatever the store holds.
const backlogLimit = 1_000_000

// backlogTimeout bounds one count, so that a store that stops answering
// does not hold up the loop.
const backlogTimeout = 10 * time.Second

// watchBacklog counts the outbound deliveries waiting now and every
// opts.backlogEvery until ctx ends, into switchyard_outbound_backlog_deliveries.
// A store that cannot count keeps the last value (logged once per change).
func (s *Server) watchBacklog(ctx context.Context) {
	t := time.NewTicker(s.opts.backlogEvery)
	defer t.Stop()
	failing := false
	for {
		cctx, cancel := context.WithTimeout(ctx, backlogTimeout)
		n, err := s.store.CountPendingDeliveries(cctx, backlogLimit)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				s.log.Warn("cannot count the outbound backlog; the metric keeps its last value", "err", err)
			}
			failing = true
		case err == nil:
			if failing {
				s.log.Info("the outbound backlog is counted again")
			}
			failing = false
			s.metrics.backlog.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
