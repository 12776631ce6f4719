package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
)

// appendRow is a message as AppendMessage queues it for the writer.
type appendRow struct {
	receivedAt                          *int64
	method, uri                         string
	headers, query                      json.RawMessage
	remoteAddr, remoteHost, contentType string
	size                                int32
	resubmitOf                          string
	body                                []byte
}

// appendSQL inserts a group of messages and their bodies, and answers the
// ids it inserted (an id that exists already is left alone). The messages
// are claimed by the node $13 that received them.
const appendSQL = `
WITH m AS (
	INSERT INTO messages (id, received_at, method, uri, headers, query, remote_addr, remote_host, content_type, size, resubmit_of, status, claimed_by)
	SELECT id, received_at, method, uri, headers, query, remote_addr, remote_host, content_type, size, resubmit_of, 'PENDING', $13::text
	FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::json[], $6::json[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::text[])
		AS r(id, received_at, method, uri, headers, query, remote_addr, remote_host, content_type, size, resubmit_of)
	ON CONFLICT (id) DO NOTHING
	RETURNING id
), p AS (
	INSERT INTO payloads (message_id, body)
	SELECT r.id, r.body FROM unnest($1::uuid[], $12::bytea[]) AS r(id, body) JOIN m ON m.id = r.id
)
SELECT id FROM m`

// appendArgs are appendSQL's arguments for ops, one array per column,
// and the node that claims them.
func appendArgs(ops []*writeOp, node string) []any {
	n := len(ops)
	var (
		ids                            = make([]uuid.UUID, n)
		received                       = make([]*int64, n)
		methods, uris                  = make([]string, n), make([]string, n)
		headers, query                 = make([]json.RawMessage, n), make([]json.RawMessage, n)
		addrs, hosts, types, resubmits = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		sizes                          = make([]int32, n)
		bodies                         = make([][]byte, n)
	)
	for i, op := range ops {
		r := op.append
		ids[i], received[i], methods[i], uris[i] = op.id, r.receivedAt, r.method, r.uri
		headers[i], query[i] = r.headers, r.query
		addrs[i], hosts[i], types[i], resubmits[i] = r.remoteAddr, r.remoteHost, r.contentType, r.resubmitOf
		sizes[i], bodies[i] = r.size, r.body
	}
	return []any{ids, received, methods, uris, headers, query, addrs, hosts, types, sizes, resubmits, bodies, node}
}

// completeRow is an outcome as CompleteMessage queues it for the writer.
type completeRow struct {
	status, providerID, providerName string
	providerVersion                  int32
	summary                          string
	completedAt                      *int64
	durationMS                       float64
	logs, executions                 json.RawMessage
	strip                            bool // delete the payload and headers too (stripSQL)
}

// completeSQL records the outcomes of a group of messages, with their
// details, and answers the ids of the messages it found. Completing a
// message again replaces its outcome and details.
const completeSQL = `
WITH o AS (
	SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::bigint[], $8::double precision[], $9::json[], $10::json[])
		AS o(id, status, provider_id, provider_name, provider_version, summary, completed_at, duration_ms, logs, executions)
), m AS (
	UPDATE messages SET status = o.status, provider_id = o.provider_id, provider_name = o.provider_name,
		provider_version = o.provider_version, summary = o.summary, completed_at = o.completed_at, duration_ms = o.duration_ms
	FROM o WHERE messages.id = o.id
	RETURNING messages.id
), d AS (
	INSERT INTO message_details (message_id, logs, executions)
	SELECT o.id, o.logs, o.executions FROM o JOIN m ON m.id = o.id
	ON CONFLICT (message_id) DO UPDATE SET logs = excluded.logs, executions = excluded.executions
)
SELECT id FROM m`

// completeArgs are completeSQL's arguments for ops.
func completeArgs(ops []*writeOp) []any {
	n := len(ops)
	var (
		ids                              = make([]uuid.UUID, n)
		statuses, providers, names, sums = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		versions                         = make([]int32, n)
		completed                        = make([]*int64, n)
		durations                        = make([]float64, n)
		logs, executions                 = make([]json.RawMessage, n), make([]json.RawMessage, n)
	)
	for i, op := range ops {
		r := op.complete
		ids[i], statuses[i], providers[i], names[i], sums[i] = op.id, r.status, r.providerID, r.providerName, r.summary
		versions[i], completed[i], durations[i] = r.providerVersion, r.completedAt, r.durationMS
		logs[i], executions[i] = r.logs, r.executions
	}
	return []any{ids, statuses, providers, names, versions, sums, completed, durations, logs, executions}
}

// jsonOrNull encodes v, or answers nil (SQL NULL) when it is empty.
func jsonOrNull[T any](v T, empty bool) (json.RawMessage, error) {
	if empty {
		return nil, nil
	}
	return json.Marshal(v)
}

