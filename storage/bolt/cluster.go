package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/time/rate"

	"github.com/switchyard-dev/switchyard/storage"
)

// The cluster primitives (storage.Cluster) for the one process that may
// open a bbolt file (bbolt locks it): a cluster of one node, kept in
// memory. They mean what they mean on PostgreSQL for that one node, so
// that whoever uses them does the same on both backends:
//
//   - the node is live while its heartbeats' lease lasts, by the store's
//     clock; claims do not depend on it (no other node could take over);
//   - ClaimPending is PendingMessages: the dispatcher's in-flight set
//     keeps a message from running twice in one process;
//   - ClaimDue holds the deliveries it hands out until RecordAttempt or
//     ReleaseDeliveries, and bounds each endpoint's lane by its
//     concurrency (less what the lane holds) and a token bucket of its
//     rate limit, as PostgreSQL does for every node together;
//     HoldDeliveries holds as well those the engine starts from memory;
//   - Changes counts the writes of each kind since Open, and Watch has
//     no other node to hear from;
//   - TryLock excludes the callers of one process.

var _ storage.Cluster = (*Store)(nil)

// cluster is the in-memory state of the node.
type cluster struct {
	mu       sync.Mutex
	self     *storage.Node // nil until the first heartbeat, and once forgotten
	versions map[string]int64
	locks    map[string]bool
	held     map[string]string        // the deliveries claimed, by id, with their lane
	inflight map[string]int           // how many deliveries each lane holds
	buckets  map[string]*rate.Limiter // the token buckets of lanes with a rate limit
	limits   map[string]decodedLimits // the lanes' limits as last decoded, by lane
}

// decodedLimits are a lane's limits with the endpoint record they were
// decoded from: a claim decodes a record again only when it changed.
type decodedLimits struct {
	raw []byte
	l   laneLimits
}

// maxDecodedLimits bounds the decoded limits kept; past it they are
// dropped and decoded again as claims need them.
const maxDecodedLimits = 4096

func newCluster() cluster {
	return cluster{
		versions: map[string]int64{},
		locks:    map[string]bool{},
		held:     map[string]string{},
		inflight: map[string]int{},
		buckets:  map[string]*rate.Limiter{},
		limits:   map[string]decodedLimits{},
	}
}

// NodeID is the node this store acts for: a fresh UUIDv7 per Open.
func (s *Store) NodeID() string { return s.node }

// Heartbeat records the node and its lease in memory.
func (s *Store) Heartbeat(ctx context.Context, n storage.Node, lease time.Duration) (storage.Node, error) {
	if n.ID != "" && n.ID != s.node {
		return storage.Node{}, fmt.Errorf("heartbeat: %w: node %q is not this store's node %q", storage.ErrInvalid, n.ID, s.node)
	}
	if lease < time.Millisecond {
		return storage.Node{}, fmt.Errorf("heartbeat: %w: a lease of %v", storage.ErrInvalid, lease)
	}
	if err := s.usable(ctx); err != nil {
		return storage.Node{}, fmt.Errorf("heartbeat: %w", err)
	}
	now := s.now().UTC()
	n.ID, n.StartedAt, n.LastSeen, n.LeaseUntil = s.node, n.StartedAt.UTC(), now, now.Add(lease)
	s.cluster.mu.Lock()
	s.cluster.self = &n
	s.cluster.mu.Unlock()
	return n, nil
}

// Nodes lists the node if its lease is live.
func (s *Store) Nodes(ctx context.Context) ([]storage.Node, error) {
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.self == nil || !c.self.LeaseUntil.After(s.now()) {
		return []storage.Node{}, nil
	}
	return []storage.Node{*c.self}, nil
}

// ForgetNode forgets the node and lets go of every delivery it holds.
func (s *Store) ForgetNode(ctx context.Context) error {
	if err := s.usable(ctx); err != nil {
		return fmt.Errorf("forget node: %w", err)
	}
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	c.self = nil
	clear(c.held)
	clear(c.inflight)
	return nil
}

// PurgeNodes forgets the node if its lease ended more than deadFor ago.
func (s *Store) PurgeNodes(ctx context.Context, deadFor time.Duration) (int, error) {
	if err := s.usable(ctx); err != nil {
		return 0, fmt.Errorf("purge nodes: %w", err)
	}
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.self == nil || !c.self.LeaseUntil.Before(s.now().Add(-deadFor)) {
		return 0, nil
	}
	c.self = nil
	return 1, nil
}

