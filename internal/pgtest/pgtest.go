// Package pgtest gives tests a real PostgreSQL: SWITCHYARD_TEST_PG, or
// the local server's test database. Each test gets a schema of its own,
// made for it and dropped after it, so tests run in parallel and again.
//
// When the server cannot be reached the tests that need it skip, saying
// why, unless SWITCHYARD_REQUIRE_PG=1 (set by .ci/run), which makes them
// fail instead: in CI a PostgreSQL test never passes by not running.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the database the tests use without SWITCHYARD_TEST_PG.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL is the test database's URL: SWITCHYARD_TEST_PG, or DefaultURL.
func URL() string {
	if u := os.Getenv("SWITCHYARD_TEST_PG"); u != "" {
		return u
	}
	return DefaultURL
}

// Redacted is raw with its password hidden, for messages.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// PoolURL is URL with each store's pool capped at 4 connections (unless
// the URL sets pool_max_conns), so that the stores of parallel tests stay
// within the server's max_connections.
func PoolURL(t testing.TB) string {
	return withParams(t, map[string]string{"pool_max_conns": "4"})
}

// SchemaURL is PoolURL with every table in schema: PostgreSQL's
// search_path, which pgx sends as a run-time parameter of each
// connection.
func SchemaURL(t testing.TB, schema string) string {
	return withParams(t, map[string]string{"pool_max_conns": "4", "search_path": schema})
}

// withParams is URL with params added to its query, those it already has
// kept.
func withParams(t testing.TB, params map[string]string) string {
	t.Helper()
	u, err := url.Parse(URL())
	if err != nil {
		t.Fatalf("SWITCHYARD_TEST_PG: %v", err)
	}
	q := u.Query()
	for k, v := range params {
		if q.Get(k) == "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Unreachable skips the test, or fails it under SWITCHYARD_REQUIRE_PG=1,
// saying that PostgreSQL could not be reached and why.
func Unreachable(t testing.TB, err error) {
	t.Helper()
	msg := "PostgreSQL at " + Redacted(URL()) + " cannot be reached (" + err.Error() +
		"); set SWITCHYARD_TEST_PG to a reachable server, or SWITCHYARD_REQUIRE_PG=1 to fail instead of skipping"
	if os.Getenv("SWITCHYARD_REQUIRE_PG") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// FreshSchema makes an empty schema for one test, dropped with
// everything in it when the test ends, and returns its name. It skips
// the test (see Unreachable) when PostgreSQL cannot be reached.
func FreshSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		Unreachable(t, err)
	}
	defer conn.Close(context.Background())
	name := "swy_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, URL())
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Dump is every row of every table of the schema, as PostgreSQL prints
// it, for tests that look for plaintext at rest.
func Dump(t testing.TB, schema string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		var dump *string
		err := conn.QueryRow(ctx, `SELECT string_agg(t::text, E'\n') FROM `+pgx.Identifier{schema, table}.Sanitize()+` t`).Scan(&dump)
		if err != nil {
			t.Fatal(err)
		}
		if dump != nil {
			b.WriteString(table + ": " + *dump + "\n")
		}
	}
	return b.String()
}

// ContainsPlain reports whether dump holds s as text or as the hex of a
// bytea column.
func ContainsPlain(dump, s string) bool {
	return strings.Contains(dump, s) || strings.Contains(dump, hex.EncodeToString([]byte(s)))
}
