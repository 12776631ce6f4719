package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/storage"
)

// The attempt stage: one try at a delivery, in its own goroutine. It
// reads the event, builds the request (request.go), sends it, judges the
// answer, tells the scheduler the lane's slot is free, records the outcome
// with the next attempt's time (retry.go), and hands the outcome to the
// health stage.

// recordTimeout bounds writing an attempt's outcome.
const recordTimeout = 30 * time.Second

// defaultPolicy is the retry policy of callbacks.
var defaultPolicy = storage.RetryPolicy{MaxAttempts: len(defaultSchedule), Backoff: "exponential"}

// launch runs an attempt at d, which the scheduler has given a slot in l,
// in its own goroutine; Close waits for it.
func (e *Engine) launch(d storage.Delivery, l *lane) {
	e.attempts.Add(1)
	go e.attempt(d, l)
}

// attempt makes one attempt at d and records it.
func (e *Engine) attempt(d storage.Delivery, l *lane) {
	defer e.attempts.Done()
	ctx := e.work
	start := time.Now()
	policy, final := defaultPolicy, false
	t, deleted := e.sched.target(l)

	var r result
	ev, err := e.event(ctx, d.EventID)
	switch {
	case err != nil:
		r.attempt = storage.Attempt{At: start.UTC(), Error: "the event cannot be read: " + err.Error()}
		final = !errors.Is(err, storage.ErrClosed) && ctx.Err() == nil
	case d.Callback != nil:
		r = send(ctx, e.client, callbackRequest(d.Callback, ev.Event, d.ID, start), start)
	case deleted || t == nil:
		r.attempt = storage.Attempt{At: start.UTC(), Error: "the endpoint was deleted"}
		final = true
	default:
		policy = t.ep.Retry
		o, err := t.request(ev, d.ID, start)
		switch {
		case err != nil:
			// The same event renders the same way every time: retrying
			// for the policy's ~28 h would only repeat this.
			r.attempt = storage.Attempt{At: start.UTC(), Error: "building the request (not retried): " + err.Error()}
			final = true
		case t.broker != nil:
			r = publish(ctx, e.brokers, t.ep.ID, *t.broker, o, start)
		default:
			r = e.reach.send(ctx, t, o, start)
		}
	}
	now := time.Now()
	if ctx.Err() != nil {
		// Shutting down: the attempt did not really happen; the delivery
		// stays due, its claim is given back, and it is made again after
		// the next start (or by another node).
		e.sched.answered(l, nil, now)
		e.sched.recorded(d.ID)
		e.sched.release([]string{d.ID})
		return
	}
	// The lane's slot is free once the answer is in; the delivery stays
	// held until its outcome is written.
	e.sched.answered(l, &r, now)

	u := storage.DeliveryUpdate{Status: storage.DeliveryFailed}
	outcome := "failed"
	switch {
	case r.ok:
		u.Status, outcome = storage.DeliverySuccess, "success"
	case final:
	default:
		delay, more := nextDelay(policy, d.AttemptCount+1-d.Base)
		if more || r.gone {
			delay = max(delay, r.retryAfter)
			next := now.Add(delay).UTC()
			u.Status, u.NextAt, outcome = storage.DeliveryPending, &next, "retry"
		}
	}
	rctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	_, recErr := e.store.RecordAttempt(rctx, d.ID, r.attempt, u)
	if recErr != nil {
		e.log.Error("recording a delivery attempt; the delivery will be attempted again", "delivery", d.ID, "err", recErr)
	} else {
		if u.Status != storage.DeliveryPending {
			e.events.release(d.EventID)
		}
		e.logOutcome(d, t, r, u)
	}
	if e.observer != nil {
		e.observer.Attempted(outcome, time.Duration(r.attempt.LatencyMS*float64(time.Millisecond)))
	}
	if t != nil && !deleted {
		e.health(rctx, t.ep.ID, d, r, u.Status)
	}
	e.sched.recorded(d.ID)
	if recErr != nil {
		// Not written: the claim goes back (after recorded, so that no
		// scan here claims the delivery while it is still in hand).
		e.sched.release([]string{d.ID})
	}
}

