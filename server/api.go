package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/storage"
)

// maxAdminBody bounds admin API request bodies (scripts included).
const maxAdminBody = 2 << 20

// list is every list answer: {"items": [...], "next_cursor": "..."}.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// decode reads a JSON object body strictly: an empty body, another JSON
// value, a wrong type, an unknown field and trailing data are errors that
// say what was wrong in JSON's terms, never Go's.
// bodyDeadline gives an admin API request's body as long to arrive as a
// webhook's (--max-concurrent-bodies' 2 min), so that a slow body gets
// decode's 408 rather than the server's read timeout.
func (s *Server) bodyDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(s.opts.bodyTimeout))
		return next(c)
	}
}

func decode(c echo.Context, v any) error {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxAdminBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return echo.NewHTTPError(http.StatusRequestTimeout, "the request body did not arrive in time; nothing was changed")
		}
		return fmt.Errorf("%w: the body could not be read: the connection ended before it was complete", storage.ErrInvalid)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return fmt.Errorf("%w: the request body is empty; send a JSON object", storage.ErrInvalid)
	case trimmed[0] != '{' && json.Valid(trimmed):
		return fmt.Errorf("%w: the body must be a JSON object ({...}), got %s", storage.ErrInvalid, jsonKind(trimmed[0]))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return fmt.Errorf("%w: the body has more data after the JSON object; send one object", storage.ErrInvalid)
	}
	return nil
}

// decodeError says what encoding/json found wrong, in the caller's terms.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, storage.ErrInvalid): // a field's own decoder said what
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the body ends before the JSON is complete", storage.ErrInvalid)
	case errors.As(err, &syn):
		return fmt.Errorf("%w: the body is not valid JSON: %s at byte %d", storage.ErrInvalid, err, syn.Offset)
	case errors.As(err, &typ):
		name := typ.Field
		if name == "" {
			return fmt.Errorf("%w: the body must be a JSON object ({...}), got %s", storage.ErrInvalid, jsonValue(typ.Value))
		}
		if strings.HasPrefix(typ.Value, "number ") && isInteger(typ.Type) {
			n := strings.TrimPrefix(typ.Value, "number ")
			if !strings.ContainsAny(n, ".eE") || strings.HasPrefix(n, "-") {
				return fmt.Errorf("%w: %s is out of range, got %s", storage.ErrInvalid, name, n)
			}
		}
		return fmt.Errorf("%w: %s must be %s, got %s", storage.ErrInvalid, name, jsonType(typ.Type), jsonValue(typ.Value))
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("%w: the body has an unknown field %s; docs/api.md lists the fields", storage.ErrInvalid, f)
	}
	// Only the JSON decoder's errors reach here; keep the message, not
	// its "json:" prefix.
	return fmt.Errorf("%w: the body does not fit: %s", storage.ErrInvalid, strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON value that starts with b.
func jsonKind(b byte) string {
	switch b {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// jsonValue names what encoding/json's UnmarshalTypeError.Value describes:
// "array", "string", "number 1.5"...
func jsonValue(v string) string {
	switch {
	case v == "array":
		return "an array"
	case v == "object":
		return "an object"
	case v == "string":
		return "a string"
	case v == "bool":
		return "true or false"
	case v == "number":
		return "a number"
	case strings.HasPrefix(v, "number "):
		return strings.TrimPrefix(v, "number ")
	}
	return v
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// jsonType names, in JSON's terms, what a Go type accepts.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "a string holding an RFC 3339 time such as 2026-12-03T14:00:00Z"
	case isInteger(t):
		return "a whole number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another JSON type"
}

// page cuts one page out of a short, fully loaded list. The cursor is the
// offset of the next page. The list takes limit, cursor and the filters
// named in params; any other query parameter is refused.
func page[T any](c echo.Context, all []T, params ...string) (list[T], error) {
	if err := knownParams(c, append([]string{"limit", "cursor"}, params...)...); err != nil {
		return list[T]{}, err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return list[T]{}, err
	}
	start := 0
	if cur := c.QueryParam("cursor"); cur != "" {
		if start, err = strconv.Atoi(cur); err != nil || start < 0 {
			return list[T]{}, fmt.Errorf("%w: cursor must be the next_cursor of the previous page, got %s", storage.ErrInvalid, field.Quote(cur))
		}
	}
	out := list[T]{Items: []T{}}
	if start >= len(all) {
		return out, nil
	}
	end := min(start+limit, len(all))
	out.Items = all[start:end]
	if end < len(all) {
		out.NextCursor = strconv.Itoa(end)
	}
	return out, nil
}

// Page sizes.
const (
	defaultLimit = 50
	maxLimit     = 500
)

func queryLimit(c echo.Context) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, fmt.Errorf("%w: limit must be a whole number from 1 to %d, got %s", storage.ErrInvalid, maxLimit, field.Quote(s))
	}
	return n, nil
}
