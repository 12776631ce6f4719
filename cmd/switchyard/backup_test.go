package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// openBackup opens a backup of the store in dataDir with its key.
func openBackup(t *testing.T, path, dataDir string) *bolt.Store {
	t.Helper()
	key, err := seal.ReadKeyFile(filepath.Join(dataDir, seal.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return openBolt(t, path, key)
}

// TestBackupWhileServing backs a store up while a real switchyard serve
// holds it and takes webhooks: `backup --data DIR` finds the file held,
// goes through the server at its --listen address, and the backup opens
// and holds every message acknowledged before it began. Once the server
// has stopped, the same command reads the file itself.
func TestBackupWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	t.Parallel()
	dir := t.TempDir()
	c := startChild(t, dir)
	c.route(t, "hook", "LOG.setMessage('n=' + PAYLOAD.n)")

	var (
		mu    sync.Mutex
		acked []string
	)
	stop := make(chan struct{})
	wg := c.load("hook", 4, stop, func(id string, _ int) {
		mu.Lock()
		acked = append(acked, id)
		mu.Unlock()
	})
	defer func() { close(stop); wg.Wait() }()
	eventually(t, "100 acknowledged webhooks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 100
	})
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()

	out := filepath.Join(t.TempDir(), "backup.db")
	listen := strings.TrimPrefix(c.url, "http://")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"backup", "--data", dir, "--listen", listen, out},
		env(map[string]string{"SWITCHYARD_ADMIN_TOKEN": crashToken}), &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "held by a running switchyard serve; backing it up through "+c.url) ||
		!strings.Contains(stdout.String(), "backed up "+c.url+" to "+out) {
		t.Fatalf("backup while serving: %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), crashToken) {
		t.Fatal("backup printed the token")
	}
	mu.Lock()
	t.Logf("%d messages acknowledged before the backup, %d by its end", len(before), len(acked))
	mu.Unlock()
	backup := openBackup(t, out, dir)
	for _, id := range before {
		if _, err := backup.GetMessage(context.Background(), id); err != nil {
			t.Fatalf("message %s, acknowledged before the backup, is not in it: %v", id, err)
		}
	}
	// The audit entry is written once the backup's body has gone out, so
	// the client may see the end of the body first.
	eventually(t, "the backup's audit entry", func() bool {
		code, body := c.api(t, "GET", "/audit?action=store.backup", "")
		return code == 200 && strings.Contains(string(body), `"actor":"admin-token"`)
	})

	// A name in use is refused; a wrong token is the server's answer.
	stderr.Reset()
	if code := run(context.Background(), []string{"backup", "--server", c.url, "--token", crashToken, out}, env(nil), io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "exists") {
		t.Fatalf("backup over an existing file: %d %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"backup", "--server", c.url, "--token", "nope", out + "2"}, env(nil), io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "answered 401") {
		t.Fatalf("backup with a wrong token: %d %s", code, stderr.String())
	}
	if _, err := os.Stat(out + "2.part"); !os.IsNotExist(err) {
		t.Fatalf("a failed backup left its part: %v", err)
	}

	// Stopped, the store is read from its file.
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	stdout.Reset()
	offline := filepath.Join(t.TempDir(), "offline.db")
	if code := run(context.Background(), []string{"backup", "--data", dir, offline}, env(nil), &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "backed up bolt:"+filepath.Join(dir, "switchyard.db")) {
		t.Fatalf("backup of a stopped store: %d %s %s", code, stdout.String(), stderr.String())
	}
	mu.Lock()
	all := append([]string(nil), acked...)
	mu.Unlock()
	st := openBackup(t, offline, dir)
	for _, id := range all {
		if _, err := st.GetMessage(context.Background(), id); err != nil {
			t.Fatalf("message %s, acknowledged, is not in the backup of the stopped store: %v", id, err)
		}
	}
}
