package server_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

func TestParseStore(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	dir := t.TempDir()
	for _, c := range []struct {
		store, backend, target, shown string
	}{
		{"", "bolt", filepath.Join(data, "switchyard.db"), "bolt:" + filepath.Join(data, "switchyard.db")},
		{"bolt", "bolt", filepath.Join(data, "switchyard.db"), ""},
		{"bolt:/var/lib/sy/one.db", "bolt", "/var/lib/sy/one.db", "bolt:/var/lib/sy/one.db"},
		{"bolt:" + dir, "bolt", filepath.Join(dir, "switchyard.db"), ""}, // a directory: its switchyard.db
		{"postgres://sy:pw@db:5432/sy?sslmode=disable", "postgres", "postgres://sy:pw@db:5432/sy?sslmode=disable", "postgres://sy:xxxxx@db:5432/sy?sslmode=disable"},
		{"postgresql://sy@db/sy?password=pw", "postgres", "postgresql://sy@db/sy?password=pw", "postgresql://sy@db/sy?password=xxxxx"},
	} {
		loc, err := server.ParseStore(c.store, data)
		if err != nil || loc.Backend != c.backend || loc.Target != c.target {
			t.Errorf("ParseStore(%q) = %+v, %v; want %s %s", c.store, loc, err, c.backend, c.target)
		}
		if c.shown != "" && loc.String() != c.shown {
			t.Errorf("ParseStore(%q) shows as %q, want %q", c.store, loc, c.shown)
		}
	}
	for _, bad := range []string{"bolt:", "sqlite:x.db", "mysql://u:hunter2@h/db", "postgres://u:hunter2@h:port/db", "./data/switchyard.db", "host=h password=hunter2"} {
		_, err := server.ParseStore(bad, data)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseStore(%q): %v", bad, err)
		}
	}
}
