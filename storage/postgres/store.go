// Package postgres is the storage backend on PostgreSQL (pgx v5, pgxpool),
// for installations that outgrow one node. It passes the same conformance
// suite as storage/bolt (storage/storagetest).
//
// The schema is in migrations/, applied at Open (see migrate.go). Tables
// hold the domain in its own shape: one row per provider, function,
// message, delivery..., with metadata in columns and indexes for the list
// filters. Choices that hold throughout:
//
//   - Ids are UUIDv7 in uuid columns. PostgreSQL orders uuids byte by
//     byte, so id order is time order: lists page newest first on the
//     primary key, and purges delete the oldest ids first.
//   - Times are bigint Unix nanoseconds (NULL for the zero time): a record
//     comes back exactly as it went in, where timestamptz would keep only
//     microseconds. Times the database compares with its own clock
//     (a node's last_seen and lease_until) are timestamptz, set from
//     now().
//   - Documents written and read whole (headers, logs, event data) are
//     json, not jsonb: never queried inside, and json keeps what jsonb
//     refuses (a \u0000 in a header or a log line).
//   - Text columns hold neither NUL nor invalid UTF-8; both become U+FFFD
//     on the way in (storable), as invalid UTF-8 already does in bolt's
//     JSON records.
//   - Secrets are sealed with storage/seal into bytea columns; their
//     plaintext never reaches the database.
//   - AppendMessage and CompleteMessage go through one group-commit writer
//     (writer.go); every other write is its own transaction.
//   - PostgreSQL's errors become the storage sentinels in one place
//     (errors.go).
//   - A store acts for one node of the cluster (WithNode): it claims
//     messages and deliveries for that node (claims.go), renews its lease
//     (nodes.go), and hears every node's changes (feed.go).
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// Store implements storage.Store on a PostgreSQL database.
type Store struct {
	pool   *pgxpool.Pool
	sealer *seal.Sealer
	now    func() time.Time
	// node is the node the store acts for; channel is where the schema's
	// changes are notified; conn is how Watch connects.
	node    string
	channel string
	conn    *pgx.ConnConfig

	closed     atomic.Bool
	mu         sync.RWMutex // guards the writes channel against sends after Close
	writes     chan *writeOp
	writerDone chan struct{}

	commits, written, commitNanos atomic.Uint64
	requests                      *requestCounter
}

var _ storage.Store = (*Store)(nil)

// Option adjusts how Open and Migrate connect.
type Option func(*options)

type options struct {
	schema string
	node   string
}

// WithSchema keeps every table in the named schema (it must exist), by
// setting search_path on each connection: several installations, or
// tests, can then share one database.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// WithNode makes the store act for the node id (claims, heartbeats); by
// default it acts for a fresh UUIDv7, a node of its own.
func WithNode(id string) Option {
	return func(o *options) { o.node = id }
}

// connConfig parses url and applies opts to the result.
func connConfig(url string, opts []Option) (*pgxpool.Config, options, error) {
	var o options
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the URL, password included.
		return nil, o, errors.New("postgres: the store URL cannot be parsed (want postgres://user:pass@host:5432/db?sslmode=...)")
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}
	return cfg, o, nil
}

// Open connects to the database at url (postgres://...), applies the
// schema migrations it lacks, and starts the group-commit writer. Secrets
// are sealed with sealer. The pool's size comes from the URL
// (pool_max_conns=N), pgxpool's default otherwise.
func Open(ctx context.Context, url string, sealer *seal.Sealer, opts ...Option) (*Store, error) {
	if sealer == nil {
		return nil, errors.New("postgres: a sealer is required")
	}
	cfg, o, err := connConfig(url, opts)
	if err != nil {
		return nil, err
	}
	if o.node == "" {
		u, err := newID()
		if err != nil {
			return nil, fmt.Errorf("postgres: node id: %w", err)
		}
		o.node = u.String()
	}
	if err := migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	conn := cfg.ConnConfig.Copy() // for Watch, before the tracer: LISTEN is not counted
	requests := &requestCounter{}
	cfg.ConnConfig.Tracer = requests
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: read the schema's name: %w", err)
	}
	s := &Store{
		pool:       pool,
		sealer:     sealer,
		now:        time.Now,
		node:       o.node,
		channel:    changesChannel(schema),
		conn:       conn,
		requests:   requests,
		writes:     make(chan *writeOp, maxGroup),
		writerDone: make(chan struct{}),
	}
	go s.writer()
	return s, nil
}

