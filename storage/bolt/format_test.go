package bolt

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

func TestRecordBody(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		raw     string
		version byte
		body    string
	}{
		{`{"id":"x"}`, 0, `{"id":"x"}`},
		{"\x01{\"id\":\"x\"}", 1, `{"id":"x"}`},
		{"\x01", 1, ""},
	} {
		v, body, err := recordBody([]byte(c.raw))
		if err != nil || v != c.version || string(body) != c.body {
			t.Errorf("recordBody(%q) = %d, %q, %v; want %d, %q", c.raw, v, body, err, c.version, c.body)
		}
	}
	for _, raw := range []string{"", "\x00{}", "\x02{}", "\x7a{}", `["x"]`, ` {}`} {
		if _, _, err := recordBody([]byte(raw)); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("recordBody(%q): %v, want ErrUnknownFormat", raw, err)
		}
	}
}

// A record of a version this build does not know is an error wherever it
// is read, never a record decoded as if it were another version.
func TestUnknownFormatIsAnError(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		bucket []byte
		key    string
		read   func(s *Store) error
	}{
		{bucketProviders, legacyProvider, func(s *Store) error { _, err := s.GetProvider(ctx, legacyProvider); return err }},
		{bucketProviders, legacyProvider, func(s *Store) error { _, err := s.ListProviders(ctx); return err }},
		{bucketFunctions, legacyFunction, func(s *Store) error { _, err := s.GetFunction(ctx, legacyFunction); return err }},
		{bucketFunctions, legacyFunction, func(s *Store) error { _, err := s.ListFunctions(ctx); return err }},
		{bucketMessages, legacyMessage1, func(s *Store) error { _, err := s.GetMessage(ctx, legacyMessage1); return err }},
		{bucketMessages, legacyMessage1, func(s *Store) error { _, _, err := s.ListMessages(ctx, storage.MessageFilter{}); return err }},
		{bucketOutcomes, legacyMessage1, func(s *Store) error { _, err := s.GetMessage(ctx, legacyMessage1); return err }},
		{bucketDetails, legacyMessage1, func(s *Store) error { _, err := s.GetMessage(ctx, legacyMessage1); return err }},
		{bucketVersions, legacyFunction + "/1", func(s *Store) error { _, err := s.GetScriptVersion(ctx, legacyFunction, 1); return err }},
		{bucketEndpoints, legacyEndpoint, func(s *Store) error { _, err := s.GetEndpoint(ctx, legacyEndpoint); return err }},
		{bucketEvents, legacyEvent, func(s *Store) error { _, err := s.GetEvent(ctx, legacyEvent); return err }},
		{bucketDeliveries, legacyDelivery, func(s *Store) error { _, err := s.GetDelivery(ctx, legacyDelivery); return err }},
		{bucketDeliveries, legacyDelivery, func(s *Store) error {
			_, err := s.DueDeliveries(ctx, legacyEventAt.Add(time.Hour), func(string) int { return 10 }, nil)
			return err
		}},
		{bucketDeliveries, legacyDelivery, func(s *Store) error {
			_, err := s.RecordAttempt(ctx, legacyDelivery, storage.Attempt{At: legacyEventAt}, storage.DeliveryUpdate{Status: storage.DeliveryFailed})
			return err
		}},
		{bucketAttempts, legacyDelivery + "/1", func(s *Store) error { _, err := s.GetDelivery(ctx, legacyDelivery); return err }},
		{bucketUsers, legacyUser, func(s *Store) error { _, err := s.GetUser(ctx, legacyUser); return err }},
		{bucketTokens, legacyToken, func(s *Store) error { _, err := s.TokenByHash(ctx, bytes.Repeat([]byte{0xab}, 32)); return err }},
		{bucketAudit, legacyAudit, func(s *Store) error { _, _, err := s.ListAudit(ctx, storage.AuditFilter{}); return err }},
	} {
		t.Run(fmt.Sprintf("%s %s", c.bucket, c.key), func(t *testing.T) {
			s := openLegacy(t)
			id, n, _ := strings.Cut(c.key, "/")
			k, err := key(id)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case n == "1" && bytes.Equal(c.bucket, bucketVersions):
				k = versionKey(k, 1)
			case n == "1":
				k = attemptKey(k, 1)
			}
			err = s.db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(c.bucket)
				old := b.Get(k)
				if old == nil {
					return fmt.Errorf("no record at %x", k)
				}
				// The same body, marked as a version from the future.
				return b.Put(k, append([]byte{formatVersion + 1}, old...))
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.read(s); !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("read: %v, want ErrUnknownFormat", err)
			}
		})
	}
}

var updateGolden = flag.Bool("update", false, "rewrite testdata/records.golden")

// sealedValue matches the base64 of a sealed secret (nonce, ciphertext and
// tag: 40 characters at least), which differs at every run.
var sealedValue = regexp.MustCompile(`"[A-Za-z0-9+/]{40,}={0,2}"`)

