package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

var messageStatuses = []string{storage.StatusPending, storage.StatusSuccess, storage.StatusFailed, storage.StatusUnmatched}

// messageParams are the query parameters of the message list and count.
var messageParams = []string{"status", "provider_id", "function_id", "uri", "q", "since", "until", "limit", "cursor"}

// messageList is the message list's answer: a list, and partial when the
// page stopped at the bound of its scan (see storage.SearchScan) before
// it was full, so that a client knows to follow next_cursor for more.
type messageList struct {
	list[storage.Message]
	Partial bool `json:"partial,omitempty"`
}

// listMessages: GET /messages?status=&provider_id=&function_id=&uri=&q=&since=&until=&limit=&cursor=
func (s *Server) listMessages(c echo.Context) error {
	f, err := messageFilter(c)
	if err != nil {
		return err
	}
	items, next, err := s.store.ListMessages(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, messageList{list[storage.Message]{Items: items, NextCursor: next}, next != "" && len(items) < f.Limit})
}

// How much one count may read: past either, the answer is "at least".
const (
	maxCountScan = 100_000
	maxCountTime = 2 * time.Second
)

// countMessages: GET /messages/count with the list's filters answers
// {"count", "exact"}: the messages that match, counted by reading their
// metadata newest first, at most maxCountScan of them for at most
// maxCountTime; past that, exact is false and count is what was read.
func (s *Server) countMessages(c echo.Context) error {
	f, err := messageFilter(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), maxCountTime)
	defer cancel()
	f.Limit, f.Cursor = 1000, ""
	n := 0
	for {
		items, next, err := s.store.ListMessages(ctx, f)
		if err != nil {
			if ctx.Err() != nil && c.Request().Context().Err() == nil {
				break // out of time: an estimate
			}
			return err
		}
		n += len(items)
		if next == "" {
			return c.JSON(http.StatusOK, map[string]any{"count": n, "exact": true})
		}
		if n >= maxCountScan || ctx.Err() != nil {
			break
		}
		f.Cursor = next
	}
	return c.JSON(http.StatusOK, map[string]any{"count": n, "exact": false})
}

// messageFilter reads the list's query parameters. The text q is searched
// in headers, logs and payloads only for callers who may read those
// (operators and up); for the others, in summaries and URIs.
func messageFilter(c echo.Context) (storage.MessageFilter, error) {
	if err := knownParams(c, messageParams...); err != nil {
		return storage.MessageFilter{}, err
	}
	q, err := readListQuery(c, messageStatuses)
	if err != nil {
		return storage.MessageFilter{}, err
	}
	f := storage.MessageFilter{
		Status: q.status,
		Since:  q.since,
		Until:  q.until,
		Cursor: c.QueryParam("cursor"),
		Limit:  q.limit,
		Deep:   principal(c).Can(access.Operate),
	}
	err = readFilterFields(&f, c.QueryParam("provider_id"), c.QueryParam("function_id"), c.QueryParam("uri"), c.QueryParam("q"))
	return f, err
}

// maxSearchText bounds q, in bytes.
const maxSearchText = 256

// readFilterFields checks and sets the filter's ids, URI and text, which
// the list's query and a job's body share.
func readFilterFields(f *storage.MessageFilter, providerID, functionID, uri, text string) error {
	for _, id := range []struct{ name, v string }{{"provider_id", providerID}, {"function_id", functionID}} {
		if _, err := uuid.Parse(id.v); id.v != "" && err != nil {
			return fmt.Errorf("%w: %s must be the id of a provider or function, got %s", storage.ErrInvalid, id.name, field.Quote(id.v))
		}
	}
	f.ProviderID, f.FunctionID = providerID, functionID
	if uri != "" {
		f.URI = functions.NormalizeURI(uri)
	}
	switch {
	case len(text) > maxSearchText:
		return fmt.Errorf("%w: q must be at most %d bytes, got %d", storage.ErrInvalid, maxSearchText, len(text))
	case !utf8.ValidString(text) || strings.ContainsFunc(text, unicode.IsControl):
		return fmt.Errorf("%w: q must be text without control characters", storage.ErrInvalid)
	}
	f.Text = text
	return nil
}

// knownParams refuses a query parameter that is not one of names, so that
// a misspelt filter is an error rather than a list of everything.
func knownParams(c echo.Context, names ...string) error {
	for name := range c.QueryParams() {
		if !contains(names, name) {
			return fmt.Errorf("%w: unknown query parameter %s; this route takes %s", storage.ErrInvalid, field.Quote(name), strings.Join(names, ", "))
		}
	}
	return nil
}

// listQuery holds the query parameters the message and delivery lists
// share.
type listQuery struct {
	status       string
	since, until time.Time
	limit        int
}

