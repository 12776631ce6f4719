package server

import (
	linked "container/list"
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Failed sign-ins are limited three ways, each a token bucket that
// refills one attempt every 6 s (10 a minute):
//
//   - per client address: 10 failures, whatever the names (one address
//     guessing many users' passwords);
//   - per name from one address: 10 failures (one address guessing one
//     user's password); this is the lock a user meets who mistypes;
//   - per name from everywhere: 30 failures (many addresses guessing one
//     user's password). Past it, the name is locked for every address
//     except those it has signed in from before (the last few): a
//     stranger can lock a name for strangers, never for its user at a
//     known address.
//
// Only failures are counted: a user who signs in many times is never
// refused for it. On one node the buckets and known addresses are kept
// in memory; where nodes share the store (PostgreSQL) they are kept in
// it, so that spreading guesses over the nodes gains nothing.
const (
	loginBurst     = 10
	loginNameBurst = 30
	loginEvery     = 6 * time.Second
	// loginKeys bounds each of the limiter's tables.
	loginKeys = 10000
	// loginKnownAddrs is how many addresses a name is remembered to have
	// signed in from.
	loginKnownAddrs = 8
	// loginRecordTimeout bounds recording a failure in the shared store.
	loginRecordTimeout = 10 * time.Second
)

// loginLimiter keeps the buckets above: in shared when the store offers
// it, otherwise in its own tables. Each table is a bounded LRU that
// forgets a key only once its bucket is full again, which is exactly when
// forgetting it changes nothing. When the least recently used key still
// counts failures, a new key is refused instead: a flood of junk names or
// addresses can fill a table, but it cannot make it forget a locked name.
// The shared store forgets a bucket only once it is full again too (the
// purge), and holds no more than the failures of the last minutes.
type loginLimiter struct {
	shared   storage.LoginLimits // nil: the tables below, this process's own
	mu       sync.Mutex
	addrs    bucketTable         // failures per address
	pairs    bucketTable         // failures per name from one address
	names    bucketTable         // failures per name
	known    map[string][]string // name key -> address keys it signed in from, newest first
	capacity int                 // keys per table; 0: loginKeys
	now      func() time.Time    // nil: time.Now
}

// loginVerdict is the limiter's answer to one attempt.
type loginVerdict int

const (
	loginAllowed loginVerdict = iota
	loginLimited              // the address, the pair or the name has used its allowance
	loginBusy                 // a table is full of keys still counting failures
)

// clock returns the time and the capacity of each table.
func (l *loginLimiter) clock() (time.Time, int) {
	capacity, now := l.capacity, time.Now()
	if capacity <= 0 {
		capacity = loginKeys
	}
	if l.now != nil {
		now = l.now()
	}
	return now, capacity
}

// buckets returns the three buckets of an attempt (nil when a table is
// full of keys still counting).
func (l *loginLimiter) buckets(addr, name string, now time.Time, capacity int) (a, p, n *bucket) {
	ak, nk := addrKey(addr), nameKey(name)
	a = l.addrs.get(ak, now, capacity, loginBurst)
	p = l.pairs.get(nk+"\x00"+ak, now, capacity, loginBurst)
	n = l.names.get(nk, now, capacity, loginNameBurst)
	return a, p, n
}

// sharedBuckets are the three buckets of an attempt as the shared store
// keeps them: address, pair, name, each key led by its kind.
func sharedBuckets(addr, name string) []storage.LoginBucket {
	ak, nk := addrKey(addr), nameKey(name)
	return []storage.LoginBucket{
		{Key: "addr\x00" + ak, Burst: loginBurst},
		{Key: "pair\x00" + nk + "\x00" + ak, Burst: loginBurst},
		{Key: "name\x00" + nk, Burst: loginNameBurst},
	}
}

// time is the limiter's clock, read under its lock.
func (l *loginLimiter) time() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	now, _ := l.clock()
	return now
}

