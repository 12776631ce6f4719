package server_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// TestBackupThroughTheAPI downloads a backup of a running instance: a
// whole bbolt file that a node serves with the instance's key, holding
// what was saved before it, and an audit entry that says it was taken.
func TestBackupThroughTheAPI(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("GitHub", "return true", map[string]any{"secrets": map[string]string{"token": "gh-backup-s3cret"}})
	code, body, h := in.do("GET", "/api/v1/backup", nil, http.Header{"Authorization": {"Bearer " + testToken}})
	if code != http.StatusOK || h.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="switchyard-`) {
		t.Fatalf("backup: %d %v %.200s", code, h, body)
	}
	if n, _ := strconv.Atoi(h.Get("Content-Length")); n != len(body) || n == 0 {
		t.Fatalf("backup of %d bytes, Content-Length %q", len(body), h.Get("Content-Length"))
	}
	if bytes.Contains(body, []byte("gh-backup-s3cret")) {
		t.Fatal("the backup holds a secret in plain text")
	}
	// A node started on the backup, with the instance's key, serves it
	// (it would refuse a key that cannot open its secrets).
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "switchyard.db"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bolt.CheckFile(filepath.Join(dir, "switchyard.db")); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(in.opts.DataDir, seal.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, seal.KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := start(t, func(o *server.Options) { o.DataDir = dir })
	var got provider
	restored.api("GET", "/providers/"+p.ID, nil, http.StatusOK, &got)

	var audit struct{ Items []storage.AuditEntry }
	in.api("GET", "/audit?action=store.backup", nil, http.StatusOK, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Actor != "admin-token" || audit.Items[0].Detail != strconv.Itoa(len(body))+" bytes" {
		t.Fatalf("audit of the backup: %+v", audit.Items)
	}
}
