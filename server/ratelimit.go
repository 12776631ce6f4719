package server

import (
	linked "container/list"
	"math"
	"strconv"
	"sync"
	"time"
)

// rateKeys bounds the rate limiter's table of client addresses: an
// attacker rotating addresses cannot grow it past this (a few MiB).
const rateKeys = 1 << 16

// rateLimiter holds a token bucket per client address (--rate-limit
// requests a second, --rate-limit-burst at once), keyed like the sign-in
// limiter (addrKey: an IPv6 address by its /64). Its table is a bounded
// LRU: when full, the least recently used address is forgotten whatever
// its bucket holds. Forgetting an address gives it a fresh burst, the
// lesser harm: refusing new addresses instead would let one attacker
// who rotates addresses lock every other sender out. The buckets live in
// this node's memory: on a cluster, each node allows the rate.
type rateLimiter struct {
	every    time.Duration // time for one token to come back
	burst    float64
	capacity int
	mu       sync.Mutex
	order    *linked.List // of *rateBucket, most recently used first
	byKey    map[string]*linked.Element
}

type rateBucket struct {
	key    string
	tokens float64
	at     time.Time
}

// newRateLimiter limits to perSecond requests a second with bursts of
// burst (at least one); nil when perSecond is 0 (no limit).
func newRateLimiter(perSecond float64, burst, capacity int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{
		every:    time.Duration(float64(time.Second) / perSecond),
		burst:    float64(max(burst, 1)),
		capacity: capacity,
		order:    linked.New(),
		byKey:    map[string]*linked.Element{},
	}
}

// take spends one request of addr's bucket at now. When there is none
// left it answers how long until there is.
func (l *rateLimiter) take(addr string, now time.Time) (bool, time.Duration) {
	k := addrKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(k, now)
	if now.After(b.at) {
		b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
		b.at = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return true, 0
}

// bucket returns k's bucket (full if new) as the most recently used,
// forgetting the least recently used one if the table is full.
func (l *rateLimiter) bucket(k string, now time.Time) *rateBucket {
	if e, ok := l.byKey[k]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*rateBucket)
	}
	if l.order.Len() >= l.capacity {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.byKey, last.Value.(*rateBucket).key)
	}
	b := &rateBucket{key: k, tokens: l.burst, at: now}
	l.byKey[k] = l.order.PushFront(b)
	return b
}

// retryAfter is a Retry-After value: whole seconds, rounded up, at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}
