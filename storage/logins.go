package storage

import (
	"context"
	"time"
)

// LoginBucket is one token bucket of failed sign-ins: Key names what it
// counts (an address, a name, both), Burst is how many failures it holds
// when full. Every bucket refills one attempt per `every` that its
// caller gives.
type LoginBucket struct {
	Key   string
	Burst int
}

// LoginLimits keeps the sign-in limiter's state where every node sharing
// the store sees it (storage/postgres), so that an attacker who spreads
// guesses over N nodes gets one allowance, not N. A store of one process
// need not offer it: its server keeps the same buckets in memory.
//
// Times come from the caller's clock (a node's, or a test's frozen one);
// a bucket is refilled by the time elapsed since its last failure, never
// by a negative one, so nodes' clocks a little apart only delay a refill.
type LoginLimits interface {
	// LoginFailures answers, in one round trip, how many attempts each
	// of buckets has left at now (Burst for a bucket never spent or full
	// again; below one when refused), and whether name has signed in
	// from addr before (RecordLoginSuccess).
	LoginFailures(ctx context.Context, now time.Time, every time.Duration, buckets []LoginBucket, name, addr string) (left []float64, known bool, err error)
	// RecordLoginFailure spends one attempt of each of buckets at now,
	// after refilling it, in one statement. A bucket goes no lower than
	// minus its Burst: failures checked at once and recorded together
	// cost their sender the wait.
	RecordLoginFailure(ctx context.Context, now time.Time, every time.Duration, buckets []LoginBucket) error
	// RecordLoginSuccess remembers that name signed in from addr at now,
	// keeping the keep addresses it signed in from most recently.
	RecordLoginSuccess(ctx context.Context, now time.Time, name, addr string, keep int) error
	// PurgeLoginBuckets forgets up to limit buckets that are full again
	// at now (forgetting them changes nothing) and says how many it
	// forgot: only buckets still counting failures take room.
	PurgeLoginBuckets(ctx context.Context, now time.Time, limit int) (int, error)
}
