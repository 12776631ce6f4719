package server_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// TestBackupThroughTheAPI downloads a backup of a running instance: a
// whole bbolt file that opens with the instance's key and holds what was
// saved before it, and an audit entry that says it was taken.
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
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bolt.CheckFile(path); err != nil {
		t.Fatal(err)
	}
	key, err := seal.LoadKey(in.opts.DataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(path, sealer)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.GetProvider(context.Background(), p.ID)
	if err != nil || got.Secrets["token"] != "gh-backup-s3cret" {
		t.Fatalf("the provider in the backup: %v (secret opened: %v)", err, got.Secrets["token"] == "gh-backup-s3cret")
	}

	var audit struct{ Items []storage.AuditEntry }
	in.api("GET", "/audit?action=store.backup", nil, http.StatusOK, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Actor != "admin-token" || audit.Items[0].Detail != strconv.Itoa(len(body))+" bytes" {
		t.Fatalf("audit of the backup: %+v", audit.Items)
	}
}
