package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// versionView is a saved script version as the API shows it.
type versionView struct {
	storage.ScriptVersion
	Current bool `json:"current"` // the version saved now
}

// owner loads the provider or function named by the path (which of the two
// the route says) and returns its current version.
func (s *Server) owner(c echo.Context) (int, error) {
	ctx, id := c.Request().Context(), c.Param("id")
	if strings.HasPrefix(c.Path(), "/api/v1/providers/") {
		p, err := s.store.GetProvider(ctx, id)
		return p.Version, err
	}
	f, err := s.store.GetFunction(ctx, id)
	return f.Version, err
}

// listVersions: GET /providers/{id}/versions and /functions/{id}/versions,
// newest first.
func (s *Server) listVersions(c echo.Context) error {
	cur, err := s.owner(c)
	if err != nil {
		return err
	}
	vs, err := s.store.ScriptVersions(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	views := make([]versionView, len(vs))
	for i, v := range vs {
		views[i] = versionView{ScriptVersion: v, Current: v.Version == cur}
	}
	out, err := page(c, views)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getVersion: GET /providers/{id}/versions/{version} (and functions).
func (s *Server) getVersion(c echo.Context) error {
	cur, err := s.owner(c)
	if err != nil {
		return err
	}
	v, err := s.version(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, versionView{ScriptVersion: v, Current: v.Version == cur})
}

// version loads the version named by the path.
func (s *Server) version(c echo.Context) (storage.ScriptVersion, error) {
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil || n < 1 {
		return storage.ScriptVersion{}, fmt.Errorf("%w: version must be a whole number from 1", storage.ErrInvalid)
	}
	return s.store.GetScriptVersion(c.Request().Context(), c.Param("id"), n)
}

// rollbackProvider: POST /providers/{id}/versions/{version}/rollback saves
// that version's match script again, as a new version.
func (s *Server) rollbackProvider(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.store.GetProvider(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v, err := s.version(c)
	if err != nil {
		return err
	}
	p.MatchScript = v.Script
	if p, err = s.catalog.UpdateProvider(ctx, p); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewProvider(p))
}

// rollbackFunction: POST /functions/{id}/versions/{version}/rollback.
func (s *Server) rollbackFunction(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := s.store.GetFunction(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v, err := s.version(c)
	if err != nil {
		return err
	}
	f.Script = v.Script
	if f, err = s.catalog.UpdateFunction(ctx, f); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

// dryRun: POST /messages/{id}/dry-run runs a stored message again, with
// optional unsaved scripts, recording nothing. The body may be empty.
// Operators may dry-run the saved scripts; an unsaved script is new code
// run against the provider's secrets, which needs the editor role. The
// answer never holds a provider secret's value, whoever asks.
func (s *Server) dryRun(c echo.Context) error {
	var opts functions.DryRunOptions
	if c.Request().ContentLength != 0 {
		if err := decode(c, &opts); err != nil {
			return err
		}
	}
	if p := principal(c); (opts.MatchScript != "" || opts.HandshakeScript != "" || opts.Script != "") && !p.Can(access.Edit) {
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf(
			"the %s role may dry-run the saved scripts only: running an unsaved match_script, handshake_script or script needs the editor role", p.Role))
	}
	res, err := s.disp.DryRun(c.Request().Context(), c.Param("id"), opts)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
