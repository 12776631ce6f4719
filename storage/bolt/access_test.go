package bolt_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// The secrets storage.User, APIToken and Session keep out of JSON must
// still reach the file and come back.
func TestReopenKeepsAccessSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchyard.db")
	s := open(t, path)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, storage.User{Name: "alice", Role: storage.RoleAdmin, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"})
	if err != nil {
		t.Fatal(err)
	}
	hash := []byte("0123456789abcdef0123456789abcdef")
	tok, err := s.CreateToken(ctx, storage.APIToken{UserID: u.ID, Name: "ci", Hash: hash})
	if err != nil {
		t.Fatal(err)
	}
	sess := storage.Session{ID: storagetest.NewSessionID(), UserID: u.ID, CSRF: "csrf-value", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	defer s.Close()
	got, err := s.GetUserByName(ctx, "ALICE")
	if err != nil || got.ID != u.ID || got.PasswordHash != u.PasswordHash {
		t.Fatalf("user after reopen: %+v %v", got, err)
	}
	gt, err := s.TokenByHash(ctx, hash)
	if err != nil || gt.ID != tok.ID || string(gt.Hash) != string(hash) {
		t.Fatalf("token after reopen: %+v %v", gt, err)
	}
	gs, err := s.GetSession(ctx, sess.ID)
	if err != nil || gs.UserID != u.ID || gs.CSRF != "csrf-value" {
		t.Fatalf("session after reopen: %+v %v", gs, err)
	}
}
