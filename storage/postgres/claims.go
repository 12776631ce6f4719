package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// Claims of messages and deliveries. A row's claimed_by names the node
// that holds it; the hold lasts while that node is live (nodes.go). Each
// claim is one statement that picks its rows with FOR UPDATE SKIP LOCKED
// and marks them in the same statement, so two nodes claiming at once
// never pick the same row: one locks it, the other passes over it, and a
// row claimed and committed after the second statement's snapshot is
// checked again, in its new version, before it is locked.

// liveNodes is the array of the live nodes' ids, computed once per
// statement: a claim by a node not in it is free.
const liveNodes = `ARRAY(SELECT id FROM nodes WHERE lease_until > now())`

// claimPendingSQL claims for node $3 up to $2 PENDING messages after $1,
// oldest first: unclaimed ones, its own, and those of nodes no longer
// live; nothing at all unless $3 is live itself.
const claimPendingSQL = `
WITH live AS MATERIALIZED (SELECT ` + liveNodes + ` AS ids),
c AS (
	UPDATE messages SET claimed_by = $3
	WHERE id IN (
		SELECT m.id FROM messages m, live
		WHERE m.status = 'PENDING' AND m.id > $1
			AND (m.claimed_by IS NULL OR m.claimed_by = $3 OR m.claimed_by <> ALL (live.ids))
			AND $3 = ANY (live.ids)
		ORDER BY m.id LIMIT $2
		FOR UPDATE OF m SKIP LOCKED
	)
	RETURNING ` + messageFullColumns + `
)
SELECT * FROM c ORDER BY id`

