package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/scripting"
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
	Error  string `json:"error"` // "" when it did not fail: the contract lists it always
}

// The webhook paths: /webhooks/v1/<uri>, and the same below /flexdeploy,
// where FlexDeploy receives them, so that a sender moving over only
// changes the host.
const (
	webhooksPrefix   = "/webhooks/v1/"
	flexDeployPrefix = "/flexdeploy"
)

// receive is ANY /webhooks/v1/<uri> (or /flexdeploy/webhooks/v1/<uri>):
// record the message durably, then answer 202, or process it first when
// flex-sync-webhook is true. Both paths record the same URI.
func (s *Server) receive(c echo.Context) error {
	r := c.Request()
	uri := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, flexDeployPrefix), webhooksPrefix)
	if n := utf8.RuneCountInString(uri); n > field.MaxURI {
		// No function's URI is that long: nothing could match, so nothing
		// an anonymous sender made up that long is kept.
		return s.reject(reasonURITooLong, echo.NewHTTPError(http.StatusRequestURITooLong, fmt.Sprintf("the URI is %d characters long, over the %d that a function's URI may have; nothing was recorded", n, field.MaxURI)))
	}
	client := c.RealIP()
	if err := s.admit(c, client); err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return s.reject(bodyReason(err), err)
	}
	if s.opts.MaxStoreBytes > 0 {
		s.storeAdded.Add(int64(len(body)))
	}
	m := s.newMessage(r, client, body)
	// The path is decoded and holds no query: a "?" in it was sent as %3F
	// and is part of the URI (NormalizeURI would cut the URI there).
	m.URI = strings.Trim(strings.TrimSpace(uri), "/")
	if answered, err := s.handshake(c, m, body); answered || err != nil {
		return err
	}
	return s.ingest(c, m, body, strings.EqualFold(strings.TrimSpace(r.Header.Get(SyncHeader)), "true"))
}

// handshake lets the providers' handshake scripts answer the request
// before anything else happens to it (a sender verifying its URL); the
// answered request is recorded as SUCCESS. Without handshake scripts it
// costs nothing.
func (s *Server) handshake(c echo.Context, m storage.Message, body []byte) (bool, error) {
	ctx := c.Request().Context()
	start := time.Now()
	a, err := s.disp.Handshake(ctx, m, body)
	if err != nil {
		return true, s.notRecorded(m, err)
	}
	if a == nil {
		return false, nil
	}
	if err := s.disp.RecordAnswered(ctx, m, body, a, time.Since(start)); err != nil {
		return true, s.notRecorded(m, err)
	}
	s.metrics.received.Inc()
	return true, writeResponse(c, a.Response)
}

// Why a webhook was refused: the reason label of
// switchyard_inbound_rejected_total.
const (
	reasonRateLimited  = "rate_limited"   // over --rate-limit (429)
	reasonStoreFull    = "store_full"     // over --max-store-bytes (507)
	reasonBodyTooLarge = "body_too_large" // over --max-body (413)
	reasonURITooLong   = "uri_too_long"   // 414
	reasonBusy         = "busy"           // no body slot free (503)
	reasonBodyTimeout  = "body_timeout"   // the body came too slowly (408)
	reasonBadRequest   = "bad_request"    // the body could not be read (400)
	reasonNotRecorded  = "not_recorded"   // the store failed or the node is stopping (503)
)

// rejectReasons are every reason, each exported at 0 from the start.
var rejectReasons = []string{reasonRateLimited, reasonStoreFull, reasonBodyTooLarge, reasonURITooLong, reasonBusy, reasonBodyTimeout, reasonBadRequest, reasonNotRecorded}

// reject counts a refused webhook and returns err, its answer.
func (s *Server) reject(reason string, err error) error {
	s.metrics.ingestFail.Inc()
	s.metrics.rejected.WithLabelValues(reason).Inc()
	return err
}

// bodyReason is the reason readBody refused a body for.
func bodyReason(err error) string {
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &mbe):
		return reasonBodyTooLarge
	case errors.As(err, &he) && he.Code == http.StatusServiceUnavailable:
		return reasonBusy
	case errors.As(err, &he) && he.Code == http.StatusRequestTimeout:
		return reasonBodyTimeout
	}
	return reasonBadRequest
}

// admit refuses a webhook, before its body is read, from a client over
// --rate-limit (429) or when the store is over --max-store-bytes (507).
func (s *Server) admit(c echo.Context, client string) error {
	if s.rate != nil {
		if ok, wait := s.rate.take(client, time.Now()); !ok {
			c.Response().Header().Set(echo.HeaderRetryAfter, retryAfter(wait))
			return s.reject(reasonRateLimited, echo.NewHTTPError(http.StatusTooManyRequests, "too many webhooks from this address; nothing was recorded, send it again after Retry-After seconds"))
		}
	}
	return s.roomInStore()
}

// roomInStore answers 507 while the store is over --max-store-bytes, as
// last measured or as estimated since (the bodies accepted added).
func (s *Server) roomInStore() error {
	if s.storeFull.Load() || (s.opts.MaxStoreBytes > 0 && s.storeMeasured.Load()+s.storeAdded.Load() > s.opts.MaxStoreBytes) {
		return s.reject(reasonStoreFull, echo.NewHTTPError(http.StatusInsufficientStorage, "the store is full (--max-store-bytes); nothing was recorded, send it again later"))
	}
	return nil
}

