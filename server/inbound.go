package server

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/storage"
)

// SyncHeader asks for processing before the answer (FlexDeploy's name).
const SyncHeader = "flex-sync-webhook"

// acceptedBody is the answer to an asynchronous webhook.
type acceptedBody struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// syncBody is the answer to a synchronous webhook.
type syncBody struct {
	ID        string        `json:"id"`
	Status    string        `json:"status"`
	Provider  *string       `json:"provider"`
	Functions []syncFuncRun `json:"functions"`
}

type syncFuncRun struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// receive is ANY /webhooks/v1/<uri>: record the message durably, then
// answer 202, or process it first when flex-sync-webhook is true.
func (s *Server) receive(c echo.Context) error {
	r := c.Request()
	body, err := s.readBody(c)
	if err != nil {
		s.metrics.ingestFail.Inc()
		return err
	}
	m := s.newMessage(r, c.RealIP(), body)
	m.URI = functions.NormalizeURI(strings.TrimPrefix(r.URL.Path, "/webhooks/v1/"))
	return s.ingest(c, m, body, strings.EqualFold(strings.TrimSpace(r.Header.Get(SyncHeader)), "true"))
}

// readBody reads the whole body within --max-body (413 past it).
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > s.opts.MaxBody {
		return nil, &http.MaxBytesError{Limit: s.opts.MaxBody}
	}
	lr := http.MaxBytesReader(c.Response(), r.Body, s.opts.MaxBody)
	var body []byte
	var err error
	if r.ContentLength > 0 {
		// Sized up front: io.ReadAll would grow (and copy) a buffer
		// step by step. One more read sees the end, or a body longer
		// than announced.
		body = make([]byte, r.ContentLength)
		if _, err = io.ReadFull(lr, body); err == nil {
			var rest []byte
			if rest, err = io.ReadAll(lr); err == nil {
				body = append(body, rest...)
			}
		}
	} else {
		body, err = io.ReadAll(lr)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, mbe
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read the request body: "+err.Error())
	}
	return body, nil
}

// newMessage captures what scripts and operators need of a request.
func (s *Server) newMessage(r *http.Request, client string, body []byte) storage.Message {
	headers := make(map[string]string, len(r.Header)+1)
	for name, values := range r.Header {
		headers[strings.ToLower(name)] = strings.Join(values, ", ")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var query url.Values
	if r.URL.RawQuery != "" {
		query, _ = url.ParseQuery(r.URL.RawQuery) // keeps what parsed of a malformed query
	}
	id := uuid.Must(uuid.NewV7())
	return storage.Message{
		ID:          id.String(),
		ReceivedAt:  time.Now().UTC(),
		Method:      r.Method,
		Headers:     headers,
		Query:       query,
		RemoteAddr:  client,
		RemoteHost:  client,
		ContentType: r.Header.Get(echo.HeaderContentType),
		Size:        len(body),
	}
}

// ingest records m and answers, asynchronously or not.
func (s *Server) ingest(c echo.Context, m storage.Message, body []byte, sync bool) error {
	ctx := c.Request().Context()
	if !sync {
		if err := s.disp.Accept(ctx, m, body); err != nil {
			return s.notRecorded(m, err)
		}
		s.metrics.received.Inc()
		// The one answer of the hot path, written without reflection:
		// {"id":"<uuid>","status":"PENDING"}.
		return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, []byte(`{"id":"`+m.ID+`","status":"PENDING"}`))
	}
	o, recorded, err := s.disp.AcceptAndProcess(ctx, m, body)
	if !recorded {
		return s.notRecorded(m, err)
	}
	s.metrics.received.Inc()
	if err != nil {
		// Recorded, so not lost: it runs after the next start.
		if !errors.Is(err, functions.ErrStopping) {
			s.log.Error("synchronous processing failed; the message stays PENDING", "message_id", m.ID, "err", err)
		}
		return c.JSON(http.StatusServiceUnavailable, acceptedBody{ID: m.ID, Status: storage.StatusPending})
	}
	out := syncBody{ID: m.ID, Status: o.Status, Functions: make([]syncFuncRun, 0, len(o.Executions))}
	if o.ProviderName != "" {
		out.Provider = &o.ProviderName
	}
	for _, e := range o.Executions {
		out.Functions = append(out.Functions, syncFuncRun{Name: e.FunctionName, Status: e.Status, Error: e.Error})
	}
	code := http.StatusOK
	switch o.Status {
	case storage.StatusUnmatched:
		code = http.StatusNotFound
	case storage.StatusFailed:
		code = http.StatusInternalServerError
	}
	return c.JSON(code, out)
}

// notRecorded answers a webhook that could not be recorded: nothing was
// accepted, so the sender must send it again.
func (s *Server) notRecorded(m storage.Message, err error) error {
	s.metrics.ingestFail.Inc()
	if errors.Is(err, functions.ErrStopping) || errors.Is(err, storage.ErrClosed) {
		return err // 503
	}
	s.log.Error("could not record a message", "message_id", m.ID, "err", err)
	return echo.NewHTTPError(http.StatusServiceUnavailable, "the message could not be recorded; nothing was accepted, send it again")
}