// AppendMessage durably records m (status PENDING, claimed by this
// store's node) and its body through the group commit.
func (s *Store) AppendMessage(ctx context.Context, m storage.Message, payload []byte) error {
	id, err := parseID(m.ID)
	if err != nil {
		return fmt.Errorf("append message: %w", err)
	}
	r := &appendRow{
		receivedAt: nanos(m.ReceivedAt), method: m.Method, uri: m.URI,
		remoteAddr: m.RemoteAddr, remoteHost: m.RemoteHost, contentType: m.ContentType,
		size: int32(len(payload)), resubmitOf: m.ResubmitOf, body: payload,
	}
	if r.body == nil {
		r.body = []byte{}
	}
	if r.headers, err = jsonOrNull(m.Headers, len(m.Headers) == 0); err == nil {
		r.query, err = jsonOrNull(m.Query, len(m.Query) == 0)
	}
	if err != nil {
		return fmt.Errorf("append message %s: %w", m.ID, err)
	}
	if err := s.queue(ctx, &writeOp{id: id, append: r}); err != nil {
		return fmt.Errorf("append message %s: %w", m.ID, err)
	}
	return nil
}

// CompleteMessage records the outcome through the group commit.
// Completing a message twice (it was processed again after a crash) keeps
// the later outcome; a message purged meanwhile stays purged
// (ErrNotFound).
func (s *Store) CompleteMessage(ctx context.Context, id string, o storage.Outcome) error {
	u, err := parseID(id)
	if err != nil {
		return fmt.Errorf("complete message: %w", err)
	}
	r := &completeRow{
		status: o.Status, providerID: o.ProviderID, providerName: o.ProviderName, providerVersion: int32(o.ProviderVersion),
		summary: o.Summary, completedAt: nanos(o.CompletedAt), durationMS: o.DurationMS, strip: o.Strip,
	}
	if r.logs, err = jsonOrNull(o.Logs, len(o.Logs) == 0); err == nil {
		r.executions, err = jsonOrNull(o.Executions, len(o.Executions) == 0)
	}
	if err != nil {
		return fmt.Errorf("complete message %s: %w", id, err)
	}
	if err := s.queue(ctx, &writeOp{id: u, complete: r}); err != nil {
		return fmt.Errorf("complete message %s: %w", id, err)
	}
	return nil
}

// messageColumns are what a list reads of a message; messageDetailColumns
// add what GetMessage and PendingMessages read too.
const (
	messageColumns = `id, received_at, method, uri, remote_addr, remote_host, content_type, size, resubmit_of,
		status, provider_id, provider_name, provider_version, summary, completed_at, duration_ms`
	messageFullColumns = messageColumns + `, headers, query`
)

