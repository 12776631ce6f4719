package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/storage"
)

// replayBatch bounds the deliveries one ReplayFailed transaction replays,
// so that a large replay never holds its locks for long.
const replayBatch = 1000

const eventColumns = `id, type, time, title, sub_title, message, logo, image, data, source`

// deliveryColumns, and the same qualified by the table's name for
// statements that join.
var (
	deliveryColumnNames = []string{"id", "event_id", "event_type", "endpoint_id", "lane", "callback", "callback_secrets", "status",
		"attempt_count", "base", "next_at", "last_status", "last_error", "created_at", "updated_at"}
	deliveryColumns          = strings.Join(deliveryColumnNames, ", ")
	qualifiedDeliveryColumns = "deliveries." + strings.Join(deliveryColumnNames, ", deliveries.")
)

// sealCallback parts a callback into its stored request (secrets left
// out) and its sealed secrets: auth, credential-like headers (the rule the
// API shows them by) and every cookie.
func (s *Store) sealCallback(id string, cb *storage.Callback) (json.RawMessage, []byte, error) {
	if cb == nil {
		return nil, nil, nil
	}
	plain := *cb
	var sec sealedSecrets
	plain.Headers, sec.Headers = splitSecret(cb.Headers, redact.CredentialHeader)
	sec.Cookies, plain.Cookies = cb.Cookies, nil
	sec.AuthPassword, sec.AuthToken, sec.ClientSecret = cb.Auth.Password, cb.Auth.Token, cb.Auth.ClientSecret
	raw, err := json.Marshal(plain)
	if err != nil {
		return nil, nil, err
	}
	sealed, err := s.seal(&sec, deliveryAAD(id))
	if err != nil {
		return nil, nil, err
	}
	return raw, sealed, nil
}

// scanDelivery reads deliveryColumns and opens a callback's secrets.
func (s *Store) scanDelivery(row pgx.Row) (storage.Delivery, error) {
	var (
		d                        storage.Delivery
		endpointID               *string
		callback, sealed         []byte
		nextAt, created, updated *int64
	)
	err := row.Scan(&d.ID, &d.EventID, &d.EventType, &endpointID, &d.Lane, &callback, &sealed, &d.Status,
		&d.AttemptCount, &d.Base, &nextAt, &d.LastStatus, &d.LastError, &created, &updated)
	if err != nil {
		return storage.Delivery{}, err
	}
	if endpointID != nil {
		d.EndpointID = *endpointID
	}
	d.NextAt, d.CreatedAt, d.UpdatedAt = timePtrOf(nextAt), timeOf(created), timeOf(updated)
	if callback == nil {
		return d, nil
	}
	d.Callback = &storage.Callback{}
	if err := json.Unmarshal(callback, d.Callback); err != nil {
		return storage.Delivery{}, fmt.Errorf("delivery %s callback: %w", d.ID, err)
	}
	sec, err := s.open(sealed, deliveryAAD(d.ID))
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("delivery %s secrets: %w", d.ID, err)
	}
	d.Callback.Auth.Password, d.Callback.Auth.Token, d.Callback.Auth.ClientSecret = sec.AuthPassword, sec.AuthToken, sec.ClientSecret
	d.Callback.Headers, d.Callback.Cookies = merge(d.Callback.Headers, sec.Headers), sec.Cookies
	return d, nil
}

// deliveryRows are the deliveries of one event as AppendEvent inserts
// them, one array per column.
type deliveryRows struct {
	ids                         []uuid.UUID
	endpoints                   []*uuid.UUID
	types, lanes, lastErrors    []string
	callbacks                   []json.RawMessage
	sealed                      [][]byte
	attempts, bases, lastStatus []int
	nextAt, created, updated    []*int64
}

func (r *deliveryRows) add(id uuid.UUID, endpoint *uuid.UUID, d *storage.Delivery, callback json.RawMessage, sealed []byte) {
	r.ids, r.endpoints = append(r.ids, id), append(r.endpoints, endpoint)
	r.types, r.lanes, r.lastErrors = append(r.types, d.EventType), append(r.lanes, d.Lane), append(r.lastErrors, d.LastError)
	r.callbacks, r.sealed = append(r.callbacks, callback), append(r.sealed, sealed)
	r.attempts, r.bases, r.lastStatus = append(r.attempts, d.AttemptCount), append(r.bases, d.Base), append(r.lastStatus, d.LastStatus)
	r.nextAt, r.created, r.updated = append(r.nextAt, nanosPtr(d.NextAt)), append(r.created, nanos(d.CreatedAt)), append(r.updated, nanos(d.UpdatedAt))
}

