package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// The outbound catalogue: GET /event-types lists the system, declared and
// recently seen types; editors declare types with POST, PUT and DELETE
// /event-types/{type}.

// listEventTypes: GET /event-types.
func (s *Server) listEventTypes(c echo.Context) error {
	out, err := page(c, s.notify.EventTypes())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getEventType: GET /event-types/{type}, a system or declared type.
func (s *Server) getEventType(c echo.Context) error {
	t, err := s.notify.EventType(c.Request().Context(), c.Param("type"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// eventTypeInput is the body of POST and PUT /event-types/{type}: the
// declaration, and optionally the type again, which must be the path's.
type eventTypeInput struct {
	Type *string `json:"type"`
	notify.EventTypeChange
}

// createEventType: POST /event-types/{type} declares a new type (409 if
// it is declared already).
func (s *Server) createEventType(c echo.Context) error { return s.declareEventType(c, true) }

// putEventType: PUT /event-types/{type} declares a type or replaces its
// declaration.
func (s *Server) putEventType(c echo.Context) error { return s.declareEventType(c, false) }

func (s *Server) declareEventType(c echo.Context, create bool) error {
	name := c.Param("type")
	var in eventTypeInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Type != nil && *in.Type != name {
		return fmt.Errorf("%w: type: the body names %s, the path %s; leave it out or make them equal", storage.ErrInvalid, field.Quote(*in.Type), field.Quote(name))
	}
	t, created, err := s.notify.DeclareEventType(c.Request().Context(), name, in.EventTypeChange, create)
	if err != nil {
		return err
	}
	code, action := http.StatusOK, "event_type.update"
	if created {
		code, action = http.StatusCreated, "event_type.create"
	}
	setAudit(c, action, t.Type, t.Kind)
	return c.JSON(code, notify.DeclaredEntry(t))
}

// deleteEventType: DELETE /event-types/{type}.
func (s *Server) deleteEventType(c echo.Context) error {
	name := c.Param("type")
	if err := s.notify.DeleteEventType(c.Request().Context(), name); err != nil {
		return err
	}
	setAudit(c, "", name, "")
	return c.NoContent(http.StatusNoContent)
}
