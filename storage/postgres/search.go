package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/storage"
)

// searchMessages is ListMessages with FunctionID or Text: first the
// window it may look at (the newest storage.SearchScan messages that pass
// the indexed filters, cut where their payloads pass
// storage.SearchBytes), then, in that window only, the messages whose
// details or payload pass the rest. A full window with no full page
// answers the cursor below it, so the caller searches on from there.
func (s *Store) searchMessages(ctx context.Context, f storage.MessageFilter, indexed []filter) ([]storage.Message, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	lower, upper, err := idRange(f.Since, f.Until, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	sql, args := listQuery("id, size", "messages", lower, upper, storage.SearchScan-1, indexed)
	type seen struct {
		id   uuid.UUID
		size int64
	}
	rows, err := queryAll(ctx, s.db(), func(row pgx.Row) (seen, error) {
		var r seen
		return r, row.Scan(&r.id, &r.size)
	}, sql, args...)
	if err != nil {
		return nil, "", s.mapErr(err)
	}
	full := len(rows) == storage.SearchScan
	if f.Deep && f.Text != "" {
		var bytes int64
		for i, r := range rows {
			if bytes += r.size; bytes >= storage.SearchBytes && i+1 < len(rows) {
				rows, full = rows[:i+1], true
				break
			}
		}
	}
	if len(rows) == 0 {
		return []storage.Message{}, "", nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	sql, args = searchQuery(&f, ids, limit)
	items, err := queryAll(ctx, s.db(), func(row pgx.Row) (storage.Message, error) {
		var m storage.Message
		return m, scanMessage(row, &m)
	}, sql, args...)
	if err != nil {
		return nil, "", s.mapErr(err)
	}
	switch {
	case len(items) > limit:
		return items[:limit], items[limit-1].ID, nil
	case full:
		return items, ids[len(ids)-1].String(), nil
	}
	return items, "", nil
}

// logsHoldSQL: a log line of the json array col holds the text %[2]s.
const logsHoldSQL = `EXISTS (SELECT 1 FROM json_array_elements(CASE WHEN json_typeof(%[1]s) = 'array' THEN %[1]s END) l WHERE strpos(l->>'text', %[2]s) > 0)`

// searchQuery selects, among ids, the messages that pass f's FunctionID
// and Text, newest first, limit+1 of them.
func searchQuery(f *storage.MessageFilter, ids []uuid.UUID, limit int) (string, []any) {
	args := []any{ids}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var conds []string
	if f.FunctionID != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM json_array_elements(d.executions) e WHERE e->>'function_id' = `+arg(f.FunctionID)+`)`)
	}
	if f.Text != "" {
		q := arg(f.Text)
		holds := []string{`strpos(summary, ` + q + `) > 0`, `strpos(uri, ` + q + `) > 0`}
		if f.Deep {
			holds = append(holds,
				`EXISTS (SELECT 1 FROM json_each_text(headers) h WHERE strpos(h.key, `+q+`) > 0
					OR (strpos(h.value, `+q+`) > 0 AND NOT EXISTS (SELECT 1 FROM unnest(`+arg(redact.CredentialWords())+`::text[]) w WHERE strpos(lower(h.key), w) > 0)))`,
				fmt.Sprintf(logsHoldSQL, "d.logs", q),
				`EXISTS (SELECT 1 FROM json_array_elements(d.executions) e WHERE strpos(coalesce(e->>'error', ''), `+q+`) > 0 OR `+
					fmt.Sprintf(logsHoldSQL, "e->'logs'", q)+`)`,
				`EXISTS (SELECT 1 FROM payloads p WHERE p.message_id = messages.id AND position(`+arg([]byte(f.Text))+`::bytea IN p.body) > 0)`,
			)
		}
		conds = append(conds, "("+strings.Join(holds, " OR ")+")")
	}
	sql := `SELECT ` + messageColumns + ` FROM messages LEFT JOIN message_details d ON d.message_id = messages.id
		WHERE messages.id = ANY($1) AND ` + strings.Join(conds, " AND ") + ` ORDER BY messages.id DESC LIMIT ` + arg(limit+1)
	return sql, args
}