// readListQuery reads status (one of statuses, any case), since, until and
// limit.
func readListQuery(c echo.Context, statuses []string) (listQuery, error) {
	var q listQuery
	if st := c.QueryParam("status"); st != "" {
		q.status = strings.ToUpper(st)
		if !contains(statuses, q.status) {
			return q, fmt.Errorf("%w: status must be one of %s", storage.ErrInvalid, strings.Join(statuses, ", "))
		}
	}
	var err error
	if q.since, err = queryTime(c, "since"); err != nil {
		return q, err
	}
	if q.until, err = queryTime(c, "until"); err != nil {
		return q, err
	}
	if !q.since.IsZero() && !q.until.IsZero() && q.since.After(q.until) {
		return q, fmt.Errorf("%w: since must not be after until", storage.ErrInvalid)
	}
	q.limit, err = queryLimit(c)
	return q, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// queryTime reads the query parameter name as a time (see parseTime).
func queryTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	return parseTime(name, v)
}

// parseTime reads an RFC 3339 time, or a Unix time in seconds, and says
// which when v is neither.
func parseTime(name, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil && sec >= 0 && sec < 1<<40 {
		return time.Unix(sec, 0), nil
	}
	return time.Time{}, fmt.Errorf("%w: %s must be an RFC 3339 time such as 2026-12-03T14:00:00Z, or Unix seconds, got %s", storage.ErrInvalid, name, field.Quote(v))
}

func (s *Server) getMessage(c echo.Context) error {
	d, err := s.store.GetMessage(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	// The values of credential-like headers (X-Gitlab-Token, Authorization:
	// often a provider's secret itself) are hidden from every role.
	d.Headers, d.Query = redact.Headers(d.Headers), redact.Query(d.Query)
	if d.Headers == nil {
		d.Headers = map[string]string{}
	}
	if !principal(c).Can(access.Operate) {
		// Viewers see statuses, not what may carry secrets: no headers,
		// query, logs or errors.
		d.Headers, d.Query, d.Logs = map[string]string{}, nil, []storage.LogLine{}
		for i := range d.Executions {
			d.Executions[i].Logs, d.Executions[i].Error = []storage.LogLine{}, ""
		}
		c.Response().Header().Set("X-Switchyard-Redacted", "headers, query, logs, errors")
	}
	return c.JSON(http.StatusOK, d)
}

// getPayload answers the raw body byte for byte, with its original type,
// as a download. The body is whatever an anonymous sender posted, and the
// route is on the UI's origin: loaded by <script src>, <link
// rel=stylesheet>, a worker or a frame on a page of the app, it would run
// as the app's own code (past the CSP's script-src 'self'). So a browser
// may only fetch it (Sec-Fetch-Dest empty) or download it (document, with
// Content-Disposition: attachment); every other destination is refused,
// and the answer carries nosniff, a sandbox CSP that allows nothing to load,
// and a same-origin resource policy, for browsers that send no
// Sec-Fetch-Dest. API clients (no Sec-Fetch-Dest) get it as before.
func (s *Server) getPayload(c echo.Context) error {
	if dest := c.Request().Header.Get("Sec-Fetch-Dest"); dest != "" && dest != "empty" && dest != "document" {
		return echo.NewHTTPError(http.StatusForbidden, "the raw payload is served to fetch() and as a download only, not as a "+strconv.Quote(dest)+" (Sec-Fetch-Dest)")
	}
	d, body, err := s.loadMessage(c)
	if err != nil {
		return err
	}
	ct := d.ContentType
	if ct == "" {
		ct = echo.MIMEOctetStream
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Disposition", `attachment; filename="payload-`+d.ID+`"`)
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ct, body)
}

// resubmit: POST /messages/{id}/resubmit[?sync=true] sends a stored message
// through again as a new message with resubmit_of set.
func (s *Server) resubmit(c echo.Context) error {
	if err := s.roomInStore(); err != nil {
		return err
	}
	d, body, err := s.loadMessage(c)
	if err != nil {
		return err
	}
	return s.ingest(c, resubmission(d.Message), body, strings.EqualFold(c.QueryParam("sync"), "true"))
}

// resubmission is a new message that sends m through again: a new id and
// time, resubmit_of set, nothing of m's outcome.
func resubmission(m storage.Message) storage.Message {
	m.ResubmitOf = m.ID
	m.ID = uuid.Must(uuid.NewV7()).String()
	m.ReceivedAt = time.Now().UTC()
	m.Status, m.ProviderID, m.ProviderName, m.Summary = storage.StatusPending, "", "", ""
	m.ProviderVersion = 0
	m.CompletedAt, m.DurationMS = nil, 0
	return m
}

// loadMessage reads the message named by the path and its raw body.
func (s *Server) loadMessage(c echo.Context) (storage.MessageDetail, []byte, error) {
	ctx := c.Request().Context()
	d, err := s.store.GetMessage(ctx, c.Param("id"))
	if err != nil {
		return d, nil, err
	}
	body, err := s.store.GetPayload(ctx, d.ID)
	if errors.Is(err, storage.ErrNotFound) {
		// The message is there, its body is not: --unmatched metadata.
		return d, nil, echo.NewHTTPError(http.StatusNotFound, "the payload of this message was not kept (it matched nothing, and --unmatched is metadata)")
	}
	return d, body, err
}
