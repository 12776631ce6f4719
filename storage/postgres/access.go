package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// Users, API tokens and sessions. None of their secrets is sealed: a
// password hash, a token hash and a session id are one-way already, and the
// CSRF token is only worth something together with the session cookie,
// which the store never holds. Deleting a user deletes its tokens and
// sessions by cascade.

const userColumns = `id, name, display_name, role, disabled, password_hash, created_at, updated_at, last_login_at`

func scanUser(row pgx.Row) (storage.User, error) {
	var u storage.User
	var created, updated int64
	var login *int64
	err := row.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Role, &u.Disabled, &u.PasswordHash, &created, &updated, &login)
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = timeOf(&created), timeOf(&updated), timePtrOf(login)
	return u, err
}

// nameKey is a user name as its unique index holds it.
func nameKey(name string) string { return strings.ToLower(name) }

// ListUsers returns every user, oldest first.
func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	out, err := queryAll(ctx, s.db(), scanUser, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", s.mapErr(err))
	}
	return out, nil
}

// GetUser returns one user, password hash included.
func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	user, err := getByID(ctx, s, "users", userColumns, id, scanUser)
	if err != nil {
		return storage.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return user, nil
}

// GetUserByName returns the user whose name equals name, ignoring case.
func (s *Store) GetUserByName(ctx context.Context, name string) (storage.User, error) {
	user, err := scanUser(s.db().QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name_key = $1`, nameKey(name)))
	if err != nil {
		return storage.User{}, fmt.Errorf("user named %q: %w", name, s.mapErr(err))
	}
	return user, nil
}

// CreateUser stores u with a new id. Its name must be free, ignoring case.
func (s *Store) CreateUser(ctx context.Context, u storage.User) (storage.User, error) {
	if strings.TrimSpace(u.Name) == "" {
		return storage.User{}, fmt.Errorf("create user: %w: empty name", storage.ErrInvalid)
	}
	id, err := newID()
	if err != nil {
		return storage.User{}, fmt.Errorf("create user: %w", err)
	}
	now, ns := s.nowTime()
	u.ID, u.CreatedAt, u.UpdatedAt = id.String(), now, now
	_, err = s.db().Exec(ctx, `INSERT INTO users (`+userColumns+`, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)`,
		id, u.Name, u.DisplayName, u.Role, u.Disabled, u.PasswordHash, ns, nanosPtr(u.LastLoginAt), nameKey(u.Name))
	if err != nil {
		return storage.User{}, fmt.Errorf("create user: %w", s.mapErr(err))
	}
	return u, nil
}

// UpdateUser replaces every field of u.ID but its creation time, password
// hash included.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) (storage.User, error) {
	id, err := parseID(u.ID)
	if err != nil {
		return storage.User{}, fmt.Errorf("update user: %w", err)
	}
	if strings.TrimSpace(u.Name) == "" {
		return storage.User{}, fmt.Errorf("update user %s: %w: empty name", u.ID, storage.ErrInvalid)
	}
	now, ns := s.nowTime()
	u.UpdatedAt = now
	var created int64
	err = s.db().QueryRow(ctx, `UPDATE users SET name = $2, name_key = $3, display_name = $4, role = $5, disabled = $6,
			password_hash = $7, updated_at = $8, last_login_at = $9
		WHERE id = $1 RETURNING created_at`,
		id, u.Name, nameKey(u.Name), u.DisplayName, u.Role, u.Disabled, u.PasswordHash, ns, nanosPtr(u.LastLoginAt)).Scan(&created)
	if err != nil {
		return storage.User{}, fmt.Errorf("update user %s: %w", u.ID, s.mapErr(err))
	}
	u.CreatedAt = timeOf(&created)
	return u, nil
}

// touch sets one time column of the row id of table; ErrNotFound when
// there is no such row.
func (s *Store) touch(ctx context.Context, table, column, id string, at time.Time) error {
	u, err := parseID(id)
	if err != nil {
		return err
	}
	tag, err := s.db().Exec(ctx, `UPDATE `+table+` SET `+column+` = $2 WHERE id = $1`, u, nanos(at))
	if err == nil && tag.RowsAffected() == 0 {
		err = storage.ErrNotFound
	}
	return s.mapErr(err)
}

// RecordLogin sets a user's LastLoginAt and nothing else.
func (s *Store) RecordLogin(ctx context.Context, id string, at time.Time) error {
	if err := s.touch(ctx, "users", "last_login_at", id, at); err != nil {
		return fmt.Errorf("record login of %s: %w", id, err)
	}
	return nil
}

// DeleteUser removes a user with its tokens and sessions.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "users", id); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// userOf parses the user id of a token or session, which must name a
// user: ErrInvalid otherwise (the insert that follows checks it exists).
func userOf(id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("%w: no user %q", storage.ErrInvalid, id)
	}
	return u, nil
}

// insertForUser runs an INSERT ... SELECT ... WHERE EXISTS (the user) and
// answers ErrInvalid when the user does not exist.
func (s *Store) insertForUser(ctx context.Context, userID, sql string, args ...any) error {
	tag, err := s.db().Exec(ctx, sql, args...)
	if err == nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: no user %q", storage.ErrInvalid, userID)
	}
	return s.mapErr(err)
}

const tokenColumns = `id, user_id, name, prefix, hash, created_at, expires_at, last_used_at`

func scanToken(row pgx.Row) (storage.APIToken, error) {
	var t storage.APIToken
	var created int64
	var expires, used *int64
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.Hash, &created, &expires, &used)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = timeOf(&created), timePtrOf(expires), timePtrOf(used)
	return t, err
}

// CreateToken stores t with a new id. Its user must exist and its hash be
// new.
func (s *Store) CreateToken(ctx context.Context, t storage.APIToken) (storage.APIToken, error) {
	if len(t.Hash) == 0 {
		return storage.APIToken{}, fmt.Errorf("create token: %w: empty hash", storage.ErrInvalid)
	}
	user, err := userOf(t.UserID)
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	id, err := newID()
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	now, ns := s.nowTime()
	t.ID, t.CreatedAt, t.Hash = id.String(), now, append([]byte(nil), t.Hash...)
	err = s.insertForUser(ctx, t.UserID, `INSERT INTO tokens (`+tokenColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)`,
		id, user, t.Name, t.Prefix, t.Hash, ns, nanosPtr(t.ExpiresAt), nanosPtr(t.LastUsedAt))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

// ListTokens returns a user's tokens, oldest first; none for an unknown
// user.
func (s *Store) ListTokens(ctx context.Context, userID string) ([]storage.APIToken, error) {
	u, err := uuid.Parse(userID)
	if err != nil {
		return []storage.APIToken{}, nil
	}
	out, err := queryAll(ctx, s.db(), scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE user_id = $1 ORDER BY id`, u)
	if err != nil {
		return nil, fmt.Errorf("list tokens of %s: %w", userID, s.mapErr(err))
	}
	return out, nil
}

// TokenByHash returns the token with that hash, expired or not: the
// caller judges ExpiresAt.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (storage.APIToken, error) {
	if len(hash) == 0 {
		return storage.APIToken{}, fmt.Errorf("token by hash: %w", storage.ErrNotFound)
	}
	t, err := scanToken(s.db().QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if err != nil {
		// Never the hash itself in an error.
		return storage.APIToken{}, fmt.Errorf("token by hash: %w", s.mapErr(err))
	}
	return t, nil
}

// TouchToken records when a token was last used.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	if err := s.touch(ctx, "tokens", "last_used_at", id, at); err != nil {
		return fmt.Errorf("touch token %s: %w", id, err)
	}
	return nil
}

// DeleteToken removes a token.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "tokens", id); err != nil {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	return nil
}

const sessionColumns = `id, user_id, csrf, created_at, expires_at`

func scanSession(row pgx.Row) (storage.Session, error) {
	var sess storage.Session
	var created, expires int64
	err := row.Scan(&sess.ID, &sess.UserID, &sess.CSRF, &created, &expires)
	sess.CreatedAt, sess.ExpiresAt = timeOf(&created), timeOf(&expires)
	return sess, err
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
	user, err := userOf(sess.UserID)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.now().UTC()
	}
	err = s.insertForUser(ctx, sess.UserID, `INSERT INTO sessions (`+sessionColumns+`)
		SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)`,
		sess.ID, user, sess.CSRF, nanos(sess.CreatedAt), nanos(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// GetSession returns a session that has not expired; an expired one is
// ErrNotFound like an unknown one.
func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	sess, err := scanSession(s.db().QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1 AND expires_at > $2`,
		id, nanos(s.now())))
	if err != nil {
		// The id is a hash of the cookie; still, keep it out of errors.
		return storage.Session{}, fmt.Errorf("session: %w", s.mapErr(err))
	}
	return sess, nil
}

// DeleteSession removes a session, expired or not.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.deleteRow(ctx, "sessions", id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// ListSessions returns a user's sessions that have not expired, oldest
// first.
func (s *Store) ListSessions(ctx context.Context, userID string) ([]storage.Session, error) {
	u, err := uuid.Parse(userID)
	if err != nil {
		return []storage.Session{}, nil
	}
	out, err := queryAll(ctx, s.db(), scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = $1 AND expires_at > $2
		ORDER BY created_at, id`, u, nanos(s.now()))
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", userID, s.mapErr(err))
	}
	return out, nil
}

// DeleteSessions deletes every session of a user but keep, and answers
// how many it deleted.
func (s *Store) DeleteSessions(ctx context.Context, userID, keep string) (int, error) {
	u, err := uuid.Parse(userID)
	if err != nil {
		return 0, nil // no session has that user
	}
	tag, err := s.db().Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, u, keep)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %s: %w", userID, s.mapErr(err))
	}
	return int(tag.RowsAffected()), nil
}

// PurgeSessions deletes up to limit sessions that expired before now,
// earliest first.
func (s *Store) PurgeSessions(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := s.deleteFirst(ctx, s.db(), "sessions", "id", "expires_at", nanos(now), limit)
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return n, nil
}