// AppendEvent records ev and its deliveries, each PENDING and due at its
// NextAt (its CreatedAt if unset), in one transaction.
func (s *Store) AppendEvent(ctx context.Context, ev storage.EncodedEvent, ds []storage.Delivery) error {
	b, err := s.eventBatch(ev, ds)
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	if err := s.sendBatch(ctx, b); err != nil {
		return fmt.Errorf("append event %s: %w", ev.ID, err)
	}
	return nil
}

// eventBatch returns the statements that insert ev and its deliveries.
func (s *Store) eventBatch(ev storage.EncodedEvent, ds []storage.Delivery) (*pgx.Batch, error) {
	eid, err := v7ID("event", ev.ID)
	if err != nil {
		return nil, err
	}
	var data any // SQL NULL when the event has no data
	if len(ev.DataJSON) > 0 {
		data = ev.DataJSON
	}
	now := s.now().UTC()
	var rows deliveryRows
	for _, d := range ds {
		id, err := v7ID("delivery", d.ID)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		if d, err = storage.PrepareDelivery(d, ev.ID, now); err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		var endpoint *uuid.UUID
		if d.EndpointID != "" {
			u, err := uuid.Parse(d.EndpointID)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w: delivery %s has endpoint id %q", ev.ID, storage.ErrInvalid, d.ID, d.EndpointID)
			}
			endpoint = &u
		}
		callback, sealed, err := s.sealCallback(d.ID, d.Callback)
		if err != nil {
			return nil, fmt.Errorf("event %s: delivery %s: %w", ev.ID, d.ID, err)
		}
		rows.add(id, endpoint, &d, callback, sealed)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO events (`+eventColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, storable([]any{
		eid, ev.Type, nanos(ev.Time), ev.Title, ev.SubTitle, ev.Message, ev.Logo, ev.Image, data, ev.Source})...)
	if len(ds) > 0 {
		b.Queue(`INSERT INTO deliveries (`+deliveryColumns+`)
			SELECT id, $2, event_type, endpoint_id, lane, callback, callback_secrets, 'PENDING', attempt_count, base, next_at, last_status, last_error, created_at, updated_at
			FROM unnest($1::uuid[], $3::text[], $4::uuid[], $5::text[], $6::json[], $7::bytea[], $8::integer[], $9::integer[], $10::bigint[],
				$11::integer[], $12::text[], $13::bigint[], $14::bigint[])
				AS r(id, event_type, endpoint_id, lane, callback, callback_secrets, attempt_count, base, next_at, last_status, last_error, created_at, updated_at)`,
			storable([]any{rows.ids, eid, rows.types, rows.endpoints, rows.lanes, rows.callbacks, rows.sealed, rows.attempts, rows.bases, rows.nextAt,
				rows.lastStatus, rows.lastErrors, rows.created, rows.updated})...)
	}
	return b, nil
}

// sendBatch runs b's statements in one round trip and one transaction.
func (s *Store) sendBatch(ctx context.Context, b *pgx.Batch) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return s.mapErr(s.pool.SendBatch(ctx, b).Close())
}

// GetEvent returns one event.
func (s *Store) GetEvent(ctx context.Context, id string) (storage.EncodedEvent, error) {
	ev, err := getByID(ctx, s, "events", eventColumns, id, scanEvent)
	if err != nil {
		return storage.EncodedEvent{}, fmt.Errorf("event %s: %w", id, err)
	}
	return ev, nil
}

// scanEvent reads an event's data as the JSON it was written as (a json
// column keeps the bytes) and decoded.
func scanEvent(row pgx.Row) (storage.EncodedEvent, error) {
	var ev storage.EncodedEvent
	var at *int64
	var data []byte
	if err := row.Scan(&ev.ID, &ev.Type, &at, &ev.Title, &ev.SubTitle, &ev.Message, &ev.Logo, &ev.Image, &data, &ev.Source); err != nil {
		return storage.EncodedEvent{}, err
	}
	ev.Time = timeOf(at)
	if len(data) > 0 {
		ev.DataJSON = data
		var err error
		if ev.Data, err = storage.DecodeData(data); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// GetDelivery returns a delivery with its attempts, oldest first.
func (s *Store) GetDelivery(ctx context.Context, id string) (storage.DeliveryDetail, error) {
	u, err := parseID(id)
	if err != nil {
		return storage.DeliveryDetail{}, fmt.Errorf("delivery %w", err)
	}
	var det storage.DeliveryDetail
	b := &pgx.Batch{}
	b.Queue(`SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, u).QueryRow(func(row pgx.Row) (err error) {
		det.Delivery, err = s.scanDelivery(row)
		return err
	})
	b.Queue(`SELECT n, at, status, latency_ms, response, error FROM attempts WHERE delivery_id = $1 ORDER BY n`, u).Query(func(rows pgx.Rows) (err error) {
		det.Attempts, err = collect(rows, scanAttempt)
		return err
	})
	if err := s.sendBatch(ctx, b); err != nil {
		return storage.DeliveryDetail{}, fmt.Errorf("delivery %s: %w", id, err)
	}
	return det, nil
}

