package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/server"
)

// startInProcess runs a Switchyard in this process on loopback and
// returns its URL.
func startInProcess(t *testing.T) string {
	t.Helper()
	srv, err := server.New(server.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: "tok",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	return "http://" + srv.Addr().String()
}

// export and apply as the command line runs them: flags after the
// directory too, the token from SWITCHYARD_TOKEN, a plan, then "no
// changes", and help with an example.
func TestExportAndApplyCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, dst := startInProcess(t), startInProcess(t)
	c, err := client.New(src, "tok")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ID string `json:"id"`
	}
	if err := c.Post(ctx, "/providers", map[string]any{"name": "github", "match_script": "return true", "secrets": map[string]string{"key": "v4lue"}}, &p); err != nil {
		t.Fatal(err)
	}
	if err := c.Post(ctx, "/functions", map[string]any{"name": "greet", "provider_id": p.ID, "uri": "hello", "script": "return 1"}, nil); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SWITCHYARD_TOKEN": "tok", "SWITCHYARD_PROVIDER_GITHUB_KEY": "v4lue"}
	getenv := func(k string) string { return env[k] }
	dir := filepath.Join(t.TempDir(), "cfg")
	cmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, args, getenv, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := cmd("export", "--server", src, dir); code != 0 || !strings.Contains(out, "wrote 1 provider, 1 function, 0 endpoints and 0 event types") {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	yml, err := os.ReadFile(filepath.Join(dir, "switchyard.yaml"))
	if err != nil || !strings.Contains(string(yml), "key: ${env:SWITCHYARD_PROVIDER_GITHUB_KEY}") {
		t.Fatalf("switchyard.yaml: %v\n%s", err, yml)
	}
	code, out, errOut := cmd("apply", "--server", dst, dir, "--dry-run")
	if code != 0 || out != "+ create provider \"github\"\n+ create function \"greet\"\ndry run: nothing was changed\n" {
		t.Fatalf("apply --dry-run: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := cmd("apply", "--server", dst, dir); code != 0 || !strings.Contains(out, "applied 2 changes") {
		t.Fatalf("apply: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := cmd("apply", "--server", dst, dir); code != 0 || out != "no changes\n" {
		t.Fatalf("apply again: %d\n%s%s", code, out, errOut)
	}
	// A change the server refuses names its record and what was applied.
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "switchyard.yaml"), []byte("endpoints:\n  - name: pager\n    url: https://pager.example.com/hook\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cmd("apply", "--server", dst, bad); code != 1 || !strings.Contains(errOut, `endpoint "pager"`) ||
		!strings.Contains(errOut, "event_types") || !strings.Contains(errOut, "fix it and run apply again") {
		t.Fatalf("apply of an endpoint the server refuses: %d %s", code, errOut)
	}
	delete(env, "SWITCHYARD_PROVIDER_GITHUB_KEY")
	if code, _, errOut := cmd("apply", "--server", dst, "--update-secrets", dir); code != 1 || !strings.Contains(errOut, "SWITCHYARD_PROVIDER_GITHUB_KEY") {
		t.Fatalf("apply without the variable: %d %s", code, errOut)
	}
	for _, name := range []string{"export", "apply"} {
		code, help, _ := cmd(name, "-h")
		if code != 0 || !strings.Contains(help, "examples:") || !strings.Contains(help, "-server") {
			t.Errorf("%s -h: %d\n%s", name, code, help)
		}
	}
	if code, _, errOut := cmd("apply", "--server", dst); code != 2 || !strings.Contains(errOut, "give one directory") {
		t.Errorf("apply without a directory: %d %s", code, errOut)
	}
}
