package postgres

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// The change feed. The triggers of migration 0002 move a kind's version
// in changes and notify the schema's channel with the kind, in the
// transaction of every statement that writes providers, functions,
// endpoints, settings, users, tokens or sessions. Watch listens on the
// channel; Changes reads the versions.

// changesChannel is the channel of the schema's changes, as the triggers
// name it: after the schema, whose name may be longer than a channel's.
func changesChannel(schema string) string {
	sum := md5.Sum([]byte(schema))
	return "switchyard_changes_" + hex.EncodeToString(sum[:])[:16]
}

// Changes returns the version of each kind of change.
func (s *Store) Changes(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db().Query(ctx, `SELECT kind, version FROM changes`)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", s.mapErr(err))
	}
	out := map[string]int64{}
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var kind string
		var v int64
		err := row.Scan(&kind, &v)
		out[kind] = v
		return struct{}{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("changes: %w", s.mapErr(err))
	}
	return out, nil
}

// watchPing is how long Watch waits for a notification before it checks
// that its connection still answers, and how long it gives that check,
// and a new connection, to answer: a connection that died without a word
// (its host gone, a failover) would otherwise hold the feed forever. A
// variable for the tests.
var watchPing = 30 * time.Second

const (
	// Watch waits from minWatchRetry to maxWatchRetry, doubling, between
	// attempts to connect.
	minWatchRetry = 100 * time.Millisecond
	maxWatchRetry = 5 * time.Second
)

// Watch listens to the schema's channel on a connection of its own (not
// the pool's) and calls fn with each kind notified. When the connection
// fails it connects again, and calls fn for every kind once listening
// again, since notifications sent meanwhile are lost. The database's
// errors are not reported here: Changes, which the caller also reads
// from time to time, reports them.
func (s *Store) Watch(ctx context.Context, fn func(kind string)) error {
	wait := minWatchRetry
	for {
		if s.closed.Load() {
			return storage.ErrClosed
		}
		if s.listen(ctx, fn) {
			wait = minWatchRetry
		}
		if ctx.Err() != nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, maxWatchRetry)
	}
}

// listen connects, listens and calls fn until the connection fails or
// ctx ends. It says whether it got as far as listening.
func (s *Store) listen(ctx context.Context, fn func(kind string)) bool {
	connectCtx, cancel := context.WithTimeout(ctx, watchPing)
	conn, err := pgx.ConnectConfig(connectCtx, s.conn)
	cancel()
	if err != nil {
		return false
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(ctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false
	}
	for _, kind := range storage.ChangeKinds {
		fn(kind)
	}
	for {
		wait, cancel := context.WithTimeout(ctx, watchPing)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			fn(n.Payload)
		case ctx.Err() != nil:
			return true
		case errors.Is(err, context.DeadlineExceeded):
			if !s.answers(ctx, conn) {
				return true
			}
		default:
			return true
		}
	}
}

// answers checks that conn still answers, within watchPing.
func (s *Store) answers(ctx context.Context, conn *pgx.Conn) bool {
	ctx, cancel := context.WithTimeout(ctx, watchPing)
	defer cancel()
	_, err := conn.Exec(ctx, `SELECT 1`)
	return err == nil
}
