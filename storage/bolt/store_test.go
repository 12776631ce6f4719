package bolt_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

func testSealer(t testing.TB) *seal.Sealer {
	s, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func open(t testing.TB, path string) *bolt.Store {
	s, err := bolt.Open(path, testSealer(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return open(t, filepath.Join(t.TempDir(), "switchyard.db"))
	})
}

// A bbolt store is a cluster of one node: the single-node part of the
// cluster's suite holds for it.
func TestClusterOfOne(t *testing.T) {
	storagetest.RunNode(t, func(t *testing.T) storagetest.Node {
		return open(t, filepath.Join(t.TempDir(), "switchyard.db"))
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchyard.db")
	s := open(t, path)
	ctx := context.Background()
	p, err := s.CreateProvider(ctx, storage.Provider{Name: "GitHub", Secrets: map[string]string{"secret": "plain-secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	m := storagetest.NewMessage(t, time.Now(), "git/push")
	if err := s.AppendMessage(ctx, m, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("plain-secret-value")) {
		t.Fatal("secret stored in plain text")
	}
	s = open(t, path)
	defer s.Close()
	got, err := s.GetProvider(ctx, p.ID)
	if err != nil || got.Secrets["secret"] != "plain-secret-value" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	pending, err := s.PendingMessages(ctx, "", 10)
	if err != nil || len(pending) != 1 || pending[0].ID != m.ID {
		t.Fatalf("pending after reopen: %v %v", pending, err)
	}
}

func TestWrongKeyCannotOpenSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchyard.db")
	s := open(t, path)
	p, err := s.CreateProvider(context.Background(), storage.Provider{Name: "x", Secrets: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	other, _ := seal.New(bytes.Repeat([]byte{8}, seal.KeySize))
	s2, err := bolt.Open(path, other)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.GetProvider(context.Background(), p.ID); err == nil {
		t.Fatal("secrets opened with the wrong key")
	}
}

func TestClosedStoreRefusesWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "switchyard.db"))
	s.Close()
	m := storagetest.NewMessage(t, time.Now(), "u")
	if err := s.AppendMessage(context.Background(), m, nil); err == nil {
		t.Fatal("append after close succeeded")
	}
}

// One bbolt store is every "node" of the idempotency suite: its single
// writer is what serialises a race.
func TestIdempotency(t *testing.T) {
	storagetest.RunIdempotency(t, func(t *testing.T) func() storagetest.Idempotent {
		s := open(t, filepath.Join(t.TempDir(), "switchyard.db"))
		t.Cleanup(func() { s.Close() })
		return func() storagetest.Idempotent { return s }
	})
}
