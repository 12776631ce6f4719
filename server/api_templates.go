package server

import (
	"errors"

	"github.com/labstack/echo/v4"
)

var errTemplatesTODO = errors.New("provider templates are not built yet")

// listTemplates: GET /provider-templates.
func (s *Server) listTemplates(c echo.Context) error { return errTemplatesTODO }

// getTemplate: GET /provider-templates/{name}.
func (s *Server) getTemplate(c echo.Context) error { return errTemplatesTODO }
