package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// maxScan bounds how many messages one list page reads, so a selective
// filter over a large log never holds a read transaction open for long.
const maxScan = 5000

// appendFill: message keys are time-ordered, so pages fill from the right.
const appendFill = 0.95

// outcomeRecord is what processing decided about a message, as stored
// (appendJSON writes it).
type outcomeRecord struct {
	Status          string    `json:"status"`
	ProviderID      string    `json:"provider_id,omitempty"`
	ProviderName    string    `json:"provider_name,omitempty"`
	ProviderVersion int       `json:"provider_version,omitempty"`
	Summary         string    `json:"message,omitempty"`
	CompletedAt     time.Time `json:"completed_at"`
	DurationMS      float64   `json:"duration_ms"`
}

// outcomeOf is the stored form of what o decided.
func outcomeOf(o *storage.Outcome) outcomeRecord {
	return outcomeRecord{
		Status: o.Status, ProviderID: o.ProviderID, ProviderName: o.ProviderName, ProviderVersion: o.ProviderVersion, Summary: o.Summary,
		CompletedAt: o.CompletedAt.UTC(), DurationMS: o.DurationMS,
	}
}

// apply overlays the outcome on m.
func (o *outcomeRecord) apply(m *storage.Message) {
	completed := o.CompletedAt
	m.Status, m.ProviderID, m.ProviderName, m.Summary = o.Status, o.ProviderID, o.ProviderName, o.Summary
	m.ProviderVersion = o.ProviderVersion
	m.CompletedAt, m.DurationMS = &completed, o.DurationMS
}

// readMessage decodes the message at k with its outcome, if any.
func readMessage(tx *bolt.Tx, k []byte, m *storage.Message) error {
	raw := tx.Bucket(bucketMessages).Get(k)
	if raw == nil {
		return storage.ErrNotFound
	}
	if err := decodeMessage(raw, m); err != nil {
		return err
	}
	return overlayOutcome(tx.Bucket(bucketOutcomes), k, m)
}

// overlayOutcome sets m's status from the outcomes bucket: PENDING when
// there is no outcome yet.
func overlayOutcome(outcomes *bolt.Bucket, k []byte, m *storage.Message) error {
	m.Status = storage.StatusPending
	raw := outcomes.Get(k)
	if raw == nil {
		return nil
	}
	var o outcomeRecord
	if err := decodeRecord(raw, &o); err != nil {
		return fmt.Errorf("outcome %s: %w", idOf(k), err)
	}
	o.apply(m)
	return nil
}

// detailRecord is a message's logs and executions as stored
// (appendDetailJSON writes it).
type detailRecord struct {
	Logs       []diskLogLine   `json:"logs,omitempty"`
	Executions []diskExecution `json:"executions,omitempty"`
}

// apply sets d's logs and executions (empty, never nil, when none).
func (r *detailRecord) apply(d *storage.MessageDetail) {
	d.Logs = logLines(r.Logs)
	if d.Logs == nil {
		d.Logs = []storage.LogLine{}
	}
	d.Executions = make([]storage.Execution, len(r.Executions))
	for i := range r.Executions {
		d.Executions[i] = r.Executions[i].execution()
	}
}

// AppendMessage durably records m (status PENDING) and its body.
func (s *Store) AppendMessage(ctx context.Context, m storage.Message, payload []byte) error {
	k, err := key(m.ID)
	if err != nil {
		return fmt.Errorf("append message: %w", err)
	}
	m.Status = storage.StatusPending
	m.Size = len(payload)
	meta := appendMessageJSON(newRecord(1024), &m)
	if err := s.update(ctx, appendOp(k, meta, encodePayload(payload))); err != nil {
		return fmt.Errorf("append message %s: %w", m.ID, err)
	}
	return nil
}

// appendOp writes a new message's records.
func appendOp(k, meta, payload []byte) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		mb, pb := tx.Bucket(bucketMessages), tx.Bucket(bucketPayloads)
		mb.FillPercent, pb.FillPercent = appendFill, appendFill
		if err := mb.Put(k, meta); err != nil {
			return err
		}
		if err := pb.Put(k, payload); err != nil {
			return err
		}
		return tx.Bucket(bucketPending).Put(k, nil)
	}
}

// CompleteMessage records the outcome. Completing a message twice (it was
// processed again after a crash) keeps the later outcome; a message purged
// meanwhile stays purged (ErrNotFound).
func (s *Store) CompleteMessage(ctx context.Context, id string, o storage.Outcome) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("complete message: %w", err)
	}
	rec := outcomeOf(&o)
	outcome := rec.appendJSON(newRecord(256))
	detail := appendDetailJSON(newRecord(512), o.Logs, o.Executions)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMessages).Get(k) == nil {
			return storage.ErrNotFound
		}
		ob, db := tx.Bucket(bucketOutcomes), tx.Bucket(bucketDetails)
		ob.FillPercent, db.FillPercent = appendFill, appendFill
		if err := ob.Put(k, outcome); err != nil {
			return err
		}
		if err := db.Put(k, detail); err != nil {
			return err
		}
		if o.Strip {
			if err := stripMessage(tx, k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketPending).Delete(k)
	})
	if err != nil {
		return fmt.Errorf("complete message %s: %w", id, err)
	}
	return nil
}

