package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/storage"
)

// templateView is a provider template as the API shows it; the script only
// in GET /provider-templates/{name}.
type templateView struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Secrets     []secretParam   `json:"secrets"`
	Properties  []propertyParam `json:"properties"`
	Script      string          `json:"script,omitempty"`
	Handshake   string          `json:"handshake_script,omitempty"`
}

type secretParam struct {
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	Required     bool           `json:"required"`
	RequiredWhen *conditionView `json:"required_when,omitempty"`
}

type propertyParam struct {
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	Default      string         `json:"default"`
	Required     bool           `json:"required"`
	RequiredWhen *conditionView `json:"required_when,omitempty"`
	OneOf        []string       `json:"one_of,omitempty"`
}

// conditionView: required only when the property is the value.
type conditionView struct {
	Property string `json:"property"`
	Value    string `json:"value"`
}

func viewCondition(c *providers.Condition) *conditionView {
	if c == nil {
		return nil
	}
	return &conditionView{Property: c.Property, Value: c.Value}
}

func viewTemplate(t providers.Template, withScript bool) templateView {
	v := templateView{
		Name:        t.Name,
		Title:       t.Title,
		Description: t.Description,
		Secrets:     make([]secretParam, len(t.Secrets)),
		Properties:  make([]propertyParam, len(t.Properties)),
	}
	for i, p := range t.Secrets {
		v.Secrets[i] = secretParam{Name: p.Name, Description: p.Description, Required: p.Required, RequiredWhen: viewCondition(p.RequiredWhen)}
	}
	for i, p := range t.Properties {
		v.Properties[i] = propertyParam{Name: p.Name, Description: p.Description, Default: p.Default, Required: p.Required,
			RequiredWhen: viewCondition(p.RequiredWhen), OneOf: p.OneOf}
	}
	if withScript {
		v.Script, v.Handshake = t.Script, t.Handshake
	}
	return v
}

// listTemplates: GET /provider-templates.
func (s *Server) listTemplates(c echo.Context) error {
	all := providers.Templates()
	views := make([]templateView, len(all))
	for i, t := range all {
		views[i] = viewTemplate(t, false)
	}
	out, err := page(c, views)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getTemplate: GET /provider-templates/{name}.
func (s *Server) getTemplate(c echo.Context) error {
	t, ok := providers.TemplateByName(c.Param("name"))
	if !ok {
		return fmt.Errorf("%w: %s", storage.ErrNotFound, unknownTemplate(c.Param("name")))
	}
	return c.JSON(http.StatusOK, viewTemplate(t, true))
}

// unknownTemplate says so and lists the templates there are.
func unknownTemplate(name string) string {
	return fmt.Sprintf("no provider template %q; the templates are %s", name, strings.Join(providers.TemplateNames(), ", "))
}

// providerFromTemplate makes the provider POST /providers {"template": ...}
// asks for: the template's script, secrets and properties (with the
// template's defaults), named after the template unless the body names
// it; description, active, match_timeout_ms and allowed_sources as given.
func providerFromTemplate(in *providerInput) (storage.Provider, error) {
	if in.MatchScript != nil {
		return storage.Provider{}, fmt.Errorf("%w: send either template or match_script, not both: a template brings its own match script; to change it, create the provider from the template, then PUT a new match_script", storage.ErrInvalid)
	}
	t, ok := providers.TemplateByName(in.Template)
	if !ok {
		return storage.Provider{}, fmt.Errorf("%w: %s", storage.ErrInvalid, unknownTemplate(in.Template))
	}
	p, err := t.Provider(in.Secrets, in.Properties)
	if err != nil {
		return storage.Provider{}, err
	}
	// The rest of the body as for any provider; the template has made
	// the script, secrets and properties.
	meta := *in
	meta.Properties, meta.Secrets = nil, nil
	meta.apply(&p)
	return p, nil
}
