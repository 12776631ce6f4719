package storagetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// RunAccess runs the tests of users, tokens and sessions against the
// backend that open returns: access.Store is all they need.
func RunAccess(t *testing.T, open func(t *testing.T) access.Store) {
	run(t, open, []test[access.Store]{
		{"UserCRUD", testUserCRUD},
		{"UserNames", testUserNames},
		{"Tokens", testTokens},
		{"Sessions", testSessions},
		{"SessionsOfUser", testSessionsOfUser},
		{"RecordLogin", testRecordLogin},
		{"PurgeSessions", testPurgeSessions},
		{"DeleteUserCascades", testDeleteUserCascades},
	})
}

// NewSessionID returns a session id as the server makes one: the hex
// SHA-256 of a random cookie value.
func NewSessionID() string {
	sum := sha256.Sum256([]byte(rand.Text()))
	return hex.EncodeToString(sum[:])
}

// tokenHash returns the SHA-256 of a made-up token.
func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func testUserCRUD(t *testing.T, s access.Store) {
	u := must(s.CreateUser(ctx(t), storage.User{Name: "Alice", DisplayName: "Alice A.", Role: storage.RoleAdmin, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"}))
	if id, err := uuid.Parse(u.ID); err != nil || id.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7", u.ID)
	}
	if u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
		t.Fatalf("created times: %v %v", u.CreatedAt, u.UpdatedAt)
	}
	got := must(s.GetUser(ctx(t), u.ID))
	if got.Name != "Alice" || got.DisplayName != "Alice A." || got.Role != storage.RoleAdmin || got.Disabled ||
		got.PasswordHash != u.PasswordHash || !got.CreatedAt.Equal(u.CreatedAt) || got.LastLoginAt != nil {
		t.Fatalf("get: %+v", got)
	}
	if got := must(s.GetUserByName(ctx(t), "aLICE")); got.ID != u.ID || got.PasswordHash != u.PasswordHash {
		t.Fatalf("by name, another case: %+v", got)
	}
	_, err := s.GetUserByName(ctx(t), "bob")
	wantErr(t, "unknown name", err, storage.ErrNotFound)
	for _, name := range []string{"", "  "} {
		_, err := s.CreateUser(ctx(t), storage.User{Name: name, Role: storage.RoleViewer})
		wantErr(t, fmt.Sprintf("create with name %q", name), err, storage.ErrInvalid)
	}

	bob := must(s.CreateUser(ctx(t), storage.User{Name: "bob", Role: storage.RoleViewer}))
	if list := must(s.ListUsers(ctx(t))); len(list) != 2 || list[0].ID != u.ID || list[1].ID != bob.ID {
		t.Fatalf("list, oldest first: %+v", list)
	}

	// An update replaces everything but ID and CreatedAt, the hash included.
	login := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	upd := storage.User{ID: u.ID, Name: "alice", Role: storage.RoleEditor, Disabled: true, PasswordHash: "new-hash", LastLoginAt: &login, CreatedAt: time.Unix(1, 0)}
	res := must(s.UpdateUser(ctx(t), upd))
	if res.ID != u.ID || !res.CreatedAt.Equal(u.CreatedAt) || res.UpdatedAt.Before(u.UpdatedAt) {
		t.Fatalf("update result: %+v", res)
	}
	got = must(s.GetUser(ctx(t), u.ID))
	if got.Name != "alice" || got.DisplayName != "" || got.Role != storage.RoleEditor || !got.Disabled || got.PasswordHash != "new-hash" ||
		got.LastLoginAt == nil || !got.LastLoginAt.Equal(login) || !got.CreatedAt.Equal(u.CreatedAt) || !got.UpdatedAt.Equal(res.UpdatedAt) {
		t.Fatalf("after update: %+v", got)
	}
	upd.Name = ""
	_, err = s.UpdateUser(ctx(t), upd)
	wantErr(t, "update to an empty name", err, storage.ErrInvalid)

	check(s.DeleteUser(ctx(t), u.ID))
	for name, fn := range map[string]func() error{
		"get":           func() error { _, err := s.GetUser(ctx(t), u.ID); return err },
		"by name":       func() error { _, err := s.GetUserByName(ctx(t), "alice"); return err },
		"second delete": func() error { return s.DeleteUser(ctx(t), u.ID) },
		"update":        func() error { _, err := s.UpdateUser(ctx(t), storage.User{ID: u.ID, Name: "x"}); return err },
		"malformed id":  func() error { _, err := s.GetUser(ctx(t), "../etc"); return err },
		"unknown id":    func() error { _, err := s.GetUser(ctx(t), uuid.NewString()); return err },
	} {
		if err := fn(); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s after delete: want ErrNotFound, got %v", name, err)
		}
	}
	if list := must(s.ListUsers(ctx(t))); len(list) != 1 || list[0].ID != bob.ID {
		t.Fatalf("list after delete: %+v", list)
	}
	// The name is free again.
	must(s.CreateUser(ctx(t), storage.User{Name: "ALICE", Role: storage.RoleViewer}))
}

