package server

import (
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

// userInput is the body of POST and PUT /users. On PUT, a field left out
// keeps its value.
type userInput struct {
	Name        *string `json:"name"`
	DisplayName *string `json:"display_name"`
	Role        *string `json:"role"`
	Password    *string `json:"password"`
	Disabled    *bool   `json:"disabled"`
}

const maxUserName = 64

// apply overlays the input on u, hashing a new password.
func (in *userInput) apply(u *storage.User) error {
	if in.Name != nil {
		u.Name = strings.TrimSpace(*in.Name)
	}
	if in.DisplayName != nil {
		u.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	if err := field.Line("display_name", u.DisplayName, field.MaxName); err != nil {
		return err
	}
	if in.Role != nil {
		u.Role = *in.Role
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	if err := checkUserName(u.Name); err != nil {
		return err
	}
	if !access.ValidRole(u.Role) {
		return fmt.Errorf("%w: role must be one of %s", storage.ErrInvalid, strings.Join(access.Roles, ", "))
	}
	if in.Password != nil {
		if err := access.CheckPasswordPolicy(*in.Password); err != nil {
			return fmt.Errorf("%w: %v", storage.ErrInvalid, err)
		}
		h, err := access.HashPassword(*in.Password)
		if err != nil {
			return err
		}
		u.PasswordHash = h
	}
	if u.PasswordHash == "" {
		return fmt.Errorf("%w: password is required", storage.ErrInvalid)
	}
	return nil
}

func checkUserName(name string) error {
	if name == "" || len(name) > maxUserName {
		return fmt.Errorf("%w: name is required, up to %d characters", storage.ErrInvalid, maxUserName)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return fmt.Errorf("%w: name may hold letters, digits, '.', '_', '@' and '-' only", storage.ErrInvalid)
		}
	}
	return nil
}

func (s *Server) listUsers(c echo.Context) error {
	all, err := s.store.ListUsers(c.Request().Context())
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
	u, err := s.store.GetUser(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) createUser(c echo.Context) error {
	var in userInput
	if err := decode(c, &in); err != nil {
		return err
	}
	u := storage.User{Role: storage.RoleViewer}
	if err := in.apply(&u); err != nil {
		return err
	}
	u, err := s.store.CreateUser(c.Request().Context(), u)
	if err != nil {
		return err
	}
	setAudit(c, "", u.ID, u.Name+" ("+u.Role+")")
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) updateUser(c echo.Context) error {
	var in userInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.store.GetUser(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := in.apply(&u); err != nil {
		return err
	}
	if u, err = s.store.UpdateUser(ctx, u); err != nil {
		return err
	}
	var changed []string
	for name, set := range map[string]bool{"name": in.Name != nil, "role": in.Role != nil, "password": in.Password != nil, "disabled": in.Disabled != nil} {
		if set {
			changed = append(changed, name)
		}
	}
	setAudit(c, "", "", u.Name+": "+strings.Join(slices.Sorted(slices.Values(changed)), ", "))
	return c.JSON(http.StatusOK, u)
}

func (s *Server) deleteUser(c echo.Context) error {
	if err := s.store.DeleteUser(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// tokenOwner is whose tokens a request is about: the caller's, or, for an
// admin, the user_id given.
func tokenOwner(c echo.Context, given string) (string, error) {
	p := principal(c)
	if given != "" && given != p.UserID {
		if !p.Can(access.Admin) {
			return "", echo.NewHTTPError(http.StatusForbidden, "only an admin may manage another user's tokens")
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
	ts, err := s.store.ListTokens(c.Request().Context(), owner)
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
	if t, err = s.store.CreateToken(c.Request().Context(), t); err != nil {
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
		ts, err := s.store.ListTokens(ctx, p.UserID)
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
	if err := s.store.DeleteToken(ctx, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listAudit: GET /audit?actor=&action=&target=&since=&until=&limit=&cursor=
func (s *Server) listAudit(c echo.Context) error {
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
