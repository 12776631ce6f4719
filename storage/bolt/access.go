package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// Users, API tokens and sessions live in six buckets:
//
//	users         user id -> diskUser (password hash included)
//	user_names    lower-cased name -> user id (unique index)
//	tokens        token id -> diskToken (hash included)
//	token_hashes  token hash -> token id
//	sessions      session id (as given) -> diskSession (CSRF included)
//	session_exp   expiry (Unix nanoseconds, big endian) + session id -> empty
//
// The storage records keep their secrets out of JSON (tag "-") so that they
// never reach a client; the stored records carry them under their own tags.
// None of them is sealed: a password hash, a token hash and a session id
// are one-way already, and the CSRF token is only worth something together
// with the session cookie, which the store never holds.

// nameKey is a user name's key in the user_names index.
func nameKey(name string) []byte { return []byte(strings.ToLower(name)) }

// sessionExpKey is a session's entry in the session_exp index.
func sessionExpKey(r *diskSession) []byte {
	return append(expiryBytes(r.ExpiresAt), r.ID...)
}

// userExists reports whether the user id names a stored user.
func userExists(tx *bolt.Tx, userID string) bool {
	k, err := key(userID)
	return err == nil && tx.Bucket(bucketUsers).Get(k) != nil
}

// ListUsers returns every user, oldest first.
func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	out := []storage.User{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var r diskUser
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("user %s: %w", idOf(k), err)
			}
			out = append(out, storage.User(r))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// GetUser returns one user, password hash included.
func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	k, err := key(id)
	if err != nil {
		return storage.User{}, fmt.Errorf("user %w", err)
	}
	var r diskUser
	err = s.view(ctx, func(tx *bolt.Tx) error { return getRecord(tx.Bucket(bucketUsers), k, &r) })
	if err != nil {
		return storage.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return storage.User(r), nil
}

// GetUserByName returns the user whose name equals name, ignoring case.
func (s *Store) GetUserByName(ctx context.Context, name string) (storage.User, error) {
	var r diskUser
	err := s.view(ctx, func(tx *bolt.Tx) error {
		k := tx.Bucket(bucketUserNames).Get(nameKey(name))
		if k == nil {
			return storage.ErrNotFound
		}
		return getRecord(tx.Bucket(bucketUsers), k, &r)
	})
	if err != nil {
		return storage.User{}, fmt.Errorf("user named %q: %w", name, err)
	}
	return storage.User(r), nil
}

// CreateUser stores u with a new id. Its name must be free, ignoring case.
func (s *Store) CreateUser(ctx context.Context, u storage.User) (storage.User, error) {
	if strings.TrimSpace(u.Name) == "" {
		return storage.User{}, fmt.Errorf("create user: %w: empty name", storage.ErrInvalid)
	}
	id, k, err := newID()
	if err != nil {
		return storage.User{}, fmt.Errorf("create user: %w", err)
	}
	now := s.now().UTC()
	u.ID, u.CreatedAt, u.UpdatedAt = id, now, now
	raw, err := encodeRecord(diskUser(u))
	if err != nil {
		return storage.User{}, fmt.Errorf("create user: %w", err)
	}
	nk := nameKey(u.Name)
	err = s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		names := tx.Bucket(bucketUserNames)
		if names.Get(nk) != nil {
			return fmt.Errorf("%w: a user named %q already exists", storage.ErrConflict, u.Name)
		}
		if err := names.Put(nk, k); err != nil {
			return err
		}
		return tx.Bucket(bucketUsers).Put(k, raw)
	})
	if err != nil {
		return storage.User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UpdateUser replaces every field of u.ID but its creation time, password
// hash included, and moves its name in the index if it changed.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) (storage.User, error) {
	k, err := key(u.ID)
	if err != nil {
		return storage.User{}, fmt.Errorf("update user: %w", err)
	}
	if strings.TrimSpace(u.Name) == "" {
		return storage.User{}, fmt.Errorf("update user %s: %w: empty name", u.ID, storage.ErrInvalid)
	}
	u.UpdatedAt = s.now().UTC()
	r := diskUser(u)
	nk := nameKey(u.Name)
	err = s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		users, names := tx.Bucket(bucketUsers), tx.Bucket(bucketUserNames)
		var old diskUser
		if err := getRecord(users, k, &old); err != nil {
			return err
		}
		r.CreatedAt = old.CreatedAt
		if ok := nameKey(old.Name); !bytes.Equal(ok, nk) {
			if names.Get(nk) != nil {
				return fmt.Errorf("%w: a user named %q already exists", storage.ErrConflict, u.Name)
			}
			if err := names.Delete(ok); err != nil {
				return err
			}
			if err := names.Put(nk, k); err != nil {
				return err
			}
		}
		return putRecord(users, k, r)
	})
	if err != nil {
		return storage.User{}, fmt.Errorf("update user %s: %w", u.ID, err)
	}
	u.CreatedAt = r.CreatedAt
	return u, nil
}

