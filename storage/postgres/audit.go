package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

const auditColumns = `id, time, actor, user_id, action, target, detail, ip`

// AppendAudit records e under its id, a UUIDv7 the caller made. Time
// defaults to now.
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEntry) error {
	id, err := v7ID("audit entry", e.ID)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	_, err = s.db().Exec(ctx, `INSERT INTO audit (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, nanos(e.Time), e.Actor, e.UserID, e.Action, e.Target, e.Detail, e.IP)
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.ID, s.mapErr(err))
	}
	return nil
}

// ListAudit pages newest first, like ListMessages: Since and Until bound
// the time in the entries' ids. An Action ending in "." selects every
// action it prefixes.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEntry, string, error) {
	var filters []filter
	if f.Actor != "" {
		filters = append(filters, filter{"actor = ?", f.Actor})
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		filters = append(filters, filter{"(action = ? OR starts_with(action, ?))", f.Action})
	case f.Action != "":
		filters = append(filters, filter{"action = ?", f.Action})
	}
	if f.Target != "" {
		filters = append(filters, filter{"target = ?", f.Target})
	}
	p := listPage{"audit", auditColumns, f.Since, f.Until, f.Cursor, f.Limit, filters}
	items, next, err := readPage(ctx, s, p, scanAudit, func(e storage.AuditEntry) string { return e.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	return items, next, nil
}

// scanAudit reads auditColumns.
func scanAudit(row pgx.Row) (storage.AuditEntry, error) {
	var e storage.AuditEntry
	var at int64
	err := row.Scan(&e.ID, &at, &e.Actor, &e.UserID, &e.Action, &e.Target, &e.Detail, &e.IP)
	e.Time = timeOf(&at)
	return e, err
}

// PurgeAudit deletes, oldest first, up to limit entries whose ids' time is
// before cutoff.
func (s *Store) PurgeAudit(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	n, err := s.purgeOldest(ctx, s.db(), "audit", cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("purge audit log: %w", err)
	}
	return n, nil
}
