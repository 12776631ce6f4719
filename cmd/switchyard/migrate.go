package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage/postgres"
)

// migrate applies the schema migrations of the store that --store names
// (SWITCHYARD_STORE, or the --config file's store) and prints its schema
// version before and after. Nodes may run it, or start, at the same time:
// they take turns.
func migrate(ctx context.Context, args []string, cio cmdIO) int {
	c := newCommand("migrate", "", `Apply the schema migrations of a PostgreSQL store and print its schema
version before and after (serve applies them too, at start). Nodes may
run it, or start, at the same time: they take turns. A bbolt store has
no schema to migrate.`,
		[]string{
			"switchyard migrate --store postgres://switchyard:pass@db:5432/switchyard?sslmode=require",
			"switchyard migrate --config /etc/switchyard/switchyard.yaml",
		}, cio)
	configFile := c.fs.String("config", "", "YAML file with settings (its store and data keys are read)")
	store := c.fs.String("store", "bolt", storeUsage)
	data := c.fs.String("data", server.DefaultDataDir, "data directory (where a bolt store is)")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return c.usageError("unexpected argument %q", rest[0])
	}
	err := fillFlags(c.fs, configFile, cio.getenv)
	var loc server.StoreLocation
	if err == nil {
		loc, err = server.ParseStore(*store, *data)
	}
	if err != nil {
		return c.usageError("%v", err)
	}
	stdout := c.stdout
	if loc.Backend != server.BackendPostgres {
		fmt.Fprintf(stdout, "store %s: a bbolt store has no schema to migrate; nothing to do\n", loc)
		return 0
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	before, err := postgres.DatabaseVersion(ctx, loc.Target)
	if err == nil {
		err = postgres.Migrate(ctx, loc.Target)
	}
	after := before
	if err == nil {
		after, err = postgres.DatabaseVersion(ctx, loc.Target)
	}
	if err != nil {
		return c.fail(fmt.Errorf("store %s: %w", loc, err))
	}
	fmt.Fprintf(stdout, "store %s\nschema version before: %d\nschema version after:  %d\n", loc, before, after)
	if before == after {
		fmt.Fprintln(stdout, "the schema was up to date; nothing to do")
	}
	return 0
}
