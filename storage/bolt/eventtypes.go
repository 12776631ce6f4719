package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// ListEventTypes returns the declared event types, by name (the bucket's
// key order).
func (s *Store) ListEventTypes(ctx context.Context) ([]storage.EventType, error) {
	var out []storage.EventType
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEventTypes).ForEach(func(k, v []byte) error {
			var r diskEventType
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("event type %q: %w", k, err)
			}
			out = append(out, eventTypeOf(r))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	return out, nil
}

// eventTypeOf copies what a read transaction decoded: its raw JSON
// fields alias nothing of the file (decodeRecord unmarshals into new
// slices), so a conversion is enough.
func eventTypeOf(r diskEventType) storage.EventType { return storage.EventType(r) }

// GetEventType returns one declared event type.
func (s *Store) GetEventType(ctx context.Context, name string) (storage.EventType, error) {
	var r diskEventType
	err := s.view(ctx, func(tx *bolt.Tx) error { return getRecord(tx.Bucket(bucketEventTypes), []byte(name), &r) })
	if err != nil {
		return storage.EventType{}, fmt.Errorf("event type %q: %w", name, err)
	}
	return eventTypeOf(r), nil
}

// PutEventType stores t under its name, new or in place of the stored
// one (unless create).
func (s *Store) PutEventType(ctx context.Context, t storage.EventType, create bool) (storage.EventType, bool, error) {
	if t.Type == "" {
		return t, false, fmt.Errorf("put event type: %w: no name", storage.ErrInvalid)
	}
	k := []byte(t.Type)
	now := s.now().UTC()
	t.Example, t.Schema = bytes.Clone(t.Example), bytes.Clone(t.Schema)
	var created bool
	err := s.updateChanging(ctx, storage.ChangeEndpoints, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEventTypes)
		r := diskEventType(t)
		r.CreatedAt, r.UpdatedAt, created = now, now, true
		var old diskEventType
		switch err := getRecord(b, k, &old); {
		case err == nil && create:
			return fmt.Errorf("%w: event type %q is declared already", storage.ErrConflict, t.Type)
		case err == nil:
			r.CreatedAt, created = old.CreatedAt, false
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		t = storage.EventType(r)
		return putRecord(b, k, r)
	})
	if errors.Is(err, storage.ErrConflict) {
		return storage.EventType{}, false, err // it names the type; "put" would misname a POST
	}
	if err != nil {
		return storage.EventType{}, false, fmt.Errorf("put event type %q: %w", t.Type, err)
	}
	return t, created, nil
}

// DeleteEventType forgets a declared event type.
func (s *Store) DeleteEventType(ctx context.Context, name string) error {
	err := s.updateChanging(ctx, storage.ChangeEndpoints, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEventTypes)
		if b.Get([]byte(name)) == nil {
			return storage.ErrNotFound
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("delete event type %q: %w", name, err)
	}
	return nil
}
