package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/switchyard-dev/switchyard/server"
)

const configCheckUsage = `usage: switchyard config check [serve's flags]

Check serve's configuration as serve would read it: the --config file
(or SWITCHYARD_CONFIG), the SWITCHYARD_ variables and the flags given,
with every value (durations, sizes, addresses, the store URL's form, the
secrets key and the files named). It opens no store, binds no port and
writes nothing. It prints "ok" and the settings serve would run with
(secrets hidden), or every problem found, one a line.

Exit status: 0 ok, 1 problems found, 2 wrong usage (a bad flag).

examples:
  switchyard config check --config /etc/switchyard/switchyard.yaml
  SWITCHYARD_WORKERS=16 switchyard config check --data /var/lib/switchyard --lease 1m

flags: serve's, each also from its variable or a --config key
`

// configCmd is switchyard config SUBCOMMAND.
func configCmd(ctx context.Context, args []string, cio cmdIO) int {
	return dispatch(ctx, "config", "Work with serve's configuration.", []subcommand{
		{"check", "check serve's flags, variables and --config file without starting", configCheck},
	}, args, cio)
}

// configCheck is switchyard config check.
func configCheck(_ context.Context, args []string, cio cmdIO) int {
	stdout, stderr, getenv := cio.stdout, cio.stderr, cio.getenv
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(stdout, configCheckUsage)
			newServeFlags(stdout).printFlags(stdout)
			return 0
		}
	}
	c, err := parseServeConfig(args, getenv, io.Discard)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if (c.settings == nil || c.badFlags) && err != nil { // the command line itself
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "switchyard config check: %s\n", line)
		}
		fmt.Fprintln(stderr, "Run 'switchyard config check -h' for usage.")
		return 2
	}
	if err == nil {
		err = c.opts.Check()
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "error:", line)
		}
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	loc, _ := server.ParseStore(c.opts.Store, c.opts.DataDir) // checked above
	width := 0
	for _, s := range c.settings {
		width = max(width, len(s.name))
	}
	for _, s := range c.settings {
		value := s.value
		switch s.name {
		case "store":
			value = loc.String() // no password
		case "config":
			if value == "none" {
				continue
			}
		}
		fmt.Fprintf(stdout, "  %-*s  %s  (%s)\n", width, s.name, value, s.source)
	}
	for _, secret := range []struct{ name, env string }{
		{"admin token", "SWITCHYARD_ADMIN_TOKEN"}, {"secrets key", "SWITCHYARD_SECRET_KEY"}, {"secrets key", deprecatedKeyEnv},
	} {
		if strings.TrimSpace(getenv(secret.env)) != "" {
			fmt.Fprintf(stdout, "  %-*s  set, hidden  (%s)\n", width, secret.name, secret.env)
		}
	}
	return 0
}
