package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/transfer"
)

// The store as a source and a target of transfer.Copy. Export reads a
// page of a kind's table in key order, with its parts, through the
// store's own scanners; Import writes a batch with COPY, one table after
// the other in one transaction, encoded and sealed as the store's own
// writes are.

var (
	_ transfer.Exporter = (*Store)(nil)
	_ transfer.Importer = (*Store)(nil)
)

// kindTables names each kind's table, and the table of its parts.
var kindTables = map[transfer.Kind]struct{ table, parts string }{
	transfer.Settings:    {"settings", ""},
	transfer.Users:       {"users", ""},
	transfer.Tokens:      {"tokens", ""},
	transfer.Sessions:    {"sessions", ""},
	transfer.Providers:   {"providers", "provider_versions"},
	transfer.Functions:   {"functions", "function_versions"},
	transfer.Endpoints:   {"endpoints", ""},
	transfer.EventTypes:  {"event_types", ""},
	transfer.Events:      {"events", ""},
	transfer.Deliveries:  {"deliveries", "attempts"},
	transfer.Idempotency: {"event_idempotency", ""},
	transfer.Messages:    {"messages", "payloads"},
	transfer.Seen:        {"seen", ""},
	transfer.Audit:       {"audit", ""},
}

// Count says how many records of kind k the store holds, and their parts.
func (s *Store) Count(ctx context.Context, k transfer.Kind) (transfer.Counts, error) {
	if err := k.Check(); err != nil {
		return transfer.Counts{}, fmt.Errorf("count: %w", err)
	}
	t := kindTables[k]
	parts := "0"
	if t.parts != "" {
		parts = `(SELECT count(*) FROM ` + t.parts + `)`
	}
	var n transfer.Counts
	if err := s.db().QueryRow(ctx, `SELECT (SELECT count(*) FROM `+t.table+`), `+parts).Scan(&n.Records, &n.Parts); err != nil {
		return transfer.Counts{}, fmt.Errorf("count %s: %w", k, s.mapErr(err))
	}
	return n, nil
}