// The bytes on disk of a fixed set of records, one of each kind, are
// pinned in testdata/records.golden. They come from the disk types, not
// from the API's JSON (TestDiskTypesHoldNoStorageTypes): renaming a field
// of the API leaves this file as it is. A change here is a change of
// format: bump formatVersion, keep reading the records written before,
// then rewrite the file with -update.
func TestDiskBytesGolden(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "switchyard.db"), 7)
	defer s.Close()
	ctx := context.Background()
	clock := time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)
	s.now = func() time.Time { return clock }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{} // generated id -> its name in the golden file

	p, err := s.CreateProvider(ctx, storage.Provider{Name: "GitHub", Description: "pushes", Active: true, MatchScript: "return true",
		Properties: map[string]string{"org": "acme"}, Secrets: map[string]string{"secret": "s3cret"}, MatchTimeoutMS: 250})
	must(err)
	ids[p.ID] = "<provider>"
	f, err := s.CreateFunction(ctx, storage.Function{Name: "deploy", Description: "ships it", ProviderID: p.ID, URI: "github/push", Active: true,
		Script: "LOG.info(1)", TimeoutMS: 1000})
	must(err)
	ids[f.ID] = "<function>"

	recv := time.Date(2026, 3, 4, 6, 0, 0, 123456789, time.UTC)
	m := storage.Message{ID: "019cb7b4-5c7b-7000-8000-000000000001", ReceivedAt: recv, Method: "POST", URI: "github/push",
		Headers: map[string]string{"Content-Type": "application/json"}, Query: url.Values{"a": {"1", "2"}},
		RemoteAddr: "192.0.2.1:4321", RemoteHost: "ci.example.com", ContentType: "application/json", ResubmitOf: "019cb7b4-5c7b-7000-8000-000000000000"}
	must(s.AppendMessage(ctx, m, []byte(`{"a":1}`)))
	must(s.CompleteMessage(ctx, m.ID, storage.Outcome{Status: storage.StatusSuccess, ProviderID: p.ID, ProviderName: "GitHub", ProviderVersion: 1,
		Summary: "deployed", CompletedAt: recv.Add(time.Second), DurationMS: 12.5,
		Logs: []storage.LogLine{{Time: recv, Level: "INFO", Text: "matched", Source: "provider:GitHub"}},
		Executions: []storage.Execution{{FunctionID: f.ID, FunctionName: "deploy", Version: 1, Status: "FAILED", Error: "boom", StartedAt: recv, DurationMS: 3.25,
			Logs: []storage.LogLine{{Time: recv, Level: "SEVERE", Text: "boom"}}}}}))

	failing := time.Date(2026, 3, 4, 4, 0, 0, 0, time.UTC)
	e, err := s.CreateEndpoint(ctx, storage.Endpoint{Name: "CI", Description: "the CI", URL: "https://ci.example.com/hook", Method: "POST",
		EndpointHealth: storage.EndpointHealth{DisabledReason: "failing", FailingSince: &failing, ConsecutiveFailures: 3},
		EventTypes:     []string{"message.failed"}, Headers: map[string]string{"X-Team": "core"}, SecretHeaders: []string{"X-Key"},
		Cookies: map[string]string{"sid": "cookie-secret"}, Auth: storage.Auth{Type: "basic", Username: "bot", Password: "pw"},
		BodyTemplate: `{"t":"{{.Type}}"}`, MsgKey: "text", ExtraBody: map[string]any{"env": "prod"}, TimeoutMS: 5000,
		Retry: storage.RetryPolicy{MaxAttempts: 5, IntervalMS: 1000, Backoff: "exponential"}, Verify: storage.Verify{Type: "status", Value: "200"},
		Language: "en", Concurrency: 4, RateLimit: 2.5, AutoDisable: storage.AutoDisable{FailingForHours: 24, ConsecutiveFailures: 10},
		SigningSecret: "whsec_new", PreviousSecrets: []storage.OldSecret{{Secret: "whsec_old", Expires: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}}})
	must(err)
	ids[e.ID] = "<endpoint>"

	evAt := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	ev := storage.Event{ID: "019cb82a-bc00-7000-8000-00000000000e", Type: "message.failed", Time: evAt, Title: "T", SubTitle: "S", Message: "M",
		Logo: "https://x/logo.png", Image: "https://x/i.png", Data: map[string]any{"n": 1.5, "s": "x"}, Source: "api"}
	d1 := storage.Delivery{ID: "019cb82a-bc00-7000-8000-0000000000d1", EventType: ev.Type, EndpointID: e.ID, Lane: e.ID, CreatedAt: evAt}
	d2 := storage.Delivery{ID: "019cb82a-bc00-7000-8000-0000000000d2", EventType: ev.Type, Lane: "callback:cb.example.com", CreatedAt: evAt,
		Callback: &storage.Callback{URL: "https://cb.example.com/x", Method: "PUT", Headers: map[string]string{"X-Trace": "t1"},
			Cookies: map[string]string{"c": "cookie-cb"}, Auth: storage.Auth{Type: "bearer", Token: "tok"}, TimeoutMS: 2000, Body: "hello"}}
	encoded, err := storage.EncodeEvent(ev)
	must(err)
	must(s.AppendEvent(ctx, encoded, []storage.Delivery{d1, d2}))
	next := evAt.Add(time.Minute)
	_, err = s.RecordAttempt(ctx, d1.ID, storage.Attempt{At: evAt.Add(time.Second), Status: 500, LatencyMS: 42.5, Response: "oops", Error: "HTTP 500"},
		storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &next})
	must(err)

	u, err := s.CreateUser(ctx, storage.User{Name: "alice", DisplayName: "Alice", Role: storage.RoleEditor, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"})
	must(err)
	ids[u.ID] = "<user>"
	must(s.RecordLogin(ctx, u.ID, time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)))
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tok, err := s.CreateToken(ctx, storage.APIToken{UserID: u.ID, Name: "ci", Prefix: "sy_abcd", Hash: bytes.Repeat([]byte{0xab}, 16), ExpiresAt: &exp})
	must(err)
	ids[tok.ID] = "<token>"
	must(s.CreateSession(ctx, storage.Session{ID: "golden-session", UserID: u.ID, CSRF: "csrf-value", ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}))
	must(s.AppendAudit(ctx, storage.AuditEntry{ID: "019cb8a0-2a00-7000-8000-0000000000a1", Time: time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC),
		Actor: "alice", UserID: u.ID, Action: "provider.update", Target: p.ID, Detail: "match script", IP: "192.0.2.9"}))

	var out strings.Builder
	out.WriteString("# Every record kind as storage/bolt writes it: bucket, format version, body.\n")
	out.WriteString("# Generated ids are named; sealed secrets (random nonces) are <sealed>.\n")
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketProviders, bucketFunctions, bucketMessages, bucketOutcomes, bucketDetails, bucketVersions,
			bucketEndpoints, bucketEvents, bucketDeliveries, bucketAttempts, bucketUsers, bucketTokens, bucketSessions, bucketAudit} {
			var lines []string
			err := tx.Bucket(name).ForEach(func(_, v []byte) error {
				version, body, err := recordBody(v)
				if err != nil {
					return err
				}
				if version != formatVersion {
					return fmt.Errorf("%s: a record written at version %d", name, version)
				}
				text := sealedValue.ReplaceAllString(string(body), `"<sealed>"`)
				for id, name := range ids {
					text = strings.ReplaceAll(text, id, name)
				}
				lines = append(lines, fmt.Sprintf("%s %d %s\n", name, version, text))
				return nil
			})
			if err != nil {
				return err
			}
			slices.Sort(lines)
			out.WriteString(strings.Join(lines, ""))
		}
		return nil
	})
	must(err)

	golden := filepath.Join("testdata", "records.golden")
	if *updateGolden {
		must(os.WriteFile(golden, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	must(err)
	if got := out.String(); got != string(want) {
		t.Errorf("the bytes on disk changed (see the test's comment):\n%s", lineDiff(string(want), got))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// encoding/json names a field after the tags of the types it walks, so
// the disk bytes are the API's business as soon as a storage type is
// reachable from a record written with encodeRecord or read with
// decodeRecord. None is.
func TestDiskTypesHoldNoStorageTypes(t *testing.T) {
	t.Parallel()
	storagePkg := reflect.TypeFor[storage.Message]().PkgPath()
	for _, v := range []any{
		providerRecord{}, diskFunction{}, diskMessage{}, outcomeRecord{}, detailRecord{}, diskScriptVersion{},
		endpointRecord{}, eventRecord{}, deliveryRecord{}, diskAttempt{}, diskUser{}, diskToken{}, diskSession{}, diskAudit{}, idempotencyRecord{},
	} {
		seen := map[reflect.Type]bool{}
		var walk func(ty reflect.Type, path string)
		walk = func(ty reflect.Type, path string) {
			if seen[ty] {
				return
			}
			seen[ty] = true
			if ty.PkgPath() == storagePkg {
				t.Errorf("%s is a %s: its JSON tags would decide the bytes on disk", path, ty)
			}
			switch ty.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Array:
				walk(ty.Elem(), path+"[]")
			case reflect.Map:
				walk(ty.Key(), path+"{key}")
				walk(ty.Elem(), path+"{}")
			case reflect.Struct:
				for i := range ty.NumField() {
					walk(ty.Field(i).Type, path+"."+ty.Field(i).Name)
				}
			}
		}
		walk(reflect.TypeOf(v), reflect.TypeOf(v).Name())
	}
}
