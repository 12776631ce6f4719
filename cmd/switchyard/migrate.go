package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML file with settings (its store and data keys are read)")
	store := fs.String("store", "bolt", storeUsage)
	data := fs.String("data", server.DefaultDataDir, "data directory (where a bolt store is)")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err == nil {
		err = fillFlags(fs, configFile, getenv)
	}
	var loc server.StoreLocation
	if err == nil {
		loc, err = server.ParseStore(*store, *data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchyard migrate: %v\n", err)
		return 2
	}
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
		fmt.Fprintf(stderr, "switchyard migrate: store %s: %v\n", loc, err)
		return 1
	}
	fmt.Fprintf(stdout, "store %s\nschema version before: %d\nschema version after:  %d\n", loc, before, after)
	if before == after {
		fmt.Fprintln(stdout, "the schema was up to date; nothing to do")
	}
	return 0
}
