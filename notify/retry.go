package notify

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Bounds on what a receiver can ask for.
const (
	// maxRetryAfter caps a Retry-After: a receiver cannot park a delivery
	// for longer than this.
	maxRetryAfter = 24 * time.Hour
	// maxExpDelay caps an exponential backoff step.
	maxExpDelay = 10 * time.Hour
	// jitter spreads retries by up to ±10% so that deliveries failed
	// together do not come back together.
	jitter = 0.1
)

// nextDelay returns how long to wait before the next attempt of a delivery
// that has made `made` attempts (made >= 1) in its current round, and
// false when the policy is used up.
func nextDelay(p storage.RetryPolicy, made int) (time.Duration, bool) {
	if made >= p.MaxAttempts {
		return 0, false
	}
	var d time.Duration
	switch {
	case p.Backoff == "fixed":
		return time.Duration(p.IntervalMS) * time.Millisecond, true
	case p.IntervalMS == 0:
		d = defaultSchedule[min(made, len(defaultSchedule)-1)]
	default:
		d = time.Duration(p.IntervalMS) * time.Millisecond
		for i := 1; i < made && d < maxExpDelay; i++ {
			d *= 2
		}
		d = min(d, maxExpDelay)
	}
	return spread(d), true
}

// spread applies the jitter.
func spread(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	f := 1 + jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped;
// 0 when absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}
