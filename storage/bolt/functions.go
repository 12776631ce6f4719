package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// ListFunctions returns every function, oldest first.
func (s *Store) ListFunctions(ctx context.Context) ([]storage.Function, error) {
	var out []storage.Function
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFunctions).ForEach(func(k, v []byte) error {
			var f diskFunction
			if err := decodeRecord(v, &f); err != nil {
				return fmt.Errorf("function %s: %w", idOf(k), err)
			}
			out = append(out, storage.Function(f))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	return out, nil
}

// GetFunction returns one function.
func (s *Store) GetFunction(ctx context.Context, id string) (storage.Function, error) {
	k, err := key(id)
	if err != nil {
		return storage.Function{}, fmt.Errorf("function %w", err)
	}
	var f diskFunction
	err = s.view(ctx, func(tx *bolt.Tx) error { return getRecord(tx.Bucket(bucketFunctions), k, &f) })
	if err != nil {
		return storage.Function{}, fmt.Errorf("function %s: %w", id, err)
	}
	return storage.Function(f), nil
}

func providerExists(tx *bolt.Tx, id string) error {
	k, err := key(id)
	if err == nil && tx.Bucket(bucketProviders).Get(k) != nil {
		return nil
	}
	return fmt.Errorf("%w: provider_id %q names no provider", storage.ErrInvalid, id)
}

// CreateFunction stores f with a new id.
func (s *Store) CreateFunction(ctx context.Context, f storage.Function) (storage.Function, error) {
	id, k, err := newID()
	if err != nil {
		return storage.Function{}, err
	}
	now := s.now().UTC()
	f.ID, f.Version, f.CreatedAt, f.UpdatedAt = id, 1, now, now
	err = s.updateChanging(ctx, storage.ChangeCatalogue, func(tx *bolt.Tx) error {
		if err := providerExists(tx, f.ProviderID); err != nil {
			return err
		}
		if err := putVersion(tx, k, 1, f.Script, now); err != nil {
			return err
		}
		return putRecord(tx.Bucket(bucketFunctions), k, diskFunction(f))
	})
	if err != nil {
		return storage.Function{}, fmt.Errorf("create function: %w", err)
	}
	return f, nil
}

// UpdateFunction replaces the editable fields. Version goes up when the
// script changes.
func (s *Store) UpdateFunction(ctx context.Context, f storage.Function) (storage.Function, error) {
	k, err := key(f.ID)
	if err != nil {
		return storage.Function{}, fmt.Errorf("function %w", err)
	}
	var out storage.Function
	err = s.updateChanging(ctx, storage.ChangeCatalogue, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFunctions)
		var old diskFunction
		if err := getRecord(b, k, &old); err != nil {
			return err
		}
		if err := providerExists(tx, f.ProviderID); err != nil {
			return err
		}
		// out starts from f on every attempt: the writer may run this
		// function again when another write in its group fails.
		out = f
		out.CreatedAt, out.Version = old.CreatedAt, old.Version
		out.UpdatedAt = s.now().UTC()
		if out.Script != old.Script {
			out.Version++
			if err := putVersion(tx, k, out.Version, out.Script, out.UpdatedAt); err != nil {
				return err
			}
		}
		return putRecord(b, k, diskFunction(out))
	})
	if err != nil {
		return storage.Function{}, fmt.Errorf("update function %s: %w", f.ID, err)
	}
	return out, nil
}

// DeleteFunction removes a function.
func (s *Store) DeleteFunction(ctx context.Context, id string) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("function %w", err)
	}
	err = s.updateChanging(ctx, storage.ChangeCatalogue, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFunctions)
		if b.Get(k) == nil {
			return storage.ErrNotFound
		}
		if err := deleteVersions(tx, k); err != nil {
			return err
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete function %s: %w", id, err)
	}
	return nil
}
