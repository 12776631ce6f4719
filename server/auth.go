package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/storage/seal"
)

// tokenCheck holds the SHA-256 of the admin token, compared in constant time.
type tokenCheck [sha256.Size]byte

func (t tokenCheck) ok(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], t[:]) == 1
}

// adminToken returns the admin token's check: from Options.AdminToken, or
// from <data>/admin-token, created (mode 0600) on first start. The file's
// path is logged, never the token.
func (s *Server) adminToken() (tokenCheck, error) {
	if tok := strings.TrimSpace(s.opts.AdminToken); tok != "" {
		return sha256.Sum256([]byte(tok)), nil
	}
	path := filepath.Join(s.opts.DataDir, "admin-token")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return tokenCheck{}, fmt.Errorf("admin token file %s is empty; delete it to create a new token", path)
		}
		return sha256.Sum256([]byte(tok)), nil
	case !errors.Is(err, os.ErrNotExist):
		return tokenCheck{}, fmt.Errorf("admin token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return tokenCheck{}, fmt.Errorf("admin token: %w", err)
	}
	tok := "sy_" + base64.RawURLEncoding.EncodeToString(raw)
	if err := seal.WriteSecretFile(path, tok+"\n"); err != nil {
		return tokenCheck{}, fmt.Errorf("admin token: %w", err)
	}
	s.log.Info("created an admin API token; read it from the file", "path", path)
	return sha256.Sum256([]byte(tok)), nil
}

// requireToken guards the admin API with the bearer token.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, tok, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || !s.token.ok(strings.TrimSpace(tok)) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="switchyard"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "missing or invalid bearer token (Authorization: Bearer <token>)")
		}
		return next(c)
	}
}
