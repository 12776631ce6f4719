package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// A provider's secrets are sealed together, as one JSON object, bound to
// the provider's id.
func providerAAD(id string) []byte { return []byte("provider/" + id + "/secrets") }

// sealSecrets seals a provider's secrets; nil (SQL NULL) when there are
// none.
func (s *Store) sealSecrets(id string, secrets map[string]string) ([]byte, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	return s.sealer.Seal(plain, providerAAD(id)), nil
}

const providerColumns = `id, name, description, sequence, active, match_script, properties, secrets, match_timeout_ms, version, created_at, updated_at, handshake_script, allowed_sources`

// sourcesArg is a provider's allowed sources as the NOT NULL column
// takes them: an empty array for none.
func sourcesArg(sources []string) []string {
	if sources == nil {
		return []string{}
	}
	return sources
}

// scanProvider reads providerColumns and opens the secrets.
func (s *Store) scanProvider(row pgx.Row) (storage.Provider, error) {
	var (
		p                  storage.Provider
		properties, sealed []byte
		created, updated   int64
	)
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.Sequence, &p.Active, &p.MatchScript, &properties, &sealed, &p.MatchTimeoutMS,
		&p.Version, &created, &updated, &p.HandshakeScript, &p.AllowedSources)
	if err != nil {
		return storage.Provider{}, err
	}
	if len(p.AllowedSources) == 0 {
		p.AllowedSources = nil // none, as every backend says it
	}
	p.CreatedAt, p.UpdatedAt = timeOf(&created), timeOf(&updated)
	if err := unmarshalJSON(properties, &p.Properties); err != nil {
		return storage.Provider{}, fmt.Errorf("provider %s properties: %w", p.ID, err)
	}
	p.Secrets = map[string]string{}
	if sealed != nil {
		plain, err := s.sealer.Open(sealed, providerAAD(p.ID))
		if err != nil {
			return storage.Provider{}, fmt.Errorf("provider %s secrets: %w", p.ID, err)
		}
		if err := json.Unmarshal(plain, &p.Secrets); err != nil {
			return storage.Provider{}, fmt.Errorf("provider %s secrets: %w", p.ID, err)
		}
	}
	return p, nil
}

// ListProviders returns every provider in ascending sequence.
func (s *Store) ListProviders(ctx context.Context) ([]storage.Provider, error) {
	out, err := queryAll(ctx, s.db(), s.scanProvider, `SELECT `+providerColumns+` FROM providers ORDER BY sequence, id`)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", s.mapErr(err))
	}
	return out, nil
}

// GetProvider returns one provider with its secrets opened.
func (s *Store) GetProvider(ctx context.Context, id string) (storage.Provider, error) {
	p, err := getByID(ctx, s, "providers", providerColumns, id, s.scanProvider)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("provider %s: %w", id, err)
	}
	return p, nil
}

// lockProviderOrder keeps other writers of providers out until the
// transaction ends (readers go on), so that sequences are computed from a
// stable order.
func lockProviderOrder(ctx context.Context, tx db) error {
	_, err := tx.Exec(ctx, `LOCK TABLE providers IN EXCLUSIVE MODE`)
	return err
}

