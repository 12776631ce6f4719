package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The schema's migrations are the files migrations/NNNN_name.sql, applied
// in order of NNNN, each in its own transaction, all under one advisory
// lock so that nodes starting together take turns. The table
// schema_version holds one row per migration applied.

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the advisory lock's first key ("swy" in ASCII); the second
// is a hash of the schema, so installations in other schemas of one
// database do not wait for each other.
const migrateLock = 0x737779

// ErrSchemaTooNew: the database's schema is newer than this binary knows;
// a newer Switchyard migrated it.
var ErrSchemaTooNew = errors.New("postgres: the database schema is newer than this Switchyard knows")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in order; their numbers must
// run 1, 2, 3... without a gap.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("postgres: migration %s is not named NNNN_name.sql", base)
		}
		raw, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(raw)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migration %s: want version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this binary migrates to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// Migrate applies the schema migrations the database at url lacks. Any
// number of processes may run it at once: they take turns, and those that
// come after find nothing left to do. A database whose schema is newer
// than this binary knows is refused with ErrSchemaTooNew.
func Migrate(ctx context.Context, url string, opts ...Option) error {
	cfg, _, err := connConfig(url, opts)
	if err != nil {
		return err
	}
	return migrate(ctx, cfg.ConnConfig)
}

// DatabaseVersion is the schema version of the database at url: how many
// migrations it has had, 0 when it was never migrated.
func DatabaseVersion(ctx context.Context, url string, opts ...Option) (int, error) {
	cfg, _, err := connConfig(url, opts)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return 0, fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("postgres: read the schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: read the schema version: %w", err)
	}
	return v, nil
}

func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The lock is the session's: closing the connection releases it too.
	const lockKey = `$1::int4, hashtext(coalesce(current_schema(), ''))`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`, migrateLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		// Released with the connection anyway, should this fail.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`, migrateLock)
	}()

	_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: migrate: read the schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("%w: it is at version %d, this binary knows versions up to %d; run a Switchyard at least as new as the one that migrated it",
			ErrSchemaTooNew, current, len(ms))
	}
	for _, m := range ms[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: the simple protocol, which runs every
			// statement of the file.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
	}
	return nil
}
