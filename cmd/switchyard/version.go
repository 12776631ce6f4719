package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/switchyard-dev/switchyard/internal/buildinfo"
)

// version is the link-time version (-ldflags "-X main.version=v1.2.3");
// empty, the build's own information decides (internal/buildinfo).
var version string

const versionUsage = `usage: switchyard version [--output table|json]

Print this binary's version, the commit it was built from ("+dirty" when
the checkout had changes), the commit's time and the Go version.

examples:
  switchyard version
  switchyard version --output json
`

// versionCmd prints the build information.
func versionCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), versionUsage) }
	output := fs.String("output", "table", "output format: table or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "switchyard version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	in := buildinfo.Read(version)
	switch *output {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(in); err != nil {
			fmt.Fprintf(stderr, "switchyard version: %v\n", err)
			return 1
		}
	case "table":
		commitTime := in.Time
		if commitTime == "" {
			commitTime = buildinfo.Unknown
		}
		fmt.Fprintf(stdout, "switchyard %s\ncommit:      %s\ncommit time: %s\ngo:          %s\n", in.Version, in.Commit, commitTime, in.GoVersion)
	default:
		fmt.Fprintf(stderr, "switchyard version: --output must be table or json, not %q\n", *output)
		return 2
	}
	return 0
}