// RecordLogin sets a user's LastLoginAt, leaving every other field as
// stored.
func (s *Store) RecordLogin(ctx context.Context, id string, at time.Time) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	at = at.UTC()
	err = s.update(ctx, func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		var r diskUser
		if err := getRecord(users, k, &r); err != nil {
			return err
		}
		r.LastLoginAt = &at
		return putRecord(users, k, r)
	})
	if err != nil {
		return fmt.Errorf("record login of %s: %w", id, err)
	}
	return nil
}

// DeleteUser removes a user, its name, its tokens and its sessions, with
// their index entries, in one write.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	err = s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		var r diskUser
		if err := getRecord(users, k, &r); err != nil {
			return err
		}
		if err := deleteUserTokens(tx, id); err != nil {
			return err
		}
		if _, err := deleteUserSessions(tx, id, ""); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUserNames).Delete(nameKey(r.Name)); err != nil {
			return err
		}
		return users.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// deleteUserTokens deletes every token of a user with its hash entry.
// It collects first: deleting while iterating skips keys.
func deleteUserTokens(tx *bolt.Tx, userID string) error {
	tokens := tx.Bucket(bucketTokens)
	var doomed []diskToken
	var keys [][]byte
	err := tokens.ForEach(func(k, v []byte) error {
		var r diskToken
		if err := decodeRecord(v, &r); err != nil {
			return fmt.Errorf("token %s: %w", idOf(k), err)
		}
		if r.UserID == userID {
			doomed, keys = append(doomed, r), append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	hashes := tx.Bucket(bucketTokenHashes)
	for i, r := range doomed {
		if err := hashes.Delete(r.Hash); err != nil {
			return err
		}
		if err := tokens.Delete(keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// deleteUserSessions deletes every session of a user but keep, with its
// expiry entry, and answers how many. It collects first: deleting while
// iterating skips keys.
func deleteUserSessions(tx *bolt.Tx, userID, keep string) (int, error) {
	sessions := tx.Bucket(bucketSessions)
	var doomed []diskSession
	err := sessions.ForEach(func(k, v []byte) error {
		var r diskSession
		if err := decodeRecord(v, &r); err != nil {
			return fmt.Errorf("session record: %w", err)
		}
		if r.UserID == userID && string(k) != keep {
			r.ID = string(k) // the key is the truth
			doomed = append(doomed, r)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	exp := tx.Bucket(bucketSessionExp)
	for i := range doomed {
		if err := exp.Delete(sessionExpKey(&doomed[i])); err != nil {
			return 0, err
		}
		if err := sessions.Delete([]byte(doomed[i].ID)); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// CreateToken stores t with a new id. Its user must exist and its hash be
// new.
func (s *Store) CreateToken(ctx context.Context, t storage.APIToken) (storage.APIToken, error) {
	if len(t.Hash) == 0 {
		return storage.APIToken{}, fmt.Errorf("create token: %w: empty hash", storage.ErrInvalid)
	}
	id, k, err := newID()
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	t.ID, t.CreatedAt = id, s.now().UTC()
	t.Hash = bytes.Clone(t.Hash)
	raw, err := encodeRecord(diskToken(t))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	err = s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		if !userExists(tx, t.UserID) {
			return fmt.Errorf("%w: no user %q", storage.ErrInvalid, t.UserID)
		}
		hashes := tx.Bucket(bucketTokenHashes)
		if hashes.Get(t.Hash) != nil {
			return fmt.Errorf("%w: a token with that hash already exists", storage.ErrConflict)
		}
		if err := hashes.Put(t.Hash, k); err != nil {
			return err
		}
		return tx.Bucket(bucketTokens).Put(k, raw)
	})
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

// ListTokens returns a user's tokens, oldest first; none for an unknown
// user.
func (s *Store) ListTokens(ctx context.Context, userID string) ([]storage.APIToken, error) {
	out := []storage.APIToken{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var r diskToken
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("token %s: %w", idOf(k), err)
			}
			if r.UserID == userID {
				out = append(out, storage.APIToken(r))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens of %s: %w", userID, err)
	}
	return out, nil
}

// TokenByHash returns the token with that hash, expired or not: the
// caller judges ExpiresAt.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (storage.APIToken, error) {
	if len(hash) == 0 {
		return storage.APIToken{}, fmt.Errorf("token by hash: %w", storage.ErrNotFound)
	}
	var r diskToken
	err := s.view(ctx, func(tx *bolt.Tx) error {
		k := tx.Bucket(bucketTokenHashes).Get(hash)
		if k == nil {
			return storage.ErrNotFound
		}
		return getRecord(tx.Bucket(bucketTokens), k, &r)
	})
	if err != nil {
		// Never the hash itself in an error.
		return storage.APIToken{}, fmt.Errorf("token by hash: %w", err)
	}
	return storage.APIToken(r), nil
}

// TouchToken sets a token's LastUsedAt.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	at = at.UTC()
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var r diskToken
		if err := getRecord(b, k, &r); err != nil {
			return err
		}
		r.LastUsedAt = &at
		return putRecord(b, k, r)
	})
	if err != nil {
		return fmt.Errorf("touch token %s: %w", id, err)
	}
	return nil
}

// DeleteToken removes a token and its hash entry.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	err = s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var r diskToken
		if err := getRecord(b, k, &r); err != nil {
			return err
		}
		if err := tx.Bucket(bucketTokenHashes).Delete(r.Hash); err != nil {
			return err
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	return nil
}

// CreateSession stores a session under the id the caller made. Its user
// must exist; CreatedAt defaults to now.
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	switch {
	case sess.ID == "":
		return fmt.Errorf("create session: %w: empty id", storage.ErrInvalid)
	case sess.ExpiresAt.IsZero():
		return fmt.Errorf("create session: %w: no expiry", storage.ErrInvalid)
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.now().UTC()
	}
	r := diskSession(sess)
	raw, err := encodeRecord(r)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	k, ek := []byte(sess.ID), sessionExpKey(&r)
	err = s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		if !userExists(tx, sess.UserID) {
			return fmt.Errorf("%w: no user %q", storage.ErrInvalid, sess.UserID)
		}
		b := tx.Bucket(bucketSessions)
		if b.Get(k) != nil {
			return fmt.Errorf("%w: session exists", storage.ErrConflict)
		}
		if err := b.Put(k, raw); err != nil {
			return err
		}
		return tx.Bucket(bucketSessionExp).Put(ek, nil)
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// GetSession returns a session that has not expired; an expired one is
// ErrNotFound like an unknown one.
func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	var r diskSession
	err := s.view(ctx, func(tx *bolt.Tx) error { return getRecord(tx.Bucket(bucketSessions), []byte(id), &r) })
	if err == nil && !r.ExpiresAt.After(s.now()) {
		err = fmt.Errorf("%w: expired", storage.ErrNotFound)
	}
	if err != nil {
		// The id is a hash of the cookie; still, keep it out of errors.
		return storage.Session{}, fmt.Errorf("session: %w", err)
	}
	return storage.Session(r), nil
}

// DeleteSession removes a session, expired or not, and its expiry entry.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	k := []byte(id)
	err := s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var r diskSession
		if err := getRecord(b, k, &r); err != nil {
			return err
		}
		r.ID = id
		if err := tx.Bucket(bucketSessionExp).Delete(sessionExpKey(&r)); err != nil {
			return err
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// ListSessions returns a user's sessions that have not expired, oldest
// first.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]storage.Session, error) {
	out := []storage.Session{}
	now := s.now()
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var r diskSession
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("session record: %w", err)
			}
			if r.UserID == userID && r.ExpiresAt.After(now) {
				r.ID = string(k)
				out = append(out, storage.Session(r))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", userID, err)
	}
	slices.SortStableFunc(out, func(a, b storage.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// DeleteSessions deletes every session of a user but keep, with their
// expiry entries, in one write.
func (s *Store) DeleteSessions(ctx context.Context, userID, keep string) (int, error) {
	var n int
	err := s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		var err error
		n, err = deleteUserSessions(tx, userID, keep)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	return n, nil
}

// PurgeSessions deletes up to limit sessions that expired before now,
// earliest first.
func (s *Store) PurgeSessions(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	cutoff := expiryBytes(now)
	due := func(k []byte) bool { return k != nil && bytes.Compare(k[:8], cutoff) < 0 }
	// Most runs find nothing: look first, so that they cost no commit.
	var found bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketSessionExp).Cursor().First()
		found = due(k)
		return nil
	})
	if err != nil || !found {
		return 0, wrapPurge("sessions", err)
	}
	var n int
	err = s.updateChanging(ctx, storage.ChangeAccess, func(tx *bolt.Tx) error {
		n = 0
		sessions, c := tx.Bucket(bucketSessions), tx.Bucket(bucketSessionExp).Cursor()
		for k, _ := c.First(); due(k) && n < limit; k, _ = c.First() {
			id := k[8:]
			if raw := sessions.Get(id); raw != nil {
				var r diskSession
				if err := decodeRecord(raw, &r); err != nil {
					return fmt.Errorf("session record: %w", err)
				}
				// Only if the entry is the session's own.
				if int64(binary.BigEndian.Uint64(k[:8])) == r.ExpiresAt.UnixNano() {
					if err := sessions.Delete(bytes.Clone(id)); err != nil {
						return err
					}
				}
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, wrapPurge("sessions", err)
	}
	return n, nil
}

// wrapPurge adds context to a purge's error; nil stays nil.
func wrapPurge(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("purge %s: %w", what, err)
}
