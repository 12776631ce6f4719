package postgres

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// requestCounter counts the requests the pool's connections send to
// PostgreSQL, each one round trip: a statement (Exec, Query, QueryRow,
// and so BEGIN and COMMIT), a batch (however many statements it holds), a
// COPY, a prepare. It is how bench/ reports round trips per message
// without pg_stat_statements, which needs a server setting. Pings that
// pgxpool sends before handing out a connection idle for over a second are
// not counted (they bypass the tracer), nor is the LISTEN connection.
type requestCounter struct{ n atomic.Uint64 }

var (
	_ pgx.QueryTracer    = (*requestCounter)(nil)
	_ pgx.BatchTracer    = (*requestCounter)(nil)
	_ pgx.CopyFromTracer = (*requestCounter)(nil)
	_ pgx.PrepareTracer  = (*requestCounter)(nil)
)

func (c *requestCounter) count(ctx context.Context) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *requestCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return c.count(ctx)
}

func (c *requestCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *requestCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return c.count(ctx)
}

func (c *requestCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *requestCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *requestCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	return c.count(ctx)
}

func (c *requestCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

func (c *requestCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return c.count(ctx)
}

func (c *requestCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// RoundTrips returns how many requests the store's pool has sent to
// PostgreSQL since Open (see requestCounter for what counts).
func (s *Store) RoundTrips() uint64 { return s.requests.n.Load() }
