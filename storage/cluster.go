package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNoLease: this node holds no live lease (it never sent a heartbeat,
// or its lease ended before the next one), so it may not claim work:
// other nodes may already have taken what it held. A heartbeat gives it
// a lease again.
var ErrNoLease = errors.New("this node holds no live lease")

// Node is one process serving an installation. Several may share a store
// (PostgreSQL); each has a lease that it renews with heartbeats, and is
// live while the lease has not ended by the database's clock.
type Node struct {
	ID        string    `json:"id"` // a fresh UUIDv7 per process start
	Address   string    `json:"address"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	// LastSeen is when the latest heartbeat arrived and LeaseUntil when
	// its lease ends, both by the store's clock.
	LastSeen   time.Time `json:"last_seen"`
	LeaseUntil time.Time `json:"-"`
}

// Kinds of change in the change feed: each names the caches that a
// change of that kind makes stale.
const (
	// ChangeCatalogue: providers (their order included) and functions.
	ChangeCatalogue = "catalogue"
	// ChangeEndpoints: endpoints, their health included.
	ChangeEndpoints = "endpoints"
	// ChangeAccess: users, API tokens and sessions (not a sign-in time
	// nor a token's last use).
	ChangeAccess = "access"
	// ChangeSettings: the named settings (e.g. outbound pause).
	ChangeSettings = "settings"
)

// ChangeKinds lists every kind of change.
var ChangeKinds = []string{ChangeCatalogue, ChangeEndpoints, ChangeAccess, ChangeSettings}

// Cluster is what a store offers so that many nodes can share it: the
// membership of nodes, claims on messages and deliveries, the change
// feed and the locks of periodic jobs. Every backend implements it, and
// the conformance suite checks it (storagetest.RunNode on one node,
// storagetest.RunCluster on several); a backend for one process
// (storage/bolt) keeps the same meaning for its single node.
//
// A store acts for one node, its NodeID, fixed when it is opened. Claims
// are held by nodes, not by rows: a node's claims stay its own while its
// lease is live, and are free for any node once the lease ends (a dead
// node) or the node is forgotten, all at once.
type Cluster interface {
	// NodeID is the node this store acts for.
	NodeID() string
	// Heartbeat registers this node (n.ID empty or NodeID, ErrInvalid
	// otherwise), with its address, version and start time, and gives it
	// a lease that ends lease from now by the store's clock. It returns
	// the node as stored.
	Heartbeat(ctx context.Context, n Node, lease time.Duration) (Node, error)
	// Nodes lists the live nodes, in id order.
	Nodes(ctx context.Context) ([]Node, error)
	// ForgetNode ends this node's lease at once (on shutdown): its claims
	// are free for the other nodes from now on.
	ForgetNode(ctx context.Context) error
	// PurgeNodes deletes the nodes whose lease ended more than deadFor
	// ago and says how many it deleted.
	PurgeNodes(ctx context.Context, deadFor time.Duration) (int, error)

	// ClaimPending claims for this node up to limit PENDING messages with
	// ids after `after`, oldest first, and returns them (headers and
	// query included): those no live node holds, and those this node
	// holds already (AppendMessage claims a message for the node that
	// received it). No other node gets them while this node lives; a
	// caller pages through the queue with `after` as PendingMessages
	// does. ErrNoLease when this node's lease has ended.
	ClaimPending(ctx context.Context, after string, limit int) ([]Message, error)

	// ClaimDue claims for this node PENDING deliveries due at now that no
	// live node holds, and returns them, lane by lane in byte order, each
	// lane's earliest first. For every lane with such deliveries, take
	// says how many this node may start (0 skips the lane); the store
	// bounds that further, for every node together: an endpoint's lane
	// gets at most its Concurrency (when at least 1) less the deliveries
	// of that lane which live nodes hold, and, when it has a RateLimit,
	// no more than its token bucket holds (RateLimit tokens a second, as
	// many at once as RateLimit rounded down, at least 1). Callback lanes
	// and the lanes of deleted endpoints are bounded by take alone. A
	// claim holds until RecordAttempt (whatever its outcome) or
	// ReleaseDeliveries, or until this node's lease ends. take must not
	// call the store. ErrNoLease when this node's lease has ended.
	ClaimDue(ctx context.Context, now time.Time, take func(lane string) int) ([]Delivery, error)
	// ReleaseDeliveries gives up this node's claims on the deliveries ids
	// (claimed but not attempted); ids it does not hold are left alone.
	ReleaseDeliveries(ctx context.Context, ids []string) error

	// Changes returns the version of each kind of change (ChangeKinds):
	// each write that changes a kind's records moves its version, in the
	// same transaction. A node compares them from time to time with what
	// it saw, the safety net under Watch.
	Changes(ctx context.Context) (map[string]int64, error)
	// Watch calls fn with the kind of every change any node commits, soon
	// after its commit, until ctx ends (it then returns nil) or the store
	// is closed (ErrClosed). It keeps its own connection and reconnects
	// when that fails; after each (re)connection it calls fn once for
	// every kind, since what changed meanwhile is unknown. A store of one
	// process returns nil at once: there is no other node to hear from.
	Watch(ctx context.Context, fn func(kind string)) error

	// TryLock takes the lock called name, held by one caller at a time
	// among every node, without waiting: ok is false when someone holds
	// it. unlock releases it; a node that dies releases its locks.
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// Locker is the part of a store that takes the locks nodes share.
type Locker interface {
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// lockRetry is how often Lock tries again a lock another holds.
const lockRetry = 10 * time.Millisecond

// Lock waits for the lock called name until it takes it or ctx ends:
// for a short step that must be one among every node (a name checked
// and saved), not for long work (periodic jobs use TryLock and skip a
// turn).
func Lock(ctx context.Context, l Locker, name string) (unlock func(), err error) {
	t := time.NewTicker(lockRetry)
	defer t.Stop()
	for {
		unlock, ok, err := l.TryLock(ctx, name)
		if err != nil {
			return nil, err
		}
		if ok {
			return unlock, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %q: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}