// Export reads up to limit records of kind k after `after`, in key order
// (see transfer.Exporter). A page of messages ends after the one whose
// body reaches transfer.MaxBatchBytes.
func (s *Store) Export(ctx context.Context, k transfer.Kind, after string, limit int) (transfer.Batch, error) {
	b := transfer.Batch{Kind: k}
	if err := k.Check(); err != nil {
		return b, fmt.Errorf("export: %w", err)
	}
	var id uuid.UUID // uuid keys start after it; the nil uuid is nobody's id
	switch k {
	case transfer.Settings, transfer.Sessions, transfer.Seen, transfer.Idempotency, transfer.EventTypes:
	default:
		if after != "" {
			u, err := uuid.Parse(after)
			if err != nil {
				return b, fmt.Errorf("export %s: %w: %q is not a uuid", k, storage.ErrInvalid, after)
			}
			id = u
		}
	}
	var err error
	switch k {
	case transfer.Settings:
		b.Settings, err = queryAll(ctx, s.db(), scanSetting,
			`SELECT name, value FROM settings WHERE name COLLATE "C" > $1 ORDER BY name COLLATE "C" LIMIT $2`, after, limit)
	case transfer.EventTypes:
		b.EventTypes, err = queryAll(ctx, s.db(), scanEventType,
			`SELECT `+eventTypeColumns+` FROM event_types WHERE type COLLATE "C" > $1 ORDER BY type COLLATE "C" LIMIT $2`, after, limit)
	case transfer.Users:
		b.Users, err = exportPage(ctx, s, "users", userColumns, id, limit, scanUser)
	case transfer.Tokens:
		b.Tokens, err = exportPage(ctx, s, "tokens", tokenColumns, id, limit, scanToken)
	case transfer.Sessions:
		b.Sessions, err = queryAll(ctx, s.db(), scanSession,
			`SELECT `+sessionColumns+` FROM sessions WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	case transfer.Providers:
		b.Providers, err = s.exportProviders(ctx, id, limit)
	case transfer.Functions:
		b.Functions, err = s.exportFunctions(ctx, id, limit)
	case transfer.Endpoints:
		b.Endpoints, err = exportPage(ctx, s, "endpoints", endpointColumns, id, limit, s.scanEndpoint)
	case transfer.Events:
		b.Events, err = exportPage(ctx, s, "events", eventColumns, id, limit, scanEvent)
	case transfer.Deliveries:
		b.Deliveries, err = s.exportDeliveries(ctx, id, limit)
	case transfer.Messages:
		b.Messages, err = s.exportMessages(ctx, id, limit)
	case transfer.Idempotency:
		b.Idempotency, err = queryAll(ctx, s.db(), scanIdempotency,
			`SELECT key, body_hash, event_id, response, created_at, expires_at FROM event_idempotency WHERE key > $1 ORDER BY key LIMIT $2`,
			[]byte(after), limit)
	case transfer.Seen:
		b.Seen, err = queryAll(ctx, s.db(), scanSeen, `SELECT key, expires_at FROM seen WHERE key > $1 ORDER BY key LIMIT $2`, []byte(after), limit)
	case transfer.Audit:
		b.Audit, err = exportPage(ctx, s, "audit", auditColumns, id, limit, scanAudit)
	}
	if err != nil {
		return transfer.Batch{Kind: k}, fmt.Errorf("export %s: %w", k, s.mapErr(err))
	}
	return b, nil
}

func scanSetting(row pgx.Row) (transfer.Setting, error) {
	var st transfer.Setting
	err := row.Scan(&st.Name, &st.Value)
	if st.Value == nil {
		st.Value = []byte{}
	}
	return st, err
}

func scanIdempotency(row pgx.Row) (storage.Idempotency, error) {
	var r storage.Idempotency
	var key, response []byte
	var event uuid.UUID
	var created, expires int64
	err := row.Scan(&key, &r.BodyHash, &event, &response, &created, &expires)
	r.Key, r.EventID, r.Response = string(key), event.String(), response
	r.CreatedAt, r.ExpiresAt = timeOf(&created), timeOf(&expires)
	return r, err
}

func scanSeen(row pgx.Row) (transfer.SeenKey, error) {
	var key []byte
	var exp int64
	err := row.Scan(&key, &exp)
	return transfer.SeenKey{Key: string(key), ExpiresAt: timeOf(&exp)}, err
}

// exportPage reads up to limit rows of table after the id `after`, in id
// order.
func exportPage[T any](ctx context.Context, s *Store, table, columns string, after uuid.UUID, limit int, scan func(pgx.Row) (T, error)) ([]T, error) {
	return queryAll(ctx, s.db(), scan, `SELECT `+columns+` FROM `+table+` WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
}

// ownerRow reads the owner's id, the first column, then what scan reads.
type ownerRow struct {
	row   pgx.Row
	owner *string
}

func (r ownerRow) Scan(dest ...any) error { return r.row.Scan(append([]any{r.owner}, dest...)...) }

// owners is a kind whose records own rows of another table: providers
// and functions their versions, deliveries their attempts.
type owners[T, P any] struct {
	table, columns string
	// partColumns start with the owner's id, and sort by their second.
	partTable, partColumns string
	scan                   func(pgx.Row) (T, error)
	scanPart               func(pgx.Row) (P, error)
	id                     func(T) string
}

// export reads a page of the table as exportPage does, and the parts of
// each record in it (nil for none), in one round trip and one snapshot.
func (o owners[T, P]) export(ctx context.Context, s *Store, after uuid.UUID, limit int) ([]T, [][]P, error) {
	page := `SELECT id FROM ` + o.table + ` WHERE id > $1 ORDER BY id LIMIT $2`
	owner := strings.SplitN(o.partColumns, ",", 2)[0]
	var records []T
	parts := map[string][]P{}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+o.columns+` FROM `+o.table+` WHERE id IN (`+page+`) ORDER BY id`, after, limit).Query(func(rows pgx.Rows) (err error) {
		records, err = collect(rows, o.scan)
		return err
	})
	b.Queue(`SELECT `+o.partColumns+` FROM `+o.partTable+` WHERE `+owner+` IN (`+page+`) ORDER BY `+owner+`, 2`, after, limit).Query(func(rows pgx.Rows) error {
		_, err := collect(rows, func(row pgx.Row) (struct{}, error) {
			var id string
			p, err := o.scanPart(ownerRow{row, &id})
			parts[id] = append(parts[id], p)
			return struct{}{}, err
		})
		return err
	})
	if err := s.sendBatch(ctx, b); err != nil {
		return nil, nil, err
	}
	out := make([][]P, len(records))
	for i, r := range records {
		out[i] = parts[o.id(r)]
	}
	return records, out, nil
}

// versionColumns are the columns of a table of script versions whose
// owner's id is in owner; attemptColumns the attempts'.
func versionColumns(owner string) string { return owner + ", version, script, saved_at" }

const attemptColumns = "delivery_id, n, at, status, latency_ms, response, error"

func (s *Store) exportProviders(ctx context.Context, after uuid.UUID, limit int) ([]transfer.Provider, error) {
	ps, versions, err := owners[storage.Provider, storage.ScriptVersion]{
		table: "providers", columns: providerColumns, partTable: "provider_versions", partColumns: versionColumns("provider_id"),
		scan: s.scanProvider, scanPart: scanVersion, id: func(p storage.Provider) string { return p.ID },
	}.export(ctx, s, after, limit)
	out := make([]transfer.Provider, len(ps))
	for i, p := range ps {
		out[i] = transfer.Provider{Provider: p, Versions: versions[i]}
	}
	return out, err
}

func (s *Store) exportFunctions(ctx context.Context, after uuid.UUID, limit int) ([]transfer.Function, error) {
	fs, versions, err := owners[storage.Function, storage.ScriptVersion]{
		table: "functions", columns: functionColumns, partTable: "function_versions", partColumns: versionColumns("function_id"),
		scan: scanFunction, scanPart: scanVersion, id: func(f storage.Function) string { return f.ID },
	}.export(ctx, s, after, limit)
	out := make([]transfer.Function, len(fs))
	for i, f := range fs {
		out[i] = transfer.Function{Function: f, Versions: versions[i]}
	}
	return out, err
}

func (s *Store) exportDeliveries(ctx context.Context, after uuid.UUID, limit int) ([]storage.DeliveryDetail, error) {
	ds, attempts, err := owners[storage.Delivery, storage.Attempt]{
		table: "deliveries", columns: deliveryColumns, partTable: "attempts", partColumns: attemptColumns,
		scan: s.scanDelivery, scanPart: scanAttempt, id: func(d storage.Delivery) string { return d.ID },
	}.export(ctx, s, after, limit)
	out := make([]storage.DeliveryDetail, len(ds))
	for i, d := range ds {
		out[i] = storage.DeliveryDetail{Delivery: d, Attempts: attempts[i]}
		if out[i].Attempts == nil {
			out[i].Attempts = []storage.Attempt{}
		}
	}
	return out, err
}

// exportMessages reads up to limit messages after `after` with their
// outcome, details and body: those up to the one whose body reaches
// transfer.MaxBatchBytes, found first from the bodies' sizes alone.
func (s *Store) exportMessages(ctx context.Context, after uuid.UUID, limit int) ([]transfer.Message, error) {
	type sized struct {
		id   uuid.UUID
		size int64
	}
	sizes, err := queryAll(ctx, s.db(), func(row pgx.Row) (sized, error) {
		var v sized
		return v, row.Scan(&v.id, &v.size)
	}, `SELECT messages.id, coalesce(octet_length(payloads.body), 0) FROM messages LEFT JOIN payloads ON payloads.message_id = messages.id
		WHERE messages.id > $1 ORDER BY messages.id LIMIT $2`, after, limit)
	if err != nil || len(sizes) == 0 {
		return nil, err
	}
	last, total := sizes[len(sizes)-1].id, int64(0)
	for _, v := range sizes {
		if total += v.size; total >= transfer.MaxBatchBytes {
			last = v.id
			break
		}
	}
	return queryAll(ctx, s.db(), func(row pgx.Row) (transfer.Message, error) {
		var m transfer.Message
		var logs, executions []byte
		var hasBody bool
		if err := scanFullMessage(row, &m.Message, &logs, &executions, &hasBody, &m.Payload); err != nil {
			return m, err
		}
		if hasBody && m.Payload == nil {
			m.Payload = []byte{}
		}
		if err := unmarshalJSON(logs, &m.Logs); err != nil {
			return m, fmt.Errorf("message %s logs: %w", m.ID, err)
		}
		if err := unmarshalJSON(executions, &m.Executions); err != nil {
			return m, fmt.Errorf("message %s executions: %w", m.ID, err)
		}
		return m, nil
	}, `SELECT `+messageFullColumns+`, d.logs, d.executions, p.message_id IS NOT NULL, p.body
		FROM messages LEFT JOIN message_details d ON d.message_id = messages.id LEFT JOIN payloads p ON p.message_id = messages.id
		WHERE messages.id > $1 AND messages.id <= $2 ORDER BY messages.id`, after, last)
}

// copyTable is the rows an import writes into one table.
type copyTable struct {
	name    string
	columns []string
	rows    [][]any
}

// columnList splits a list of columns (one of the *Columns constants).
func columnList(columns string) []string {
	out := strings.Split(columns, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

func (t *copyTable) add(row ...any) { t.rows = append(t.rows, storable(row)) }

// Import writes the records of b, with their parts, in one transaction
// (see transfer.Importer): a COPY per table, what a record refers to
// first.
func (s *Store) Import(ctx context.Context, b transfer.Batch) error {
	tables, err := s.importTables(&b)
	if err != nil {
		return fmt.Errorf("import %s: %w", b.Kind, err)
	}
	if s.closed.Load() {
		return storage.ErrClosed
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, t := range tables {
			if len(t.rows) == 0 {
				continue
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, pgx.CopyFromRows(t.rows)); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import %s: %w", b.Kind, s.mapErr(err))
	}
	return nil
}

// importTables encodes the records of b as the store's own writes do,
// secrets sealed with the store's key.
func (s *Store) importTables(b *transfer.Batch) ([]*copyTable, error) {
	table := func(name, columns string) *copyTable { return &copyTable{name: name, columns: columnList(columns)} }
	switch b.Kind {
	case transfer.Settings:
		t := table("settings", "name, value")
		for _, st := range b.Settings {
			v := st.Value
			if v == nil {
				v = []byte{}
			}
			t.add(st.Name, v)
		}
		return []*copyTable{t}, nil
	case transfer.EventTypes:
		t := table("event_types", eventTypeColumns)
		for _, et := range b.EventTypes {
			t.add(et.Type, et.Kind, et.Description, jsonArg(et.Example), jsonArg(et.Schema), nanos(et.CreatedAt), nanos(et.UpdatedAt))
		}
		return []*copyTable{t}, nil
	case transfer.Users:
		t := table("users", userColumns+", name_key")
		for _, u := range b.Users {
			id, err := importID(u.ID)
			if err != nil {
				return nil, err
			}
			t.add(id, u.Name, u.DisplayName, u.Role, u.Disabled, u.PasswordHash, nanos(u.CreatedAt), nanos(u.UpdatedAt), nanosPtr(u.LastLoginAt), nameKey(u.Name))
		}
		return []*copyTable{t}, nil
	case transfer.Tokens:
		t := table("tokens", tokenColumns)
		for _, tok := range b.Tokens {
			ids, err := importIDs(tok.ID, tok.UserID)
			if err != nil {
				return nil, err
			}
			t.add(ids[0], ids[1], tok.Name, tok.Prefix, tok.Hash, nanos(tok.CreatedAt), nanosPtr(tok.ExpiresAt), nanosPtr(tok.LastUsedAt))
		}
		return []*copyTable{t}, nil
	case transfer.Sessions:
		t := table("sessions", sessionColumns)
		for _, sess := range b.Sessions {
			user, err := importID(sess.UserID)
			if err != nil {
				return nil, err
			}
			t.add(sess.ID, user, sess.CSRF, nanos(sess.CreatedAt), nanos(sess.ExpiresAt))
		}
		return []*copyTable{t}, nil
	case transfer.Providers:
		return s.importProviders(b.Providers)
	case transfer.Functions:
		t, versions := table("functions", functionColumns), table("function_versions", versionColumns("function_id"))
		for _, f := range b.Functions {
			ids, err := importIDs(f.ID, f.ProviderID)
			if err != nil {
				return nil, err
			}
			t.add(ids[0], f.Name, f.Description, ids[1], f.URI, f.Active, f.Script, f.TimeoutMS, f.Version, nanos(f.CreatedAt), nanos(f.UpdatedAt))
			addVersions(versions, ids[0], f.Versions)
		}
		return []*copyTable{t, versions}, nil
	case transfer.Endpoints:
		t := table("endpoints", endpointColumns)
		for i := range b.Endpoints {
			e := &b.Endpoints[i]
			id, err := importID(e.ID)
			if err != nil {
				return nil, err
			}
			config, err := s.endpointConfig(e)
			if err != nil {
				return nil, fmt.Errorf("endpoint %s: %w", e.ID, err)
			}
			// endpointColumns: the id, name to method, the health, the
			// rest of the configuration, the times.
			row := append([]any{id}, config[:4]...)
			row = append(row, e.Enabled, e.DisabledReason, nanosPtr(e.FailingSince), e.ConsecutiveFailures)
			row = append(append(row, config[4:]...), nanos(e.CreatedAt), nanos(e.UpdatedAt))
			t.add(row...)
		}
		return []*copyTable{t}, nil
	case transfer.Events:
		t := table("events", eventColumns)
		for _, ev := range b.Events {
			id, err := importID(ev.ID)
			if err != nil {
				return nil, err
			}
			var data any // SQL NULL when the event has no data
			if len(ev.DataJSON) > 0 {
				data = ev.DataJSON
			}
			t.add(id, ev.Type, nanos(ev.Time), ev.Title, ev.SubTitle, ev.Message, ev.Logo, ev.Image, data, ev.Source)
		}
		return []*copyTable{t}, nil
	case transfer.Deliveries:
		return s.importDeliveries(b.Deliveries)
	case transfer.Messages:
		return importMessages(b.Messages)
	case transfer.Idempotency:
		t := table("event_idempotency", "key, body_hash, event_id, response, created_at, expires_at")
		for _, r := range b.Idempotency {
			event, err := importID(r.EventID)
			if err != nil {
				return nil, err
			}
			t.add([]byte(r.Key), r.BodyHash, event, []byte(r.Response), nanos(r.CreatedAt), nanos(r.ExpiresAt))
		}
		return []*copyTable{t}, nil
	case transfer.Seen:
		t := table("seen", "key, expires_at")
		for _, sk := range b.Seen {
			t.add([]byte(sk.Key), nanos(sk.ExpiresAt))
		}
		return []*copyTable{t}, nil
	case transfer.Audit:
		t := table("audit", auditColumns)
		for _, e := range b.Audit {
			id, err := importID(e.ID)
			if err != nil {
				return nil, err
			}
			t.add(id, nanos(e.Time), e.Actor, e.UserID, e.Action, e.Target, e.Detail, e.IP)
		}
		return []*copyTable{t}, nil
	}
	return nil, b.Kind.Check()
}

// importID parses the id of a record to import.
func importID(id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("%w: id %q is not a uuid", storage.ErrInvalid, id)
	}
	return u, nil
}

// importIDs parses a record's id and the ids it refers to.
func importIDs(ids ...string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, len(ids))
	for i, id := range ids {
		var err error
		if out[i], err = importID(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func addVersions(t *copyTable, owner uuid.UUID, vs []storage.ScriptVersion) {
	for _, v := range vs {
		t.add(owner, v.Version, v.Script, nanos(v.SavedAt))
	}
}

func (s *Store) importProviders(ps []transfer.Provider) ([]*copyTable, error) {
	t := &copyTable{name: "providers", columns: columnList(providerColumns)}
	versions := &copyTable{name: "provider_versions", columns: columnList(versionColumns("provider_id"))}
	for i := range ps {
		p := &ps[i]
		id, err := importID(p.ID)
		if err != nil {
			return nil, err
		}
		sealed, err := s.sealSecrets(p.ID, p.Secrets)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.ID, err)
		}
		properties, err := json.Marshal(p.Properties)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.ID, err)
		}
		t.add(id, p.Name, p.Description, p.Sequence, p.Active, p.MatchScript, json.RawMessage(properties), sealed,
			p.MatchTimeoutMS, p.Version, nanos(p.CreatedAt), nanos(p.UpdatedAt), p.HandshakeScript, sourcesArg(p.AllowedSources))
		addVersions(versions, id, p.Versions)
	}
	return []*copyTable{t, versions}, nil
}

func (s *Store) importDeliveries(ds []storage.DeliveryDetail) ([]*copyTable, error) {
	t := &copyTable{name: "deliveries", columns: deliveryColumnNames}
	attempts := &copyTable{name: "attempts", columns: columnList(attemptColumns)}
	for i := range ds {
		d := &ds[i]
		ids, err := importIDs(d.ID, d.EventID)
		if err != nil {
			return nil, err
		}
		var endpoint *uuid.UUID
		if d.EndpointID != "" {
			u, err := importID(d.EndpointID)
			if err != nil {
				return nil, err
			}
			endpoint = &u
		}
		callback, sealed, err := s.sealCallback(d.ID, d.Callback)
		if err != nil {
			return nil, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
		t.add(ids[0], ids[1], d.EventType, endpoint, d.Lane, callback, sealed, d.Status, d.AttemptCount, d.Base,
			nanosPtr(d.NextAt), d.LastStatus, d.LastError, nanos(d.CreatedAt), nanos(d.UpdatedAt))
		for _, a := range d.Attempts {
			attempts.add(ids[0], a.N, nanos(a.At), a.Status, a.LatencyMS, []byte(a.Response), a.Error)
		}
	}
	return []*copyTable{t, attempts}, nil
}

// importMessages writes each message's row as AppendMessage and
// CompleteMessage together would, its body, and its details once it has
// an outcome.
func importMessages(ms []transfer.Message) ([]*copyTable, error) {
	t := &copyTable{name: "messages", columns: columnList(messageFullColumns)}
	bodies := &copyTable{name: "payloads", columns: columnList("message_id, body")}
	details := &copyTable{name: "message_details", columns: columnList("message_id, logs, executions")}
	for i := range ms {
		m := &ms[i]
		id, err := importID(m.ID)
		if err != nil {
			return nil, err
		}
		headers, err := jsonOrNull(m.Headers, len(m.Headers) == 0)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", m.ID, err)
		}
		query, err := jsonOrNull(m.Query, len(m.Query) == 0)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", m.ID, err)
		}
		t.add(id, nanos(m.ReceivedAt), m.Method, m.URI, m.RemoteAddr, m.RemoteHost, m.ContentType, m.Size, m.ResubmitOf,
			m.Status, m.ProviderID, m.ProviderName, m.ProviderVersion, m.Summary, nanosPtr(m.CompletedAt), m.DurationMS, headers, query)
		if m.Payload != nil {
			bodies.add(id, m.Payload)
		}
		if m.Status == storage.StatusPending {
			continue
		}
		logs, err := jsonOrNull(m.Logs, len(m.Logs) == 0)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", m.ID, err)
		}
		executions, err := jsonOrNull(m.Executions, len(m.Executions) == 0)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", m.ID, err)
		}
		details.add(id, logs, executions)
	}
	return []*copyTable{t, bodies, details}, nil
}
