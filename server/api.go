package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/storage"
)

// maxAdminBody bounds admin API request bodies (scripts included).
const maxAdminBody = 2 << 20

// list is every list answer: {"items": [...], "next_cursor": "..."}.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors that name the problem.
func decode(c echo.Context, v any) error {
	r := c.Request()
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return mbe
		case errors.Is(err, io.EOF):
			return fmt.Errorf("%w: the request body is empty; send a JSON object", storage.ErrInvalid)
		case errors.As(err, &syn):
			return fmt.Errorf("%w: malformed JSON at byte %d: %v", storage.ErrInvalid, syn.Offset, err)
		case errors.As(err, &typ):
			return fmt.Errorf("%w: field %q must be %s, not %s", storage.ErrInvalid, typ.Field, typ.Type, typ.Value)
		default:
			return fmt.Errorf("%w: %v", storage.ErrInvalid, err)
		}
	}
	if dec.More() {
		return fmt.Errorf("%w: unexpected data after the JSON object", storage.ErrInvalid)
	}
	return nil
}

// page cuts one page out of a short, fully loaded list. The cursor is the
// offset of the next page.
func page[T any](c echo.Context, all []T) (list[T], error) {
	limit, err := queryLimit(c)
	if err != nil {
		return list[T]{}, err
	}
	start := 0
	if cur := c.QueryParam("cursor"); cur != "" {
		if start, err = strconv.Atoi(cur); err != nil || start < 0 {
			return list[T]{}, fmt.Errorf("%w: bad cursor", storage.ErrInvalid)
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
		return 0, fmt.Errorf("%w: limit must be a whole number from 1 to %d", storage.ErrInvalid, maxLimit)
	}
	return n, nil
}
