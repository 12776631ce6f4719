// Package transfertest fills a store with records of every kind, written
// through storage.Store as a running Switchyard writes them, and checks
// that another store answers the same reads: what the tests of
// transfer.Copy and of `switchyard copy-store` use.
package transfertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mathrand "math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/transfer"
)

// Secrets are the secret values Fill writes (provider secrets, endpoint
// and callback credentials): a test can look for them where they must not
// be.
var Secrets = []string{
	"gh-s3cret-plain", "p4ssw0rd-plain", "t0ken-plain", "whsec_current-plain", "whsec_old-plain",
	"hdr-s3cret-plain", "cookie-plain", "cb-bearer-plain", "cb-pass-plain",
	"client-s3cret-plain", "proxy-pass-plain", "tls-key-plain",
}

// Fixture is what Fill wrote, to read it back.
type Fixture struct {
	Providers, Functions, Messages, Endpoints, Events, Deliveries []string
	Users, Sessions, SeenKeys, Settings                           []string
	// IdempotencyKeys are keys of POST /events, each held for an event
	// of Events.
	IdempotencyKeys []string
	TokenHashes     [][]byte
	// UserName is a user's name, to look it up by.
	UserName string
}

// Fill writes into st two users (password hashes, a sign-in time), a
// token, two sessions (one expired), two providers (one with secrets and
// three versions of its script, reordered), two functions (one with two
// versions), n messages in every status with bodies of every kind (small,
// compressible, binary, empty), two DEDUPE keys, two endpoints (one with
// every secret, disabled by its health), an event with four deliveries
// (pending, delivered, failed after a retry, a callback replayed), two
// events published under idempotency keys, two settings, two declared
// event types (one with an example and a schema) and three audit entries.
func Fill(t testing.TB, st storage.Store, n int) Fixture {
	t.Helper()
	ctx := context.Background()
	var f Fixture
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()

	admin, err := st.CreateUser(ctx, storage.User{Name: "Ada", DisplayName: "Ada L.", Role: storage.RoleAdmin,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"})
	check(err)
	check(st.RecordLogin(ctx, admin.ID, now.Add(-time.Minute)))
	viewer, err := st.CreateUser(ctx, storage.User{Name: "bob", Role: storage.RoleViewer, Disabled: true, PasswordHash: "$argon2id$v=19$x"})
	check(err)
	f.Users, f.UserName = []string{admin.ID, viewer.ID}, admin.Name

	hash := sha256.Sum256([]byte("swy_token-of-ada"))
	expires := now.Add(30 * 24 * time.Hour)
	tok, err := st.CreateToken(ctx, storage.APIToken{UserID: admin.ID, Name: "ci", Prefix: "swy_toke", Hash: hash[:], ExpiresAt: &expires})
	check(err)
	check(st.TouchToken(ctx, tok.ID, now))
	f.TokenHashes = [][]byte{hash[:]}

	for i, exp := range []time.Time{now.Add(time.Hour), now.Add(-time.Hour)} {
		sum := sha256.Sum256([]byte(rand.Text()))
		id := hex.EncodeToString(sum[:])
		check(st.CreateSession(ctx, storage.Session{ID: id, UserID: admin.ID, CSRF: fmt.Sprintf("csrf-%d", i), ExpiresAt: exp}))
		f.Sessions = append(f.Sessions, id)
	}

	github, err := st.CreateProvider(ctx, storage.Provider{Name: "GitHub", Description: "pushes", Active: true,
		MatchScript:     "return HEADERS['x-github-event'] !== undefined",
		HandshakeScript: "if (QUERY_PARAMS.challenge) RESPONSE.body = QUERY_PARAMS.challenge", Properties: map[string]string{"org": "acme"},
		Secrets: map[string]string{"webhook_secret": "gh-s3cret-plain"}, MatchTimeoutMS: 100, AllowedSources: []string{"192.30.252.0/22", "2001:db8::/32"}})
	check(err)
	for _, script := range []string{"return true // v2", "return true // v3"} {
		github.MatchScript = script
		github, err = st.UpdateProvider(ctx, github)
		check(err)
	}
	stripe, err := st.CreateProvider(ctx, storage.Provider{Name: "Stripe", MatchScript: "return false"})
	check(err)
	_, err = st.ReorderProviders(ctx, []string{stripe.ID, github.ID})
	check(err)
	f.Providers = []string{github.ID, stripe.ID}

	deploy, err := st.CreateFunction(ctx, storage.Function{Name: "deploy", ProviderID: github.ID, URI: "repos/{repo}/push",
		Active: true, Script: "LOG.info('v1')", TimeoutMS: 2000})
	check(err)
	deploy.Script = "LOG.info('v2')"
	deploy, err = st.UpdateFunction(ctx, deploy)
	check(err)
	bill, err := st.CreateFunction(ctx, storage.Function{Name: "bill", ProviderID: stripe.ID, URI: "stripe", Script: "1"})
	check(err)
	f.Functions = []string{deploy.ID, bill.ID}

	f.Messages = fillMessages(t, st, n, now, github, deploy)

	for _, key := range []string{"delivery-123", "k/ü/2"} {
		first, err := st.FirstSeen(ctx, key, time.Hour)
		check(err)
		if !first {
			t.Fatalf("DEDUPE key %q seen before", key)
		}
	}
	f.SeenKeys = []string{"delivery-123", "k/ü/2"}

	full, err := st.CreateEndpoint(ctx, storage.Endpoint{
		Name: "CI", Description: "builds", URL: "https://ci.example.com/hook", Method: "POST",
		EndpointHealth: storage.EndpointHealth{Enabled: true},
		EventTypes:     []string{"build.*"},
		Filter:         map[string]any{"data.branch": map[string]any{"$in": []any{"main"}}, "data.n": map[string]any{"$gt": 1.5}},
		Headers:        map[string]string{"X-Env": "{{ .env }}", "X-Api-Key": "hdr-s3cret-plain"},
		SecretHeaders:  []string{"X-Api-Key"},
		Cookies:        map[string]string{"c": "cookie-plain"},
		Auth: storage.Auth{Type: "oauth2", TokenURL: "https://auth.example.com/token", ClientID: "bot",
			ClientSecret: "client-s3cret-plain", Scopes: []string{"hooks"}},
		Proxy: "http://squid@proxy.example.com:3128", ProxyPassword: "proxy-pass-plain",
		TLS:          storage.TLS{CAPEM: "ca", ClientCertPEM: "cert", ClientKeyPEM: "tls-key-plain", ServerName: "ci.internal"},
		BodyTemplate: "{{ json . }}", BodyTemplates: map[string]string{"zh": "{{ .title }}"}, MsgKey: "text", ExtraBody: map[string]any{"channel": "#ci", "n": 2.5},
		TimeoutMS: 5000, Retry: storage.RetryPolicy{MaxAttempts: 5, IntervalMS: 1000, Backoff: "exponential"},
		Verify: storage.Verify{Type: "status", Value: "200"}, Language: "en",
		Concurrency: 4, RateLimit: 2.5, AutoDisable: storage.AutoDisable{FailingForHours: 24, ConsecutiveFailures: 10},
		SigningSecret:   "whsec_current-plain",
		PreviousSecrets: []storage.OldSecret{{Secret: "whsec_old-plain", Expires: now.Add(time.Hour)}},
	})
	check(err)
	failing := now.Add(-2 * time.Hour)
	_, err = st.SetEndpointHealth(ctx, full.ID, storage.EndpointHealth{DisabledReason: "failing for 24h", FailingSince: &failing, ConsecutiveFailures: 3})
	check(err)
	plain, err := st.CreateEndpoint(ctx, storage.Endpoint{Name: "Chat", URL: "https://chat.example.com/", Method: "POST",
		EndpointHealth: storage.EndpointHealth{Enabled: true}, EventTypes: []string{"*"}})
	check(err)
	f.Endpoints = []string{full.ID, plain.ID}

	f.Events, f.Deliveries = fillOutbound(t, st, now, full.ID, plain.ID)
	for i, key := range []string{"billing:invoice-42", "k/ü/2"} {
		ev, err := storage.EncodeEvent(storage.Event{ID: newID(t, now.Add(time.Duration(i+1)*time.Millisecond)), Type: "invoice.paid",
			Time: now, Data: map[string]any{"id": 12345678901234567890.0}, Source: "api"})
		check(err)
		sum := sha256.Sum256([]byte(key))
		_, first, err := st.AppendEventOnce(ctx, storage.Idempotency{Key: key, BodyHash: sum[:], EventID: ev.ID,
			Response: []byte(`{"id":"` + ev.ID + `","deliveries":0}`), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, ev, nil)
		check(err)
		if !first {
			t.Fatalf("idempotency key %q held before", key)
		}
		f.Events, f.IdempotencyKeys = append(f.Events, ev.ID), append(f.IdempotencyKeys, key)
	}

	_, _, err = st.PutEventType(ctx, storage.EventType{Type: "alarm.host_lost", Kind: storage.KindAlarm, Description: "a host stopped answering",
		Example: json.RawMessage(`{"severity":"critical","n":12345678901234567890}`),
		Schema:  json.RawMessage(`{"type":"object","required":["severity"]}`)}, true)
	check(err)
	_, _, err = st.PutEventType(ctx, storage.EventType{Type: "cloud.resource.synced", Kind: storage.KindEvent}, true)
	check(err)

	check(st.PutSetting(ctx, "outbound_paused", []byte("true")))
	check(st.PutSetting(ctx, "empty", nil))
	f.Settings = []string{"outbound_paused", "empty"}

	for i, action := range []string{"provider.create", "user.login", "endpoint.disable"} {
		check(st.AppendAudit(ctx, storage.AuditEntry{ID: newID(t, now.Add(time.Duration(i)*time.Millisecond)),
			Time: now, Actor: "Ada", UserID: admin.ID, Action: action, Target: github.ID, Detail: "d", IP: "192.0.2.1"}))
	}
	return f
}

// newID returns a fresh UUIDv7 whose time is at's millisecond.
func newID(t testing.TB, at time.Time) string {
	u, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u.String()
}

// Body returns the i-th message's body: small JSON, a compressible body
// (stored compressed by bolt), random bytes (the same for the same i), or
// nothing.
func Body(i int) []byte {
	switch i % 4 {
	case 0:
		return []byte(fmt.Sprintf(`{"n": %d, "text": "<ü>"}`, i))
	case 1:
		return bytes.Repeat([]byte(`{"commit": "abcdef", "files": ["a.go", "b.go"]},`), 100)
	case 2:
		var seed [32]byte
		binary.BigEndian.PutUint64(seed[:], uint64(i))
		b := make([]byte, 1024)
		mathrand.NewChaCha8(seed).Read(b)
		return b
	}
	return []byte{}
}

// fillMessages appends n messages, completing three in four of them.
func fillMessages(t testing.TB, st storage.Store, n int, now time.Time, p storage.Provider, fn storage.Function) []string {
	ctx := context.Background()
	ids := make([]string, 0, n)
	for i := range n {
		at := now.Add(time.Duration(i-n) * time.Millisecond)
		m := storage.Message{
			ID: newID(t, at), ReceivedAt: at, Method: "POST", URI: "repos/acme/push",
			Headers: map[string]string{"content-type": "application/json", "x-github-event": "push"},
			Query:   url.Values{"a": {"1", "2"}}, RemoteAddr: "192.0.2.7", RemoteHost: "192.0.2.7", ContentType: "application/json",
		}
		if i == 1 {
			m.ResubmitOf = ids[0]
		}
		if err := st.AppendMessage(ctx, m, Body(i)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
		o := storage.Outcome{CompletedAt: at.Add(time.Millisecond), DurationMS: 1.25}
		switch i % 4 {
		case 0:
			continue // PENDING
		case 1:
			o.Status, o.ProviderID, o.ProviderName, o.ProviderVersion, o.Summary = storage.StatusSuccess, p.ID, p.Name, p.Version, "deployed"
			o.Logs = []storage.LogLine{{Time: at, Level: storage.LevelInfo, Text: "matched", Source: "provider:GitHub"}}
			o.Executions = []storage.Execution{{FunctionID: fn.ID, FunctionName: fn.Name, Version: fn.Version, Status: storage.StatusSuccess,
				StartedAt: at, DurationMS: 0.5, Logs: []storage.LogLine{{Time: at, Level: storage.LevelFine, Text: "v2 ran"}}}}
		case 2:
			o.Status, o.ProviderID, o.ProviderName, o.ProviderVersion = storage.StatusFailed, p.ID, p.Name, p.Version
			o.Executions = []storage.Execution{{FunctionID: fn.ID, FunctionName: fn.Name, Version: fn.Version, Status: storage.StatusFailed,
				Error: "TypeError: boom at line 3", StartedAt: at, DurationMS: 0.75}}
		case 3:
			o.Status, o.Summary = storage.StatusUnmatched, "no provider matched"
		}
		if err := st.CompleteMessage(ctx, m.ID, o); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// fillOutbound publishes an event to both endpoints and a callback, and
// records attempts of three of its deliveries.
func fillOutbound(t testing.TB, st storage.Store, now time.Time, full, plain string) (events, deliveries []string) {
	ctx := context.Background()
	ev, err := storage.EncodeEvent(storage.Event{ID: newID(t, now), Type: "build.done", Time: now, Title: "Build 7", SubTitle: "main",
		Message: "green", Logo: "https://example.com/l.png", Data: map[string]any{"n": 7.0, "nested": map[string]any{"a": []any{1.0, "<b>"}}},
		Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(endpoint, lane string) storage.Delivery {
		return storage.Delivery{ID: newID(t, now), EventType: ev.Type, EndpointID: endpoint, Lane: lane, CreatedAt: now, UpdatedAt: now}
	}
	ds := []storage.Delivery{mk(full, full), mk(plain, plain), mk(full, full), mk("", "callback:cb.example.com")}
	ds[3].Callback = &storage.Callback{URL: "https://cb.example.com/done", Method: "POST", TimeoutMS: 3000, Body: `{"ok":true}`,
		Headers: map[string]string{"Authorization": "Bearer cb-bearer-plain", "X-Plain": "1"},
		Cookies: map[string]string{"sid": "cookie-plain"},
		Auth:    storage.Auth{Type: "basic", Username: "cb", Password: "cb-pass-plain"}}
	if err := st.AppendEvent(ctx, ev, ds); err != nil {
		t.Fatal(err)
	}
	attempt := func(id string, status int, u storage.DeliveryUpdate) {
		t.Helper()
		a := storage.Attempt{At: now.Add(time.Second), Status: status, LatencyMS: 12.5, Response: "answer <ü>", Error: ""}
		if status >= 300 {
			a.Error = fmt.Sprintf("status %d", status)
		}
		if _, err := st.RecordAttempt(ctx, id, a, u); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(time.Minute)
	attempt(ds[1].ID, 200, storage.DeliveryUpdate{Status: storage.DeliverySuccess})
	attempt(ds[2].ID, 500, storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &later})
	attempt(ds[2].ID, 502, storage.DeliveryUpdate{Status: storage.DeliveryFailed})
	attempt(ds[3].ID, 404, storage.DeliveryUpdate{Status: storage.DeliveryFailed})
	if _, err := st.ReplayDelivery(ctx, ds[3].ID, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		deliveries = append(deliveries, d.ID)
	}
	return []string{ev.ID}, deliveries
}

// SameReads checks that got answers every read of f's records as want
// does, through storage.Store: lists, records, versions, bodies,
// secrets, indexes (by name, by token hash, the pending and due queues).
// It names what differs, never a value.
func SameReads(t testing.TB, want, got storage.Store, f Fixture) {
	t.Helper()
	ctx := context.Background()
	same := func(what string, read func(s storage.Store) (any, error)) {
		t.Helper()
		w, err := read(want)
		if err != nil {
			t.Fatalf("%s from the source: %v", what, err)
		}
		g, err := read(got)
		if err != nil {
			t.Fatalf("%s from the copy: %v", what, err)
		}
		if d := transfer.Diff(w, g); d != "" {
			t.Errorf("%s: %s differs", what, d)
		}
	}
	same("providers", func(s storage.Store) (any, error) { return s.ListProviders(ctx) })
	same("functions", func(s storage.Store) (any, error) { return s.ListFunctions(ctx) })
	for _, id := range append(append([]string{}, f.Providers...), f.Functions...) {
		same("versions of "+id, func(s storage.Store) (any, error) { return s.ScriptVersions(ctx, id) })
	}
	for _, id := range f.Messages {
		same("message "+id, func(s storage.Store) (any, error) { return s.GetMessage(ctx, id) })
		same("body of "+id, func(s storage.Store) (any, error) { return s.GetPayload(ctx, id) })
	}
	for _, status := range []string{"", storage.StatusPending, storage.StatusSuccess, storage.StatusFailed} {
		same("messages "+status, func(s storage.Store) (any, error) {
			items, _, err := s.ListMessages(ctx, storage.MessageFilter{Status: status, Limit: 1000})
			return items, err
		})
	}
	same("pending messages", func(s storage.Store) (any, error) { return s.PendingMessages(ctx, "", 1000) })
	same("endpoints", func(s storage.Store) (any, error) { return s.ListEndpoints(ctx) })
	same("event types", func(s storage.Store) (any, error) { return s.ListEventTypes(ctx) })
	for _, id := range f.Events {
		same("event "+id, func(s storage.Store) (any, error) { return s.GetEvent(ctx, id) })
	}
	for _, id := range f.Deliveries {
		same("delivery "+id, func(s storage.Store) (any, error) { return s.GetDelivery(ctx, id) })
	}
	same("deliveries", func(s storage.Store) (any, error) {
		items, _, err := s.ListDeliveries(ctx, storage.DeliveryFilter{Limit: 1000})
		return items, err
	})
	for _, ep := range f.Endpoints {
		same("deliveries of "+ep, func(s storage.Store) (any, error) {
			items, _, err := s.ListDeliveries(ctx, storage.DeliveryFilter{EndpointID: ep, Limit: 1000})
			return items, err
		})
	}
	same("due deliveries", func(s storage.Store) (any, error) {
		return s.DueDeliveries(ctx, time.Now().Add(time.Hour), func(string) int { return 100 }, nil)
	})
	same("users", func(s storage.Store) (any, error) { return s.ListUsers(ctx) })
	same("user by name", func(s storage.Store) (any, error) { return s.GetUserByName(ctx, strings.ToUpper(f.UserName)) })
	for _, id := range f.Users {
		same("tokens of "+id, func(s storage.Store) (any, error) { return s.ListTokens(ctx, id) })
		same("sessions of "+id, func(s storage.Store) (any, error) { return s.ListSessions(ctx, id) })
	}
	for _, h := range f.TokenHashes {
		same("token by hash", func(s storage.Store) (any, error) { return s.TokenByHash(ctx, h) })
	}
	same("session", func(s storage.Store) (any, error) { return s.GetSession(ctx, f.Sessions[0]) })
	for _, name := range f.Settings {
		same("setting "+name, func(s storage.Store) (any, error) { return s.Setting(ctx, name) })
	}
	same("audit", func(s storage.Store) (any, error) {
		items, _, err := s.ListAudit(ctx, storage.AuditFilter{Limit: 1000})
		return items, err
	})
	for _, key := range f.SeenKeys {
		same("DEDUPE key", func(s storage.Store) (any, error) { return s.FirstSeen(ctx, key, time.Hour) })
	}
	// A publisher's retry after the move is a replay: the copy holds the
	// key, and answers the first event (writing nothing).
	for _, key := range f.IdempotencyKeys {
		same("idempotency key", func(s storage.Store) (any, error) {
			retry := must(storage.EncodeEvent(storage.Event{ID: newID(t, time.Now()), Type: "invoice.paid", Time: time.Now(), Source: "api"}))
			held, first, err := s.AppendEventOnce(ctx, storage.Idempotency{Key: key, BodyHash: []byte("retry"), EventID: retry.ID,
				Response: []byte(`{}`), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}, retry, nil)
			if first {
				return nil, fmt.Errorf("idempotency key %q is not held", key)
			}
			return held, err
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// SamePurges runs every purge on both stores, as retention would an hour
// from now, and checks they purge as many records: the time indexes of
// the copy (sessions, DEDUPE and idempotency keys) hold what the source's
// do. It empties
// both stores of messages, deliveries, events and audit entries.
func SamePurges(t testing.TB, want, got storage.Store) {
	t.Helper()
	ctx := context.Background()
	later := time.Now().Add(2 * time.Hour)
	for _, p := range []struct {
		what  string
		purge func(s storage.Store) (int, error)
	}{
		{"sessions", func(s storage.Store) (int, error) { return s.PurgeSessions(ctx, time.Now(), 1000) }},
		{"DEDUPE keys", func(s storage.Store) (int, error) { return s.PurgeSeen(ctx, later, 1000) }},
		{"idempotency keys", func(s storage.Store) (int, error) { return s.PurgeIdempotency(ctx, later, 1000) }},
		{"messages", func(s storage.Store) (int, error) { return s.PurgeMessages(ctx, later, 100000) }},
		{"deliveries", func(s storage.Store) (int, error) { return s.PurgeDeliveries(ctx, later, 100000) }},
		{"audit", func(s storage.Store) (int, error) { return s.PurgeAudit(ctx, later, 1000) }},
	} {
		w, err := p.purge(want)
		if err != nil {
			t.Fatalf("purge %s of the source: %v", p.what, err)
		}
		g, err := p.purge(got)
		if err != nil {
			t.Fatalf("purge %s of the copy: %v", p.what, err)
		}
		if w != g || w == 0 {
			t.Errorf("purge %s: %d from the source, %d from the copy", p.what, w, g)
		}
	}
	for _, s := range []storage.Store{want, got} {
		if d, err := s.DueDeliveries(ctx, later, func(string) int { return 100 }, nil); err != nil || len(d) != 0 {
			t.Errorf("due deliveries after the purge: %d, %v", len(d), err)
		}
		if m, err := s.PendingMessages(ctx, "", 100); err != nil || len(m) != 0 {
			t.Errorf("pending messages after the purge: %d, %v", len(m), err)
		}
	}
}
