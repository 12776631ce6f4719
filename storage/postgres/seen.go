package postgres

import (
	"context"
	"fmt"
	"time"
)

// FirstSeen records key for ttl unless it is recorded and not expired.
// One statement decides: the insert, or, when the key is there, the
// update of an expired one. PostgreSQL serialises concurrent inserts of
// one key, so of several callers with one new key exactly one sees true.
func (s *Store) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" || ttl <= 0 {
		return false, fmt.Errorf("first seen: empty key or ttl")
	}
	now, ns := s.nowTime()
	rows, err := s.db().Query(ctx, `INSERT INTO seen (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen.expires_at <= $3
		RETURNING 1`, []byte(key), nanos(now.Add(ttl)), ns)
	if err != nil {
		return false, fmt.Errorf("first seen: %w", s.mapErr(err))
	}
	first := rows.Next()
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("first seen: %w", s.mapErr(err))
	}
	return first, nil
}

// PurgeSeen forgets up to limit keys that expired before now.
func (s *Store) PurgeSeen(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := s.deleteFirst(ctx, s.db(), "seen", "key", "expires_at", nanos(now), limit)
	if err != nil {
		return 0, fmt.Errorf("purge seen keys: %w", err)
	}
	return n, nil
}
