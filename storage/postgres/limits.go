package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// StoreSize is the stored size of the payloads, as PostgreSQL keeps them
// (compressed where it compresses them). The database's files are no
// measure: they do not shrink when rows are deleted (PostgreSQL reuses
// the space after vacuum), so a store measured by them would stay full
// once full. Payloads are what senders control and nearly all of a busy
// store; the scan reads the payloads' table rows, not the bodies
// themselves (large ones are stored apart, their size in the row).
func (s *Store) StoreSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db().QueryRow(ctx, `SELECT coalesce(sum(pg_column_size(body)), 0)::bigint FROM payloads`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store size: %w", s.mapErr(err))
	}
	return n, nil
}

// stripSQL deletes the payloads and headers of the messages whose
// outcome says Strip, in the transaction of their completion.
const stripSQL = `
WITH s AS (SELECT unnest($1::uuid[]) AS id),
m AS (UPDATE messages SET headers = NULL FROM s WHERE messages.id = s.id)
DELETE FROM payloads USING s WHERE payloads.message_id = s.id`

// stripArgs are stripSQL's arguments for the completions of group that
// strip; nil when none does.
func stripArgs(group []*writeOp) []any {
	var ids []uuid.UUID
	for _, op := range group {
		if op.complete != nil && op.complete.strip {
			ids = append(ids, op.id)
		}
	}
	if ids == nil {
		return nil
	}
	return []any{ids}
}

// PurgeUnmatched deletes up to limit UNMATCHED messages received before
// cutoff, through the status index.
func (s *Store) PurgeUnmatched(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	n, err := s.deleteMessagesWhere(ctx, `id IN (
		SELECT id FROM messages WHERE status = 'UNMATCHED' AND id < $1 ORDER BY status, id LIMIT $2)`, timeID(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("purge unmatched messages: %w", err)
	}
	return n, nil
}