// CreateProvider stores p last in the order, with its first version.
func (s *Store) CreateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error) {
	u, err := newID()
	if err != nil {
		return storage.Provider{}, fmt.Errorf("create provider: %w", err)
	}
	now, ns := s.nowTime()
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = u.String(), 1, now, now
	sealed, err := s.sealSecrets(p.ID, p.Secrets)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("create provider: %w", err)
	}
	properties, err := json.Marshal(p.Properties)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("create provider: %w", err)
	}
	err = s.inTx(ctx, func(tx db) error {
		if err := lockProviderOrder(ctx, tx); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO providers (`+providerColumns+`)
			VALUES ($1, $2, $3, (SELECT coalesce(max(sequence), 0) + 1 FROM providers), $4, $5, $6, $7, $8, 1, $9, $9, $10, $11)
			RETURNING sequence`,
			u, p.Name, p.Description, p.Active, p.MatchScript, json.RawMessage(properties), sealed, p.MatchTimeoutMS, ns, p.HandshakeScript, sourcesArg(p.AllowedSources)).Scan(&p.Sequence)
		if err != nil {
			return err
		}
		return saveVersion(ctx, tx, "provider", u, 1, p.MatchScript, ns)
	})
	if err != nil {
		return storage.Provider{}, fmt.Errorf("create provider: %w", err)
	}
	return p, nil
}

// UpdateProvider replaces the editable fields; sequence and creation time
// stay. Version goes up when the match script changes. A nil Secrets
// keeps the stored ones.
func (s *Store) UpdateProvider(ctx context.Context, p storage.Provider) (storage.Provider, error) {
	u, err := parseID(p.ID)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("provider %w", err)
	}
	sealed, err := s.sealSecrets(p.ID, p.Secrets)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("update provider %s: %w", p.ID, err)
	}
	properties, err := json.Marshal(p.Properties)
	if err != nil {
		return storage.Provider{}, fmt.Errorf("update provider %s: %w", p.ID, err)
	}
	var out storage.Provider
	err = s.inTx(ctx, func(tx db) error {
		var version int
		var script string
		if err := tx.QueryRow(ctx, `SELECT version, match_script FROM providers WHERE id = $1 FOR UPDATE`, u).Scan(&version, &script); err != nil {
			return err
		}
		_, ns := s.nowTime()
		if storableText(p.MatchScript) != script {
			version++
			if err := saveVersion(ctx, tx, "provider", u, version, p.MatchScript, ns); err != nil {
				return err
			}
		}
		var err error
		out, err = s.scanProvider(tx.QueryRow(ctx, `UPDATE providers SET name = $2, description = $3, active = $4, match_script = $5,
				properties = $6, secrets = CASE WHEN $7 THEN secrets ELSE $8 END, match_timeout_ms = $9, version = $10, updated_at = $11,
				handshake_script = $12, allowed_sources = $13
			WHERE id = $1 RETURNING `+providerColumns,
			u, p.Name, p.Description, p.Active, p.MatchScript, json.RawMessage(properties), p.Secrets == nil, sealed,
			p.MatchTimeoutMS, version, ns, p.HandshakeScript, sourcesArg(p.AllowedSources)))
		return err
	})
	if err != nil {
		return storage.Provider{}, fmt.Errorf("update provider %s: %w", p.ID, err)
	}
	return out, nil
}

// DeleteProvider removes a provider that no function refers to, with its
// versions.
func (s *Store) DeleteProvider(ctx context.Context, id string) error {
	u, err := parseID(id)
	if err != nil {
		return fmt.Errorf("provider %w", err)
	}
	err = s.inTx(ctx, func(tx db) error {
		var n int
		err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM functions WHERE provider_id = p.id) FROM providers p WHERE id = $1 FOR UPDATE`, u).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %d function(s) still use this provider; delete or move them first", storage.ErrConflict, n)
		}
		_, err = tx.Exec(ctx, `DELETE FROM providers WHERE id = $1`, u)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete provider %s: %w", id, err)
	}
	return nil
}

// ReorderProviders gives the providers sequences 1..n in the order of ids.
func (s *Store) ReorderProviders(ctx context.Context, ids []string) ([]storage.Provider, error) {
	err := s.inTx(ctx, func(tx db) error {
		if err := lockProviderOrder(ctx, tx); err != nil {
			return err
		}
		stored, err := queryAll(ctx, tx, scanValue[string], `SELECT id FROM providers`)
		if err != nil {
			return err
		}
		if len(ids) != len(stored) {
			return fmt.Errorf("%w: ids must list every provider exactly once (%d given, %d exist)", storage.ErrInvalid, len(ids), len(stored))
		}
		exists := make(map[string]bool, len(stored))
		for _, id := range stored {
			exists[id] = true
		}
		order := make([]uuid.UUID, len(ids))
		seen := make(map[string]bool, len(ids))
		for i, id := range ids {
			u, err := uuid.Parse(id)
			if err != nil || !exists[u.String()] {
				return fmt.Errorf("%w: no provider with id %q", storage.ErrInvalid, id)
			}
			if seen[u.String()] {
				return fmt.Errorf("%w: provider %q is listed twice", storage.ErrInvalid, id)
			}
			seen[u.String()], order[i] = true, u
		}
		_, ns := s.nowTime()
		_, err = tx.Exec(ctx, `UPDATE providers SET sequence = o.seq, updated_at = $2
			FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, seq)
			WHERE providers.id = o.id AND providers.sequence <> o.seq`, order, ns)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reorder providers: %w", err)
	}
	return s.ListProviders(ctx)
}
