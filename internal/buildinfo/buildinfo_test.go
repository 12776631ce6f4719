package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "cbebd41a1b2c3d4e5f60718293a4b5c6d7e8f901"
	for _, tc := range []struct {
		name    string
		ldflags string
		bi      *debug.BuildInfo
		want    Info
	}{
		{"no build info", "", nil, Info{Version: "dev", Commit: Unknown, GoVersion: runtime.Version()}},
		{"no build info, link-time version", "v1.0.0", nil, Info{Version: "v1.0.0", Commit: Unknown, GoVersion: runtime.Version()}},
		{"go install @version, no vcs", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}},
			Info{Version: "v1.2.3", Commit: Unknown, GoVersion: "go1.26.0"}},
		{"a clean checkout", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "2026-12-03T23:24:26Z", "false")},
			Info{Version: "dev", Commit: "cbebd41a1b2c", Revision: rev, Time: "2026-12-03T23:24:26Z", GoVersion: "go1.26.0"}},
		{"a modified checkout", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261203232426-cbebd41a1b2c+dirty"}, Settings: vcs(rev, "2026-12-04T00:24:26+01:00", "true")},
			Info{Version: "v0.0.0-20261203232426-cbebd41a1b2c+dirty", Commit: "cbebd41a1b2c+dirty", Revision: rev, Time: "2026-12-03T23:24:26Z", Modified: true, GoVersion: "go1.26.0"}},
		{"link-time version wins", "v2.0.0", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: vcs(rev, "2026-12-03T23:24:26Z", "false")},
			Info{Version: "v2.0.0", Commit: "cbebd41a1b2c", Revision: rev, Time: "2026-12-03T23:24:26Z", GoVersion: "go1.26.0"}},
		{"a malformed time is left out", "", &debug.BuildInfo{GoVersion: "go1.26.0", Settings: vcs("abc", "yesterday", "false")},
			Info{Version: "dev", Commit: "abc", Revision: "abc", GoVersion: "go1.26.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fromBuild(tc.ldflags, tc.bi); got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	in := Info{Version: "v1.2.3", Commit: "cbebd41a1b2c+dirty", Time: "2026-12-03T23:24:26Z", GoVersion: "go1.26.0"}
	if got, want := in.String(), "switchyard v1.2.3 (commit cbebd41a1b2c+dirty, 2026-12-03T23:24:26Z, go1.26.0)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	in.Time = ""
	if got, want := in.String(), "switchyard v1.2.3 (commit cbebd41a1b2c+dirty, go1.26.0)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// The test binary itself has build information: Read gives a Go version
// and never an empty version or commit.
func TestRead(t *testing.T) {
	in := Read("")
	if in.Version == "" || in.Commit == "" || in.GoVersion == "" {
		t.Fatalf("Read() = %+v", in)
	}
	if got := Read("v9.9.9").Version; got != "v9.9.9" {
		t.Fatalf("link-time version: %q", got)
	}
}