func testUserNames(t *testing.T, s access.Store) {
	alice := must(s.CreateUser(ctx(t), storage.User{Name: "alice", Role: storage.RoleViewer}))
	bob := must(s.CreateUser(ctx(t), storage.User{Name: "Bob", Role: storage.RoleViewer}))
	_, err := s.CreateUser(ctx(t), storage.User{Name: "ALICE", Role: storage.RoleViewer})
	wantErr(t, "create with a taken name in another case", err, storage.ErrConflict)

	bob.Name = "Alice"
	_, err = s.UpdateUser(ctx(t), bob)
	wantErr(t, "rename to a taken name", err, storage.ErrConflict)
	if got := must(s.GetUserByName(ctx(t), "bob")); got.ID != bob.ID || got.Name != "Bob" {
		t.Fatalf("a refused rename changed the user: %+v", got)
	}

	// Changing only the case of one's own name is no conflict.
	alice.Name = "Alice"
	alice = must(s.UpdateUser(ctx(t), alice))
	if got := must(s.GetUserByName(ctx(t), "alice")); got.ID != alice.ID || got.Name != "Alice" {
		t.Fatalf("after a change of case: %+v", got)
	}

	// A rename moves the name: the new one finds the user, the old one is
	// free.
	bob.Name = "Robert"
	must(s.UpdateUser(ctx(t), bob))
	if got := must(s.GetUserByName(ctx(t), "ROBERT")); got.ID != bob.ID {
		t.Fatalf("by new name: %+v", got)
	}
	_, err = s.GetUserByName(ctx(t), "bob")
	wantErr(t, "by old name", err, storage.ErrNotFound)
	must(s.CreateUser(ctx(t), storage.User{Name: "bob", Role: storage.RoleViewer}))
}

