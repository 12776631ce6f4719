package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// Idempotency keys of POST /events live in two buckets:
//
//	idempotency      key -> idempotencyRecord
//	idempotency_exp  expiry + key -> empty (time index, for purging)
//
// A record is written in the same transaction as its event and
// deliveries, so neither is ever stored without the other.

// idempotencyRecord is an Idempotency on disk.
type idempotencyRecord struct {
	BodyHash  []byte          `json:"body_hash"`
	EventID   string          `json:"event_id"`
	Response  json.RawMessage `json:"response"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
}

// AppendEventOnce records key, ev and ds in one write unless an unexpired
// record of key.Key exists. The single writer serialises callers, so of
// several concurrent callers with one new key exactly one sees true.
func (s *Store) AppendEventOnce(ctx context.Context, key storage.Idempotency, ev storage.EncodedEvent, ds []storage.Delivery) (storage.Idempotency, bool, error) {
	if err := storage.CheckIdempotency(key, ev.ID); err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event: %w", err)
	}
	put, err := s.prepareEvent(ev, ds)
	if err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event: %w", err)
	}
	raw, err := encodeRecord(idempotencyRecord{BodyHash: key.BodyHash, EventID: key.EventID, Response: key.Response,
		CreatedAt: key.CreatedAt.UTC(), ExpiresAt: key.ExpiresAt.UTC()})
	if err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event %s: %w", ev.ID, err)
	}
	k := []byte(key.Key)
	var (
		held  storage.Idempotency
		first bool
	)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		// This may run twice (a group commit retried alone): set every
		// result afresh.
		held, first = storage.Idempotency{}, false
		b, idx := tx.Bucket(bucketIdempotency), tx.Bucket(bucketIdempotencyExp)
		if old := b.Get(k); old != nil {
			var r idempotencyRecord
			if err := decodeRecord(old, &r); err != nil {
				return fmt.Errorf("idempotency key %q: %w", key.Key, err)
			}
			if r.ExpiresAt.After(s.now()) {
				held = storage.Idempotency{Key: key.Key, BodyHash: r.BodyHash, EventID: r.EventID,
					Response: bytes.Clone(r.Response), CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
				return nil
			}
			if err := idx.Delete(append(expiryBytes(r.ExpiresAt), k...)); err != nil {
				return err
			}
		}
		if err := put(tx); err != nil {
			return err
		}
		if err := b.Put(k, raw); err != nil {
			return err
		}
		if err := idx.Put(append(expiryBytes(key.ExpiresAt), k...), nil); err != nil {
			return err
		}
		first = true
		return nil
	})
	if err != nil {
		return storage.Idempotency{}, false, fmt.Errorf("append event %s: %w", ev.ID, err)
	}
	if first {
		return key, true, nil
	}
	return held, false, nil
}

// PurgeIdempotency forgets up to limit records that expired before now.
func (s *Store) PurgeIdempotency(ctx context.Context, now time.Time, limit int) (int, error) {
	cutoff := expiryBytes(now)
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		b, c := tx.Bucket(bucketIdempotency), tx.Bucket(bucketIdempotencyExp).Cursor()
		for k, _ := c.First(); k != nil && n < limit && bytes.Compare(k[:8], cutoff) < 0; k, _ = c.First() {
			key := bytes.Clone(k[8:])
			if cur := b.Get(key); cur != nil {
				var r idempotencyRecord
				if err := decodeRecord(cur, &r); err == nil && bytes.Equal(expiryBytes(r.ExpiresAt), k[:8]) {
					if err := b.Delete(key); err != nil {
						return err
					}
				}
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}
