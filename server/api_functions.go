package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/storage"
)

// functionInput is the body of POST and PUT /functions. On PUT, a field
// left out keeps its stored value.
type functionInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	ProviderID  *string `json:"provider_id"`
	URI         *string `json:"uri"`
	Active      *bool   `json:"active"`
	Script      *string `json:"script"`
	TimeoutMS   *int    `json:"timeout_ms"`
}

func (in *functionInput) apply(f *storage.Function) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&f.Name, in.Name)
	set(&f.Description, in.Description)
	set(&f.ProviderID, in.ProviderID)
	set(&f.URI, in.URI)
	set(&f.Script, in.Script)
	if in.Active != nil {
		f.Active = *in.Active
	}
	if in.TimeoutMS != nil {
		f.TimeoutMS = *in.TimeoutMS
	}
}

// listFunctions: GET /functions?provider_id=&uri=
func (s *Server) listFunctions(c echo.Context) error {
	all, err := s.store.ListFunctions(c.Request().Context())
	if err != nil {
		return err
	}
	pid, uri := c.QueryParam("provider_id"), c.QueryParam("uri")
	if uri != "" {
		uri = functions.NormalizeURI(uri)
	}
	kept := all[:0]
	for _, f := range all {
		if (pid == "" || f.ProviderID == pid) && (uri == "" || f.URI == uri) {
			kept = append(kept, f)
		}
	}
	out, err := page(c, kept, "provider_id", "uri")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getFunction(c echo.Context) error {
	f, err := s.store.GetFunction(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

func (s *Server) createFunction(c echo.Context) error {
	var in functionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	f := storage.Function{Active: true}
	in.apply(&f)
	f, err := s.catalog.CreateFunction(c.Request().Context(), f)
	if err != nil {
		return err
	}
	setAudit(c, "", f.ID, f.Name)
	return c.JSON(http.StatusCreated, f)
}

func (s *Server) updateFunction(c echo.Context) error {
	var in functionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	f, err := s.store.GetFunction(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	in.apply(&f)
	before := f.Version
	if f, err = s.catalog.UpdateFunction(ctx, f); err != nil {
		return err
	}
	setAudit(c, "", "", scriptSaved(f.Name, before, f.Version))
	return c.JSON(http.StatusOK, f)
}

// scriptSaved is the audit detail of an update: the name, and the new
// script version when the script changed.
func scriptSaved(name string, before, after int) string {
	if after != before {
		return fmt.Sprintf("%s: script saved as version %d", name, after)
	}
	return name
}

func (s *Server) deleteFunction(c echo.Context) error {
	if err := s.catalog.DeleteFunction(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
