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

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/manifest"
)

const exportUsage = `usage: switchyard export --server URL [--token T] DIR

Writes the server's providers (in their order), functions and endpoints
into DIR: DIR/switchyard.yaml and the scripts beside it
(providers/<name>.js, providers/<name>.handshake.js, functions/<name>.js).
Secrets are written as ${env:NAME} references, never their values.
Refuses a server that holds two records of a kind with one name.

example:
  SWITCHYARD_TOKEN=... switchyard export --server https://staging.example.com:8080 ./switchyard-config

flags:
`

const applyUsage = `usage: switchyard apply --server URL [--token T] [--dry-run] [--prune] [--update-secrets] DIR

Reads DIR (as export writes it), prints the plan that takes the server to
it (+ create, ~ update, - delete) and applies it. ${env:NAME} references
are read from the environment; a missing one stops apply before any
change. Applying the same directory twice changes nothing the second time.

example:
  export SWITCHYARD_TOKEN=... SWITCHYARD_PROVIDER_GITHUB_SECRET=...
  switchyard apply --server https://switchyard.example.com:8080 --dry-run ./switchyard-config
  switchyard apply --server https://switchyard.example.com:8080 ./switchyard-config

flags:
`

// apiFlags are the flags of a command that calls the admin API, with
// the one directory it takes.
type apiFlags struct {
	fs            *flag.FlagSet
	server, token string
}

func newAPIFlags(name, usage string, getenv func(string) string, stderr io.Writer) *apiFlags {
	f := &apiFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		f.fs.PrintDefaults()
	}
	f.fs.StringVar(&f.server, "server", "", "the Switchyard server's URL, e.g. http://localhost:8080")
	f.fs.StringVar(&f.token, "token", getenv(client.TokenEnv), "an API token (default: $"+client.TokenEnv+")")
	return f
}

// parse parses args, flags before or after the directory, and returns
// the directory and a client.
func (f *apiFlags) parse(args []string) (string, *client.Client, error) {
	var dirs []string
	for {
		if err := f.fs.Parse(args); err != nil {
			return "", nil, err
		}
		if f.fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
	if len(dirs) != 1 {
		return "", nil, fmt.Errorf("give one directory (got %d)", len(dirs))
	}
	c, err := client.New(f.server, f.token)
	return dirs[0], c, err
}

func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	f := newAPIFlags("export", exportUsage, getenv, stderr)
	dir, c, err := f.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchyard export: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := manifest.Export(ctx, c, dir)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard export: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d providers, %d functions and %d endpoints to %s\n", len(cfg.Providers), len(cfg.Functions), len(cfg.Endpoints), dir)
	return 0
}

func applyCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	f := newAPIFlags("apply", applyUsage, getenv, stderr)
	var dryRun bool
	opts := manifest.Options{Getenv: getenv}
	f.fs.BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	f.fs.BoolVar(&opts.Prune, "prune", false, "delete what the server holds and the directory does not")
	f.fs.BoolVar(&opts.UpdateSecrets, "update-secrets", false, "send every secret again (a value changed under the same name is not otherwise seen)")
	dir, c, err := f.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "switchyard apply: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := manifest.Apply(ctx, c, dir, opts, dryRun, stdout); err != nil {
		fmt.Fprintf(stderr, "switchyard apply: %v\n", err)
		return 1
	}
	return 0
}
