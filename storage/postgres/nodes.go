package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// The nodes sharing the database: one row each in nodes, whose
// lease_until (the database's clock) says until when the node is live.
// Every claim of a node (messages.claimed_by, deliveries.claimed_by)
// holds while that row is live, and no longer: renewing the row renews
// them all, and deleting it or letting it lapse frees them all.

var _ storage.Cluster = (*Store)(nil)

// NodeID is the node this store acts for.
func (s *Store) NodeID() string { return s.node }

const nodeColumns = `id, address, version, started_at, last_seen, lease_until`

func scanNode(row pgx.Row) (storage.Node, error) {
	var n storage.Node
	var started *int64
	if err := row.Scan(&n.ID, &n.Address, &n.Version, &started, &n.LastSeen, &n.LeaseUntil); err != nil {
		return storage.Node{}, err
	}
	n.StartedAt, n.LastSeen, n.LeaseUntil = timeOf(started), n.LastSeen.UTC(), n.LeaseUntil.UTC()
	return n, nil
}

// Heartbeat registers this node, or renews its lease: lease_until is the
// database's now() plus lease.
func (s *Store) Heartbeat(ctx context.Context, n storage.Node, lease time.Duration) (storage.Node, error) {
	if n.ID != "" && n.ID != s.node {
		return storage.Node{}, fmt.Errorf("heartbeat: %w: node %q is not this store's node %q", storage.ErrInvalid, n.ID, s.node)
	}
	if lease < time.Millisecond {
		return storage.Node{}, fmt.Errorf("heartbeat: %w: a lease of %v", storage.ErrInvalid, lease)
	}
	out, err := scanNode(s.db().QueryRow(ctx, `
		INSERT INTO nodes (`+nodeColumns+`) VALUES ($1, $2, $3, $4, now(), now() + $5 * interval '1 microsecond')
		ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version, started_at = excluded.started_at,
			last_seen = excluded.last_seen, lease_until = excluded.lease_until
		RETURNING `+nodeColumns,
		s.node, n.Address, n.Version, nanos(n.StartedAt), lease.Microseconds()))
	if err != nil {
		return storage.Node{}, fmt.Errorf("heartbeat: %w", s.mapErr(err))
	}
	return out, nil
}

// Nodes lists the live nodes in id order.
func (s *Store) Nodes(ctx context.Context) ([]storage.Node, error) {
	out, err := queryAll(ctx, s.db(), scanNode, `SELECT `+nodeColumns+` FROM nodes WHERE lease_until > now() ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", s.mapErr(err))
	}
	return out, nil
}

// ForgetNode deletes this node's row: from then on it is not live, and
// every claim it held is free.
func (s *Store) ForgetNode(ctx context.Context) error {
	if _, err := s.db().Exec(ctx, `DELETE FROM nodes WHERE id = $1`, s.node); err != nil {
		return fmt.Errorf("forget node %s: %w", s.node, s.mapErr(err))
	}
	return nil
}

// PurgeNodes deletes the nodes whose lease ended more than deadFor ago.
func (s *Store) PurgeNodes(ctx context.Context, deadFor time.Duration) (int, error) {
	tag, err := s.db().Exec(ctx, `DELETE FROM nodes WHERE lease_until < now() - $1 * interval '1 microsecond'`, deadFor.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("purge nodes: %w", s.mapErr(err))
	}
	return int(tag.RowsAffected()), nil
}

// isLiveSQL says whether the node $1 is live.
const isLiveSQL = `SELECT EXISTS (SELECT 1 FROM nodes WHERE id = $1 AND lease_until > now())`

// noLease tells why a claim found nothing: ErrNoLease when this node is
// not live, nil when there was nothing to claim.
func (s *Store) noLease(ctx context.Context) error {
	var live bool
	err := s.db().QueryRow(ctx, isLiveSQL, s.node).Scan(&live)
	if err != nil {
		return s.mapErr(err)
	}
	if !live {
		return fmt.Errorf("node %s: %w", s.node, storage.ErrNoLease)
	}
	return nil
}
