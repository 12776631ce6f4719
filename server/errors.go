package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// errorBody is every error answer: {"error": "<clear message>"}.
type errorBody struct {
	Error string `json:"error"`
}

// statusOf maps domain errors to HTTP statuses, in this one place.
func statusOf(err error) int {
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.Code
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, access.ErrRefused):
		return http.StatusUnauthorized
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, storage.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, storage.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, storage.ErrClosed), errors.Is(err, functions.ErrStopping), errors.Is(err, storage.ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// handleError is Echo's error handler: every error becomes JSON. Server
// errors are logged and answered without their details.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := statusOf(err)
	msg := err.Error()
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, echo.ErrNotFound), errors.Is(err, echo.ErrMethodNotAllowed):
		// Echo's own "Not Found": no route has this method and path.
		msg = fmt.Sprintf("there is no %s %s; docs/api.md lists the routes", c.Request().Method, c.Request().URL.Path)
	case errors.As(err, &he):
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	case errors.As(err, &mbe):
		msg = "request body is larger than the limit of " + formatBytes(mbe.Limit)
	case code >= 500:
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		msg = http.StatusText(code)
		switch {
		case errors.Is(err, storage.ErrUnavailable):
			msg = "the store cannot be reached; try again shortly"
		case code == http.StatusServiceUnavailable:
			msg = "Switchyard is shutting down; try again shortly"
		}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.JSON(code, errorBody{Error: msg})
}

// formatBytes renders a size for people: 5 MiB, 512 KiB, 100 bytes.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
