package notify

import (
	"time"

	"golang.org/x/time/rate"
)

// Slow-down steps when a receiver signals overload (429, 502, 503, 504)
// without a Retry-After: the lane pauses for a step that doubles on every
// such answer and resets on success.
const (
	minSlowdown = time.Second
	maxSlowdown = time.Minute
	// maxLaneCool caps how long one Retry-After pauses a whole lane (the
	// delivery itself may wait longer, up to maxRetryAfter).
	maxLaneCool = time.Hour
)

// lane is the in-memory state of one delivery queue (an endpoint, or the
// callbacks to one host): what is in flight, how much more it may take,
// and whether the receiver asked it to slow down. Guarded by scheduler.mu.
type lane struct {
	key      string
	target   *target // nil for callbacks and for a deleted endpoint
	deleted  bool    // the lane's endpoint no longer exists
	inflight int
	// limit is the concurrency allowed now: max, halved on overload
	// answers, raised by one on each success (AIMD).
	limit, max int
	rate       *rate.Limiter // nil: no rate limit
	coolUntil  time.Time
	slowdown   time.Duration
}

func newLane(key string, t *target) *lane {
	l := &lane{key: key}
	l.configure(t)
	return l
}

// configure applies an endpoint's (new) settings.
func (l *lane) configure(t *target) {
	l.target = t
	l.max = DefaultConcurrency
	if t != nil {
		l.max = t.ep.Concurrency
	}
	if l.limit == 0 || l.limit > l.max {
		l.limit = l.max
	}
	switch {
	case t == nil || t.ep.RateLimit <= 0:
		l.rate = nil
	case l.rate == nil || float64(l.rate.Limit()) != t.ep.RateLimit:
		l.rate = rate.NewLimiter(rate.Limit(t.ep.RateLimit), max(1, int(t.ep.RateLimit)))
	}
}

// free says how many more deliveries the lane may start now.
func (l *lane) free(now time.Time) int {
	if l.target != nil && !l.target.ep.Enabled {
		return 0
	}
	if now.Before(l.coolUntil) {
		return 0
	}
	n := l.limit - l.inflight
	if n <= 0 {
		return 0
	}
	if l.rate != nil {
		n = min(n, int(l.rate.TokensAt(now)))
	}
	return max(n, 0)
}

// start takes a slot (and a rate token) for one delivery.
func (l *lane) start(now time.Time) bool {
	if l.free(now) == 0 {
		return false
	}
	if l.rate != nil && !l.rate.AllowN(now, 1) {
		return false
	}
	l.inflight++
	return true
}

// feedback adjusts the lane after an attempt.
func (l *lane) feedback(r result, now time.Time) {
	switch {
	case r.ok:
		l.slowdown = 0
		if l.limit < l.max {
			l.limit++
		}
	case r.slow:
		l.limit = max(1, l.limit/2)
		l.slowdown = min(max(2*l.slowdown, minSlowdown), maxSlowdown)
		pause := l.slowdown
		if r.retryAfter > 0 {
			pause = min(r.retryAfter, maxLaneCool)
		}
		if until := now.Add(pause); until.After(l.coolUntil) {
			l.coolUntil = until
		}
	}
}
