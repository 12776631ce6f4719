package transfer_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL tests run against SWITCHYARD_TEST_PG, or the local
// server's test database, each in a schema of its own; they skip when the
// server cannot be reached, and fail instead with SWITCHYARD_REQUIRE_PG=1.
// (The same rules as storage/postgres's tests.)

func pgURL() string {
	if u := os.Getenv("SWITCHYARD_TEST_PG"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// schemaURL is a URL whose connections keep every table in a fresh
// schema, made for the test and dropped after it.
func schemaURL(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL())
	if err != nil {
		u, _ := url.Parse(pgURL())
		msg := "PostgreSQL at " + u.Redacted() + " cannot be reached (" + err.Error() + "); set SWITCHYARD_TEST_PG, or SWITCHYARD_REQUIRE_PG=1 to fail instead of skipping"
		if os.Getenv("SWITCHYARD_REQUIRE_PG") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(context.Background())
	name := "swy_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), pgURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(pgURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	q.Set("pool_max_conns", "4")
	u.RawQuery = q.Encode()
	return u.String()
}

// dumpSchema is every row of every table of the URL's schema as
// PostgreSQL prints it, to look for plaintext at rest.
func dumpSchema(t *testing.T, schemaURL string) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	delete(cfg.RuntimeParams, "pool_max_conns") // a pool's, not the server's
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
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
		if err := conn.QueryRow(ctx, `SELECT string_agg(t::text, E'\n') FROM `+pgx.Identifier{table}.Sanitize()+` t`).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		if dump != nil {
			b.WriteString(*dump)
		}
	}
	return b.String()
}
