package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// AppendEventOnce records key, ev and ds in one transaction unless an
// unexpired record of key.Key exists. The insert of the key decides: on
// a conflict PostgreSQL makes a second transaction wait for the first
// and then sees its row, so of several callers with one new key, on one
// node or many, exactly one inserts it and writes the event. The
// conflicting row stays locked until this transaction ends, so the
// record read back is the one that won.
func (s *Store) AppendEventOnce(ctx context.Context, key storage.Idempotency, ev storage.EncodedEvent, ds []storage.Delivery) (storage.Idempotency, bool, error) {
	if err := storage.CheckIdempotency(key, ev.ID); err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event: %w", err)
	}
	b, err := s.eventBatch(ev, ds)
	if err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event: %w", err)
	}
	eid, err := uuid.Parse(key.EventID)
	if err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event: %w: event id %q", storage.ErrInvalid, key.EventID)
	}
	if s.closed.Load() {
		return storage.Idempotency{}, false, storage.ErrClosed
	}
	var (
		held  storage.Idempotency
		first bool
	)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		held, first = storage.Idempotency{}, false
		_, ns := s.nowTime()
		rows, err := tx.Query(ctx, `INSERT INTO event_idempotency (key, body_hash, event_id, response, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (key) DO UPDATE SET body_hash = excluded.body_hash, event_id = excluded.event_id,
				response = excluded.response, created_at = excluded.created_at, expires_at = excluded.expires_at
			WHERE event_idempotency.expires_at <= $7
			RETURNING 1`, []byte(key.Key), key.BodyHash, eid, []byte(key.Response), nanos(key.CreatedAt), nanos(key.ExpiresAt), ns)
		if err != nil {
			return err
		}
		inserted := rows.Next()
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if inserted {
			first = true
			return tx.SendBatch(ctx, b).Close()
		}
		var (
			heldID           uuid.UUID
			response         []byte
			created, expires int64
		)
		err = tx.QueryRow(ctx, `SELECT body_hash, event_id, response, created_at, expires_at FROM event_idempotency WHERE key = $1`,
			[]byte(key.Key)).Scan(&held.BodyHash, &heldID, &response, &created, &expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: idempotency key %q was purged meanwhile; try again", storage.ErrConflict, key.Key)
		}
		if err != nil {
			return err
		}
		held.Key, held.EventID, held.Response = key.Key, heldID.String(), response
		held.CreatedAt, held.ExpiresAt = timeOf(&created), timeOf(&expires)
		return nil
	})
	if err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event %s: %w", ev.ID, s.mapErr(err))
	}
	if first {
		return key, true, nil
	}
	return held, false, nil
}

// PurgeIdempotency forgets up to limit records that expired before now.
func (s *Store) PurgeIdempotency(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := s.deleteFirst(ctx, s.db(), "event_idempotency", "key", "expires_at", nanos(now), limit)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}