func scanAttempt(row pgx.Row) (storage.Attempt, error) {
	var a storage.Attempt
	var at *int64
	var response []byte
	err := row.Scan(&a.N, &at, &a.Status, &a.LatencyMS, &response, &a.Error)
	a.At, a.Response = timeOf(at), string(response)
	return a, err
}

// ListDeliveries pages newest first, like ListMessages.
func (s *Store) ListDeliveries(ctx context.Context, f storage.DeliveryFilter) ([]storage.Delivery, string, error) {
	var filters []filter
	for _, ref := range []struct{ column, id string }{{"endpoint_id", f.EndpointID}, {"event_id", f.EventID}} {
		if ref.id == "" {
			continue
		}
		u, err := uuid.Parse(ref.id)
		if err != nil {
			return []storage.Delivery{}, "", nil // no delivery refers to it
		}
		filters = append(filters, filter{ref.column + " = ?", u})
	}
	if f.Status != "" {
		filters = append(filters, filter{"status = ?", f.Status})
	}
	p := listPage{"deliveries", deliveryColumns, f.Since, f.Until, f.Cursor, f.Limit, filters}
	items, next, err := readPage(ctx, s, p, s.scanDelivery, func(d storage.Delivery) string { return d.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	return items, next, nil
}

// dueLanesSQL finds the lanes that have a PENDING delivery due at $1, in
// byte order. It skips from lane to lane through the due index (a loose
// index scan: two index probes a lane, whatever each lane's backlog).
const dueLanesSQL = `
WITH RECURSIVE lanes(lane) AS (
	SELECT min(lane) FROM deliveries WHERE status = 'PENDING'
	UNION ALL
	SELECT (SELECT min(d.lane) FROM deliveries d WHERE d.status = 'PENDING' AND d.lane > lanes.lane)
	FROM lanes WHERE lanes.lane IS NOT NULL
)
SELECT lane FROM lanes
WHERE lane IS NOT NULL
	AND (SELECT min(d.next_at) FROM deliveries d WHERE d.status = 'PENDING' AND d.lane = lanes.lane) <= $1`

// dueIDsSQL reads, for each lane of $1, the ids of its earliest
// deliveries due at $3, at most $2's count of them, from the due index
// alone.
const dueIDsSQL = `
SELECT t.lane, d.id FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS t(lane, n, ord)
CROSS JOIN LATERAL (
	SELECT id, next_at FROM deliveries
	WHERE status = 'PENDING' AND lane = t.lane AND next_at <= $3
	ORDER BY next_at, id LIMIT t.n
) d
ORDER BY t.ord, d.next_at, d.id`

// laneTake is what DueDeliveries reads of one lane.
type laneTake struct {
	lane  string
	n     int         // how many to return
	limit int         // how many ids the next read asks for
	ids   []uuid.UUID // the ids taken
}

// DueDeliveries returns the PENDING deliveries due at now, lane by lane in
// byte order, as many of each lane's earliest as take says. It reads in
// three statements: the lanes with something due (take is asked of each),
// the ids of each lane's earliest due deliveries (skip is asked of each
// until the lane has its count; a lane left short by skipped ones while
// its read was full is read again, twice as far), then the deliveries
// taken, those still PENDING and due.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, take func(lane string) int, skip func(id string) bool) ([]storage.Delivery, error) {
	at := nanos(now)
	lanes, err := queryAll(ctx, s.db(), scanValue[string], dueLanesSQL, at)
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", s.mapErr(err))
	}
	var todo []*laneTake
	for _, lane := range lanes {
		if n := take(lane); n > 0 {
			todo = append(todo, &laneTake{lane: lane, n: n, limit: n})
		}
	}
	taken := todo
	for len(todo) > 0 {
		if todo, err = s.dueIDs(ctx, at, todo, skip); err != nil {
			return nil, fmt.Errorf("due deliveries: %w", err)
		}
	}
	var ids []uuid.UUID
	for _, t := range taken {
		ids = append(ids, t.ids...)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := queryAll(ctx, s.db(), s.scanDelivery, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE id = ANY($1) AND status = 'PENDING' AND next_at <= $2`, ids, at)
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", s.mapErr(err))
	}
	byID := make(map[string]storage.Delivery, len(found))
	for _, d := range found {
		byID[d.ID] = d
	}
	out := make([]storage.Delivery, 0, len(found))
	for _, id := range ids {
		if d, ok := byID[id.String()]; ok { // recorded meanwhile otherwise
			out = append(out, d)
		}
	}
	return out, nil
}

// dueIDs reads the due ids of each lane of todo, up to its limit, and
// takes those skip does not pass over. It returns the lanes to read
// again: those that took fewer than they want while their read was full,
// with a larger limit.
func (s *Store) dueIDs(ctx context.Context, at *int64, todo []*laneTake, skip func(id string) bool) ([]*laneTake, error) {
	lanes, limits := make([]string, len(todo)), make([]int, len(todo))
	byLane := make(map[string]*laneTake, len(todo))
	for i, t := range todo {
		lanes[i], limits[i] = t.lane, t.limit
		byLane[t.lane] = t
		t.ids = t.ids[:0]
	}
	rows, err := s.db().Query(ctx, dueIDsSQL, lanes, limits, at)
	if err != nil {
		return nil, s.mapErr(err)
	}
	read := make(map[string]int, len(todo))
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var lane string
		var id uuid.UUID
		if err := row.Scan(&lane, &id); err != nil {
			return struct{}{}, err
		}
		read[lane]++
		if t := byLane[lane]; len(t.ids) < t.n && (skip == nil || !skip(id.String())) {
			t.ids = append(t.ids, id)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return nil, s.mapErr(err)
	}
	var again []*laneTake
	for _, t := range todo {
		if len(t.ids) < t.n && read[t.lane] == t.limit {
			t.limit *= 2
			again = append(again, t)
		}
	}
	return again, nil
}

// excerpt cuts s to at most n bytes without splitting a UTF-8 sequence.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// recordAttemptSQL appends an attempt to a PENDING delivery and moves the
// delivery to its new state, in one statement: the delivery's row is
// locked first, so concurrent attempts number one after the other. It
// releases the delivery's claim.
var recordAttemptSQL = `
WITH d AS (
	SELECT id, attempt_count + 1 AS n FROM deliveries WHERE id = $1 AND status = 'PENDING' FOR UPDATE
), a AS (
	INSERT INTO attempts (delivery_id, n, at, status, latency_ms, response, error)
	SELECT id, n, $2, $3, $4, $5, $6 FROM d
)
UPDATE deliveries SET attempt_count = d.n, last_status = $3, last_error = $6, updated_at = $2, status = $7, next_at = $8, claimed_by = NULL
FROM d WHERE deliveries.id = d.id
RETURNING ` + qualifiedDeliveryColumns

// RecordAttempt appends an attempt and moves the delivery to u's state.
func (s *Store) RecordAttempt(ctx context.Context, id string, a storage.Attempt, u storage.DeliveryUpdate) (storage.Delivery, error) {
	did, err := parseID(id)
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("record attempt: delivery %w", err)
	}
	var next *int64
	switch u.Status {
	case storage.DeliveryPending:
		if u.NextAt == nil {
			return storage.Delivery{}, fmt.Errorf("record attempt %s: %w: PENDING without a next attempt time", id, storage.ErrInvalid)
		}
		next = nanos(*u.NextAt)
	case storage.DeliverySuccess, storage.DeliveryFailed:
	default:
		return storage.Delivery{}, fmt.Errorf("record attempt %s: %w: status %q", id, storage.ErrInvalid, u.Status)
	}
	response := []byte(excerpt(a.Response, storage.MaxResponseExcerpt))
	d, err := s.scanDelivery(s.db().QueryRow(ctx, recordAttemptSQL, did, nanos(a.At), a.Status, a.LatencyMS, response, a.Error, u.Status, next))
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("record attempt %s: %w", id, s.notPending(ctx, did, s.mapErr(err)))
	}
	return d, nil
}

// notPending tells why a statement that changes a delivery found none to
// change (err is ErrNotFound): it does not exist, or its status does not
// allow the change (ErrConflict). Other errors pass unchanged.
func (s *Store) notPending(ctx context.Context, id uuid.UUID, err error) error {
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	var status string
	if err := s.db().QueryRow(ctx, `SELECT status FROM deliveries WHERE id = $1`, id).Scan(&status); err != nil {
		return s.mapErr(err)
	}
	return fmt.Errorf("%w: delivery is %s", storage.ErrConflict, status)
}

// replaySet is the SET list of a replay: PENDING, due at $2, with a fresh
// retry budget, claimed by no node.
const replaySet = `status = 'PENDING', base = attempt_count, next_at = $2, updated_at = $2, claimed_by = NULL`

// ReplayDelivery makes a delivery that is not PENDING due at now again.
func (s *Store) ReplayDelivery(ctx context.Context, id string, now time.Time) (storage.Delivery, error) {
	u, err := parseID(id)
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("replay delivery: delivery %w", err)
	}
	d, err := s.scanDelivery(s.db().QueryRow(ctx, `UPDATE deliveries SET `+replaySet+`
		WHERE id = $1 AND status <> 'PENDING' RETURNING `+deliveryColumns, u, nanos(now)))
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("replay delivery %s: %w", id, s.notPending(ctx, u, s.mapErr(err)))
	}
	return d, nil
}

// ReplayFailed replays the FAILED deliveries of an endpoint created in
// [since, until), oldest first, in transactions of up to replayBatch:
// each is atomic, the whole is not, and on error the count says how many
// were replayed.
func (s *Store) ReplayFailed(ctx context.Context, endpointID string, since, until, now time.Time) (int, error) {
	ep, err := parseID(endpointID)
	if err != nil {
		return 0, fmt.Errorf("replay failed: endpoint %w", err)
	}
	lower, upper, _ := idRange(since, until, "")
	total := 0
	for {
		ids, err := queryAll(ctx, s.db(), scanValue[uuid.UUID], `UPDATE deliveries SET `+replaySet+` WHERE id IN (
				SELECT id FROM deliveries WHERE endpoint_id = $1 AND status = 'FAILED' AND id >= $3 AND id < $4 ORDER BY id LIMIT $5)
			RETURNING id`, ep, nanos(now), lower, upper, replayBatch)
		if err != nil {
			return total, fmt.Errorf("replay failed deliveries of %s: %w", endpointID, s.mapErr(err))
		}
		total += len(ids)
		if len(ids) < replayBatch {
			return total, nil
		}
		for _, id := range ids { // resume after the last replayed
			if string(id[:]) > string(lower[:]) {
				lower = id
			}
		}
	}
}

// PurgeDeliveries deletes, oldest first, up to limit deliveries created
// before cutoff (their attempts go with them), then, within what is left
// of limit, events published before cutoff, in one transaction.
// Deliveries go first so that a purge never leaves one whose event is
// gone.
func (s *Store) PurgeDeliveries(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	err := s.inTx(ctx, func(tx db) error {
		var err error
		if n, err = s.purgeOldest(ctx, tx, "deliveries", cutoff, limit); err != nil {
			return err
		}
		events, err := s.purgeOldest(ctx, tx, "events", cutoff, limit-n)
		n += events
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge deliveries: %w", err)
	}
	return n, nil
}

// CountPendingDeliveries counts PENDING deliveries up to limit: the LIMIT
// inside keeps the walk of the partial index deliveries_due bounded.
func (s *Store) CountPendingDeliveries(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.db().QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE status = 'PENDING' LIMIT $1) AS p`, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending deliveries: %w", s.mapErr(err))
	}
	return n, nil
}
