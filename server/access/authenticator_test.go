package access_test

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "switchyard.db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// refused fails the test unless err is want, and a refusal.
func refused(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || !errors.Is(err, access.ErrRefused) || err.Error() != want.Error() {
		t.Fatalf("%s: want %q, got %v", what, want, err)
	}
}

func TestAuthenticator(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	const password = "correct horse battery"
	hash, err := access.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, storage.User{Name: "ada", Role: storage.RoleEditor, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	a := access.NewAuthenticator(st, slog.New(slog.DiscardHandler))

	found, _, _, err := a.SignIn(ctx, "ada", "wrong password")
	refused(t, "wrong password", err, access.ErrWrongPassword)
	if found.ID != u.ID {
		t.Fatalf("a wrong password answers the user it found, for the audit log: %+v", found)
	}
	_, _, _, err = a.SignIn(ctx, "nobody", password)
	refused(t, "unknown name", err, access.ErrWrongPassword)

	got, sess, cookie, err := a.SignIn(ctx, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID || got.LastLoginAt == nil || sess.UserID != u.ID || sess.ID != access.SessionID(cookie) ||
		sess.ExpiresAt.Sub(sess.CreatedAt) != access.SessionTTL || sess.CSRF == "" {
		t.Fatalf("signed in: %+v %+v", got, sess)
	}
	p, err := a.Session(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	if want := (access.Principal{UserID: u.ID, Name: "ada", Role: storage.RoleEditor, Via: "session", SessionID: sess.ID, CSRF: sess.CSRF}); p != want {
		t.Fatalf("session principal %+v, want %+v", p, want)
	}
	_, err = a.Session(ctx, "not a cookie")
	refused(t, "unknown cookie", err, access.ErrSessionEnded)

	tok, tokHash, err := access.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(ctx, storage.APIToken{UserID: u.ID, Name: "ci", Hash: tokHash}); err != nil {
		t.Fatal(err)
	}
	if p, err = a.Token(ctx, tok); err != nil || p != (access.Principal{UserID: u.ID, Name: "ada", Role: storage.RoleEditor, Via: "token"}) {
		t.Fatalf("token principal %+v: %v", p, err)
	}
	if ts, err := st.ListTokens(ctx, u.ID); err != nil || len(ts) != 1 || ts[0].LastUsedAt == nil {
		t.Fatalf("the token's use is not recorded: %+v %v", ts, err)
	}
	_, err = a.Token(ctx, access.TokenPrefix+"unknown")
	refused(t, "unknown token", err, access.ErrTokenUnknown)
	old, oldHash, err := access.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	if _, err := st.CreateToken(ctx, storage.APIToken{UserID: u.ID, Name: "old", Hash: oldHash, ExpiresAt: &past}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Token(ctx, old)
	refused(t, "expired token", err, access.ErrTokenExpired)

	u.Disabled = true
	if _, err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err = a.Session(ctx, cookie)
	refused(t, "session of a disabled user", err, access.ErrUserDisabled)
	_, err = a.Token(ctx, tok)
	refused(t, "token of a disabled user", err, access.ErrUserDisabled)
	_, _, _, err = a.SignIn(ctx, "ada", password)
	refused(t, "sign-in of a disabled user", err, access.ErrWrongPassword)
}
