package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTest(t) })
}

func TestNode(t *testing.T) {
	storagetest.RunNode(t, func(t *testing.T) storagetest.Node { return openTest(t) })
}

// Each test of the cluster's suite has a schema of its own, where every
// node it opens is a store of its own, as each serve process has.
func TestCluster(t *testing.T) {
	storagetest.RunCluster(t, func(t *testing.T) func() storagetest.Node {
		acquireStores(t, clusterStores)
		_, opt := freshSchema(t)
		return func() storagetest.Node { return openIn(t, opt, 7) }
	})
}

// The idempotency keys, each test in a schema of its own with two
// stores, as two nodes, so that its race runs across them.
func TestIdempotency(t *testing.T) {
	storagetest.RunIdempotency(t, func(t *testing.T) func() storagetest.Idempotent {
		acquireStores(t, 2)
		_, opt := freshSchema(t)
		var nodes []*Store
		t.Cleanup(func() {
			for _, s := range nodes {
				s.Close()
			}
		})
		return func() storagetest.Idempotent {
			s := openIn(t, opt, 7)
			nodes = append(nodes, s)
			return s
		}
	})
}

// The shared sign-in limits, each test in a schema of its own with two
// stores at most, as two nodes.
func TestLogins(t *testing.T) {
	storagetest.RunLogins(t, func(t *testing.T) func() storage.LoginLimits {
		acquireStores(t, 2)
		_, opt := freshSchema(t)
		return func() storage.LoginLimits {
			s := openIn(t, opt, 7)
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	schema, opt := freshSchema(t)
	s := openIn(t, opt, 7)
	ctx := context.Background()
	p, err := s.CreateProvider(ctx, storage.Provider{Name: "GitHub", Secrets: map[string]string{"secret": "plain-secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	m := storagetest.NewMessage(t, time.Now(), "git/push")
	if err := s.AppendMessage(ctx, m, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, storage.User{Name: "alice", Role: storage.RoleAdmin, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"})
	if err != nil {
		t.Fatal(err)
	}
	hash := []byte("0123456789abcdef0123456789abcdef")
	tok, err := s.CreateToken(ctx, storage.APIToken{UserID: u.ID, Name: "ci", Hash: hash})
	if err != nil {
		t.Fatal(err)
	}
	sess := storage.Session{ID: storagetest.NewSessionID(), UserID: u.ID, CSRF: "csrf-value", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if pgtest.ContainsPlain(pgtest.Dump(t, schema), "plain-secret-value") {
		t.Fatal("secret stored in plain text")
	}

	s = openIn(t, opt, 7)
	defer s.Close()
	got, err := s.GetProvider(ctx, p.ID)
	if err != nil || got.Secrets["secret"] != "plain-secret-value" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	pending, err := s.PendingMessages(ctx, "", 10)
	if err != nil || len(pending) != 1 || pending[0].ID != m.ID || pending[0].Headers["x-test"] != "1" {
		t.Fatalf("pending after reopen: %v %v", pending, err)
	}
	gu, err := s.GetUserByName(ctx, "ALICE")
	if err != nil || gu.ID != u.ID || gu.PasswordHash != u.PasswordHash {
		t.Fatalf("user after reopen: %+v %v", gu, err)
	}
	gt, err := s.TokenByHash(ctx, hash)
	if err != nil || gt.ID != tok.ID || string(gt.Hash) != string(hash) {
		t.Fatalf("token after reopen: %+v %v", gt, err)
	}
	gs, err := s.GetSession(ctx, sess.ID)
	if err != nil || gs.UserID != u.ID || gs.CSRF != "csrf-value" {
		t.Fatalf("session after reopen: %+v %v", gs, err)
	}
}

func TestSecretsSealedAtRest(t *testing.T) {
	schema, opt := freshSchema(t)
	s := openIn(t, opt, 7)
	ctx := context.Background()
	secrets := []string{"endpoint-password-plain", "endpoint-token-plain", "whsec_signing-plain", "whsec_previous-plain",
		"callback-password-plain", "callback-token-plain", "callback-header-plain", "callback-cookie-plain",
		"header-token-plain", "custom-key-plain", "cookie-value-plain", "provider-secret-plain",
		"proxy-pass-plain", "client-key-plain", "client-secret-plain"}
	p, err := s.CreateProvider(ctx, storage.Provider{Name: "GitHub", Secrets: map[string]string{"secret": secrets[11]}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.CreateEndpoint(ctx, storage.Endpoint{
		Name: "CI", URL: "https://ci.example.com",
		Auth: storage.Auth{Type: "basic", Username: "bot", Password: secrets[0], Token: secrets[1],
			ClientSecret: secrets[len(secrets)-1]},
		SigningSecret:   secrets[2],
		PreviousSecrets: []storage.OldSecret{{Secret: secrets[3], Expires: time.Now().Add(time.Hour)}},
		Proxy:           "http://u@proxy.example.com", ProxyPassword: secrets[len(secrets)-3],
		TLS:           storage.TLS{ClientCertPEM: "cert", ClientKeyPEM: secrets[len(secrets)-2]},
		Headers:       map[string]string{"Authorization": "Bearer " + secrets[8], "X-Custom": secrets[9], "X-Static": "visible"},
		SecretHeaders: []string{"X-Custom"}, // Authorization is sealed by its name
		Cookies:       map[string]string{"sid": secrets[10]},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Rewrites keep the secrets sealed too.
	if _, err := s.SetEndpointHealth(ctx, e.ID, storage.EndpointHealth{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	d := storage.Delivery{
		ID: storagetest.NewID(t, now), Lane: "callback:x.example.com", CreatedAt: now,
		Callback: &storage.Callback{URL: "https://x.example.com", Auth: storage.Auth{Type: "basic", Password: secrets[4], Token: secrets[5]},
			Headers: map[string]string{"X-Auth-Token": secrets[6], "X-Trace": "t"}, Cookies: map[string]string{"sid": secrets[7]}},
	}
	if err := s.AppendEvent(ctx, encoded(t, storage.Event{ID: storagetest.NewID(t, now), Type: "t"}), []storage.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	next := now.Add(time.Minute)
	if _, err := s.RecordAttempt(ctx, d.ID, storage.Attempt{At: now}, storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &next}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dump := pgtest.Dump(t, schema)
	for _, secret := range secrets {
		if pgtest.ContainsPlain(dump, secret) {
			t.Errorf("secret %q stored in plain text", secret)
		}
	}
	if !strings.Contains(dump, "visible") || !strings.Contains(dump, "X-Trace") {
		t.Error("headers that are not secret should stay readable")
	}

	s = openIn(t, opt, 7)
	got, err := s.GetEndpoint(ctx, e.ID)
	if err != nil || got.Auth.Password != secrets[0] || got.Auth.Token != secrets[1] || got.SigningSecret != secrets[2] ||
		got.PreviousSecrets[0].Secret != secrets[3] ||
		got.ProxyPassword != secrets[len(secrets)-3] || got.TLS.ClientKeyPEM != secrets[len(secrets)-2] || got.Auth.ClientSecret != secrets[len(secrets)-1] || got.Headers["Authorization"] != "Bearer "+secrets[8] || got.Headers["X-Custom"] != secrets[9] ||
		got.Headers["X-Static"] != "visible" || got.Cookies["sid"] != secrets[10] || len(got.SecretHeaders) != 1 {
		t.Fatalf("endpoint after reopen: %+v %v", got, err)
	}
	due, err := s.DueDeliveries(ctx, next, func(string) int { return 10 }, nil)
	if err != nil || len(due) != 1 || due[0].Callback.Auth.Password != secrets[4] || due[0].Callback.Auth.Token != secrets[5] ||
		due[0].Callback.Headers["X-Auth-Token"] != secrets[6] || due[0].Callback.Headers["X-Trace"] != "t" || due[0].Callback.Cookies["sid"] != secrets[7] {
		t.Fatalf("due callback after reopen: %+v %v", due, err)
	}
	s.Close()

	// Under another key nothing opens.
	s = openIn(t, opt, 8)
	defer s.Close()
	if _, err := s.GetProvider(ctx, p.ID); err == nil {
		t.Error("provider secrets opened with the wrong key")
	}
	if _, err := s.ListProviders(ctx); err == nil {
		t.Error("provider secrets listed with the wrong key")
	}
	if _, err := s.GetEndpoint(ctx, e.ID); err == nil {
		t.Error("endpoint secrets opened with the wrong key")
	}
	if _, err := s.GetDelivery(ctx, d.ID); err == nil {
		t.Error("callback secrets opened with the wrong key")
	}
}

func TestClosedStoreRefuses(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	s.Close()
	m := storagetest.NewMessage(t, time.Now(), "u")
	for name, err := range map[string]error{
		"append":   s.AppendMessage(ctx, m, nil),
		"complete": s.CompleteMessage(ctx, m.ID, storage.Outcome{Status: storage.StatusSuccess}),
		"provider": func() error { _, err := s.CreateProvider(ctx, storage.Provider{Name: "x"}); return err }(),
		"setting":  s.PutSetting(ctx, "a", nil),
		"read":     func() error { _, err := s.ListProviders(ctx); return err }(),
		"event":    s.AppendEvent(ctx, encoded(t, storage.Event{ID: storagetest.NewID(t, time.Now())}), nil),
	} {
		if !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after close: want ErrClosed, got %v", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// Nodes that start together migrate one at a time: all succeed, and the
// schema is migrated once.
func TestConcurrentMigrations(t *testing.T) {
	schema, opt := freshSchema(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range cap(errs) {
		wg.Go(func() { errs <- Migrate(ctx, testURL(), opt) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var versions []int
	rows, err := conn.Query(ctx, `SELECT version FROM `+pgx.Identifier{schema, "schema_version"}.Sanitize()+` ORDER BY version`)
	if err == nil {
		versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	}
	if err != nil || len(versions) != SchemaVersion() || versions[len(versions)-1] != SchemaVersion() {
		t.Fatalf("schema versions after concurrent migrations: %v %v (want 1..%d)", versions, err, SchemaVersion())
	}
	// Opening the migrated schema migrates nothing more.
	s := openIn(t, opt, 7)
	s.Close()
}

func TestSchemaNewerThanBinaryRefused(t *testing.T) {
	schema, opt := freshSchema(t)
	ctx := context.Background()
	if err := Migrate(ctx, testURL(), opt); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "schema_version"}.Sanitize()+` (version, name) VALUES ($1, 'from_the_future.sql')`,
		SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, testURL(), testSealer(t, 7), opt)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("open of a newer schema: want ErrSchemaTooNew, got %v", err)
	}
	if !strings.Contains(err.Error(), "version") {
		t.Errorf("the error should say which versions: %v", err)
	}
}

func TestMigrationsAreNumbered(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || SchemaVersion() != len(ms) {
		t.Fatalf("%d migrations, schema version %d", len(ms), SchemaVersion())
	}
}

func TestUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://nobody:hunter2@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", testSealer(t, 7))
	if err == nil {
		t.Fatal("opened a store on a closed port")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("the password reached the error: %v", err)
	}
	if _, err := Open(ctx, "postgres://u:hunter2@[::1", testSealer(t, 7)); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a malformed URL: %v", err)
	}
}

// encoded encodes ev's data as the engine does before AppendEvent.
func encoded(t *testing.T, ev storage.Event) storage.EncodedEvent {
	t.Helper()
	e, err := storage.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