// ClaimPending is PendingMessages: one process has no other node to keep
// messages from.
func (s *Store) ClaimPending(ctx context.Context, after string, limit int) ([]storage.Message, error) {
	out, err := s.PendingMessages(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// laneLimits are what bounds an endpoint's lane (zero: nothing).
type laneLimits struct {
	Concurrency int     `json:"concurrency"`
	RateLimit   float64 `json:"rate_limit"`
}

// readLimits reads the limits of the endpoint whose lane is lane (its
// record decoded into the two fields it needs); a
// callback's lane, or a deleted endpoint's, has none. A claim reads them
// for every lane it asks of, so the record is decoded again only when it
// is not the one last decoded for the lane (comparing the bytes costs
// far less than decoding them). Called with c.mu held.
func (c *cluster) readLimits(endpoints *bolt.Bucket, lane string) (laneLimits, error) {
	var l laneLimits
	k, err := key(lane)
	if err != nil {
		return l, nil // a callback's lane
	}
	v := endpoints.Get(k)
	if v == nil {
		delete(c.limits, lane)
		return l, nil
	}
	if d, ok := c.limits[lane]; ok && bytes.Equal(d.raw, v) {
		return d.l, nil
	}
	if err := decodeRecord(v, &l); err != nil {
		return l, fmt.Errorf("endpoint %s: %w", lane, err)
	}
	if len(c.limits) >= maxDecodedLimits {
		clear(c.limits)
	}
	c.limits[lane] = decodedLimits{raw: bytes.Clone(v), l: l}
	return l, nil
}

// allow bounds n, what the caller would take of lane, by the lane's
// limits. Called with c.mu held.
func (c *cluster) allow(lane string, n int, l laneLimits, now time.Time) int {
	if l.Concurrency >= 1 {
		n = min(n, l.Concurrency-c.inflight[lane])
	}
	if l.RateLimit <= 0 {
		delete(c.buckets, lane)
		return max(n, 0)
	}
	burst := max(1, int(l.RateLimit))
	b := c.buckets[lane]
	switch {
	case b == nil:
		b = rate.NewLimiter(rate.Limit(l.RateLimit), burst)
		c.buckets[lane] = b
	case float64(b.Limit()) != l.RateLimit:
		b.SetLimitAt(now, rate.Limit(l.RateLimit))
		b.SetBurstAt(now, burst)
	}
	return max(min(n, int(b.TokensAt(now))), 0)
}

// hold records d as claimed, spending a token of its lane. Called with
// c.mu held.
func (c *cluster) hold(d storage.Delivery, now time.Time) {
	c.held[d.ID] = d.Lane
	c.inflight[d.Lane]++
	if b := c.buckets[d.Lane]; b != nil {
		b.AllowN(now, 1)
	}
}

// release lets go of the delivery id, if it is held. Called with c.mu
// held.
func (c *cluster) release(id string) {
	lane, ok := c.held[id]
	if !ok {
		return
	}
	delete(c.held, id)
	if c.inflight[lane]--; c.inflight[lane] <= 0 {
		delete(c.inflight, lane)
	}
}

// ClaimDue reads the due deliveries as DueDeliveries does, bounding each
// lane by take and by its endpoint's limits, passing over those held, and
// holds those it returns. It runs under the cluster's lock, one claim at
// a time, so that each lane's count is exact.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, take func(lane string) int) ([]storage.Delivery, error) {
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	clock := s.now()
	var out []storage.Delivery
	err := s.view(ctx, func(tx *bolt.Tx) error {
		endpoints := tx.Bucket(bucketEndpoints)
		var limitsErr error
		var err error
		out, err = s.due(ctx, tx, now, func(lane string) int {
			n := take(lane)
			if n <= 0 || limitsErr != nil {
				return 0
			}
			l, err := c.readLimits(endpoints, lane)
			if err != nil {
				limitsErr = err
				return 0
			}
			return c.allow(lane, n, l, clock)
		}, func(id string) bool {
			_, held := c.held[id]
			return held
		})
		if err == nil {
			err = limitsErr
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	for _, d := range out {
		c.hold(d, clock)
	}
	return out, nil
}

// HoldDeliveries holds the deliveries ds, those not held already, as if
// ClaimDue had handed them out (their lanes count them, and spend a
// token), until RecordAttempt or ReleaseDeliveries. The outbound engine
// starts the deliveries it has just published from memory, without
// claiming them: held, no claim hands them out again. Only a store of one
// process can offer it; where nodes share a store, every delivery is
// claimed.
func (s *Store) HoldDeliveries(ds []storage.Delivery) {
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	clock := s.now()
	for _, d := range ds {
		if _, held := c.held[d.ID]; !held {
			c.hold(d, clock)
		}
	}
}

// ReleaseDeliveries lets go of the deliveries ids.
func (s *Store) ReleaseDeliveries(ctx context.Context, ids []string) error {
	if err := s.usable(ctx); err != nil {
		return fmt.Errorf("release deliveries: %w", err)
	}
	s.releaseDeliveries(ids...)
	return nil
}

func (s *Store) releaseDeliveries(ids ...string) {
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.release(id)
	}
}

// releasedBy reports whether RecordAttempt's answer err ends the claim on
// its delivery: it was recorded, or is no longer there to attempt.
func releasedBy(err error) bool {
	return err == nil || errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict)
}

// updateChanging is update for a write of kind: once it is committed, the
// kind's version moves.
func (s *Store) updateChanging(ctx context.Context, kind string, fn func(*bolt.Tx) error) error {
	if err := s.update(ctx, fn); err != nil {
		return err
	}
	c := &s.cluster
	c.mu.Lock()
	c.versions[kind]++
	c.mu.Unlock()
	return nil
}

// Changes returns how many writes of each kind this store committed.
func (s *Store) Changes(ctx context.Context) (map[string]int64, error) {
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(storage.ChangeKinds))
	for _, kind := range storage.ChangeKinds {
		out[kind] = 0
	}
	maps.Copy(out, c.versions)
	return out, nil
}

// Watch returns at once: every change is this process's own. Like a
// watch whose context ended, it answers nil (ErrClosed once closed).
func (s *Store) Watch(ctx context.Context, fn func(kind string)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	return nil
}

// TryLock takes the lock name if no caller of this process holds it.
func (s *Store) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if err := s.usable(ctx); err != nil {
		return nil, false, fmt.Errorf("lock %q: %w", name, err)
	}
	c := &s.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks[name] {
		return nil, false, nil
	}
	c.locks[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.locks, name)
			c.mu.Unlock()
		})
	}, true, nil
}

// usable fails when ctx has ended or the store is closed.
func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	return nil
}
