package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// maxUserName is the longest user name (see access.MaxUserName).
const maxUserName = access.MaxUserName

func (s *Server) listUsers(c echo.Context) error {
	all, err := s.users.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	out, err := page(c, all)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getUser(c echo.Context) error {
	u, err := s.users.GetUser(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) createUser(c echo.Context) error {
	var in access.UserInput
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := access.CreateUser(c.Request().Context(), s.users, in)
	if err != nil {
		return err
	}
	setAudit(c, "", u.ID, u.Name+" ("+u.Role+")")
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) updateUser(c echo.Context) error {
	var in access.UserInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.users.GetUser(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	before := u
	if err := in.Apply(&u); err != nil {
		return err
	}
	if u, err = s.users.UpdateUser(ctx, u); err != nil {
		return err
	}
	var changed []string
	for name, set := range map[string]bool{"name": in.Name != nil, "role": in.Role != nil, "password": in.Password != nil, "disabled": in.Disabled != nil} {
		if set {
			changed = append(changed, name)
		}
	}
	detail := u.Name + ": " + strings.Join(slices.Sorted(slices.Values(changed)), ", ")
	// A new password, a new role or a disable ends the user's sessions
	// (so that enabling the user again brings none back). Whoever changes
	// their own password or role keeps the session they do it from.
	if u.PasswordHash != before.PasswordHash || u.Role != before.Role || u.Disabled != before.Disabled {
		keep := ""
		if p := principal(c); p.UserID == u.ID && !u.Disabled {
			keep = p.SessionID
		}
		n, err := s.users.DeleteSessions(ctx, u.ID, keep)
		if err != nil {
			return fmt.Errorf("the user was changed, but ending their sessions failed (try DELETE /users/%s/sessions): %w", u.ID, err)
		}
		detail += fmt.Sprintf("; %d sessions ended", n)
	}
	setAudit(c, "", "", detail)
	return c.JSON(http.StatusOK, u)
}

func (s *Server) deleteUser(c echo.Context) error {
	if err := s.users.DeleteUser(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// tokenOwner is whose tokens a request is about: the caller's, or, for an
// admin, the user_id given.
func tokenOwner(c echo.Context, given string) (string, error) { return owner(c, given, "tokens") }

// owner is whose tokens or sessions (what) a request is about: the
// caller's, or, for an admin, the user_id given.
func owner(c echo.Context, given, what string) (string, error) {
	p := principal(c)
	if given != "" && given != p.UserID {
		if !p.Can(access.Admin) {
			return "", echo.NewHTTPError(http.StatusForbidden, "only an admin may manage another user's "+what)
		}
		return given, nil
	}
	if p.UserID == "" {
		return "", fmt.Errorf("%w: the admin token belongs to no user; pass user_id", storage.ErrInvalid)
	}
	return p.UserID, nil
}

func (s *Server) listTokens(c echo.Context) error {
	owner, err := tokenOwner(c, c.QueryParam("user_id"))
	if err != nil {
		return err
	}
	ts, err := s.users.ListTokens(c.Request().Context(), owner)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list[storage.APIToken]{Items: nonNil(ts)})
}

// maxTokenDays bounds a token's lifetime in days (0: no expiry).
const maxTokenDays = 3650

// createToken: POST /tokens {"name", "expires_in_days", "user_id"}
// answers the token once, with its record.
func (s *Server) createToken(c echo.Context) error {
	var in struct {
		Name          string `json:"name"`
		ExpiresInDays int    `json:"expires_in_days"`
		UserID        string `json:"user_id"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	owner, err := tokenOwner(c, in.UserID)
	if err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return fmt.Errorf("%w: name is required (up to 100 characters): say what the token is for", storage.ErrInvalid)
	}
	if err := field.Line("name", in.Name, 100); err != nil {
		return err
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > maxTokenDays {
		return fmt.Errorf("%w: expires_in_days must be from 0 (never) to %d, got %d", storage.ErrInvalid, maxTokenDays, in.ExpiresInDays)
	}
	tok, hash, err := access.NewToken()
	if err != nil {
		return err
	}
	t := storage.APIToken{UserID: owner, Name: in.Name, Prefix: tok[:len(access.TokenPrefix)+4], Hash: hash}
	if in.ExpiresInDays > 0 {
		exp := time.Now().UTC().Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour)
		t.ExpiresAt = &exp
	}
	if t, err = s.users.CreateToken(c.Request().Context(), t); err != nil {
		return err
	}
	setAudit(c, "", t.ID, t.Name)
	return c.JSON(http.StatusCreated, struct {
		storage.APIToken
		Token string `json:"token"` // shown this once
	}{t, tok})
}

func (s *Server) deleteToken(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	if !p.Can(access.Admin) {
		// Only one's own: look among them, so another's id is "not found".
		ts, err := s.users.ListTokens(ctx, p.UserID)
		if err != nil {
			return err
		}
		mine := false
		for _, t := range ts {
			mine = mine || t.ID == c.Param("id")
		}
		if !mine {
			return fmt.Errorf("token %s: %w", c.Param("id"), storage.ErrNotFound)
		}
	}
	if err := s.users.DeleteToken(ctx, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// sessionView is a session as the API shows it: never its cookie, its
// CSRF token or its id in the store (the cookie's SHA-256).
type sessionView struct {
	ID        string    `json:"id"` // sessionHandle
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current"` // the session making the request
}

// sessionHandle is the id the API shows a session by: one-way from the
// store's id, as that is from the cookie.
func sessionHandle(id string) string {
	sum := sha256.Sum256([]byte("switchyard session handle\x00" + id))
	return hex.EncodeToString(sum[:16])
}

// listSessions: GET /sessions lists the caller's sessions (admins may
// pass ?user_id=), oldest first, the current one marked.
func (s *Server) listSessions(c echo.Context) error {
	who, err := owner(c, c.QueryParam("user_id"), "sessions")
	if err != nil {
		return err
	}
	all, err := s.users.ListSessions(c.Request().Context(), who)
	if err != nil {
		return err
	}
	current := principal(c).SessionID
	out := make([]sessionView, 0, len(all))
	for _, sess := range all {
		out = append(out, sessionView{ID: sessionHandle(sess.ID), CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt, Current: sess.ID == current})
	}
	return c.JSON(http.StatusOK, list[sessionView]{Items: out})
}

// endSession: DELETE /sessions/{id} ends one of the caller's sessions
// (admins: of the user_id given); another user's is "not found".
func (s *Server) endSession(c echo.Context) error {
	who, err := owner(c, c.QueryParam("user_id"), "sessions")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	all, err := s.users.ListSessions(ctx, who)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(sess storage.Session) bool { return sessionHandle(sess.ID) == c.Param("id") })
	if i < 0 {
		return fmt.Errorf("session %s: %w", c.Param("id"), storage.ErrNotFound)
	}
	if err := s.users.DeleteSession(ctx, all[i].ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// endOtherSessions: POST /sessions/end-others ends every session of the
// caller but the one making the request (through a token: every one).
func (s *Server) endOtherSessions(c echo.Context) error {
	p := principal(c)
	if p.UserID == "" {
		return fmt.Errorf("%w: the admin token belongs to no user and has no sessions; use DELETE /users/{id}/sessions", storage.ErrInvalid)
	}
	n, err := s.users.DeleteSessions(c.Request().Context(), p.UserID, p.SessionID)
	if err != nil {
		return err
	}
	setAudit(c, "", p.UserID, fmt.Sprintf("%d sessions ended", n))
	return c.JSON(http.StatusOK, map[string]int{"ended": n})
}

// endUserSessions: DELETE /users/{id}/sessions (admin) ends every
// session of a user.
func (s *Server) endUserSessions(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.users.GetUser(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	n, err := s.users.DeleteSessions(ctx, u.ID, "")
	if err != nil {
		return err
	}
	setAudit(c, "", "", fmt.Sprintf("%s: %d sessions ended", u.Name, n))
	return c.JSON(http.StatusOK, map[string]int{"ended": n})
}

// listAudit: GET /audit?actor=&action=&target=&since=&until=&limit=&cursor=
func (s *Server) listAudit(c echo.Context) error {
	if err := knownParams(c, "actor", "action", "target", "since", "until", "limit", "cursor"); err != nil {
		return err
	}
	q, err := readListQuery(c, nil)
	if err != nil {
		return err
	}
	items, next, err := s.store.ListAudit(c.Request().Context(), storage.AuditFilter{
		Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Target: c.QueryParam("target"),
		Since: q.since, Until: q.until, Cursor: c.QueryParam("cursor"), Limit: q.limit,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list[storage.AuditEntry]{Items: nonNil(items), NextCursor: next})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
