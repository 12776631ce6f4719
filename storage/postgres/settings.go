package postgres

import (
	"context"
	"fmt"

	"github.com/switchyard-dev/switchyard/storage"
)

// Setting returns a named value, or nil if it was never set.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("setting: %w: empty name", storage.ErrInvalid)
	}
	rows, err := s.db().Query(ctx, `SELECT value FROM settings WHERE name = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("setting %q: %w", name, s.mapErr(err))
	}
	var out []byte
	if rows.Next() {
		if err := rows.Scan(&out); err != nil {
			rows.Close()
			return nil, fmt.Errorf("setting %q: %w", name, s.mapErr(err))
		}
		if out == nil {
			out = []byte{} // it was set, to nothing
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("setting %q: %w", name, s.mapErr(err))
	}
	return out, nil
}

// InitSetting stores value under name unless the name is set, and
// returns what is kept, in one statement: on a conflict, the update that
// changes nothing locks the row and returns its latest committed value
// (DO NOTHING would return no row, and a read in the same statement
// could miss a row committed after it began).
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("init setting: %w: empty name", storage.ErrInvalid)
	}
	if value == nil {
		value = []byte{}
	}
	var kept []byte
	err := s.db().QueryRow(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = settings.value RETURNING value`, name, value).Scan(&kept)
	if err != nil {
		return nil, fmt.Errorf("init setting %q: %w", name, s.mapErr(err))
	}
	if kept == nil {
		kept = []byte{}
	}
	return kept, nil
}

// PutSetting stores a named value; a nil value is stored as empty.
func (s *Store) PutSetting(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("put setting: %w: empty name", storage.ErrInvalid)
	}
	if value == nil {
		value = []byte{}
	}
	_, err := s.db().Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("put setting %q: %w", name, s.mapErr(err))
	}
	return nil
}
