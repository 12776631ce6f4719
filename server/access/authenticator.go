package access

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

const (
	// SessionTTL is how long a UI session lasts.
	SessionTTL = 12 * time.Hour
	// tokenTouchEvery bounds how often a token's last use is written.
	tokenTouchEvery = 5 * time.Minute
)

// ErrRefused is what every refused credential is: each error below is
// it (errors.Is) and says why, in words for whoever presented the
// credential. The server answers them with 401.
var ErrRefused = errors.New("credential refused")

// Why a credential was refused.
var (
	ErrWrongPassword error = refusal("wrong name or password")
	ErrUserChanged   error = refusal("the user was changed while signing in; sign in again")
	ErrTokenUnknown  error = refusal("this API token is not valid: it was revoked, or it is mistyped")
	ErrTokenExpired  error = refusal("this API token has expired")
	ErrSessionEnded  error = refusal("your session has ended (signed out, expired, or ended by a change to your user); sign in again")
	ErrUserGone      error = refusal("the user of this token or session no longer exists")
	ErrUserDisabled  error = refusal("this user is disabled")
)

// refusal is a refused credential; its text is the reason alone.
type refusal string

func (r refusal) Error() string        { return string(r) }
func (r refusal) Is(target error) bool { return target == ErrRefused }

// Authenticator finds who presents a personal API token or a session
// cookie, and signs users in. It knows nothing of HTTP: the server reads
// the credentials from requests and writes the cookie.
type Authenticator struct {
	store Store
	log   *slog.Logger
}

// NewAuthenticator returns the authenticator of the users, tokens and
// sessions in store; it logs to log the writes that fail without failing
// the request (a token's last use, a sign-in time).
func NewAuthenticator(store Store, log *slog.Logger) *Authenticator {
	return &Authenticator{store: store, log: log}
}

// Token finds who a personal API token belongs to, and records its use.
func (a *Authenticator) Token(ctx context.Context, token string) (Principal, error) {
	t, err := a.store.TokenByHash(ctx, HashToken(token))
	if err != nil {
		return Principal{}, refusedIfNotFound(err, ErrTokenUnknown)
	}
	now := time.Now()
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return Principal{}, ErrTokenExpired
	}
	u, err := a.activeUser(ctx, t.UserID)
	if err != nil {
		return Principal{}, err
	}
	a.touchToken(ctx, t, now)
	return Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: "token"}, nil
}

// Session finds who a session cookie's value belongs to. The principal
// carries the session's id and its CSRF token, which the caller checks.
func (a *Authenticator) Session(ctx context.Context, cookie string) (Principal, error) {
	sess, err := a.store.GetSession(ctx, SessionID(cookie))
	if err != nil {
		return Principal{}, refusedIfNotFound(err, ErrSessionEnded)
	}
	u, err := a.activeUser(ctx, sess.UserID)
	if err != nil {
		return Principal{}, err
	}
	return Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: "session", SessionID: sess.ID, CSRF: sess.CSRF}, nil
}

// activeUser loads a token's or session's user; a deleted or disabled
// user is refused.
func (a *Authenticator) activeUser(ctx context.Context, id string) (storage.User, error) {
	u, err := a.store.GetUser(ctx, id)
	if err != nil {
		return u, refusedIfNotFound(err, ErrUserGone)
	}
	if u.Disabled {
		return u, ErrUserDisabled
	}
	return u, nil
}

// refusedIfNotFound turns a credential not found into the refusal that
// says why.
func refusedIfNotFound(err, why error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return why
	}
	return err
}

// touchToken records a token's use, at most every tokenTouchEvery.
func (a *Authenticator) touchToken(ctx context.Context, t storage.APIToken, now time.Time) {
	if t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < tokenTouchEvery {
		return
	}
	if err := a.store.TouchToken(ctx, t.ID, now.UTC()); err != nil {
		a.log.Warn("recording an API token's use", "token", t.ID, "err", err)
	}
}

// SignIn checks a name and a password and starts a UI session: it
// answers the user (with its sign-in time), the session and the value of
// the cookie that carries it. A wrong name or password, or a disabled
// user, is ErrWrongPassword, answered with the user the name found (if
// any) for the audit log.
func (a *Authenticator) SignIn(ctx context.Context, name, password string) (u storage.User, sess storage.Session, cookie string, err error) {
	u, err = a.store.GetUserByName(ctx, name)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return u, sess, "", err
	}
	if !CheckPassword(u.PasswordHash, password) || err != nil || u.Disabled {
		return u, sess, "", ErrWrongPassword
	}
	cookie, id, csrf, err := NewSession()
	if err != nil {
		return u, sess, "", err
	}
	now := time.Now().UTC()
	sess = storage.Session{ID: id, UserID: u.ID, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := a.store.CreateSession(ctx, sess); err != nil {
		return u, sess, "", err
	}
	// An admin may have changed the user since it was read here. The
	// change ended the sessions it found; this one it may have missed, so
	// it must not outlive a password, role or disable it predates.
	if cur, err := a.store.GetUser(ctx, u.ID); err != nil || cur.PasswordHash != u.PasswordHash || cur.Role != u.Role || cur.Disabled {
		if derr := a.store.DeleteSession(ctx, id); derr != nil && !errors.Is(derr, storage.ErrNotFound) {
			a.log.Error("ending a session made while its user changed", "user", u.ID, "err", derr)
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return u, sess, "", err
		}
		return u, sess, "", ErrUserChanged
	}
	u.LastLoginAt = &now
	if err := a.store.RecordLogin(ctx, u.ID, now); err != nil {
		a.log.Warn("recording a sign-in time", "user", u.ID, "err", err)
	}
	return u, sess, cookie, nil
}
