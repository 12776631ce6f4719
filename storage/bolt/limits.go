package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// messageBuckets are the buckets that hold a message, each keyed by its id.
var messageBuckets = [][]byte{bucketMessages, bucketPayloads, bucketOutcomes, bucketDetails, bucketPending}

// StoreSize is the bytes of the file's pages in use: its size less the
// pages on the freelist, which bbolt reuses before it grows the file (the
// file itself never shrinks).
func (s *Store) StoreSize(ctx context.Context) (int64, error) {
	var size int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store size: %w", err)
	}
	st := s.db.Stats()
	return size - int64(st.FreePageN+st.PendingPageN)*int64(s.db.Info().PageSize), nil
}

// stripMessage rewrites the message record at k without its headers and
// deletes its payload, in tx.
func stripMessage(tx *bolt.Tx, k []byte) error {
	mb := tx.Bucket(bucketMessages)
	var m storage.Message
	if err := decodeMessage(mb.Get(k), &m); err != nil {
		return err
	}
	m.Headers = nil
	if err := mb.Put(k, appendMessageJSON(newRecord(512), &m)); err != nil {
		return err
	}
	return tx.Bucket(bucketPayloads).Delete(k)
}

// deleteMessages deletes the messages at keys from every bucket.
func deleteMessages(keys [][]byte) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		for _, name := range messageBuckets {
			b := tx.Bucket(name)
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// PurgeUnmatched deletes up to limit UNMATCHED messages received before
// cutoff. No index holds messages by status, so it walks the outcomes
// from where its last walk stopped (unmatchedFrom): each outcome is read
// once, not once per purge. A message completed UNMATCHED behind that
// point (it waited long in the queue) is left to the general retention.
func (s *Store) PurgeUnmatched(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	bound := timeKey(cutoff)
	s.unmatchedMu.Lock()
	defer s.unmatchedMu.Unlock()
	var keys [][]byte
	from := s.unmatchedFrom
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutcomes).Cursor()
		k, v := c.First()
		if from != nil {
			if k, v = c.Seek(from); k != nil && bytes.Equal(k, from) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(keys) < limit && bytes.Compare(k, bound) < 0; k, v = c.Next() {
			from = bytes.Clone(k)
			var o outcomeRecord
			if err := decodeRecord(v, &o); err != nil {
				continue // unreadable: the general retention takes it
			}
			if o.Status == storage.StatusUnmatched {
				keys = append(keys, from)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge unmatched messages: %w", err)
	}
	if len(keys) > 0 {
		if err := s.update(ctx, deleteMessages(keys)); err != nil {
			return 0, fmt.Errorf("purge unmatched messages: %w", err)
		}
	}
	s.unmatchedFrom = from
	return len(keys), nil
}
