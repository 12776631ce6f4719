package main

import (
	"context"
	"fmt"

	"github.com/switchyard-dev/switchyard/manifest"
)

// export and apply: config as code (package manifest) over the admin API.

func exportCmd(ctx context.Context, args []string, cio cmdIO) int {
	c := withAPIFlags(newCommand("export", "DIR",
		`Writes the server's providers (in their order), functions and endpoints
into DIR: DIR/switchyard.yaml and the scripts beside it
(providers/<name>.js, providers/<name>.handshake.js, functions/<name>.js).
Secrets are written as ${env:NAME} references, never their values.
Refuses a server that holds two records of a kind with one name. Needs an
operator's token or above.`,
		[]string{"SWITCHYARD_TOKEN=... switchyard export --server https://staging.example.com ./switchyard-config"}, cio))
	dir, code, ok := c.oneDir(args)
	if !ok {
		return code
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	cfg, err := manifest.Export(ctx, cl, dir)
	if err != nil {
		return c.apiFail(err)
	}
	fmt.Fprintf(c.stdout, "wrote %s, %s, %s and %s to %s\n",
		counted(len(cfg.Providers), "provider"), counted(len(cfg.Functions), "function"), counted(len(cfg.Endpoints), "endpoint"),
		counted(len(cfg.EventTypes), "event type"), dir)
	return 0
}

func applyCmd(ctx context.Context, args []string, cio cmdIO) int {
	c := withAPIFlags(newCommand("apply", "DIR",
		`Reads DIR (as export writes it), prints the plan that takes the server to
it (+ create, ~ update, - delete) and applies it. ${env:NAME} references
are read from the environment; a missing one stops apply before any
change (with --dry-run it is a note: a preview needs no secrets). Scripts
and fields are checked as the server checks them before any change.
Applying the same directory twice changes nothing the second time.
Needs an editor's token or above (an operator's for --dry-run).`,
		[]string{
			"export SWITCHYARD_TOKEN=... SWITCHYARD_PROVIDER_GITHUB_WEBHOOK_SECRET=...",
			"switchyard apply --server https://switchyard.example.com --dry-run ./switchyard-config",
			"switchyard apply --server https://switchyard.example.com --prune ./switchyard-config",
		}, cio))
	opts := manifest.Options{Getenv: cio.getenv}
	dryRun := c.fs.Bool("dry-run", false, "print the plan and change nothing")
	c.fs.BoolVar(&opts.Prune, "prune", false, "delete what the server holds and the directory does not")
	c.fs.BoolVar(&opts.UpdateSecrets, "update-secrets", false, "send every secret again (a value changed under the same name is not otherwise seen)")
	dir, code, ok := c.oneDir(args)
	if !ok {
		return code
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	if err := manifest.Apply(ctx, cl, dir, opts, *dryRun, c.stdout); err != nil {
		return c.apiFail(err)
	}
	return 0
}

// counted is "1 provider", "2 providers".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// oneDir parses args, which must name one directory.
func (c *apiCommand) oneDir(args []string) (string, int, bool) {
	rest, code, ok := c.parse(args)
	if !ok {
		return "", code, false
	}
	if len(rest) != 1 {
		return "", c.usageError("give one directory (got %d)", len(rest)), false
	}
	return rest[0], 0, true
}
