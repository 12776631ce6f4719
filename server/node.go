package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// nodeStore is what this node's membership needs of the store.
type nodeStore interface {
	Heartbeat(ctx context.Context, n storage.Node, lease time.Duration) (storage.Node, error)
	ForgetNode(ctx context.Context) error
}

// node is this process as a member of the installation's nodes: it
// registers at start, renews its lease with a heartbeat every lease/3,
// and knows whether its lease still holds. Claims are fenced by the
// store itself (ErrNoLease, by the store's clock); node only tells
// /readyz, so that a load balancer stops sending work to a node that
// cannot keep it.
type node struct {
	store nodeStore
	self  storage.Node // as registered
	lease time.Duration
	log   *slog.Logger

	lastOK  atomic.Int64 // when the last heartbeat succeeded (UnixNano, this process's clock)
	lost    atomic.Bool  // no heartbeat succeeded for a whole lease
	failing atomic.Bool  // the last heartbeat failed
}

// registerNode sends the first heartbeat: a node that cannot register
// must not start, since it could claim nothing.
func registerNode(ctx context.Context, st nodeStore, n storage.Node, lease time.Duration, log *slog.Logger) (*node, error) {
	self, err := st.Heartbeat(ctx, n, lease)
	if err != nil {
		return nil, fmt.Errorf("register this node: %w", err)
	}
	nd := &node{store: st, self: self, lease: lease, log: log}
	nd.lastOK.Store(time.Now().UnixNano())
	return nd, nil
}

// ID is the node's id.
func (n *node) ID() string { return n.self.ID }

// live reports whether this node's lease still holds, as far as it
// knows: a heartbeat succeeded less than a lease ago.
func (n *node) live() bool {
	return !n.lost.Load() && time.Since(time.Unix(0, n.lastOK.Load())) < n.lease
}

// run heartbeats every lease/3 until ctx ends.
func (n *node) run(ctx context.Context) {
	t := time.NewTicker(n.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.beat(ctx)
	}
}

// beat sends one heartbeat and logs each change of state once: a
// heartbeat failing, the lease lost, the lease held again.
func (n *node) beat(ctx context.Context) {
	beatCtx, cancel := context.WithTimeout(ctx, n.lease/3)
	defer cancel()
	_, err := n.store.Heartbeat(beatCtx, n.self, n.lease)
	if err != nil {
		if ctx.Err() != nil {
			return // stopping
		}
		if !n.failing.Swap(true) {
			n.log.Warn("heartbeat failed; this node keeps its lease until it ends", "node", n.ID(), "err", err)
		}
		if time.Since(time.Unix(0, n.lastOK.Load())) >= n.lease && !n.lost.Swap(true) {
			n.log.Error("this node lost its lease: it reports not ready and claims no work until a heartbeat succeeds", "node", n.ID(), "lease", n.lease.String())
		}
		return
	}
	n.lastOK.Store(time.Now().UnixNano())
	if n.failing.Swap(false) {
		n.log.Info("heartbeat succeeded again", "node", n.ID())
	}
	if n.lost.Swap(false) {
		n.log.Info("this node holds a lease again: ready, and claiming work", "node", n.ID())
	}
}

// forget ends this node's lease at once, on shutdown after its work has
// stopped, so that the other nodes take over what it still held without
// waiting for the lease to end.
func (n *node) forget(ctx context.Context) {
	if err := n.store.ForgetNode(ctx); err != nil {
		n.log.Warn("could not leave the cluster; the other nodes take over this node's claims when its lease ends", "node", n.ID(), "err", err)
	}
}
