package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/storage/postgres"
)

// migrate on a new schema applies every migration and says so; run
// again, it has nothing to do. The store may come from the environment.
func TestMigratePostgres(t *testing.T) {
	t.Parallel()
	store := pgtest.SchemaURL(t, pgtest.FreshSchema(t))
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--store", store}, env(nil), &out, &errOut); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut.String())
	}
	want := fmt.Sprintf("schema version before: 0\nschema version after:  %d\n", postgres.SchemaVersion())
	if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate printed %q, want %q", out.String(), want)
	}
	out.Reset()
	if code := run(context.Background(), []string{"migrate"}, env(map[string]string{"SWITCHYARD_STORE": store}), &out, &errOut); code != 0 {
		t.Fatalf("migrate again: %d %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate again printed %q", out.String())
	}
}

func TestMigrateBoltAndErrors(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	data := t.TempDir()
	if code := run(context.Background(), []string{"migrate", "--data", data}, env(nil), &out, &errOut); code != 0 || !strings.Contains(out.String(), "nothing to do") {
		t.Fatalf("bolt: %d %q %q", code, out.String(), errOut.String())
	}
	// The config file's store key, like serve's.
	cfg := filepath.Join(t.TempDir(), "switchyard.yaml")
	os.WriteFile(cfg, []byte("listen: 0.0.0.0:80\nstore: bolt:"+filepath.Join(data, "x.db")+"\n"), 0o600)
	out.Reset()
	if code := run(context.Background(), []string{"migrate", "--config", cfg}, env(nil), &out, &errOut); code != 0 || !strings.Contains(out.String(), "x.db") {
		t.Fatalf("from the config file: %d %q %q", code, out.String(), errOut.String())
	}
	for _, args := range [][]string{{"migrate", "--store", "mysql://u:hunter2@db/x"}, {"migrate", "extra"}} {
		errOut.Reset()
		if code := run(context.Background(), args, env(nil), io.Discard, &errOut); code != 2 || strings.Contains(errOut.String(), "hunter2") {
			t.Errorf("%v: %d %s", args, code, errOut.String())
		}
	}
	// PostgreSQL out of reach: a failure, the password hidden.
	errOut.Reset()
	if code := run(context.Background(), []string{"migrate", "--store", "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=5"}, env(nil), io.Discard, &errOut); code != 1 || strings.Contains(errOut.String(), "hunter2") {
		t.Errorf("unreachable: %d %s", code, errOut.String())
	}
}
