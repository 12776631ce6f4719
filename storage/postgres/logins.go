package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// The sign-in limiter's buckets and known addresses (storage.LoginLimits),
// shared by every node: one statement per check and one per failure.
// Times are the caller's, in Unix nanoseconds; `every` is in nanoseconds
// too. A bucket with no row is full.

var _ storage.LoginLimits = (*Store)(nil)

// loginLeft is what bucket b has left at $1, refilled one attempt per $2
// since its last failure (never by a negative time), up to burst.
func loginLeft(b, burst string) string {
	return `least(` + burst + `, ` + b + `.tokens + greatest(0, $1 - ` + b + `.at)::float8 / $2)`
}

// loginFailuresSQL answers what each bucket $3 (bursts $4) has left at
// $1, in the order given, and whether name $5 signed in from address $6.
var loginFailuresSQL = `
SELECT ARRAY(
	SELECT coalesce(` + loginLeft("b", "t.burst") + `, t.burst)
	FROM unnest($3::bytea[], $4::float8[]) WITH ORDINALITY AS t(key, burst, ord)
	LEFT JOIN login_buckets b ON b.key = t.key
	ORDER BY t.ord
), EXISTS (SELECT 1 FROM login_known WHERE name_key = $5 AND addr_key = $6)`

// loginSpent is what a bucket has left once a failure at $1 is spent:
// refilled, less one, no lower than minus its burst.
var loginSpent = `greatest(` + loginLeft("b", "excluded.burst") + ` - 1, -excluded.burst)`

// recordLoginFailureSQL spends an attempt at $1 of each bucket $3 (bursts
// $4): a new bucket starts full, an existing one is refilled from its row
// as the upsert finds it locked, so that concurrent failures all count.
// full_at is when the bucket is full again, for the purge. The rows are
// written in key order, so that concurrent failures lock them in the
// same order.
var recordLoginFailureSQL = `
INSERT INTO login_buckets AS b (key, burst, tokens, at, full_at)
SELECT t.key, t.burst, t.burst - 1, $1, $1 + ceil($2)::bigint
FROM unnest($3::bytea[], $4::float8[]) AS t(key, burst)
ORDER BY t.key
ON CONFLICT (key) DO UPDATE SET
	burst = excluded.burst,
	tokens = ` + loginSpent + `,
	at = greatest(b.at, $1),
	full_at = greatest(b.at, $1) + ceil((excluded.burst - ` + loginSpent + `) * $2)::bigint`

// recordLoginSuccessSQL makes address $2 the newest of name $1's (at $3)
// and forgets those past the $4 newest others.
const recordLoginSuccessSQL = `
WITH up AS (
	INSERT INTO login_known (name_key, addr_key, at) VALUES ($1, $2, $3)
	ON CONFLICT (name_key, addr_key) DO UPDATE SET at = excluded.at
)
DELETE FROM login_known WHERE name_key = $1 AND addr_key <> $2 AND addr_key NOT IN (
	SELECT addr_key FROM login_known WHERE name_key = $1 AND addr_key <> $2
	ORDER BY at DESC, addr_key LIMIT $4)`

// loginArgs are the buckets as the statements take them.
func loginArgs(buckets []storage.LoginBucket) (keys [][]byte, bursts []float64) {
	for _, b := range buckets {
		keys, bursts = append(keys, []byte(b.Key)), append(bursts, float64(b.Burst))
	}
	return keys, bursts
}

// LoginFailures reads the buckets and whether addr is known for name.
func (s *Store) LoginFailures(ctx context.Context, now time.Time, every time.Duration, buckets []storage.LoginBucket, name, addr string) ([]float64, bool, error) {
	keys, bursts := loginArgs(buckets)
	var left []float64
	var known bool
	err := s.db().QueryRow(ctx, loginFailuresSQL, now.UnixNano(), float64(every), keys, bursts, []byte(name), []byte(addr)).Scan(&left, &known)
	if err != nil {
		return nil, false, fmt.Errorf("login failures: %w", s.mapErr(err))
	}
	return left, known, nil
}

// RecordLoginFailure spends an attempt of each bucket.
func (s *Store) RecordLoginFailure(ctx context.Context, now time.Time, every time.Duration, buckets []storage.LoginBucket) error {
	keys, bursts := loginArgs(buckets)
	if _, err := s.db().Exec(ctx, recordLoginFailureSQL, now.UnixNano(), float64(every), keys, bursts); err != nil {
		return fmt.Errorf("record login failure: %w", s.mapErr(err))
	}
	return nil
}

// RecordLoginSuccess remembers addr among name's keep latest addresses.
func (s *Store) RecordLoginSuccess(ctx context.Context, now time.Time, name, addr string, keep int) error {
	if keep < 1 {
		return fmt.Errorf("record login success: %w: keep %d addresses", storage.ErrInvalid, keep)
	}
	if _, err := s.db().Exec(ctx, recordLoginSuccessSQL, []byte(name), []byte(addr), now.UnixNano(), keep-1); err != nil {
		return fmt.Errorf("record login success: %w", s.mapErr(err))
	}
	return nil
}

// PurgeLoginBuckets deletes up to limit buckets full again before now.
func (s *Store) PurgeLoginBuckets(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := s.deleteFirst(ctx, s.db(), "login_buckets", "key", "full_at", now.UnixNano(), limit)
	if err != nil {
		return 0, fmt.Errorf("purge login buckets: %w", err)
	}
	return n, nil
}