// Webhook bodies.
const (
	// firstBodyBuffer is the most a body's buffer holds ahead of the
	// bytes that arrived: a Content-Length is a claim, not a payment.
	firstBodyBuffer = 16 << 10
	// bodySlotWait is how long a webhook waits for a free slot
	// (--max-concurrent-bodies) before it gets 503.
	bodySlotWait = 2 * time.Second
	// bodyRetryAfter is the Retry-After of that 503, in seconds.
	bodyRetryAfter = "5"
)

// readBody reads the whole body within --max-body (413 past it), in one
// of the --max-concurrent-bodies slots (503 when none frees up in time),
// within the body timeout (408 past it). Memory grows with the bytes that
// arrive, not with the Content-Length announced.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > s.opts.MaxBody {
		return nil, &http.MaxBytesError{Limit: s.opts.MaxBody}
	}
	if r.ContentLength == 0 {
		return []byte{}, nil
	}
	release, err := s.bodySlot(c)
	if err != nil {
		return nil, err
	}
	defer release()
	// The deadline runs from the moment a slot is free; where it cannot
	// be set, the server's read timeout (from the request's start) holds.
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(s.opts.bodyTimeout))
	body, err := readGrowing(http.MaxBytesReader(c.Response(), r.Body, s.opts.MaxBody), r.ContentLength, s.opts.MaxBody)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, mbe
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return nil, echo.NewHTTPError(http.StatusRequestTimeout, "the request body did not arrive within "+s.opts.bodyTimeout.String()+"; nothing was recorded")
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read the request body: "+err.Error())
	}
	return body, nil
}

// bodySlot takes one of the --max-concurrent-bodies slots, waiting up to
// bodySlotWait for one, and returns its release.
func (s *Server) bodySlot(c echo.Context) (func(), error) {
	select {
	case s.bodies <- struct{}{}:
	default:
		wait := time.NewTimer(bodySlotWait)
		defer wait.Stop()
		select {
		case s.bodies <- struct{}{}:
		case <-wait.C:
			// Closing the connection spares the server reading the rest
			// of the body before it answers (net/http would, up to
			// 256 KiB, at the sender's pace).
			c.Response().Header().Set(echo.HeaderConnection, "close")
			c.Response().Header().Set(echo.HeaderRetryAfter, bodyRetryAfter)
			return nil, echo.NewHTTPError(http.StatusServiceUnavailable, "too many webhook bodies are being received at once; nothing was recorded, send it again later")
		case <-c.Request().Context().Done():
			return nil, echo.NewHTTPError(http.StatusServiceUnavailable, "the request ended while waiting to be received; nothing was recorded")
		}
	}
	s.metrics.bodiesReading.Inc()
	return func() {
		s.metrics.bodiesReading.Dec()
		<-s.bodies
	}, nil
}

// readGrowing reads r to its end into a buffer that starts at
// firstBodyBuffer (or the announced size, if smaller) and doubles as
// bytes arrive, never past the announced size plus one byte (to see the
// end) nor past max plus one (r, a MaxBytesReader, fails past max).
func readGrowing(r io.Reader, announced, max int64) ([]byte, error) {
	limit := max + 1
	want := limit
	if announced >= 0 && announced < max {
		want = announced + 1
	}
	buf := make([]byte, 0, min(firstBodyBuffer, want))
	for {
		if len(buf) == cap(buf) {
			next := min(2*int64(cap(buf)), limit)
			if int64(cap(buf)) < want {
				next = min(next, want)
			}
			if next <= int64(cap(buf)) {
				return nil, &http.MaxBytesError{Limit: max}
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
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

// recordTimeout bounds the recording of a webhook: a store that stopped
// answering gets the sender a 503 after this long, well within what
// senders wait (GitHub: 10 s), rather than a request hanging until the
// sender gives up without an answer.
const recordTimeout = 5 * time.Second

// ingest records m and answers, asynchronously or not.
func (s *Server) ingest(c echo.Context, m storage.Message, body []byte, sync bool) error {
	// The deadline bounds the recording only: a synchronous message,
	// once recorded, is processed under its functions' own timeouts.
	ctx, cancel := context.WithTimeout(c.Request().Context(), recordTimeout)
	defer cancel()
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
	if o.Response != nil && m.ResubmitOf == "" {
		// A sender's answer; a resubmission through the API keeps the
		// API's JSON.
		return writeResponse(c, o.Response)
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
	if errors.Is(err, functions.ErrStopping) || errors.Is(err, storage.ErrClosed) {
		return s.reject(reasonNotRecorded, err) // 503
	}
	s.log.Error("could not record a webhook; answered 503 so that the sender sends it again", "message_id", m.ID, "err", err)
	return s.reject(reasonNotRecorded, echo.NewHTTPError(http.StatusServiceUnavailable, "the message could not be recorded; nothing was accepted, send it again"))
}

// writeResponse sends the answer a script set in RESPONSE, its headers
// already checked (scripting.Response).
func writeResponse(c echo.Context, r *scripting.Response) error {
	h := c.Response().Header()
	for name, values := range r.Headers {
		h[name] = values
	}
	// A script's answer is served on the UI's origin, where a page could
	// call the API with a signed-in user's session: whatever the script
	// set as Content-Type, it is never a same-origin page (no script runs
	// with the origin's rights, no plugin, no frame of it).
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'")
	c.Response().WriteHeader(r.Status)
	if len(r.Body) == 0 {
		return nil
	}
	_, err := c.Response().Write(r.Body)
	return err
}
