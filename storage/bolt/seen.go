package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DEDUPE keys live in two buckets:
//
//	seen      key -> expiry (8 bytes, Unix nanoseconds, big endian)
//	seen_exp  expiry + key -> empty (time index, for purging)

func expiryBytes(t time.Time) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano()))
	return b
}

// expiryTime reverses expiryBytes.
func expiryTime(b []byte) (time.Time, error) {
	if len(b) != 8 {
		return time.Time{}, fmt.Errorf("expiry of %d bytes, want 8", len(b))
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC(), nil
}

// FirstSeen records key for ttl unless it is already recorded and not
// expired. The single writer serialises callers, so of several concurrent
// callers with one new key exactly one sees true.
func (s *Store) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" || ttl <= 0 {
		return false, fmt.Errorf("first seen: empty key or ttl")
	}
	k := []byte(key)
	var first bool
	err := s.update(ctx, func(tx *bolt.Tx) error {
		now := s.now()
		seen, idx := tx.Bucket(bucketSeen), tx.Bucket(bucketSeenExp)
		if old := seen.Get(k); old != nil {
			if int64(binary.BigEndian.Uint64(old)) > now.UnixNano() {
				first = false
				return nil
			}
			if err := idx.Delete(append(bytes.Clone(old), k...)); err != nil {
				return err
			}
		}
		first = true
		exp := expiryBytes(now.Add(ttl))
		if err := seen.Put(k, exp); err != nil {
			return err
		}
		return idx.Put(append(exp, k...), nil)
	})
	if err != nil {
		return false, fmt.Errorf("first seen: %w", err)
	}
	return first, nil
}

// PurgeSeen forgets up to limit keys that expired before now.
func (s *Store) PurgeSeen(ctx context.Context, now time.Time, limit int) (int, error) {
	cutoff := expiryBytes(now)
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		seen, c := tx.Bucket(bucketSeen), tx.Bucket(bucketSeenExp).Cursor()
		for k, _ := c.First(); k != nil && n < limit && bytes.Compare(k[:8], cutoff) < 0; k, _ = c.First() {
			key := bytes.Clone(k[8:])
			if cur := seen.Get(key); cur != nil && bytes.Equal(cur, k[:8]) {
				if err := seen.Delete(key); err != nil {
					return err
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
		return 0, fmt.Errorf("purge seen keys: %w", err)
	}
	return n, nil
}
