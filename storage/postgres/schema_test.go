package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// The queue reads, and the cluster's claims (FOR UPDATE SKIP LOCKED of
// PENDING work no live node holds), can run as index scans. With
// sequential scans disabled the planner still picks one when no index fits,
// so a plan without "Seq Scan" shows that an index serves the statement.
func TestQueriesHaveIndexes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := nanos(time.Now())
	id := uuid.Must(uuid.NewV7())
	signInArgs := []any{now, 6e9, [][]byte{[]byte("a"), []byte("n")}, []float64{10, 30}, []byte("n"), []byte("a")}
	claimDueArgs := []any{[]string{id.String()}, []int32{5}, []*uuid.UUID{&id}, []uuid.UUID{id}, now, "node"}
	for _, c := range []struct {
		name, sql, index string
		args             []any
	}{
		{"message claim", claimPendingSQL, "messages_pending", []any{id, 10, "node"}},
		{"delivery claim", claimDueSQL, "deliveries_due", claimDueArgs},
		{"deliveries in flight", claimDueSQL, "deliveries_claimed", claimDueArgs},
		{"pending messages", `SELECT id FROM messages WHERE status = 'PENDING' AND id > $1 ORDER BY id LIMIT 10`, "messages_pending", []any{id}},
		{"due lanes", dueLanesSQL, "deliveries_due", []any{now}},
		{"due ids", dueIDsSQL, "deliveries_due", []any{[]string{"l"}, []int{5}, now}},
		{"messages by status", `SELECT id FROM messages WHERE id >= $1 AND id < $2 AND status = $3 AND status <> 'PENDING' ORDER BY id DESC LIMIT 51`,
			"messages_status", []any{uuid.UUID{}, id, "FAILED"}},
		{"PENDING messages", `SELECT id FROM messages WHERE id >= $1 AND id < $2 AND status = 'PENDING' ORDER BY id DESC LIMIT 51`,
			"messages_pending", []any{uuid.UUID{}, id}},
		{"messages by provider", `SELECT id FROM messages WHERE id >= $1 AND id < $2 AND provider_id = $3 AND provider_id <> '' ORDER BY id DESC LIMIT 51`,
			"messages_provider", []any{uuid.UUID{}, id, "p"}},
		{"messages by uri", `SELECT id FROM messages WHERE id >= $1 AND id < $2 AND uri = $3 ORDER BY id DESC LIMIT 51`,
			"messages_uri", []any{uuid.UUID{}, id, "u"}},
		{"deliveries of an endpoint", `SELECT id FROM deliveries WHERE id >= $1 AND id < $2 AND endpoint_id = $3 ORDER BY id DESC LIMIT 51`,
			"deliveries_endpoint", []any{uuid.UUID{}, id, id}},
		{"expired keys", `SELECT key FROM seen WHERE expires_at < $1 ORDER BY expires_at LIMIT 10`, "seen_expiry", []any{now}},
		{"expired idempotency keys", `SELECT key FROM event_idempotency WHERE expires_at < $1 ORDER BY expires_at LIMIT 10`,
			"event_idempotency_expiry", []any{now}},
		{"sign-in buckets", loginFailuresSQL, "login_buckets_pkey", signInArgs},
		{"sign-in known address", loginFailuresSQL, "login_known_pkey", signInArgs},
		{"sign-in known addresses kept", recordLoginSuccessSQL, "login_known_pkey", []any{[]byte("n"), []byte("a"), now, 7}},
		{"full sign-in buckets", `SELECT key FROM login_buckets WHERE full_at < $1 ORDER BY full_at LIMIT 10`, "login_buckets_full", []any{now}},
	} {
		var plan []string
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `EXPLAIN `+c.sql, c.args...)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") || !strings.Contains(text, c.index) {
			t.Errorf("%s: want a scan of %s, got\n%s", c.name, c.index, text)
		}
	}
}

// Purges leave nothing behind of what they delete: bodies, details and
// attempts go with their messages and deliveries.
func TestPurgeLeavesNothing(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	for i := range 3 {
		m := storagetest.NewMessage(t, old.Add(time.Duration(i)*time.Second), "u")
		if err := s.AppendMessage(ctx, m, []byte("body")); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteMessage(ctx, m.ID, storage.Outcome{Status: storage.StatusSuccess, Logs: []storage.LogLine{{Text: "x"}}}); err != nil {
			t.Fatal(err)
		}
	}
	ep := storagetest.NewID(t, old)
	var ds []storage.Delivery
	for i := range 5 {
		at := old.Add(time.Duration(i) * time.Second)
		ds = append(ds, storage.Delivery{ID: storagetest.NewID(t, at), EndpointID: ep, Lane: ep, CreatedAt: at})
	}
	if err := s.AppendEvent(ctx, encoded(t, storage.Event{ID: storagetest.NewID(t, old)}), ds); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if _, err := s.RecordAttempt(ctx, d.ID, storage.Attempt{At: old, Response: "r"}, storage.DeliveryUpdate{Status: storage.DeliveryFailed}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeMessages(ctx, time.Now(), 100); err != nil || n != 3 {
		t.Fatalf("purged %d messages, %v", n, err)
	}
	total := 0
	for {
		n, err := s.PurgeDeliveries(ctx, time.Now(), 2)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 2 {
			break
		}
	}
	if total != 6 {
		t.Fatalf("purged %d records, want 6", total)
	}
	for _, table := range []string{"messages", "payloads", "message_details", "events", "deliveries", "attempts"} {
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s keeps %d rows after the purge (%v)", table, n, err)
		}
	}
}
