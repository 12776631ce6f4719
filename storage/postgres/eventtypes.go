package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

const eventTypeColumns = `type, kind, description, example, schema, created_at, updated_at`

func scanEventType(row pgx.Row) (storage.EventType, error) {
	var (
		t                storage.EventType
		example, schema  []byte
		created, updated int64
	)
	if err := row.Scan(&t.Type, &t.Kind, &t.Description, &example, &schema, &created, &updated); err != nil {
		return storage.EventType{}, err
	}
	t.Example, t.Schema = rawOrNil(example), rawOrNil(schema)
	t.CreatedAt, t.UpdatedAt = timeOf(&created), timeOf(&updated)
	return t, nil
}

// rawOrNil is a json column's value: nil for SQL NULL.
func rawOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// jsonArg is a JSON document as a json column's argument: NULL when
// empty.
func jsonArg(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// ListEventTypes returns the declared event types, by name.
func (s *Store) ListEventTypes(ctx context.Context) ([]storage.EventType, error) {
	out, err := queryAll(ctx, s.db(), scanEventType, `SELECT `+eventTypeColumns+` FROM event_types ORDER BY type COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", s.mapErr(err))
	}
	return out, nil
}

// GetEventType returns one declared event type.
func (s *Store) GetEventType(ctx context.Context, name string) (storage.EventType, error) {
	t, err := scanEventType(s.db().QueryRow(ctx, `SELECT `+eventTypeColumns+` FROM event_types WHERE type = $1`, name))
	if err != nil {
		return storage.EventType{}, fmt.Errorf("event type %q: %w", name, s.mapErr(err))
	}
	return t, nil
}

// PutEventType stores t under its name, new or in place of the stored
// one (unless create), in one statement.
func (s *Store) PutEventType(ctx context.Context, t storage.EventType, create bool) (storage.EventType, bool, error) {
	if t.Type == "" {
		return t, false, fmt.Errorf("put event type: %w: no name", storage.ErrInvalid)
	}
	_, ns := s.nowTime()
	onConflict := `DO UPDATE SET kind = excluded.kind, description = excluded.description, example = excluded.example,
		schema = excluded.schema, updated_at = excluded.updated_at`
	if create {
		onConflict = `DO NOTHING`
	}
	var created int64
	var inserted bool
	err := s.db().QueryRow(ctx, `INSERT INTO event_types (`+eventTypeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (type) `+onConflict+` RETURNING created_at, xmax = 0`,
		t.Type, t.Kind, t.Description, jsonArg(t.Example), jsonArg(t.Schema), ns).Scan(&created, &inserted)
	if err != nil {
		err = s.mapErr(err)
		if create && err == storage.ErrNotFound {
			// it names the type; "put" would misname a POST
			return storage.EventType{}, false, fmt.Errorf("%w: event type %q is declared already", storage.ErrConflict, t.Type)
		}
		return storage.EventType{}, false, fmt.Errorf("put event type %q: %w", t.Type, err)
	}
	t.CreatedAt, t.UpdatedAt = timeOf(&created), timeOf(&ns)
	return t, inserted, nil
}

// DeleteEventType forgets a declared event type.
func (s *Store) DeleteEventType(ctx context.Context, name string) error {
	tag, err := s.db().Exec(ctx, `DELETE FROM event_types WHERE type = $1`, name)
	if err != nil {
		return fmt.Errorf("delete event type %q: %w", name, s.mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete event type %q: %w", name, storage.ErrNotFound)
	}
	return nil
}
