package bolt

import (
	"context"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// maxGroup bounds how many writes one commit carries, so that one commit
// never grows without bound under a flood.
const maxGroup = 1024

// writeOp is one write waiting for the group commit. fn may run more than
// once (when another write in its group fails), so it must have no effects
// outside the transaction.
type writeOp struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// update runs fn in a write transaction and returns once that transaction
// is committed and fsync'd. Writes queued while a commit is running are
// committed together by the next one: one fsync answers all of them, with
// no fixed delay.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	op := &writeOp{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return storage.ErrClosed
	}
	select {
	case s.writes <- op:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// Once queued the write will be answered; it may commit even if ctx
	// ends now, so wait for the truth.
	return <-op.done
}

// writer is the single goroutine that commits every write.
func (s *Store) writer() {
	defer close(s.writerDone)
	group := make([]*writeOp, 0, maxGroup)
	for op := range s.writes {
		group = append(group[:0], op)
	gather:
		for len(group) < maxGroup {
			select {
			case op, ok := <-s.writes:
				if !ok {
					break gather
				}
				group = append(group, op)
			default:
				break gather
			}
		}
		s.commit(group)
	}
}

var errGroupMember = errors.New("a write in the group failed")

// WriterStats returns the group-commit counters since Open: each commit
// is one bbolt transaction, fsync'd, and its time includes the fsync.
func (s *Store) WriterStats() storage.WriterStats {
	return storage.WriterStats{
		Commits:       s.commits.Load(),
		Writes:        s.written.Load(),
		CommitSeconds: float64(s.commitNanos.Load()) / 1e9,
	}
}

// commit applies the group in one transaction. If one write fails, it is
// answered with its error and the others are committed without it.
func (s *Store) commit(group []*writeOp) {
	start := time.Now()
	defer func() {
		s.commits.Add(1)
		s.commitNanos.Add(uint64(time.Since(start)))
	}()
	for len(group) > 0 {
		failed, ferr := -1, error(nil)
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, op := range group {
				if err := op.fn(tx); err != nil {
					failed, ferr = i, err
					return errGroupMember
				}
			}
			return nil
		})
		switch {
		case err == nil:
			s.written.Add(uint64(len(group)))
			for _, op := range group {
				op.done <- nil
			}
			return
		case failed >= 0:
			group[failed].done <- ferr
			group = append(group[:failed], group[failed+1:]...)
		default:
			for _, op := range group {
				op.done <- err
			}
			return
		}
	}
}