// Close waits for queued writes to commit, then closes the pool.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Swap(true) {
		s.mu.Unlock()
		return nil
	}
	close(s.writes)
	s.mu.Unlock()
	<-s.writerDone
	s.pool.Close()
	return nil
}

// Ping checks that PostgreSQL answers: one round trip on a pooled
// connection (dialling one if none is idle). ErrClosed once closed.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", s.mapErr(err))
	}
	return nil
}

// db is what the methods run SQL on: the pool or a transaction, through
// storable.
type db interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// storableDB passes every argument through storable.
type storableDB struct{ db db }

func (d storableDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return d.db.Exec(ctx, sql, storable(args)...)
}

func (d storableDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return d.db.Query(ctx, sql, storable(args)...)
}

func (d storableDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return d.db.QueryRow(ctx, sql, storable(args)...)
}

// closedDB answers every call with ErrClosed.
type closedDB struct{}

func (closedDB) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, storage.ErrClosed
}
func (closedDB) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, storage.ErrClosed
}
func (closedDB) QueryRow(context.Context, string, ...any) pgx.Row { return errRow{storage.ErrClosed} }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// db returns the pool to run one statement on, or one that refuses
// everything once the store is closed.
func (s *Store) db() db {
	if s.closed.Load() {
		return closedDB{}
	}
	return storableDB{s.pool}
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx db) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return s.mapErr(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(storableDB{tx}) }))
}

// storable makes the text arguments fit a text column: PostgreSQL's text
// holds neither NUL nor invalid UTF-8, so both become U+FFFD. Other
// arguments pass unchanged; args is changed in place.
func storable(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = storableText(v)
		case []string:
			var out []string
			for j, s := range v {
				if c := storableText(s); c != s {
					if out == nil {
						out = append([]string(nil), v...)
					}
					out[j] = c
				}
			}
			if out != nil {
				args[i] = out
			}
		}
	}
	return args
}

func storableText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// parseID turns an id into a uuid; a malformed id names nothing.
func parseID(id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("id %q: %w", id, storage.ErrNotFound)
	}
	return u, nil
}

// v7ID checks that a caller-made id is a UUIDv7, so that id order is time
// order.
func v7ID(what, id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return uuid.UUID{}, fmt.Errorf("%w: %s id %q is not a UUIDv7", storage.ErrInvalid, what, id)
	}
	return u, nil
}

func newID() (uuid.UUID, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("new id: %w", err)
	}
	return u, nil
}

// timeID is the smallest UUIDv7 at or after t's millisecond: the bound of
// a time range over ids.
func timeID(t time.Time) uuid.UUID {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u
}

// idRange turns the time bounds of a list and its cursor into id bounds:
// ids in [lower, upper). The cursor is the last id of the previous page.
func idRange(since, until time.Time, cursor string) (lower, upper uuid.UUID, err error) {
	for i := range upper {
		upper[i] = 0xff
	}
	if !until.IsZero() {
		upper = timeID(until)
	}
	if cursor != "" {
		c, err := uuid.Parse(cursor)
		if err != nil {
			return lower, upper, fmt.Errorf("%w: cursor must be the next_cursor of the previous page", storage.ErrInvalid)
		}
		if string(c[:]) < string(upper[:]) {
			upper = c
		}
	}
	if !since.IsZero() {
		lower = timeID(since)
	}
	return lower, upper, nil
}

// filter is one condition of a list: sql, with a ? where value goes (if
// it takes one).
type filter struct {
	sql   string
	value any
}

// listQuery builds the statement of one list page: the rows of table whose
// ids are in [lower, upper) and that pass every filter, newest first,
// limit+1 of them (the one more tells whether there is a next page). Only
// the filters given are in the statement, so each combination keeps a
// plan of its own, on its index.
func listQuery(columns, table string, lower, upper uuid.UUID, limit int, filters []filter) (string, []any) {
	var b strings.Builder
	args := []any{lower, upper}
	fmt.Fprintf(&b, "SELECT %s FROM %s WHERE id >= $1 AND id < $2", columns, table)
	for _, f := range filters {
		sql := f.sql
		if strings.Contains(sql, "?") {
			args = append(args, f.value)
			sql = strings.ReplaceAll(sql, "?", fmt.Sprintf("$%d", len(args)))
		}
		b.WriteString(" AND ")
		b.WriteString(sql)
	}
	args = append(args, limit+1)
	fmt.Fprintf(&b, " ORDER BY id DESC LIMIT $%d", len(args))
	return b.String(), args
}