// logOutcome logs a delivery that failed for good at warn, once, and a
// failed attempt that will be retried at debug only.
func (e *Engine) logOutcome(d storage.Delivery, t *target, r result, u storage.DeliveryUpdate) {
	if u.Status == storage.DeliverySuccess {
		return
	}
	attrs := []any{"delivery", d.ID, "type", d.EventType}
	switch {
	case d.Callback != nil:
		attrs = append(attrs, "lane", d.Lane)
	default:
		attrs = append(attrs, "endpoint", d.EndpointID)
		if t != nil {
			attrs = append(attrs, "name", t.ep.Name)
		}
	}
	if r.attempt.Status != 0 {
		attrs = append(attrs, "status", r.attempt.Status)
	}
	attrs = append(attrs, "err", r.attempt.Error)
	if u.Status == storage.DeliveryPending {
		e.log.Debug("a delivery attempt failed; it will be retried", append(attrs, "attempt", d.AttemptCount+1, "next_at", u.NextAt)...)
		return
	}
	e.log.Warn("a delivery failed for good", append(attrs, "attempts", d.AttemptCount+1)...)
}

// event returns a delivery's event, from memory when it can.
func (e *Engine) event(ctx context.Context, id string) (storage.EncodedEvent, error) {
	if ev, ok := e.events.get(id); ok {
		return ev, nil
	}
	return e.store.GetEvent(ctx, id)
}

// result is what one attempt found out.
type result struct {
	attempt    storage.Attempt
	ok         bool          // verified success
	retryAfter time.Duration // the receiver's Retry-After on 429 or 503
	gone       bool          // 410: the receiver does not want more
	slow       bool          // 429, 502, 503 or 504: the receiver is overloaded
}

// send makes one HTTP attempt and judges the answer.
func send(ctx context.Context, hc *http.Client, o *outgoing, start time.Time) result {
	r := result{attempt: storage.Attempt{At: start.UTC()}}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, o.method, o.url, bytes.NewReader(o.body))
	if err != nil {
		r.attempt.Error = "bad request: " + cleanURLError(err)
		return r
	}
	req.Header = o.header
	if len(o.body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	resp, err := hc.Do(req)
	if err != nil {
		r.attempt.LatencyMS = ms(time.Since(start))
		r.attempt.Error = attemptError(ctx, err, o.timeout)
		return r
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, verifyRead))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
	r.attempt.LatencyMS = ms(time.Since(start))
	r.attempt.Status = resp.StatusCode
	r.attempt.Response = excerpt(body)
	if rerr != nil && !errors.Is(rerr, egress.ErrResponseTooLarge) {
		r.attempt.Error = "reading the response: " + attemptError(ctx, rerr, o.timeout)
	}
	r.ok = r.attempt.Error == "" && verified(o.verify, resp.StatusCode, body)
	switch resp.StatusCode {
	case http.StatusGone:
		r.gone = !r.ok
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		r.retryAfter = retryAfter(resp.Header, time.Now())
		r.slow = true
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		r.slow = true
	}
	if !r.ok && r.attempt.Error == "" {
		r.attempt.Error = failure(o.verify, resp.StatusCode)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// verified applies an endpoint's success rule.
func verified(v storage.Verify, status int, body []byte) bool {
	switch v.Type {
	case "status":
		return strconv.Itoa(status) == v.Value
	case "contains":
		return status >= 200 && status < 300 && bytes.Contains(body, []byte(v.Value))
	default:
		return status >= 200 && status < 300
	}
}

func failure(v storage.Verify, status int) string {
	switch {
	case v.Type == "status":
		return fmt.Sprintf("answered %d, want %s", status, v.Value)
	case v.Type == "contains" && status >= 200 && status < 300:
		return fmt.Sprintf("the response body does not contain %q", v.Value)
	case status >= 300 && status < 400:
		return fmt.Sprintf("answered %d (redirects are not followed)", status)
	default:
		return fmt.Sprintf("answered %d", status)
	}
}

// excerpt keeps the first storage.MaxResponseExcerpt bytes of a body, cut
// on a UTF-8 boundary.
func excerpt(b []byte) string {
	if len(b) <= storage.MaxResponseExcerpt {
		return string(b)
	}
	b = b[:storage.MaxResponseExcerpt]
	// Drop a rune cut in half.
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return string(b)
}

// attemptError describes a failed request without its URL (which may
// carry tokens).
func attemptError(ctx context.Context, err error, timeout time.Duration) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s", timeout)
	case errors.Is(err, egress.ErrRefused):
		var re *egress.RefusedError
		if errors.As(err, &re) {
			return re.Error()
		}
		return "refused by the egress guard"
	}
	return cleanURLError(err)
}

// cleanURLError drops the method and URL that *url.Error puts in front.
func cleanURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
