// Package buildinfo says which build of Switchyard is running: its
// version, the commit it was built from, when, and with which Go. It reads
// what the Go toolchain records in the binary (runtime/debug.ReadBuildInfo:
// the main module's version, and vcs.revision, vcs.time and vcs.modified
// when built inside a git checkout). A version set at link time
// (-ldflags "-X main.version=v1.2.3") wins over the recorded one.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Unknown stands for what the build did not record.
const Unknown = "unknown"

// Info describes one build.
type Info struct {
	// Version is the link-time version if set, else the main module's
	// version (v1.2.3 with `go install ...@v1.2.3`; a pseudo-version such
	// as v0.0.0-20261203232426-cbebd41a1b2c+dirty from a checkout), else
	// "dev".
	Version string `json:"version"`
	// Commit is the short commit id, with "+dirty" when the checkout had
	// changes; "unknown" when the build recorded none.
	Commit string `json:"commit"`
	// Revision is the full commit id ("" when unknown).
	Revision string `json:"revision,omitempty"`
	// Time is the commit's time (vcs.time, RFC 3339), "" when unknown: Go
	// records the commit's time, not the build's, so that builds are
	// reproducible.
	Time string `json:"time,omitempty"`
	// Modified: the checkout had uncommitted changes.
	Modified bool `json:"modified"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
}

// Read returns this binary's build information; version, when not empty,
// is the link-time version and wins.
func Read(version string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromBuild(version, nil)
	}
	return fromBuild(version, bi)
}

// fromBuild is Read on a given debug.BuildInfo (nil when the binary has
// none).
func fromBuild(version string, bi *debug.BuildInfo) Info {
	in := Info{Version: version, Commit: Unknown, GoVersion: runtime.Version()}
	if bi == nil {
		if in.Version == "" {
			in.Version = "dev"
		}
		return in
	}
	if bi.GoVersion != "" {
		in.GoVersion = bi.GoVersion
	}
	if in.Version == "" {
		in.Version = bi.Main.Version
	}
	if in.Version == "" || in.Version == "(devel)" {
		in.Version = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				in.Time = t.UTC().Format(time.RFC3339)
			}
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	if in.Revision != "" {
		in.Commit = in.Revision[:min(12, len(in.Revision))]
		if in.Modified {
			in.Commit += "+dirty"
		}
	}
	return in
}

// String is the one-line form `switchyard version` prints.
func (in Info) String() string {
	var b strings.Builder
	b.WriteString("switchyard " + in.Version)
	b.WriteString(" (commit " + in.Commit)
	if in.Time != "" {
		b.WriteString(", " + in.Time)
	}
	b.WriteString(", " + in.GoVersion + ")")
	return b.String()
}