// scanMessage reads messageColumns, then into the extra destinations.
func scanMessage(row pgx.Row, m *storage.Message, extra ...any) error {
	var receivedAt, completedAt *int64
	dest := append([]any{&m.ID, &receivedAt, &m.Method, &m.URI, &m.RemoteAddr, &m.RemoteHost, &m.ContentType, &m.Size, &m.ResubmitOf,
		&m.Status, &m.ProviderID, &m.ProviderName, &m.ProviderVersion, &m.Summary, &completedAt, &m.DurationMS}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	m.ReceivedAt, m.CompletedAt = timeOf(receivedAt), timePtrOf(completedAt)
	return nil
}

// scanFullMessage reads messageFullColumns, then into extra.
func scanFullMessage(row pgx.Row, m *storage.Message, extra ...any) error {
	var headers, query []byte
	if err := scanMessage(row, m, append([]any{&headers, &query}, extra...)...); err != nil {
		return err
	}
	return unmarshalMessageMaps(m, headers, query)
}

func unmarshalMessageMaps(m *storage.Message, headers, query []byte) error {
	if err := unmarshalJSON(headers, &m.Headers); err != nil {
		return fmt.Errorf("message %s headers: %w", m.ID, err)
	}
	if err := unmarshalJSON(query, &m.Query); err != nil {
		return fmt.Errorf("message %s query: %w", m.ID, err)
	}
	return nil
}

// GetMessage returns a message with its logs and executions.
func (s *Store) GetMessage(ctx context.Context, id string) (storage.MessageDetail, error) {
	u, err := parseID(id)
	if err != nil {
		return storage.MessageDetail{}, fmt.Errorf("message %w", err)
	}
	var d storage.MessageDetail
	var logs, executions []byte
	row := s.db().QueryRow(ctx, `SELECT `+messageFullColumns+`, d.logs, d.executions
		FROM messages LEFT JOIN message_details d ON d.message_id = messages.id WHERE messages.id = $1`, u)
	err = scanFullMessage(row, &d.Message, &logs, &executions)
	if err == nil {
		err = unmarshalJSON(logs, &d.Logs)
	}
	if err == nil {
		err = unmarshalJSON(executions, &d.Executions)
	}
	if err != nil {
		return storage.MessageDetail{}, fmt.Errorf("message %s: %w", id, s.mapErr(err))
	}
	if d.Logs == nil {
		d.Logs = []storage.LogLine{}
	}
	if d.Executions == nil {
		d.Executions = []storage.Execution{}
	}
	return d, nil
}

// GetPayload returns the raw body.
func (s *Store) GetPayload(ctx context.Context, id string) ([]byte, error) {
	u, err := parseID(id)
	if err != nil {
		return nil, fmt.Errorf("payload %w", err)
	}
	var body []byte
	if err := s.db().QueryRow(ctx, `SELECT body FROM payloads WHERE message_id = $1`, u).Scan(&body); err != nil {
		return nil, fmt.Errorf("payload %s: %w", id, s.mapErr(err))
	}
	if body == nil {
		body = []byte{}
	}
	return body, nil
}

// ListMessages pages newest first. Each filter has its index in id order,
// so a page is an index range scan.
func (s *Store) ListMessages(ctx context.Context, f storage.MessageFilter) ([]storage.Message, string, error) {
	// Each condition says what its partial index holds, so that the
	// planner can use it whatever the value.
	var filters []filter
	switch f.Status {
	case "":
	case storage.StatusPending:
		filters = append(filters, filter{sql: "status = 'PENDING'"})
	default:
		filters = append(filters, filter{"status = ? AND status <> 'PENDING'", f.Status})
	}
	if f.ProviderID != "" {
		filters = append(filters, filter{"provider_id = ? AND provider_id <> ''", f.ProviderID})
	}
	if f.URI != "" {
		filters = append(filters, filter{"uri = ?", f.URI})
	}
	if f.Searching() {
		items, next, err := s.searchMessages(ctx, f, filters)
		if err != nil {
			return nil, "", fmt.Errorf("list messages: %w", err)
		}
		return items, next, nil
	}
	p := listPage{"messages", messageColumns, f.Since, f.Until, f.Cursor, f.Limit, filters}
	items, next, err := readPage(ctx, s, p, func(row pgx.Row) (storage.Message, error) {
		var m storage.Message
		return m, scanMessage(row, &m)
	}, func(m storage.Message) string { return m.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	return items, next, nil
}

// PendingMessages returns PENDING messages after `after`, oldest first,
// headers and query included.
func (s *Store) PendingMessages(ctx context.Context, after string, limit int) ([]storage.Message, error) {
	out, err := s.pendingPage(ctx, `SELECT `+messageFullColumns+` FROM messages WHERE status = 'PENDING' AND id > $1 ORDER BY id LIMIT $2`,
		after, limit)
	if err != nil {
		return nil, fmt.Errorf("pending messages: %w", err)
	}
	return out, nil
}

// pendingPage runs sql, a read of up to $2 PENDING messages after $1 as
// messageFullColumns, then extra arguments; none when limit is 0.
func (s *Store) pendingPage(ctx context.Context, sql, after string, limit int, extra ...any) ([]storage.Message, error) {
	var start uuid.UUID
	if after != "" {
		u, err := parseID(after)
		if err != nil {
			return nil, err
		}
		start = u
	}
	if limit <= 0 {
		return nil, nil
	}
	out, err := queryAll(ctx, s.db(), func(row pgx.Row) (storage.Message, error) {
		var m storage.Message
		return m, scanFullMessage(row, &m)
	}, sql, append([]any{start, limit}, extra...)...)
	return out, s.mapErr(err)
}

// DeleteMessages deletes the messages with these ids with their bodies
// and details, in one statement.
func (s *Store) DeleteMessages(ctx context.Context, ids []string) (int, error) {
	us := make([]uuid.UUID, len(ids))
	for i, id := range ids {
		u, err := parseID(id)
		if err != nil {
			return 0, fmt.Errorf("delete messages: %w", err)
		}
		us[i] = u
	}
	n, err := s.deleteMessagesWhere(ctx, `id = ANY($1)`, us)
	if err != nil {
		return 0, fmt.Errorf("delete messages: %w", err)
	}
	return n, nil
}

// PurgeMessages deletes up to limit messages received before cutoff,
// oldest first, with their bodies and details, in one statement.
func (s *Store) PurgeMessages(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	n, err := s.deleteMessagesWhere(ctx, `id IN (SELECT id FROM messages WHERE id < $1 ORDER BY id LIMIT $2)`, timeID(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("purge messages: %w", err)
	}
	return n, nil
}

// deleteMessagesWhere deletes the messages that where selects (SQL over
// messages, with args), with their bodies and details, in one statement,
// and says how many.
func (s *Store) deleteMessagesWhere(ctx context.Context, where string, args ...any) (int, error) {
	var n int
	err := s.db().QueryRow(ctx, `
		WITH m AS (
			DELETE FROM messages WHERE `+where+` RETURNING id
		), p AS (
			DELETE FROM payloads WHERE message_id IN (SELECT id FROM m)
		), d AS (
			DELETE FROM message_details WHERE message_id IN (SELECT id FROM m)
		)
		SELECT count(*) FROM m`, args...).Scan(&n)
	return n, s.mapErr(err)
}
