package bolt_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// writeBackup writes a snapshot to a new file and checks its length.
func writeBackup(t *testing.T, path string) func(size int64, snap io.WriterTo) error {
	return func(size int64, snap io.WriterTo) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := snap.WriteTo(f)
		if err == nil && n != size {
			t.Errorf("the snapshot wrote %d bytes, said %d", n, size)
		}
		return err
	}
}

// TestBackupWhileWriting backs a store up while messages are appended:
// the backup opens, and holds every message acknowledged before it began.
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "switchyard.db"))
	defer s.Close()
	ctx := context.Background()

	var acked sync.Map
	var count atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				m := storagetest.NewMessage(t, time.Now(), "hook")
				if err := s.AppendMessage(ctx, m, []byte(`{"n": 1}`)); err != nil {
					t.Error(err)
					return
				}
				acked.Store(m.ID, true)
				count.Add(1)
			}
		}()
	}
	for count.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	var before []string
	acked.Range(func(k, _ any) bool { before = append(before, k.(string)); return true })
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, writeBackup(t, backup)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()

	if err := bolt.CheckFile(backup); err != nil {
		t.Fatal(err)
	}
	b := open(t, backup)
	defer b.Close()
	for _, id := range before {
		if _, err := b.GetMessage(ctx, id); err != nil {
			t.Fatalf("message %s, acknowledged before the backup, is not in it: %v", id, err)
		}
	}
}

// TestBackupFile backs up a file no store holds open, and refuses one
// that is held.
func TestBackupFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "switchyard.db")
	s := open(t, path)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, storage.User{Name: "ada", Role: storage.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := bolt.BackupFile(path, writeBackup(t, backup)); !errors.Is(err, bolt.ErrInUse) {
		t.Fatalf("backup of a file in use: %v", err)
	}
	if err := bolt.CheckFile(path); !errors.Is(err, bolt.ErrInUse) {
		t.Fatalf("check of a file in use: %v", err)
	}
	s.Close()
	if err := bolt.BackupFile(path, writeBackup(t, backup)); err != nil {
		t.Fatal(err)
	}
	if err := bolt.CheckFile(backup); err != nil {
		t.Fatal(err)
	}
	b := open(t, backup)
	defer b.Close()
	if got, err := b.GetUser(ctx, u.ID); err != nil || got.Name != "ada" {
		t.Fatalf("user in the backup: %+v, %v", got, err)
	}

	// Not a store, or damaged: CheckFile says so.
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bolt.CheckFile(junk); err == nil {
		t.Fatal("a file of zeros passed the check")
	}
}
