package bolt

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// Setting returns a copy of a named value, or nil if it was never set.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("setting: %w: empty name", storage.ErrInvalid)
	}
	var out []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSettings).Get([]byte(name)); v != nil {
			out = append([]byte{}, v...) // non-nil even when empty: it was set
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("setting %q: %w", name, err)
	}
	return out, nil
}

// InitSetting stores value under name unless the name is set, and
// returns what is kept.
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("init setting: %w: empty name", storage.ErrInvalid)
	}
	k, kept := []byte(name), bytes.Clone(value)
	if kept == nil {
		kept = []byte{}
	}
	err := s.updateChanging(ctx, storage.ChangeSettings, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		if v := b.Get(k); v != nil {
			kept = bytes.Clone(v)
			return nil
		}
		return b.Put(k, kept)
	})
	if err != nil {
		return nil, fmt.Errorf("init setting %q: %w", name, err)
	}
	return kept, nil
}

// PutSetting stores a named value; a nil value is stored as empty.
func (s *Store) PutSetting(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("put setting: %w: empty name", storage.ErrInvalid)
	}
	k, v := []byte(name), bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	if err := s.updateChanging(ctx, storage.ChangeSettings, func(tx *bolt.Tx) error { return tx.Bucket(bucketSettings).Put(k, v) }); err != nil {
		return fmt.Errorf("put setting %q: %w", name, err)
	}
	return nil
}
