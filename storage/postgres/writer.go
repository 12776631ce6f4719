package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// The group commit. AppendMessage and CompleteMessage queue their rows for
// one writer goroutine, which takes every row queued while the previous
// commit ran and writes them all in one transaction: one statement for the
// appends (a multi-row INSERT over arrays) and one for the completions,
// sent together in one round trip (a pgx.Batch runs as one implicit
// transaction). Once PostgreSQL has committed (and flushed its WAL), every
// caller is answered. There is no fixed delay: a lone write commits at
// once, and writes arriving meanwhile share the next commit.
//
// Each caller gets its own answer. A row PostgreSQL refuses for its data
// (class 22 or 23: a value out of range, a broken constraint) fails the
// group's transaction; the writer then writes the group's rows again one
// by one, so that only the bad row's caller sees the error. Any other
// failure (the database unreachable, a timeout) is answered to every
// caller of the group: retrying row by row would only wait longer.

// maxGroup bounds how many rows one commit carries.
const maxGroup = 1024

// commitTimeout bounds one commit: a database that hangs (a connection
// dead without a word, as after a failover) fails the group instead of
// holding the writer, and every row queued behind it, for long.
const commitTimeout = 10 * time.Second

// writeOp is one row waiting for the group commit: an append or a
// completion of the message id.
type writeOp struct {
	id       uuid.UUID
	append   *appendRow
	complete *completeRow
	done     chan error
}

// queue hands op to the writer and waits for its answer, or for ctx to
// end: a database that stopped answering (a network partition) must not
// hold the caller past its deadline. Once queued the row may still
// commit after ctx ended; the caller then hears that it was not recorded
// although it was, which for a webhook means a sender sending it again,
// never a message acknowledged and lost.
func (s *Store) queue(ctx context.Context, op *writeOp) error {
	op.done = make(chan error, 1)
	s.mu.RLock()
	if s.closed.Load() {
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
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("not committed in time, and may still be: %w", ctx.Err())
	}
}

// writer is the goroutine that commits every queued row.
func (s *Store) writer() {
	defer close(s.writerDone)
	var next *writeOp
	for {
		if next == nil {
			op, ok := <-s.writes
			if !ok {
				return
			}
			next = op
		}
		var group []*writeOp
		group, next = gather(next, s.writes)
		s.commit(group)
	}
}

// gather makes a group of first and the rows already queued on ch, up to
// maxGroup, without waiting for more. A group never holds two rows of one
// message (an append and its completion, two completions): the second is
// returned as next, to start the next group, so the rows of one message
// commit in the order they were queued.
func gather(first *writeOp, ch <-chan *writeOp) (group []*writeOp, next *writeOp) {
	group = []*writeOp{first}
	ids := map[uuid.UUID]bool{first.id: true}
	for len(group) < maxGroup {
		select {
		case op, ok := <-ch:
			if !ok {
				return group, nil
			}
			if ids[op.id] {
				return group, op
			}
			ids[op.id] = true
			group = append(group, op)
		default:
			return group, nil
		}
	}
	return group, nil
}

// WriterStats returns the group-commit counters since Open: each commit
// is one transaction (and one round trip); Writes counts the rows.
func (s *Store) WriterStats() storage.WriterStats {
	return storage.WriterStats{
		Commits:       s.commits.Load(),
		Writes:        s.written.Load(),
		CommitSeconds: float64(s.commitNanos.Load()) / 1e9,
	}
}

// commit writes the group and answers every row of it.
func (s *Store) commit(group []*writeOp) {
	errs, err := s.commitGroup(group)
	if err == nil {
		for i, op := range group {
			op.done <- errs[i]
		}
		return
	}
	if len(group) > 1 && refusedData(err) {
		for _, op := range group {
			errs, err := s.commitGroup([]*writeOp{op})
			if err == nil {
				err = errs[0]
			}
			op.done <- s.mapErr(err)
		}
		return
	}
	err = s.mapErr(err)
	for _, op := range group {
		op.done <- err
	}
}

// commitGroup writes the group's rows in one transaction. It answers the
// transaction's error, or each row's: an append whose id exists already
// is ErrConflict, a completion of a message that does not exist (it was
// purged meanwhile) ErrNotFound.
func (s *Store) commitGroup(group []*writeOp) ([]error, error) {
	start := time.Now()
	var appends, completes []*writeOp
	for _, op := range group {
		if op.append != nil {
			appends = append(appends, op)
		} else {
			completes = append(completes, op)
		}
	}
	written := make(map[uuid.UUID]bool, len(group))
	collect := func(rows pgx.Rows) error {
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id); err != nil {
				return err
			}
			written[id] = true
		}
		return rows.Err()
	}
	b := &pgx.Batch{}
	if len(appends) > 0 {
		b.Queue(appendSQL, storable(appendArgs(appends, s.node))...).Query(collect)
	}
	if len(completes) > 0 {
		b.Queue(completeSQL, storable(completeArgs(completes))...).Query(collect)
		if args := stripArgs(completes); args != nil {
			b.Queue(stripSQL, args...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	s.commits.Add(1)
	s.written.Add(uint64(len(group)))
	s.commitNanos.Add(uint64(time.Since(start)))
	errs := make([]error, len(group))
	for i, op := range group {
		switch {
		case written[op.id]:
		case op.append != nil:
			errs[i] = fmt.Errorf("%w: %s", storage.ErrConflict, conflicts["messages_pkey"])
		default:
			errs[i] = storage.ErrNotFound
		}
	}
	return errs, nil
}