func testTokens(t *testing.T, s access.Store) {
	alice := must(s.CreateUser(ctx(t), storage.User{Name: "alice", Role: storage.RoleEditor}))
	bob := must(s.CreateUser(ctx(t), storage.User{Name: "bob", Role: storage.RoleViewer}))
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	t1 := must(s.CreateToken(ctx(t), storage.APIToken{UserID: alice.ID, Name: "ci", Prefix: "swy_ab", Hash: tokenHash("one"), ExpiresAt: &exp}))
	if id, err := uuid.Parse(t1.ID); err != nil || id.Version() != 7 || t1.CreatedAt.IsZero() {
		t.Fatalf("created token: %+v", t1)
	}
	t2 := must(s.CreateToken(ctx(t), storage.APIToken{UserID: alice.ID, Name: "laptop", Prefix: "swy_cd", Hash: tokenHash("two")}))
	tb := must(s.CreateToken(ctx(t), storage.APIToken{UserID: bob.ID, Name: "bob's", Prefix: "swy_ef", Hash: tokenHash("three")}))

	for name, tok := range map[string]storage.APIToken{
		"unknown user":   {UserID: uuid.NewString(), Name: "x", Hash: tokenHash("four")},
		"malformed user": {UserID: "nope", Name: "x", Hash: tokenHash("four")},
		"no user":        {Name: "x", Hash: tokenHash("four")},
		"empty hash":     {UserID: alice.ID, Name: "x"},
	} {
		_, err := s.CreateToken(ctx(t), tok)
		wantErr(t, name, err, storage.ErrInvalid)
	}
	_, err := s.CreateToken(ctx(t), storage.APIToken{UserID: bob.ID, Name: "dup", Hash: tokenHash("one")})
	wantErr(t, "duplicate hash", err, storage.ErrConflict)

	list := must(s.ListTokens(ctx(t), alice.ID))
	if len(list) != 2 || list[0].ID != t1.ID || list[1].ID != t2.ID {
		t.Fatalf("alice's tokens, oldest first: %+v", list)
	}
	if list := must(s.ListTokens(ctx(t), bob.ID)); len(list) != 1 || list[0].ID != tb.ID {
		t.Fatalf("bob's tokens: %+v", list)
	}
	if list := must(s.ListTokens(ctx(t), uuid.NewString())); len(list) != 0 {
		t.Fatalf("an unknown user's tokens: %+v", list)
	}

	got := must(s.TokenByHash(ctx(t), tokenHash("one")))
	if got.ID != t1.ID || got.UserID != alice.ID || got.Name != "ci" || got.Prefix != "swy_ab" || string(got.Hash) != string(tokenHash("one")) ||
		got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || !got.CreatedAt.Equal(t1.CreatedAt) || got.LastUsedAt != nil {
		t.Fatalf("by hash: %+v", got)
	}
	_, err = s.TokenByHash(ctx(t), tokenHash("unknown"))
	wantErr(t, "unknown hash", err, storage.ErrNotFound)

	used := time.Date(2030, 3, 4, 5, 6, 7, 8, time.UTC)
	check(s.TouchToken(ctx(t), t1.ID, used))
	if got := must(s.TokenByHash(ctx(t), tokenHash("one"))); got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) || got.Name != "ci" {
		t.Fatalf("after touch: %+v", got)
	}

	check(s.DeleteToken(ctx(t), t1.ID))
	for name, fn := range map[string]func() error{
		"by hash":       func() error { _, err := s.TokenByHash(ctx(t), tokenHash("one")); return err },
		"second delete": func() error { return s.DeleteToken(ctx(t), t1.ID) },
		"touch":         func() error { return s.TouchToken(ctx(t), t1.ID, used) },
		"malformed id":  func() error { return s.DeleteToken(ctx(t), "../etc") },
	} {
		if err := fn(); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s after delete: want ErrNotFound, got %v", name, err)
		}
	}
	if list := must(s.ListTokens(ctx(t), alice.ID)); len(list) != 1 || list[0].ID != t2.ID {
		t.Fatalf("alice's tokens after delete: %+v", list)
	}
	// Its hash is free again.
	must(s.CreateToken(ctx(t), storage.APIToken{UserID: bob.ID, Name: "again", Hash: tokenHash("one")}))
}

