package bolt

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// The audit log is one bucket, audit: entry id (16 bytes of its UUIDv7) ->
// diskAudit (written once). Key order is time order.

// AppendAudit records e under its id, a UUIDv7 the caller made. Time
// defaults to now.
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEntry) error {
	k, err := v7Key("audit entry", e.ID)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	raw, err := encodeRecord(diskAudit(e))
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.ID, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		b.FillPercent = appendFill
		if b.Get(k) != nil {
			return fmt.Errorf("%w: audit entry exists", storage.ErrConflict)
		}
		return b.Put(k, raw)
	})
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.ID, err)
	}
	return nil
}

func auditMatches(e *storage.AuditEntry, f *storage.AuditFilter) bool {
	action := f.Action == "" || e.Action == f.Action ||
		(strings.HasSuffix(f.Action, ".") && strings.HasPrefix(e.Action, f.Action))
	return action &&
		(f.Actor == "" || e.Actor == f.Actor) &&
		(f.Target == "" || e.Target == f.Target)
}

// ListAudit pages newest first, like ListMessages: Since and Until bound
// the time in the entries' ids, and a page reads at most maxScan entries.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEntry, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	upper := bytes.Repeat([]byte{0xff}, 16) // exclusive; above every key
	if !f.Until.IsZero() {
		upper = timeKey(f.Until)
	}
	if f.Cursor != "" {
		ck, err := key(f.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("%w: cursor must be the next_cursor of the previous page", storage.ErrInvalid)
		}
		if bytes.Compare(ck, upper) < 0 {
			upper = ck
		}
	}
	lower := make([]byte, 16) // inclusive
	if !f.Since.IsZero() {
		lower = timeKey(f.Since)
	}
	items := []storage.AuditEntry{}
	next := ""
	err := s.view(ctx, func(tx *bolt.Tx) error {
		last, err := newestFirst(tx.Bucket(bucketAudit).Cursor(), upper, lower, f.Limit, func(k, v []byte) (bool, error) {
			var d diskAudit
			if err := decodeRecord(v, &d); err != nil {
				return false, fmt.Errorf("audit entry %s: %w", idOf(k), err)
			}
			e := storage.AuditEntry(d)
			if !auditMatches(&e, &f) {
				return false, nil
			}
			items = append(items, e)
			return true, nil
		})
		if last != nil {
			next = idOf(last)
		}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	return items, next, nil
}

// PurgeAudit deletes, oldest first, up to limit entries whose ids' time is
// before cutoff.
func (s *Store) PurgeAudit(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	bound := timeKey(cutoff)
	// Most runs find nothing: look first, so that they cost no commit.
	var found bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketAudit).Cursor().First()
		found = k != nil && bytes.Compare(k, bound) < 0
		return nil
	})
	if err != nil || !found {
		return 0, wrapPurge("audit log", err)
	}
	var n int
	err = s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		c := tx.Bucket(bucketAudit).Cursor()
		for k, _ := c.First(); k != nil && n < limit && bytes.Compare(k, bound) < 0; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, wrapPurge("audit log", err)
	}
	return n, nil
}