// listPage asks for one page of a list: the rows of table (as columns)
// whose ids' time is in [since, until), below cursor (the last id of the
// previous page) and passing every filter, newest first; limit 0 is 50.
type listPage struct {
	table, columns string
	since, until   time.Time
	cursor         string
	limit          int
	filters        []filter
}

// readPage reads the page p asks for, and the cursor of the next page (""
// when there is none).
func readPage[T any](ctx context.Context, s *Store, p listPage, scan func(pgx.Row) (T, error), id func(T) string) ([]T, string, error) {
	limit := p.limit
	if limit <= 0 {
		limit = 50
	}
	lower, upper, err := idRange(p.since, p.until, p.cursor)
	if err != nil {
		return nil, "", err
	}
	sql, args := listQuery(p.columns, p.table, lower, upper, limit, p.filters)
	items, err := queryAll(ctx, s.db(), scan, sql, args...)
	if err != nil {
		return nil, "", s.mapErr(err)
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, id(items[limit-1]), nil
}

// nanos is t as stored: Unix nanoseconds, nil for the zero time. Times
// beyond what int64 nanoseconds hold (before 1678, after 2262) are kept as
// the nearest that fits.
func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	var n int64
	switch {
	case t.Before(minTime):
		n = math.MinInt64
	case t.After(maxTime):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return &n
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanosPtr is nanos for an optional time.
func nanosPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	return nanos(*t)
}

// timeOf reverses nanos.
func timeOf(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// timePtrOf reverses nanosPtr.
func timePtrOf(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := timeOf(n)
	return &t
}

// nowTime reads the store's clock: the time, and the same as stored.
func (s *Store) nowTime() (time.Time, int64) {
	t := s.now().UTC()
	return t, t.UnixNano()
}

// collect reads every row with scan; never nil.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// unmarshalJSON decodes a json column into v; SQL NULL leaves v as it is.
func unmarshalJSON(raw []byte, v any) error {
	if raw == nil {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// queryAll runs sql on d and reads every row with scan; never nil.
func queryAll[T any](ctx context.Context, d db, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := d.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scan)
}

// getByID reads the row of table whose uuid is id, as columns, with scan.
func getByID[T any](ctx context.Context, s *Store, table, columns, id string, scan func(pgx.Row) (T, error)) (T, error) {
	var zero T
	u, err := parseID(id)
	if err != nil {
		return zero, err
	}
	v, err := scan(s.db().QueryRow(ctx, `SELECT `+columns+` FROM `+table+` WHERE id = $1`, u))
	if err != nil {
		return zero, s.mapErr(err)
	}
	return v, nil
}

// scanValue reads a row of one column.
func scanValue[T any](row pgx.Row) (T, error) {
	var v T
	err := row.Scan(&v)
	return v, err
}

// deleteFirst deletes up to limit rows of table whose column is below
// bound, in the column's order (key is the table's primary key), and says
// how many. What refers to them by a foreign key goes by cascade.
func (s *Store) deleteFirst(ctx context.Context, d db, table, key, column string, bound any, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	tag, err := d.Exec(ctx, `DELETE FROM `+table+` WHERE `+key+` IN (
		SELECT `+key+` FROM `+table+` WHERE `+column+` < $1 ORDER BY `+column+` LIMIT $2)`, bound, limit)
	if err != nil {
		return 0, s.mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// purgeOldest deletes up to limit rows of table (whose ids are UUIDv7)
// made before cutoff, oldest first.
func (s *Store) purgeOldest(ctx context.Context, d db, table string, cutoff time.Time, limit int) (int, error) {
	return s.deleteFirst(ctx, d, table, "id", "id", timeID(cutoff), limit)
}

// deleteRow deletes the row of table whose id is id (a uuid, or the text
// of a session's id); ErrNotFound when there is none.
func (s *Store) deleteRow(ctx context.Context, table string, id any) error {
	tag, err := s.db().Exec(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = storage.ErrNotFound
	}
	return s.mapErr(err)
}

// deleteByID deletes the row of table whose uuid is id.
func (s *Store) deleteByID(ctx context.Context, table, id string) error {
	u, err := parseID(id)
	if err != nil {
		return err
	}
	return s.deleteRow(ctx, table, u)
}
