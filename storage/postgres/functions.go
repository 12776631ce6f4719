package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

const functionColumns = `id, name, description, provider_id, uri, active, script, timeout_ms, version, created_at, updated_at`

func scanFunction(row pgx.Row) (storage.Function, error) {
	var f storage.Function
	var created, updated int64
	err := row.Scan(&f.ID, &f.Name, &f.Description, &f.ProviderID, &f.URI, &f.Active, &f.Script, &f.TimeoutMS, &f.Version, &created, &updated)
	f.CreatedAt, f.UpdatedAt = timeOf(&created), timeOf(&updated)
	return f, err
}

// ListFunctions returns every function, oldest first.
func (s *Store) ListFunctions(ctx context.Context) ([]storage.Function, error) {
	out, err := queryAll(ctx, s.db(), scanFunction, `SELECT `+functionColumns+` FROM functions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", s.mapErr(err))
	}
	return out, nil
}

// GetFunction returns one function.
func (s *Store) GetFunction(ctx context.Context, id string) (storage.Function, error) {
	f, err := getByID(ctx, s, "functions", functionColumns, id, scanFunction)
	if err != nil {
		return storage.Function{}, fmt.Errorf("function %s: %w", id, err)
	}
	return f, nil
}

// functionProvider checks that a function's provider exists, and locks it
// against deletion until the transaction ends.
func functionProvider(ctx context.Context, tx db, id string) (uuid.UUID, error) {
	invalid := fmt.Errorf("%w: provider_id %q names no provider", storage.ErrInvalid, id)
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.UUID{}, invalid
	}
	err = tx.QueryRow(ctx, `SELECT id FROM providers WHERE id = $1 FOR KEY SHARE`, u).Scan(&u)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.UUID{}, invalid
	}
	return u, err
}

// CreateFunction stores f with a new id and its first version.
func (s *Store) CreateFunction(ctx context.Context, f storage.Function) (storage.Function, error) {
	u, err := newID()
	if err != nil {
		return storage.Function{}, fmt.Errorf("create function: %w", err)
	}
	now, ns := s.nowTime()
	f.ID, f.Version, f.CreatedAt, f.UpdatedAt = u.String(), 1, now, now
	err = s.inTx(ctx, func(tx db) error {
		provider, err := functionProvider(ctx, tx, f.ProviderID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO functions (`+functionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)`,
			u, f.Name, f.Description, provider, f.URI, f.Active, f.Script, f.TimeoutMS, ns)
		if err != nil {
			return err
		}
		return saveVersion(ctx, tx, "function", u, 1, f.Script, ns)
	})
	if err != nil {
		return storage.Function{}, fmt.Errorf("create function: %w", err)
	}
	return f, nil
}

// UpdateFunction replaces the editable fields. Version goes up when the
// script changes.
func (s *Store) UpdateFunction(ctx context.Context, f storage.Function) (storage.Function, error) {
	u, err := parseID(f.ID)
	if err != nil {
		return storage.Function{}, fmt.Errorf("function %w", err)
	}
	var out storage.Function
	err = s.inTx(ctx, func(tx db) error {
		var version int
		var script string
		if err := tx.QueryRow(ctx, `SELECT version, script FROM functions WHERE id = $1 FOR UPDATE`, u).Scan(&version, &script); err != nil {
			return err
		}
		provider, err := functionProvider(ctx, tx, f.ProviderID)
		if err != nil {
			return err
		}
		_, ns := s.nowTime()
		if storableText(f.Script) != script {
			version++
			if err := saveVersion(ctx, tx, "function", u, version, f.Script, ns); err != nil {
				return err
			}
		}
		out, err = scanFunction(tx.QueryRow(ctx, `UPDATE functions SET name = $2, description = $3, provider_id = $4, uri = $5, active = $6,
				script = $7, timeout_ms = $8, version = $9, updated_at = $10
			WHERE id = $1 RETURNING `+functionColumns,
			u, f.Name, f.Description, provider, f.URI, f.Active, f.Script, f.TimeoutMS, version, ns))
		return err
	})
	if err != nil {
		return storage.Function{}, fmt.Errorf("update function %s: %w", f.ID, err)
	}
	return out, nil
}

// DeleteFunction removes a function with its versions.
func (s *Store) DeleteFunction(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "functions", id); err != nil {
		return fmt.Errorf("delete function %s: %w", id, err)
	}
	return nil
}

// saveVersion records a saved script of a provider or function (owner
// "provider" or "function").
func saveVersion(ctx context.Context, tx db, owner string, id uuid.UUID, version int, script string, savedAt int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO `+owner+`_versions (`+owner+`_id, version, script, saved_at) VALUES ($1, $2, $3, $4)`,
		id, version, script, savedAt)
	return err
}

// versionsSQL selects the saved scripts of a provider or function ($1).
const versionsSQL = `
	SELECT version, script, saved_at FROM provider_versions WHERE provider_id = $1
	UNION ALL
	SELECT version, script, saved_at FROM function_versions WHERE function_id = $1`

func scanVersion(row pgx.Row) (storage.ScriptVersion, error) {
	var v storage.ScriptVersion
	var saved int64
	err := row.Scan(&v.Version, &v.Script, &saved)
	v.SavedAt = timeOf(&saved)
	return v, err
}

// ScriptVersions lists the saved scripts of a provider or function, newest
// first.
func (s *Store) ScriptVersions(ctx context.Context, id string) ([]storage.ScriptVersion, error) {
	u, err := parseID(id)
	if err != nil {
		return nil, fmt.Errorf("script versions: %w", err)
	}
	out, err := queryAll(ctx, s.db(), scanVersion, versionsSQL+` ORDER BY version DESC`, u)
	if err == nil && len(out) == 0 {
		// Every provider and function has a first version; still, say
		// "none" only of what does not exist.
		var exists bool
		err = s.db().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM providers WHERE id = $1) OR EXISTS (SELECT 1 FROM functions WHERE id = $1)`, u).Scan(&exists)
		if err == nil && !exists {
			err = storage.ErrNotFound
		}
	}
	if err != nil {
		return nil, fmt.Errorf("script versions of %s: %w", id, s.mapErr(err))
	}
	return out, nil
}

// GetScriptVersion returns one saved version.
func (s *Store) GetScriptVersion(ctx context.Context, id string, version int) (storage.ScriptVersion, error) {
	u, err := parseID(id)
	if err != nil {
		return storage.ScriptVersion{}, fmt.Errorf("script version: %w", err)
	}
	if version < 1 || version > math.MaxInt32 {
		return storage.ScriptVersion{}, fmt.Errorf("version %d of %s: %w", version, id, storage.ErrNotFound)
	}
	v, err := scanVersion(s.db().QueryRow(ctx, `SELECT * FROM (`+versionsSQL+`) v WHERE version = $2`, u, version))
	if err != nil {
		return storage.ScriptVersion{}, fmt.Errorf("version %d of %s: %w", version, id, s.mapErr(err))
	}
	return v, nil
}
