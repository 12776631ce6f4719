package server_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// A taken port fails New before anything is written: no data directory,
// no admin token, no secrets key.
func TestPortTakenLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, port, _ := net.SplitHostPort(held.Addr().String())
	data := filepath.Join(t.TempDir(), "data")
	_, err = server.New(server.Options{Listen: held.Addr().String(), DataDir: data, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "port "+port+" is in use (another switchyard?)") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the data directory was made: %v", err)
	}
}

// A bad secrets key file is found before anything is made, too.
func TestBadKeyFileLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	_, err := server.New(server.Options{Listen: "127.0.0.1:0", DataDir: data, SecretKeyFile: filepath.Join(t.TempDir(), "none.key"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "none.key") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the data directory was made: %v", err)
	}
}

// A second instance on a data directory a running one holds says so,
// rather than bbolt's timeout.
func TestSecondInstanceOnOneDataDirectory(t *testing.T) {
	t.Parallel()
	first := start(t)
	_, err := server.New(server.Options{Listen: "127.0.0.1:0", DataDir: first.opts.DataDir, AdminToken: testToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	want := "another switchyard process holds " + filepath.Join(first.opts.DataDir, "switchyard.db") + "; stop it or use another --data"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// The start line gives the UI's URL with the port really bound, and the
// store.
func TestStartLineNamesTheUI(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	in := start(t, func(o *server.Options) { o.Logger = logs.logger() })
	want := "ui=http://" + in.srv.Addr().String() + "/ui/"
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "switchyard listening") {
		if time.Now().After(deadline) {
			t.Fatalf("no start line: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	line := logs.String()
	if !strings.Contains(line, want) || !strings.Contains(line, "store=bolt:"+filepath.Join(in.opts.DataDir, "switchyard.db")) {
		t.Fatalf("start line %s, want %s and the store", line, want)
	}
}

// Check finds what New would refuse, without writing anything.
func TestOptionsCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"), 0o600)
	notKey := filepath.Join(dir, "notkey")
	os.WriteFile(notKey, []byte("hello\n"), 0o600)
	for _, tc := range []struct {
		name string
		o    server.Options
		want []string // nil: no error
	}{
		{"defaults", server.Options{DataDir: data}, nil},
		{"postgres with a key file", server.Options{DataDir: data, Store: "postgres://u:pw@db/x", SecretKeyFile: key}, nil},
		{"postgres without a key", server.Options{DataDir: data, Store: "postgres://u:pw@db/x"}, []string{"secrets key"}},
		{"missing key file", server.Options{DataDir: data, SecretKeyFile: filepath.Join(dir, "none")}, []string{"secret-key-file", "no such file"}},
		{"a key file without a key", server.Options{DataDir: data, SecretKeyFile: notKey}, []string{"secret-key-file", "not base64"}},
		{"a bad key", server.Options{DataDir: data, SecretKey: "short"}, []string{"SWITCHYARD_SECRET_KEY"}},
		{"bad listen and store", server.Options{DataDir: data, Listen: "8080", Store: "mysql://x"}, []string{`listen "8080"`, "want bolt"}},
		{"a port out of range", server.Options{DataDir: data, Listen: ":70000"}, []string{"from 0 to 65535"}},
		{"data is a file", server.Options{DataDir: key}, []string{"is a file"}},
	} {
		err := tc.o.Check()
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want it to say %q", tc.name, err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: a password in %v", tc.name, err)
		}
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Check made the data directory: %v", err)
	}
}
