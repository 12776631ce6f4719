// Command switchyard runs the Switchyard webhook router.
//
//	switchyard serve [flags]       run everything on one port
//	switchyard migrate [flags]     apply the store's schema migrations
//	switchyard copy-store [flags]  copy every record into another store
//	switchyard backup [flags] FILE a consistent copy of a bbolt store
//	switchyard messages list|get|resubmit  inbound messages, over the admin API
//	switchyard deliveries list|retry       outbound deliveries, over the admin API
//	switchyard user create [flags] a user, on the store itself
//	switchyard config check [flags] check serve's settings without starting
//	switchyard export [flags] DIR  write the configuration into DIR
//	switchyard apply [flags] DIR   apply DIR's configuration to a server
//	switchyard version             print the version
//	switchyard health              ask a running server whether it is ready
//
// Every flag can also come from an environment variable (SWITCHYARD_ and
// the flag's name in upper snake case) or from a YAML file named by
// --config. A flag on the command line wins over the environment, which
// wins over the file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/switchyard-dev/switchyard/internal/buildinfo"
	"github.com/switchyard-dev/switchyard/server"
)

func main() {
	// The heap of a busy instance is mostly short-lived request and script
	// garbage; collecting at twice the live heap instead of once costs a
	// little memory and saves CPU (about 6 % per message in
	// bench/ingest.sh). GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `usage: switchyard <command> [flags]

commands:
  serve       run the webhook router, workers, admin API and UI on one port
  migrate     apply the schema migrations of a PostgreSQL store (serve does it too)
  copy-store  copy every record of a store into a new, empty one (a bbolt node into PostgreSQL)
  backup      write a consistent copy of a bbolt store to a file, while it serves
  messages    list, show and resubmit inbound messages (admin API: --server, --token)
  deliveries  list and retry outbound deliveries (admin API: --server, --token)
  user        create a user on the store itself, offline: the first admin
  config      check serve's configuration without starting (config check --config FILE)
  export      write a server's providers, functions and endpoints into a directory (config as code)
  apply       make a server hold what a directory holds, printing the plan first
  version     print the version, commit and Go version of this binary
  health      ask a running server whether it is ready (for container health checks)

Run 'switchyard <command> -h' for the flags.
`

// run is main without the process: arguments, environment and output come
// in, an exit code goes out.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cio := cmdIO{getenv, os.Stdin, stdout, stderr}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
	case "migrate":
		return migrate(ctx, args[1:], cio)
	case "copy-store":
		return copyStore(ctx, args[1:], cio)
	case "backup":
		return backup(ctx, args[1:], cio)
	case "messages":
		return messagesCmd(ctx, args[1:], cio)
	case "deliveries":
		return deliveriesCmd(ctx, args[1:], cio)
	case "user":
		return userCmd(ctx, args[1:], cio)
	case "config":
		return configCmd(ctx, args[1:], cio)
	case "export":
		return exportCmd(ctx, args[1:], cio)
	case "apply":
		return applyCmd(ctx, args[1:], cio)
	case "version", "--version", "-version":
		return versionCmd(args[1:], cio)
	case "health":
		return health(ctx, args[1:], cio)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "switchyard: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	opts, err := parseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "switchyard serve: %s\n", line)
		}
		return 2
	}
	logger := opts.Logger
	opts.Version = buildinfo.Read(version).Version
	if getenv(deprecatedKeyEnv) != "" {
		logger.Warn(deprecatedKeyEnv + " is deprecated: name the secrets key SWITCHYARD_SECRET_KEY")
	}
	srv, err := server.New(opts)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		logger.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}
