package server

import (
	"context"
	"time"
)

// storeSizeEvery is how often the store's size is measured when
// --max-store-bytes is set: a measure costs the store a little work
// (PostgreSQL scans its payloads' sizes), so it is polled, never taken
// per request.
const storeSizeEvery = 10 * time.Second

// watchStoreSize measures the store now and every storeSizeEvery until
// ctx ends, and keeps storeFull up to date: webhooks get 507 while the
// store is over --max-store-bytes, and are accepted again once purges
// have brought it under. A store that cannot be measured keeps the last
// verdict (logged once per change).
func (s *Server) watchStoreSize(ctx context.Context) {
	t := time.NewTicker(s.opts.storeSizeEvery)
	defer t.Stop()
	failing := false
	for {
		size, err := s.store.StoreSize(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				s.log.Error("cannot measure the store's size; keeping the last verdict", "err", err)
			}
			failing = true
		case err == nil:
			failing = false
			s.storeMeasured.Store(size)
			s.storeAdded.Store(0) // what was accepted is in size now, or nearly
			s.metrics.storeBytes.Set(float64(size))
			full := size > s.opts.MaxStoreBytes
			if s.storeFull.Swap(full) != full {
				if full {
					s.log.Warn("the store is full: webhooks are refused with 507 until purges free space", "bytes", size, "max_store_bytes", s.opts.MaxStoreBytes)
				} else {
					s.log.Info("the store has room again: webhooks are accepted", "bytes", size, "max_store_bytes", s.opts.MaxStoreBytes)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
