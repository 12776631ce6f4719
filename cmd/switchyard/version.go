package main

import (
	"encoding/json"
	"fmt"

	"github.com/switchyard-dev/switchyard/internal/buildinfo"
)

// version is the link-time version (-ldflags "-X main.version=v1.2.3");
// empty, the build's own information decides (internal/buildinfo).
var version string

// versionCmd prints the build information.
func versionCmd(args []string, cio cmdIO) int {
	c := newCommand("version", "", `Print this binary's version, the commit it was built from ("+dirty" when
the checkout had changes), the commit's time and the Go version.`,
		[]string{"switchyard version", "switchyard version --output json"}, cio)
	output := c.fs.String("output", "table", "table or json")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return c.usageError("unexpected argument %q", rest[0])
	}
	in := buildinfo.Read(version)
	switch *output {
	case "json":
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(in); err != nil {
			return c.fail(err)
		}
	case "table":
		commitTime := in.Time
		if commitTime == "" {
			commitTime = buildinfo.Unknown
		}
		fmt.Fprintf(c.stdout, "switchyard %s\ncommit:      %s\ncommit time: %s\ngo:          %s\n", in.Version, in.Commit, commitTime, in.GoVersion)
	default:
		return c.usageError("--output must be table or json, not %q", *output)
	}
	return 0
}