// GetMessage returns a message with its logs and executions.
func (s *Store) GetMessage(ctx context.Context, id string) (storage.MessageDetail, error) {
	k, err := key(id)
	if err != nil {
		return storage.MessageDetail{}, fmt.Errorf("message %w", err)
	}
	var d storage.MessageDetail
	err = s.view(ctx, func(tx *bolt.Tx) error { return readMessageDetail(tx, k, &d) })
	if err != nil {
		return storage.MessageDetail{}, fmt.Errorf("message %s: %w", id, err)
	}
	return d, nil
}

// readMessageDetail decodes the message at k with its outcome, logs and
// executions.
func readMessageDetail(tx *bolt.Tx, k []byte, d *storage.MessageDetail) error {
	if err := readMessage(tx, k, &d.Message); err != nil {
		return err
	}
	var det detailRecord
	if raw := tx.Bucket(bucketDetails).Get(k); raw != nil {
		if err := decodeRecord(raw, &det); err != nil {
			return err
		}
	}
	det.apply(d)
	return nil
}

// GetPayload returns a copy of the raw body.
func (s *Store) GetPayload(ctx context.Context, id string) ([]byte, error) {
	k, err := key(id)
	if err != nil {
		return nil, fmt.Errorf("payload %w", err)
	}
	var out []byte
	err = s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPayloads).Get(k)
		if v == nil {
			return storage.ErrNotFound
		}
		var err error
		out, err = decodePayload(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("payload %s: %w", id, err)
	}
	return out, nil
}

func matches(m *storage.Message, f *storage.MessageFilter) bool {
	return (f.Status == "" || m.Status == f.Status) &&
		(f.ProviderID == "" || m.ProviderID == f.ProviderID) &&
		(f.URI == "" || m.URI == f.URI)
}

// ListMessages pages newest first. See storage.Store.
func (s *Store) ListMessages(ctx context.Context, f storage.MessageFilter) ([]storage.Message, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var upper, lower []byte // upper exclusive, lower inclusive
	if !f.Until.IsZero() {
		upper = timeKey(f.Until)
	}
	if f.Cursor != "" {
		ck, err := key(f.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("%w: cursor must be the next_cursor of the previous page", storage.ErrInvalid)
		}
		if upper == nil || bytes.Compare(ck, upper) < 0 {
			upper = ck
		}
	}
	if !f.Since.IsZero() {
		lower = timeKey(f.Since)
	}
	items := []storage.Message{}
	next := ""
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutcomes)
		full := func(scanned int) bool { return scanned == maxScan }
		var deep *search
		if f.Searching() {
			deep = &search{f: &f, details: tx.Bucket(bucketDetails), bodies: tx.Bucket(bucketPayloads)}
			full = deep.full
		}
		last, err := newestFirstUntil(tx.Bucket(bucketMessages).Cursor(), upper, lower, f.Limit, full, func(k, v []byte) (bool, error) {
			var m storage.Message
			if err := decodeMessage(v, &m); err != nil {
				return false, fmt.Errorf("message %s: %w", idOf(k), err)
			}
			if err := overlayOutcome(ob, k, &m); err != nil {
				return false, err
			}
			if !matches(&m, &f) {
				return false, nil
			}
			if deep != nil {
				if ok, err := deep.matches(k, &m); !ok || err != nil {
					return false, err
				}
			}
			m.Headers, m.Query = nil, nil // lists carry metadata only
			items = append(items, m)
			return true, nil
		})
		if last != nil {
			next = idOf(last)
		}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	return items, next, nil
}

// PendingMessages returns PENDING messages after `after`, oldest first.
func (s *Store) PendingMessages(ctx context.Context, after string, limit int) ([]storage.Message, error) {
	var start []byte
	if after != "" {
		k, err := key(after)
		if err != nil {
			return nil, fmt.Errorf("pending messages: %w", err)
		}
		start = k
	}
	var out []storage.Message
	err := s.view(ctx, func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMessages)
		c := tx.Bucket(bucketPending).Cursor()
		var k []byte
		if start == nil {
			k, _ = c.First()
		} else if k, _ = c.Seek(start); k != nil && bytes.Equal(k, start) {
			k, _ = c.Next()
		}
		for ; k != nil && len(out) < limit; k, _ = c.Next() {
			// Purged underneath its index entry, or unreadable: the
			// sweep goes on past it either way.
			raw := mb.Get(k)
			if raw == nil {
				continue
			}
			var m storage.Message
			if err := decodeMessage(raw, &m); err != nil {
				continue
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending messages: %w", err)
	}
	return out, nil
}

// PurgeMessages deletes up to limit messages received before cutoff.
func (s *Store) PurgeMessages(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	bound := timeKey(cutoff)
	var keys [][]byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMessages).Cursor()
		for k, _ := c.First(); k != nil && len(keys) < limit && bytes.Compare(k, bound) < 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	if err := s.update(ctx, deleteMessages(keys)); err != nil {
		return 0, fmt.Errorf("purge messages: %w", err)
	}
	return len(keys), nil
}

// DeleteMessages deletes the messages with these ids and everything
// recorded about them, and says how many there were.
func (s *Store) DeleteMessages(ctx context.Context, ids []string) (int, error) {
	keys := make([][]byte, 0, len(ids))
	for _, id := range ids {
		k, err := key(id)
		if err != nil {
			return 0, fmt.Errorf("delete messages: %w", err)
		}
		keys = append(keys, k)
	}
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0 // a batch may run twice
		mb := tx.Bucket(bucketMessages)
		for _, k := range keys {
			if mb.Get(k) != nil {
				n++
			}
		}
		return deleteMessages(keys)(tx)
	})
	if err != nil {
		return 0, fmt.Errorf("delete messages: %w", err)
	}
	return n, nil
}