// ClaimPending claims PENDING messages after `after` for this node. When
// it finds none, it tells whether that is because the node is not live.
func (s *Store) ClaimPending(ctx context.Context, after string, limit int) ([]storage.Message, error) {
	out, err := s.pendingPage(ctx, claimPendingSQL, after, limit, s.node)
	if err == nil && len(out) == 0 && limit > 0 {
		err = s.noLease(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("claim pending messages: %w", err)
	}
	return out, nil
}

// lockEndpointsSQL locks the rows of the endpoints $1 that no other claim
// holds: the claim that holds an endpoint's row is alone in counting and
// taking its slots and tokens until it commits.
const lockEndpointsSQL = `SELECT id FROM endpoints WHERE id = ANY($1) FOR NO KEY UPDATE SKIP LOCKED`

// claimDueSQL claims for node $6, in each lane $1 (at most $2 of it, $3
// its endpoint or NULL), its earliest deliveries due at $5 that no live
// node holds. A lane whose endpoint exists is served only when this
// transaction holds the endpoint's row ($4), and gets no more than its
// concurrency less the deliveries in flight (PENDING and held by a live
// node), nor than its token bucket holds, which it spends. A lane with
// no endpoint (a callback's, a deleted endpoint's) has no such bounds.
// It runs after lockEndpointsSQL, in the same transaction, so that its
// snapshot sees every claim committed by whoever held those rows before.
var claimDueSQL = `
WITH live AS MATERIALIZED (SELECT ` + liveNodes + ` AS ids),
w AS (
	SELECT t.lane, t.n, t.ord, e.id AS endpoint, e.concurrency, e.rate_limit
	FROM unnest($1::text[], $2::integer[], $3::uuid[]) WITH ORDINALITY AS t(lane, n, endpoint, ord)
	LEFT JOIN endpoints e ON e.id = t.endpoint
	CROSS JOIN live
	WHERE (e.id IS NULL OR e.id = ANY ($4::uuid[])) AND $6 = ANY (live.ids)
), busy AS (
	SELECT d.lane, count(*) AS n FROM deliveries d, live
	WHERE d.status = 'PENDING' AND d.claimed_by IS NOT NULL AND d.lane = ANY ($1::text[]) AND d.claimed_by = ANY (live.ids)
	GROUP BY d.lane
), bucket AS (
	SELECT w.ord, least(greatest(1, floor(w.rate_limit)),
		coalesce(r.tokens + w.rate_limit * extract(epoch FROM now() - r.refilled_at)::float8, 'Infinity')) AS tokens
	FROM w LEFT JOIN endpoint_tokens r ON r.endpoint_id = w.endpoint
	WHERE w.rate_limit > 0
), allow AS (
	SELECT w.lane, w.ord, w.endpoint, bucket.tokens, greatest(0, least(w.n,
		CASE WHEN w.concurrency >= 1 THEN w.concurrency - coalesce(busy.n, 0) ELSE w.n END,
		coalesce(floor(bucket.tokens), w.n)))::integer AS n
	FROM w LEFT JOIN busy ON busy.lane = w.lane LEFT JOIN bucket ON bucket.ord = w.ord
), picked AS (
	SELECT d.id, a.ord FROM allow a CROSS JOIN live
	CROSS JOIN LATERAL (
		SELECT d.id FROM deliveries d
		WHERE d.status = 'PENDING' AND d.lane = a.lane AND d.next_at <= $5
			AND (d.claimed_by IS NULL OR d.claimed_by <> ALL (live.ids))
		ORDER BY d.next_at, d.id LIMIT a.n
		FOR UPDATE SKIP LOCKED
	) d
	WHERE a.n > 0
), spent AS (
	INSERT INTO endpoint_tokens (endpoint_id, tokens, refilled_at)
	SELECT a.endpoint, a.tokens - count(*), now() FROM allow a JOIN picked p ON p.ord = a.ord
	WHERE a.tokens IS NOT NULL
	GROUP BY a.endpoint, a.tokens
	ON CONFLICT (endpoint_id) DO UPDATE SET tokens = excluded.tokens, refilled_at = excluded.refilled_at
), c AS (
	UPDATE deliveries SET claimed_by = $6 FROM picked p WHERE deliveries.id = p.id
	RETURNING ` + qualifiedDeliveryColumns + `, p.ord
)
SELECT ` + deliveryColumns + ` FROM c ORDER BY ord, next_at, id`

// laneWants are the lanes ClaimDue asks for, one array per column of
// claimDueSQL's input.
type laneWants struct {
	lanes     []string
	n         []int32
	endpoints []*uuid.UUID // nil for a lane that is no endpoint's
	ids       []uuid.UUID  // the endpoints, to lock
}

// ClaimDue claims due deliveries for this node. It reads which lanes have
// due deliveries and whether this node is live (one round trip), asks
// take about each lane, then claims in one transaction: the endpoints'
// rows first, then the deliveries.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, take func(lane string) int) ([]storage.Delivery, error) {
	at := nanos(now)
	var live bool
	var lanes []string
	b := &pgx.Batch{}
	b.Queue(isLiveSQL, s.node).QueryRow(func(row pgx.Row) error {
		return row.Scan(&live)
	})
	b.Queue(dueLanesSQL, at).Query(func(rows pgx.Rows) (err error) {
		lanes, err = collect(rows, scanValue[string])
		return err
	})
	if err := s.sendBatch(ctx, b); err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	if !live {
		return nil, fmt.Errorf("claim due deliveries: node %s: %w", s.node, storage.ErrNoLease)
	}
	var w laneWants
	for _, lane := range lanes {
		n := take(lane)
		if n <= 0 {
			continue
		}
		var endpoint *uuid.UUID
		if u, err := uuid.Parse(lane); err == nil {
			endpoint = &u
			w.ids = append(w.ids, u)
		}
		w.lanes, w.n, w.endpoints = append(w.lanes, lane), append(w.n, int32(min(n, 1<<30))), append(w.endpoints, endpoint)
	}
	if len(w.lanes) == 0 {
		return nil, nil
	}
	var out []storage.Delivery
	err := s.inTx(ctx, func(tx db) error {
		locked, err := queryAll(ctx, tx, scanValue[uuid.UUID], lockEndpointsSQL, w.ids)
		if err != nil {
			return err
		}
		out, err = queryAll(ctx, tx, s.scanDelivery, claimDueSQL, w.lanes, w.n, w.endpoints, locked, at, s.node)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	return out, nil
}

// ReleaseDeliveries clears this node's claims on ids.
func (s *Store) ReleaseDeliveries(ctx context.Context, ids []string) error {
	us := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if u, err := uuid.Parse(id); err == nil {
			us = append(us, u)
		}
	}
	if len(us) == 0 {
		return nil
	}
	if _, err := s.db().Exec(ctx, `UPDATE deliveries SET claimed_by = NULL WHERE id = ANY ($1) AND claimed_by = $2`, us, s.node); err != nil {
		return fmt.Errorf("release deliveries: %w", s.mapErr(err))
	}
	return nil
}
