package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// jobLock is the first key of the periodic jobs' advisory locks ("job" in
// ASCII); the second is a hash of the schema and the lock's name, so that
// installations in other schemas of one database do not exclude each
// other. The migrations' lock (migrateLock) is another key.
const jobLock = 0x6a6f62

const jobLockKey = `$1::int4, hashtext(coalesce(current_schema(), '') || '/' || $2)`

// TryLock takes the advisory lock called name on a connection of its own,
// held until unlock. A session's advisory lock lasts as long as its
// connection: a node that dies, or whose connection breaks, lets go of
// it. The connection is not the pool's, so that a job holding a lock
// never waits for a connection it holds itself.
func (s *Store) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if s.closed.Load() {
		return nil, false, storage.ErrClosed
	}
	conn, err := pgx.ConnectConfig(ctx, s.conn)
	if err != nil {
		return nil, false, fmt.Errorf("lock %q: connect: %w", name, s.mapErr(err))
	}
	closeConn := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+jobLockKey+`)`, jobLock, name).Scan(&ok); err != nil {
		closeConn()
		return nil, false, fmt.Errorf("lock %q: %w", name, s.mapErr(err))
	}
	if !ok {
		closeConn()
		return nil, false, nil
	}
	// Closing the connection releases the lock: no unlock statement is
	// needed, and none can fail to leave it held.
	var once sync.Once
	return func() { once.Do(closeConn) }, true, nil
}
