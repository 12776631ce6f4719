package bolt

import (
	"context"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// providerRecord is a provider as stored: secrets sealed, one by one, bound
// to the provider's id and the secret's name.
type providerRecord struct {
	diskProvider
	Sealed map[string][]byte `json:"sealed_secrets,omitempty"`
}

func secretAAD(id, name string) []byte { return []byte("provider/" + id + "/" + name) }

func (s *Store) sealSecrets(id string, secrets map[string]string) map[string][]byte {
	if len(secrets) == 0 {
		return nil
	}
	out := make(map[string][]byte, len(secrets))
	for name, v := range secrets {
		out[name] = s.sealer.Seal([]byte(v), secretAAD(id, name))
	}
	return out
}

func (s *Store) openProvider(r providerRecord) (storage.Provider, error) {
	p := storage.Provider(r.diskProvider)
	p.Secrets = make(map[string]string, len(r.Sealed))
	for name, v := range r.Sealed {
		plain, err := s.sealer.Open(v, secretAAD(p.ID, name))
		if err != nil {
			return storage.Provider{}, fmt.Errorf("provider %s secret %q: %w", p.ID, name, err)
		}
		p.Secrets[name] = string(plain)
	}
	return p, nil
}

func (s *Store) readProviders(tx *bolt.Tx) ([]providerRecord, error) {
	var out []providerRecord
	err := tx.Bucket(bucketProviders).ForEach(func(k, v []byte) error {
		var r providerRecord
		if err := decodeRecord(v, &r); err != nil {
			return fmt.Errorf("provider %s: %w", idOf(k), err)
		}
		out = append(out, r)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Sequence != out[j].Sequence {
			return out[i].Sequence < out[j].Sequence
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// ListProviders returns every provider in ascending sequence.
func (s *Store) ListProviders(ctx context.Context) ([]storage.Provider, error) {
	var recs []providerRecord
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		recs, err = s.readProviders(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	out := make([]storage.Provider, 0, len(recs))
	for _, r := range recs {
		p, err := s.openProvider(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// GetProvider returns one provider with its secrets opened.
func (s *Store) GetProvider(ctx context.Context, id string) (storage.Provider, error) {
	k, err := key(id)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("provider %w", err)
	}
	var r providerRecord
	err = s.view(ctx, func(tx *bolt.Tx) error { return getRecord(tx.Bucket(bucketProviders), k, &r) })
	if err != nil {
		return storage.Provider{}, fmt.Errorf("provider %s: %w", id, err)
	}
	return s.openProvider(r)
}

// CreateProvider stores p last in the order.
func (s *Store) CreateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error) {
	id, k, err := newID()
	if err != nil {
		return storage.Provider{}, err
	}
	now := s.now().UTC()
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = id, 1, now, now
	sealed := s.sealSecrets(id, p.Secrets)
	err = s.updateChanging(ctx, storage.ChangeCatalogue, func(tx *bolt.Tx) error {
		recs, err := s.readProviders(tx)
		if err != nil {
			return err
		}
		r := providerRecord{diskProvider: diskProvider(p), Sealed: sealed}
		r.Sequence = 1
		if n := len(recs); n > 0 {
			r.Sequence = recs[n-1].Sequence + 1
		}
		p.Sequence = r.Sequence
		if err := putVersion(tx, k, 1, p.MatchScript, now); err != nil {
			return err
		}
		return putRecord(tx.Bucket(bucketProviders), k, r)
	})
	if err != nil {
		return storage.Provider{}, fmt.Errorf("create provider: %w", err)
	}
	return p, nil
}

// UpdateProvider replaces the editable fields; sequence and creation time
// stay. Version goes up when the match script changes.
func (s *Store) UpdateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error) {
	k, err := key(p.ID)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("provider %w", err)
	}
	var sealed map[string][]byte
	if p.Secrets != nil {
		sealed = s.sealSecrets(p.ID, p.Secrets)
	}
	var out storage.Provider
	err = s.updateChanging(ctx, storage.ChangeCatalogue, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProviders)
		var old providerRecord
		if err := getRecord(b, k, &old); err != nil {
			return err
		}
		r := providerRecord{diskProvider: diskProvider(p), Sealed: sealed}
		if p.Secrets == nil {
			r.Sealed = old.Sealed
		}
		r.Sequence, r.CreatedAt, r.Version = old.Sequence, old.CreatedAt, old.Version
		r.UpdatedAt = s.now().UTC()
		if r.MatchScript != old.MatchScript {
			r.Version++
			if err := putVersion(tx, k, r.Version, r.MatchScript, r.UpdatedAt); err != nil {
				return err
			}
		}
		out = storage.Provider(r.diskProvider)
		return putRecord(b, k, r)
	})
	if err != nil {
		return storage.Provider{}, fmt.Errorf("update provider %s: %w", p.ID, err)
	}
	return s.GetProvider(ctx, out.ID)
}

// DeleteProvider removes a provider that no function refers to.
func (s *Store) DeleteProvider(ctx context.Context, id string) error {
	k, err := key(id)
	if err != nil {
		return fmt.Errorf("provider %w", err)
	}
	err = s.updateChanging(ctx, storage.ChangeCatalogue, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProviders)
		if b.Get(k) == nil {
			return storage.ErrNotFound
		}
		n := 0
		err := tx.Bucket(bucketFunctions).ForEach(func(fk, v []byte) error {
			var f diskFunction
			if err := decodeRecord(v, &f); err != nil {
				return fmt.Errorf("function %s: %w", idOf(fk), err)
			}
			if f.ProviderID == id {
				n++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %d function(s) still use this provider; delete or move them first", storage.ErrConflict, n)
		}
		if err := deleteVersions(tx, k); err != nil {
			return err
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete provider %s: %w", id, err)
	}
	return nil
}

// ReorderProviders gives the providers sequences 1..n in the order of ids.
func (s *Store) ReorderProviders(ctx context.Context, ids []string) ([]storage.Provider, error) {
	err := s.updateChanging(ctx, storage.ChangeCatalogue, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProviders)
		recs, err := s.readProviders(tx)
		if err != nil {
			return err
		}
		byID := make(map[string]providerRecord, len(recs))
		for _, r := range recs {
			byID[r.ID] = r
		}
		if len(ids) != len(recs) {
			return fmt.Errorf("%w: ids must list every provider exactly once (%d given, %d exist)", storage.ErrInvalid, len(ids), len(recs))
		}
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			if _, ok := byID[id]; !ok {
				return fmt.Errorf("%w: no provider with id %q", storage.ErrInvalid, id)
			}
			if seen[id] {
				return fmt.Errorf("%w: provider %q is listed twice", storage.ErrInvalid, id)
			}
			seen[id] = true
		}
		now := s.now().UTC()
		for i, id := range ids {
			r := byID[id]
			if r.Sequence == i+1 {
				continue
			}
			r.Sequence, r.UpdatedAt = i+1, now
			k, _ := key(id)
			if err := putRecord(b, k, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reorder providers: %w", err)
	}
	return s.ListProviders(ctx)
}
