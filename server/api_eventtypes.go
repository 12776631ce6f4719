package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

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
	name, err := typeParam(c)
	if err != nil {
		return err
	}
	t, err := s.notify.EventType(c.Request().Context(), name)
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
	name, err := typeParam(c)
	if err != nil {
		return err
	}
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
	name, err := typeParam(c)
	if err != nil {
		return err
	}
	if err := s.notify.DeleteEventType(c.Request().Context(), name); err != nil {
		return err
	}
	setAudit(c, "", name, "")
	return c.NoContent(http.StatusNoContent)
}

// typeParam is the {type} of an /event-types/{type} path, decoded once:
// Echo routes on the escaped path when the request's differs from the
// decoded one's escaping (a%2Fb, %41), handing over the parameter
// undecoded, and on the decoded path otherwise (a%25b). A '/' cannot be
// in a type named by a path (the path would not find it again), so one
// written as %2F is refused.
func typeParam(c echo.Context) (string, error) {
	name := c.Param("type")
	if c.Request().URL.RawPath != "" {
		var err error
		if name, err = url.PathUnescape(name); err != nil {
			return "", fmt.Errorf("%w: type: the path's type is not well escaped: %s", storage.ErrInvalid, field.Quote(c.Param("type")))
		}
	}
	if strings.Contains(name, "/") {
		return "", fmt.Errorf("%w: type: a type named in a path may not hold '/', got %s", storage.ErrInvalid, field.Quote(name))
	}
	return name, nil
}
