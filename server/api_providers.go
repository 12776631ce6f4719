package server

import (
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/storage"
)

// providerInput is the body of POST and PUT /providers. On PUT, a field
// left out keeps its stored value; secrets are merged: a name with a value
// sets it, a name with "" removes it.
type providerInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Active      *bool   `json:"active"`
	MatchScript *string `json:"match_script"`
	// HandshakeScript: "" removes it.
	HandshakeScript *string           `json:"handshake_script"`
	Properties      map[string]string `json:"properties"`
	Secrets         map[string]string `json:"secrets"`
	MatchTimeoutMS  *int              `json:"match_timeout_ms"`
	AllowedSources  *[]string         `json:"allowed_sources"`
	Template        string            `json:"template"`
}

// providerView is a provider as the API shows it: secrets by name only.
type providerView struct {
	storage.Provider
	Secrets []string `json:"secrets"`
}

func viewProvider(p storage.Provider) providerView {
	names := make([]string, 0, len(p.Secrets))
	for name := range p.Secrets {
		names = append(names, name)
	}
	slices.Sort(names)
	if p.Properties == nil {
		p.Properties = map[string]string{}
	}
	if p.AllowedSources == nil {
		p.AllowedSources = []string{}
	}
	return providerView{Provider: p, Secrets: names}
}

func (in *providerInput) apply(p *storage.Provider) {
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	if in.MatchScript != nil {
		p.MatchScript = *in.MatchScript
	}
	if in.HandshakeScript != nil {
		p.HandshakeScript = *in.HandshakeScript
	}
	if in.Properties != nil {
		p.Properties = in.Properties
	}
	if in.MatchTimeoutMS != nil {
		p.MatchTimeoutMS = *in.MatchTimeoutMS
	}
	if in.AllowedSources != nil {
		p.AllowedSources = *in.AllowedSources
	}
	if in.Secrets != nil {
		merged := maps.Clone(p.Secrets)
		if merged == nil {
			merged = map[string]string{}
		}
		for k, v := range in.Secrets {
			if v == "" {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		p.Secrets = merged
	}
}

func (s *Server) listProviders(c echo.Context) error {
	all, err := s.store.ListProviders(c.Request().Context())
	if err != nil {
		return err
	}
	views := make([]providerView, len(all))
	for i, p := range all {
		views[i] = viewProvider(p)
	}
	out, err := page(c, views)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getProvider(c echo.Context) error {
	p, err := s.store.GetProvider(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewProvider(p))
}

func (s *Server) createProvider(c echo.Context) error {
	var in providerInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p := storage.Provider{Active: true}
	if in.Template != "" {
		var err error
		if p, err = providerFromTemplate(&in); err != nil {
			return err
		}
	} else {
		in.apply(&p)
	}
	p, err := s.catalog.CreateProvider(c.Request().Context(), p)
	if err != nil {
		return err
	}
	setAudit(c, "", p.ID, p.Name)
	return c.JSON(http.StatusCreated, viewProvider(p))
}

func (s *Server) updateProvider(c echo.Context) error {
	var in providerInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Template != "" {
		return echo.NewHTTPError(http.StatusBadRequest, "template applies only when creating a provider")
	}
	ctx := c.Request().Context()
	p, err := s.store.GetProvider(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	in.apply(&p)
	before := p.Version
	if p, err = s.catalog.UpdateProvider(ctx, p); err != nil {
		return err
	}
	setAudit(c, "", "", scriptSaved(p.Name, before, p.Version))
	return c.JSON(http.StatusOK, viewProvider(p))
}

func (s *Server) deleteProvider(c echo.Context) error {
	if err := s.catalog.DeleteProvider(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type orderInput struct {
	IDs []string `json:"ids"`
}

func (s *Server) reorderProviders(c echo.Context) error {
	var in orderInput
	if err := decode(c, &in); err != nil {
		return err
	}
	all, err := s.catalog.ReorderProviders(c.Request().Context(), in.IDs)
	if err != nil {
		return err
	}
	views := make([]providerView, len(all))
	for i, p := range all {
		views[i] = viewProvider(p)
	}
	return c.JSON(http.StatusOK, list[providerView]{Items: views})
}