// allow says whether name may be tried from addr (as the client sent it)
// now, and when refused, how long until it may. It spends nothing:
// failed does. An error (the shared store's) refuses the attempt.
func (l *loginLimiter) allow(ctx context.Context, addr, name string) (loginVerdict, time.Duration, error) {
	if l.shared != nil {
		return l.allowShared(ctx, addr, name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now, capacity := l.clock()
	a, p, n := l.buckets(addr, name, now, capacity)
	if a == nil || p == nil || n == nil {
		return loginBusy, time.Minute, nil
	}
	limits := []*bucket{a, p}
	if !slices.Contains(l.known[nameKey(name)], addrKey(addr)) {
		limits = append(limits, n)
	}
	var wait time.Duration
	for _, b := range limits {
		wait = max(wait, b.wait(now))
	}
	verdict, wait := verdictOf(wait)
	return verdict, wait, nil
}

// allowShared is allow on the shared store's buckets, in one round trip.
func (l *loginLimiter) allowShared(ctx context.Context, addr, name string) (loginVerdict, time.Duration, error) {
	left, known, err := l.shared.LoginFailures(ctx, l.time(), loginEvery, sharedBuckets(addr, name), nameKey(name), addrKey(addr))
	if err != nil {
		return loginBusy, 0, err
	}
	if known {
		left = left[:2] // the address's and the pair's: not the name's
	}
	var wait time.Duration
	for _, tokens := range left {
		wait = max(wait, untilAttempt(tokens))
	}
	verdict, wait := verdictOf(wait)
	return verdict, wait, nil
}

// verdictOf is the answer to an attempt that must wait this long.
func verdictOf(wait time.Duration) (loginVerdict, time.Duration) {
	if wait > 0 {
		return loginLimited, wait
	}
	return loginAllowed, 0
}

// failed spends one attempt of name from addr in each bucket. In the
// shared store it counts even when the client has gone meanwhile: a
// guess whose answer was dropped is still a guess.
func (l *loginLimiter) failed(ctx context.Context, addr, name string) error {
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loginRecordTimeout)
		defer cancel()
		return l.shared.RecordLoginFailure(ctx, l.time(), loginEvery, sharedBuckets(addr, name))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now, capacity := l.clock()
	a, p, n := l.buckets(addr, name, now, capacity)
	for _, b := range []*bucket{a, p, n} {
		if b != nil {
			b.spend(now)
		}
	}
	return nil
}

// succeeded remembers that name signed in from addr.
func (l *loginLimiter) succeeded(ctx context.Context, addr, name string) error {
	nk, ak := nameKey(name), addrKey(addr)
	if l.shared != nil {
		return l.shared.RecordLoginSuccess(ctx, l.time(), nk, ak, loginKnownAddrs)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known == nil {
		l.known = map[string][]string{}
	}
	list := slices.DeleteFunc(l.known[nk], func(k string) bool { return k == ak })
	list = slices.Insert(list, 0, ak)
	if len(list) > loginKnownAddrs {
		list = list[:loginKnownAddrs]
	}
	l.known[nk] = list
	return nil
}

// addrKey is a client address's key: an IPv4 address as is, an IPv6
// address by its /64 (what one subscriber gets), an IPv4-mapped IPv6
// address as the IPv4 address.
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a = a.Unmap(); a.Is6() {
		return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return a.String()
}

// nameKey is a sign-in name's key: names compare case-insensitively, and
// no user's name is longer than maxUserName, so longer ones are cut.
func nameKey(name string) string {
	name = strings.ToLower(name)
	if len(name) > maxUserName {
		name = name[:maxUserName+1]
	}
	return name
}

// bucketTable is a bounded LRU of token buckets.
type bucketTable struct {
	order *linked.List // of *bucket, most recently used first
	byKey map[string]*linked.Element
}

type bucket struct {
	key    string
	burst  float64   // attempts when full
	tokens float64   // attempts left; below zero after failures that raced
	at     time.Time // when tokens was last brought up to date
}

// get returns key's bucket, made full (burst attempts) if new, as the
// most recently used. It returns nil when the table holds capacity keys
// and the least recently used one has not refilled yet.
func (t *bucketTable) get(key string, now time.Time, capacity, burst int) *bucket {
	if t.byKey == nil {
		t.order, t.byKey = linked.New(), map[string]*linked.Element{}
	}
	if e, ok := t.byKey[key]; ok {
		t.order.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if t.order.Len() >= capacity {
		last := t.order.Back()
		old := last.Value.(*bucket)
		if !old.full(now) {
			return nil
		}
		t.order.Remove(last)
		delete(t.byKey, old.key)
	}
	b := &bucket{key: key, burst: float64(burst), tokens: float64(burst), at: now}
	t.byKey[key] = t.order.PushFront(b)
	return b
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.at) {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.at))/float64(loginEvery))
		b.at = now
	}
}

// full reports whether the bucket has every attempt back, so that
// forgetting it changes nothing.
func (b *bucket) full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.burst
}

// wait is how long until an attempt is left (0: one is).
func (b *bucket) wait(now time.Time) time.Duration {
	b.refill(now)
	return untilAttempt(b.tokens)
}

// untilAttempt is how long until a bucket with tokens left has an attempt
// (0: it has one).
func untilAttempt(tokens float64) time.Duration {
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(loginEvery))
}

// spend takes one attempt. Attempts checked at once and failed together
// may take it below zero, down to minus a burst: those cost their
// sender the wait.
func (b *bucket) spend(now time.Time) {
	b.refill(now)
	b.tokens = max(b.tokens-1, -b.burst)
}