func testSessions(t *testing.T, s access.Store) {
	u := must(s.CreateUser(ctx(t), storage.User{Name: "alice", Role: storage.RoleViewer}))
	now := time.Now().UTC()
	created := now.Add(-time.Minute).Truncate(time.Microsecond)
	live := storage.Session{ID: NewSessionID(), UserID: u.ID, CSRF: "csrf-token-1", CreatedAt: created, ExpiresAt: now.Add(time.Hour)}
	check(s.CreateSession(ctx(t), live))
	got := must(s.GetSession(ctx(t), live.ID))
	if got.ID != live.ID || got.UserID != u.ID || got.CSRF != "csrf-token-1" || !got.CreatedAt.Equal(created) || !got.ExpiresAt.Equal(live.ExpiresAt) {
		t.Fatalf("get: %+v", got)
	}

	for name, sess := range map[string]storage.Session{
		"empty id":       {UserID: u.ID, ExpiresAt: now.Add(time.Hour)},
		"unknown user":   {ID: NewSessionID(), UserID: uuid.NewString(), ExpiresAt: now.Add(time.Hour)},
		"malformed user": {ID: NewSessionID(), UserID: "nope", ExpiresAt: now.Add(time.Hour)},
	} {
		wantErr(t, name, s.CreateSession(ctx(t), sess), storage.ErrInvalid)
	}
	wantErr(t, "same id twice", s.CreateSession(ctx(t), live), storage.ErrConflict)

	expired := storage.Session{ID: NewSessionID(), UserID: u.ID, CSRF: "c", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	check(s.CreateSession(ctx(t), expired))
	_, err := s.GetSession(ctx(t), expired.ID)
	wantErr(t, "expired session", err, storage.ErrNotFound)
	_, err = s.GetSession(ctx(t), NewSessionID())
	wantErr(t, "unknown session", err, storage.ErrNotFound)

	// Deleting works on expired sessions too, and only once.
	check(s.DeleteSession(ctx(t), expired.ID))
	check(s.DeleteSession(ctx(t), live.ID))
	_, err = s.GetSession(ctx(t), live.ID)
	wantErr(t, "deleted session", err, storage.ErrNotFound)
	wantErr(t, "second delete", s.DeleteSession(ctx(t), live.ID), storage.ErrNotFound)
	// Their expiry entries went with them.
	if n := must(s.PurgeSessions(ctx(t), now.Add(48*time.Hour), 100)); n != 0 {
		t.Fatalf("purge after deleting every session removed %d", n)
	}
}

func testSessionsOfUser(t *testing.T, s access.Store) {
	alice := must(s.CreateUser(ctx(t), storage.User{Name: "alice", Role: storage.RoleViewer}))
	bob := must(s.CreateUser(ctx(t), storage.User{Name: "bob", Role: storage.RoleViewer}))
	now := time.Now().UTC().Truncate(time.Microsecond)
	// Made newest first, so that the listing must sort.
	second := storage.Session{ID: NewSessionID(), UserID: alice.ID, CSRF: "csrf-2", CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
	first := storage.Session{ID: NewSessionID(), UserID: alice.ID, CSRF: "csrf-1", CreatedAt: now.Add(-2 * time.Minute), ExpiresAt: now.Add(time.Hour)}
	expired := storage.Session{ID: NewSessionID(), UserID: alice.ID, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	bobs := storage.Session{ID: NewSessionID(), UserID: bob.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, sess := range []storage.Session{second, first, expired, bobs} {
		check(s.CreateSession(ctx(t), sess))
	}

	list := must(s.ListSessions(ctx(t), alice.ID))
	if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID || list[0].CSRF != "csrf-1" ||
		!list[0].CreatedAt.Equal(first.CreatedAt) || !list[0].ExpiresAt.Equal(first.ExpiresAt) || list[0].UserID != alice.ID {
		t.Fatalf("alice's live sessions, oldest first: %+v", list)
	}
	if list := must(s.ListSessions(ctx(t), uuid.NewString())); len(list) != 0 {
		t.Fatalf("an unknown user's sessions: %+v", list)
	}

	// All but the one kept, expired ones included.
	if n := must(s.DeleteSessions(ctx(t), alice.ID, second.ID)); n != 2 {
		t.Fatalf("deleting all but one of alice's sessions removed %d, want 2", n)
	}
	if list := must(s.ListSessions(ctx(t), alice.ID)); len(list) != 1 || list[0].ID != second.ID {
		t.Fatalf("alice's sessions after deleting the others: %+v", list)
	}
	for _, id := range []string{first.ID, expired.ID} {
		wantErr(t, "a deleted session", s.DeleteSession(ctx(t), id), storage.ErrNotFound)
	}
	if n := must(s.DeleteSessions(ctx(t), alice.ID, "")); n != 1 {
		t.Fatalf("deleting all of alice's sessions removed %d, want 1", n)
	}
	_, err := s.GetSession(ctx(t), second.ID)
	wantErr(t, "the kept session, deleted at last", err, storage.ErrNotFound)
	if n := must(s.DeleteSessions(ctx(t), uuid.NewString(), "")); n != 0 {
		t.Fatalf("deleting an unknown user's sessions removed %d", n)
	}
	// Bob's session is untouched, and the expiry entries of alice's went
	// with them: a purge far ahead finds bob's only.
	if got := must(s.GetSession(ctx(t), bobs.ID)); got.UserID != bob.ID {
		t.Fatalf("bob's session: %+v", got)
	}
	if n := must(s.PurgeSessions(ctx(t), now.Add(48*time.Hour), 100)); n != 1 {
		t.Fatalf("purge after deleting alice's sessions removed %d, want 1 (bob's)", n)
	}
}

func testRecordLogin(t *testing.T, s access.Store) {
	u := must(s.CreateUser(ctx(t), storage.User{Name: "alice", Role: storage.RoleViewer, PasswordHash: "old-hash"}))
	// An admin changes the user after a sign-in read it...
	changed := u
	changed.PasswordHash, changed.Role = "new-hash", storage.RoleEditor
	must(s.UpdateUser(ctx(t), changed))
	// ...and the sign-in records its time: only the time changes.
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	check(s.RecordLogin(ctx(t), u.ID, at))
	got := must(s.GetUser(ctx(t), u.ID))
	if got.LastLoginAt == nil || !got.LastLoginAt.Equal(at) || got.PasswordHash != "new-hash" || got.Role != storage.RoleEditor || got.Name != "alice" {
		t.Fatalf("after RecordLogin: %+v", got)
	}
	wantErr(t, "unknown user", s.RecordLogin(ctx(t), uuid.NewString(), at), storage.ErrNotFound)
}

func testPurgeSessions(t *testing.T, s access.Store) {
	u := must(s.CreateUser(ctx(t), storage.User{Name: "alice", Role: storage.RoleViewer}))
	now := time.Now().UTC()
	var ids []string
	for _, d := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour, time.Hour} {
		sess := storage.Session{ID: NewSessionID(), UserID: u.ID, CreatedAt: now.Add(d - time.Hour), ExpiresAt: now.Add(d)}
		check(s.CreateSession(ctx(t), sess))
		ids = append(ids, sess.ID)
	}
	if n := must(s.PurgeSessions(ctx(t), now, 0)); n != 0 {
		t.Fatalf("purged %d with limit 0", n)
	}
	if n := must(s.PurgeSessions(ctx(t), now, 2)); n != 2 {
		t.Fatalf("purged %d with limit 2", n)
	}
	if n := must(s.PurgeSessions(ctx(t), now, 100)); n != 1 {
		t.Fatalf("second purge removed %d, want 1", n)
	}
	if n := must(s.PurgeSessions(ctx(t), now, 100)); n != 0 {
		t.Fatalf("third purge removed %d, want 0", n)
	}
	for _, id := range ids[:3] {
		wantErr(t, "purged session delete", s.DeleteSession(ctx(t), id), storage.ErrNotFound)
	}
	if got := must(s.GetSession(ctx(t), ids[3])); got.ID != ids[3] {
		t.Fatalf("live session: %+v", got)
	}
}

func testDeleteUserCascades(t *testing.T, s access.Store) {
	alice := must(s.CreateUser(ctx(t), storage.User{Name: "alice", Role: storage.RoleEditor}))
	bob := must(s.CreateUser(ctx(t), storage.User{Name: "bob", Role: storage.RoleViewer}))
	now := time.Now().UTC()
	for i, u := range []storage.User{alice, alice, bob} {
		must(s.CreateToken(ctx(t), storage.APIToken{UserID: u.ID, Name: "t", Hash: tokenHash(fmt.Sprint("token", i))}))
	}
	aliceLive := storage.Session{ID: NewSessionID(), UserID: alice.ID, ExpiresAt: now.Add(time.Hour)}
	aliceExpired := storage.Session{ID: NewSessionID(), UserID: alice.ID, ExpiresAt: now.Add(-time.Hour)}
	bobLive := storage.Session{ID: NewSessionID(), UserID: bob.ID, ExpiresAt: now.Add(time.Hour)}
	for _, sess := range []storage.Session{aliceLive, aliceExpired, bobLive} {
		check(s.CreateSession(ctx(t), sess))
	}

	check(s.DeleteUser(ctx(t), alice.ID))
	if list := must(s.ListTokens(ctx(t), alice.ID)); len(list) != 0 {
		t.Fatalf("a deleted user's tokens remain: %+v", list)
	}
	for i := range 2 {
		_, err := s.TokenByHash(ctx(t), tokenHash(fmt.Sprint("token", i)))
		wantErr(t, "a deleted user's token by hash", err, storage.ErrNotFound)
	}
	for _, id := range []string{aliceLive.ID, aliceExpired.ID} {
		wantErr(t, "a deleted user's session", s.DeleteSession(ctx(t), id), storage.ErrNotFound)
	}
	// The expired session's expiry entry went too: nothing left to purge.
	if n := must(s.PurgeSessions(ctx(t), now, 100)); n != 0 {
		t.Fatalf("purge after the cascade removed %d", n)
	}
	// The hashes are free again; bob kept everything.
	must(s.CreateToken(ctx(t), storage.APIToken{UserID: bob.ID, Name: "t", Hash: tokenHash("token0")}))
	if got := must(s.TokenByHash(ctx(t), tokenHash("token2"))); got.UserID != bob.ID {
		t.Fatalf("bob's token: %+v", got)
	}
	if got := must(s.GetSession(ctx(t), bobLive.ID)); got.UserID != bob.ID {
		t.Fatalf("bob's session: %+v", got)
	}
}
