package bolt

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// A data directory written before records carried a format version must
// keep working: these are the bytes the store wrote then (secrets sealed
// with openTest's key 7), loaded as they are into a fresh file and read
// back through the Store.

type legacyRecord struct{ bucket, key, value string }

// hx is the bytes of a hexadecimal string.
func hx(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Ids and times of the records in legacyRecords.
const (
	legacyProvider = "01a23cd4-31a2-735e-963d-f5ef2be5807f"
	legacyFunction = "01a23cd4-31a3-789f-a7a6-dcc2c9dae050"
	legacyEndpoint = "01a23cd4-31a4-7e58-84fe-d06887b60bdc"
	legacyUser     = "01a23cd4-31a7-7dd8-8841-19bdfacd69a3"
	legacyToken    = "01a23cd4-31a8-7a57-a0f2-baf5a65e2367"
	legacyMessage1 = "019cb7b4-5c7b-7000-8000-000000000001" // completed
	legacyMessage2 = "019cb7b4-5c7b-7000-8000-000000000002" // pending
	legacyEvent    = "019cb82a-bc00-7000-8000-00000000000e"
	legacyDelivery = "019cb82a-bc00-7000-8000-0000000000d1" // to the endpoint, pending
	legacyCallback = "019cb82a-bc00-7000-8000-0000000000d2" // a callback, delivered
	legacyAudit    = "019cb8a0-2a00-7000-8000-0000000000a1"
)

var (
	legacyCreated  = time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)
	legacyUpdated  = legacyCreated.Add(time.Minute)
	legacyReceived = time.Date(2026, 3, 4, 6, 0, 0, 123456789, time.UTC)
	legacyEventAt  = time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
)

func openLegacy(t *testing.T) *Store {
	t.Helper()
	s := openTest(t, filepath.Join(t.TempDir(), "switchyard.db"), 7)
	t.Cleanup(func() { s.Close() })
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range legacyRecords {
			if err := tx.Bucket([]byte(r.bucket)).Put([]byte(r.key), []byte(r.value)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func same[T any](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestLegacyRecordsRead(t *testing.T) {
	s := openLegacy(t)
	ctx := context.Background()

	provider := storage.Provider{ID: legacyProvider, Name: "GitHub", Description: "pushes", Sequence: 1, Active: true, MatchScript: "return false",
		Properties: map[string]string{"org": "acme"}, Secrets: map[string]string{"secret": "s3cret"}, MatchTimeoutMS: 250, Version: 2,
		CreatedAt: legacyCreated, UpdatedAt: legacyUpdated}
	p, err := s.GetProvider(ctx, legacyProvider)
	same(t, "provider", p, err, provider)
	ps, err := s.ListProviders(ctx)
	same(t, "providers", ps, err, []storage.Provider{provider})
	vs, err := s.ScriptVersions(ctx, legacyProvider)
	same(t, "script versions", vs, err, []storage.ScriptVersion{{Version: 2, Script: "return false", SavedAt: legacyUpdated}, {Version: 1, Script: "return true", SavedAt: legacyCreated}})
	v, err := s.GetScriptVersion(ctx, legacyFunction, 1)
	same(t, "script version", v, err, storage.ScriptVersion{Version: 1, Script: "LOG.info(1)", SavedAt: legacyUpdated})

	function := storage.Function{ID: legacyFunction, Name: "deploy", Description: "ships it", ProviderID: legacyProvider, URI: "github/push", Active: true,
		Script: "LOG.info(1)", TimeoutMS: 1000, Version: 1, CreatedAt: legacyUpdated, UpdatedAt: legacyUpdated}
	f, err := s.GetFunction(ctx, legacyFunction)
	same(t, "function", f, err, function)
	fs, err := s.ListFunctions(ctx)
	same(t, "functions", fs, err, []storage.Function{function})

	m1 := storage.Message{ID: legacyMessage1, ReceivedAt: legacyReceived, Method: "POST", URI: "github/push",
		Headers: map[string]string{"Content-Type": "application/json"}, Query: url.Values{"a": {"1", "2"}},
		RemoteAddr: "192.0.2.1:4321", RemoteHost: "ci.example.com", ContentType: "application/json", Size: 7, Status: storage.StatusSuccess,
		ProviderID: legacyProvider, ProviderName: "GitHub", ProviderVersion: 2, Summary: "deployed", ResubmitOf: "019cb7b4-5c7b-7000-8000-000000000000",
		CompletedAt: ptr(legacyReceived.Add(time.Second)), DurationMS: 12.5}
	m2 := storage.Message{ID: legacyMessage2, ReceivedAt: legacyReceived.Add(time.Millisecond), Method: "PUT", URI: "other",
		RemoteAddr: "192.0.2.2:1", RemoteHost: "192.0.2.2", Status: storage.StatusPending}
	d, err := s.GetMessage(ctx, legacyMessage1)
	same(t, "message", d, err, storage.MessageDetail{Message: m1,
		Logs: []storage.LogLine{{Time: legacyReceived, Level: "INFO", Text: "matched", Source: "provider:GitHub"}},
		Executions: []storage.Execution{{FunctionID: legacyFunction, FunctionName: "deploy", Version: 1, Status: "FAILED", Error: "boom",
			StartedAt: legacyReceived, DurationMS: 3.25, Logs: []storage.LogLine{{Time: legacyReceived, Level: "SEVERE", Text: "boom"}}}}})
	body, err := s.GetPayload(ctx, legacyMessage1)
	same(t, "payload", body, err, []byte(`{"a":1}`))
	pending, err := s.PendingMessages(ctx, "", 10)
	same(t, "pending messages", pending, err, []storage.Message{m2})
	listed := m1
	listed.Headers, listed.Query = nil, nil
	list, _, err := s.ListMessages(ctx, storage.MessageFilter{})
	same(t, "message list", list, err, []storage.Message{m2, listed})

	endpoint := storage.Endpoint{ID: legacyEndpoint, Name: "CI", Description: "the CI", URL: "https://ci.example.com/hook", Method: "POST",
		EndpointHealth: storage.EndpointHealth{DisabledReason: "failing", FailingSince: ptr(time.Date(2026, 3, 4, 4, 0, 0, 0, time.UTC)), ConsecutiveFailures: 3},
		EventTypes:     []string{"message.failed"}, Headers: map[string]string{"X-Team": "core", "X-Key": "hdr-secret"}, SecretHeaders: []string{"X-Key"},
		Cookies: map[string]string{"sid": "cookie-secret"}, Auth: storage.Auth{Type: "basic", Username: "bot", Password: "pw"},
		BodyTemplate: `{"t":"{{.Type}}"}`, MsgKey: "text", ExtraBody: map[string]any{"env": "prod"}, TimeoutMS: 5000,
		Retry: storage.RetryPolicy{MaxAttempts: 5, IntervalMS: 1000, Backoff: "exponential"}, Verify: storage.Verify{Type: "status", Value: "200"},
		Language: "en", Concurrency: 4, RateLimit: 2.5, AutoDisable: storage.AutoDisable{FailingForHours: 24, ConsecutiveFailures: 10},
		SigningSecret: "whsec_new", PreviousSecrets: []storage.OldSecret{{Secret: "whsec_old", Expires: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}},
		CreatedAt: legacyUpdated, UpdatedAt: legacyUpdated}
	e, err := s.GetEndpoint(ctx, legacyEndpoint)
	same(t, "endpoint", e, err, endpoint)
	es, err := s.ListEndpoints(ctx)
	same(t, "endpoints", es, err, []storage.Endpoint{endpoint})

	ev, err := s.GetEvent(ctx, legacyEvent)
	same(t, "event", ev, err, storage.EncodedEvent{Event: storage.Event{ID: legacyEvent, Type: "message.failed", Time: legacyEventAt, Title: "T", SubTitle: "S", Message: "M",
		Logo: "https://x/logo.png", Image: "https://x/i.png", Data: map[string]any{"n": json.Number("1.5"), "s": "x"}, Source: "api"},
		DataJSON: json.RawMessage(`{"n":1.5,"s":"x"}`)})
	toEndpoint := storage.Delivery{ID: legacyDelivery, EventID: legacyEvent, EventType: "message.failed", EndpointID: legacyEndpoint, Lane: legacyEndpoint,
		Status: storage.DeliveryPending, AttemptCount: 1, NextAt: ptr(legacyEventAt.Add(time.Minute)), LastStatus: 500, LastError: "HTTP 500",
		CreatedAt: legacyEventAt, UpdatedAt: legacyEventAt.Add(time.Second)}
	callback := storage.Delivery{ID: legacyCallback, EventID: legacyEvent, EventType: "message.failed", Lane: "callback:cb.example.com",
		Callback: &storage.Callback{URL: "https://cb.example.com/x", Method: "PUT", Headers: map[string]string{"X-Trace": "t1", "Authorization": "Bearer cb-token"},
			Cookies: map[string]string{"c": "cookie-cb"}, Auth: storage.Auth{Type: "bearer", Token: "tok"}, TimeoutMS: 2000, Body: "hello"},
		Status: storage.DeliverySuccess, AttemptCount: 1, LastStatus: 200, CreatedAt: legacyEventAt, UpdatedAt: legacyEventAt.Add(2 * time.Second)}
	dd, err := s.GetDelivery(ctx, legacyDelivery)
	same(t, "delivery", dd, err, storage.DeliveryDetail{Delivery: toEndpoint, Attempts: []storage.Attempt{
		{N: 1, At: legacyEventAt.Add(time.Second), Status: 500, LatencyMS: 42.5, Response: "oops", Error: "HTTP 500"}}})
	dd, err = s.GetDelivery(ctx, legacyCallback)
	same(t, "callback delivery", dd, err, storage.DeliveryDetail{Delivery: callback, Attempts: []storage.Attempt{
		{N: 1, At: legacyEventAt.Add(2 * time.Second), Status: 200, LatencyMS: 7}}})
	ds, _, err := s.ListDeliveries(ctx, storage.DeliveryFilter{})
	same(t, "deliveries", ds, err, []storage.Delivery{callback, toEndpoint})
	due, err := s.DueDeliveries(ctx, legacyEventAt.Add(time.Hour), func(string) int { return 10 }, nil)
	same(t, "due deliveries", due, err, []storage.Delivery{toEndpoint})
	paused, err := s.Setting(ctx, "outbound.paused")
	same(t, "setting", paused, err, []byte("true"))

	user := storage.User{ID: legacyUser, Name: "alice", DisplayName: "Alice", Role: storage.RoleEditor, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt: legacyUpdated, UpdatedAt: legacyUpdated, LastLoginAt: ptr(time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC))}
	u, err := s.GetUserByName(ctx, "Alice")
	same(t, "user", u, err, user)
	hash := bytes.Repeat([]byte{0xab}, 32)
	tok, err := s.TokenByHash(ctx, hash)
	same(t, "token", tok, err, storage.APIToken{ID: legacyToken, UserID: legacyUser, Name: "ci", Prefix: "sy_abcd", Hash: hash, CreatedAt: legacyUpdated,
		ExpiresAt: ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), LastUsedAt: ptr(time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC))})
	sessionID := "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	sess, err := s.GetSession(ctx, sessionID)
	same(t, "session", sess, err, storage.Session{ID: sessionID, UserID: legacyUser, CSRF: "csrf-value", CreatedAt: legacyUpdated,
		ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
	audit, _, err := s.ListAudit(ctx, storage.AuditFilter{})
	same(t, "audit", audit, err, []storage.AuditEntry{{ID: legacyAudit, Time: time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC), Actor: "alice", UserID: legacyUser,
		Action: "provider.update", Target: legacyProvider, Detail: "match script", IP: "192.0.2.9"}})
}

// Changing a record written before versions rewrites it at the current
// version, and keeps what it held.
func TestLegacyRecordsRewritten(t *testing.T) {
	s := openLegacy(t)
	ctx := context.Background()
	p, err := s.GetProvider(ctx, legacyProvider)
	if err != nil {
		t.Fatal(err)
	}
	p.Description = "edited"
	got, err := s.UpdateProvider(ctx, p)
	same(t, "updated provider", got.Secrets, err, map[string]string{"secret": "s3cret"})
	if got.Version != 2 || got.Sequence != 1 || !got.CreatedAt.Equal(legacyCreated) {
		t.Errorf("updated provider lost its version, sequence or creation time: %+v", got)
	}
	if _, err := s.SetEndpointHealth(ctx, legacyEndpoint, storage.EndpointHealth{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	at := legacyEventAt.Add(time.Hour)
	d, err := s.RecordAttempt(ctx, legacyDelivery, storage.Attempt{At: at, Status: 200}, storage.DeliveryUpdate{Status: storage.DeliverySuccess})
	if err != nil || d.AttemptCount != 2 || d.Status != storage.DeliverySuccess || d.EndpointID != legacyEndpoint {
		t.Fatalf("attempt on a legacy delivery: %+v %v", d, err)
	}
	if err := s.RecordLogin(ctx, legacyUser, at); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx, legacyToken, at); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		bucket []byte
		id     string
	}{{bucketProviders, legacyProvider}, {bucketEndpoints, legacyEndpoint}, {bucketDeliveries, legacyDelivery}, {bucketUsers, legacyUser}, {bucketTokens, legacyToken}} {
		k, _ := key(c.id)
		err := s.db.View(func(tx *bolt.Tx) error {
			if raw := tx.Bucket(c.bucket).Get(k); len(raw) == 0 || raw[0] != formatVersion {
				t.Errorf("%s %s not rewritten at version %d: %.20q", c.bucket, c.id, formatVersion, raw)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e, err := s.GetEndpoint(ctx, legacyEndpoint)
	if err != nil || !e.Enabled || e.Auth.Password != "pw" || e.SigningSecret != "whsec_new" || e.Headers["X-Key"] != "hdr-secret" {
		t.Errorf("endpoint after rewrite: %+v %v", e, err)
	}
	u, err := s.GetUser(ctx, legacyUser)
	if err != nil || u.PasswordHash == "" || !u.LastLoginAt.Equal(at) {
		t.Errorf("user after rewrite: %+v %v", u, err)
	}
	tok, err := s.TokenByHash(ctx, bytes.Repeat([]byte{0xab}, 32))
	if err != nil || tok.ID != legacyToken || !tok.LastUsedAt.Equal(at) {
		t.Errorf("token after rewrite: %+v %v", tok, err)
	}
}

// legacyRecords is every bucket entry of a store written before format
// versions: a provider (its match script changed once) with a secret, a
// function, a completed and a pending message, an endpoint with every
// field and its health set, an event with a delivery to it (one failed
// attempt, due again) and a callback (delivered), a setting, a user who
// signed in, a used token, a session and an audit entry.
var legacyRecords = []legacyRecord{
	{"providers", hx("01a23cd431a2735e963df5ef2be5807f"), `{"id":"01a23cd4-31a2-735e-963d-f5ef2be5807f","name":"GitHub","description":"pushes","sequence":1,"active":true,"match_script":"return false","properties":{"org":"acme"},"match_timeout_ms":250,"version":2,"created_at":"2026-03-04T05:06:07.89Z","updated_at":"2026-03-04T05:07:07.89Z","sealed_secrets":{"secret":"wYoOPZabzBmb9q6rkX2IQykit2UYWMGfXaeCXPMm2ljykg=="}}`},
	{"functions", hx("01a23cd431a3789fa7a6dcc2c9dae050"), `{"id":"01a23cd4-31a3-789f-a7a6-dcc2c9dae050","name":"deploy","description":"ships it","provider_id":"01a23cd4-31a2-735e-963d-f5ef2be5807f","uri":"github/push","active":true,"script":"LOG.info(1)","timeout_ms":1000,"version":1,"created_at":"2026-03-04T05:07:07.89Z","updated_at":"2026-03-04T05:07:07.89Z"}`},
	{"messages", hx("019cb7b45c7b70008000000000000001"), `{"id":"019cb7b4-5c7b-7000-8000-000000000001","received_at":"2026-03-04T06:00:00.123456789Z","method":"POST","uri":"github/push","headers":{"Content-Type":"application/json"},"query":{"a":["1","2"]},"remote_addr":"192.0.2.1:4321","remote_host":"ci.example.com","content_type":"application/json","size":7,"status":"PENDING","resubmit_of":"019cb7b4-5c7b-7000-8000-000000000000"}`},
	{"messages", hx("019cb7b45c7b70008000000000000002"), `{"id":"019cb7b4-5c7b-7000-8000-000000000002","received_at":"2026-03-04T06:00:00.124456789Z","method":"PUT","uri":"other","remote_addr":"192.0.2.2:1","remote_host":"192.0.2.2","size":0,"status":"PENDING"}`},
	{"payloads", hx("019cb7b45c7b70008000000000000001"), hx("007b2261223a317d")},
	{"payloads", hx("019cb7b45c7b70008000000000000002"), hx("00")},
	{"outcomes", hx("019cb7b45c7b70008000000000000001"), `{"status":"SUCCESS","provider_id":"01a23cd4-31a2-735e-963d-f5ef2be5807f","provider_name":"GitHub","provider_version":2,"message":"deployed","completed_at":"2026-03-04T06:00:01.123456789Z","duration_ms":12.5}`},
	{"details", hx("019cb7b45c7b70008000000000000001"), `{"logs":[{"time":"2026-03-04T06:00:00.123456789Z","level":"INFO","text":"matched","source":"provider:GitHub"}],"executions":[{"function_id":"01a23cd4-31a3-789f-a7a6-dcc2c9dae050","function_name":"deploy","version":1,"status":"FAILED","error":"boom","started_at":"2026-03-04T06:00:00.123456789Z","duration_ms":3.25,"logs":[{"time":"2026-03-04T06:00:00.123456789Z","level":"SEVERE","text":"boom"}]}]}`},
	{"pending", hx("019cb7b45c7b70008000000000000002"), ""},
	{"versions", hx("01a23cd431a2735e963df5ef2be5807f00000001"), `{"version":1,"script":"return true","saved_at":"2026-03-04T05:06:07.89Z"}`},
	{"versions", hx("01a23cd431a2735e963df5ef2be5807f00000002"), `{"version":2,"script":"return false","saved_at":"2026-03-04T05:07:07.89Z"}`},
	{"versions", hx("01a23cd431a3789fa7a6dcc2c9dae05000000001"), `{"version":1,"script":"LOG.info(1)","saved_at":"2026-03-04T05:07:07.89Z"}`},
	{"endpoints", hx("01a23cd431a47e5884fed06887b60bdc"), `{"id":"01a23cd4-31a4-7e58-84fe-d06887b60bdc","name":"CI","description":"the CI","url":"https://ci.example.com/hook","method":"POST","enabled":false,"disabled_reason":"failing","failing_since":"2026-03-04T04:00:00Z","consecutive_failures":3,"event_types":["message.failed"],"headers":{"X-Team":"core"},"secret_headers":["X-Key"],"auth":{"type":"basic","username":"bot"},"body_template":"{\"t\":\"{{.Type}}\"}","msg_key":"text","extra_body":{"env":"prod"},"timeout_ms":5000,"retry":{"max_attempts":5,"interval_ms":1000,"backoff":"exponential"},"verify":{"type":"status","value":"200"},"language":"en","concurrency":4,"rate_limit":2.5,"auto_disable":{"failing_for_hours":24,"consecutive_failures":10},"created_at":"2026-03-04T05:07:07.89Z","updated_at":"2026-03-04T05:07:07.89Z","sealed_secrets":{"auth_password":"lUEHB89zoXTdCxqri+9S4MwcTfSsfoa8Ixyr6ZRp","cookie/sid":"NkQBTDp3kOfEEG9NoLYWtmU59Ynyp9VT7aP42Bn/fk2Ia1sAYPjSKlk=","header/X-Key":"5BYjfk21IzHRmecAFwTzoBhS+xJCP6xMXg1qb/XX6N3+fhKMp/s=","signing_secret":"1z+Xnn9XVz/+sDtVd6Pril+MCa6nTYANoUj8piNSEuj1mfK5Kg=="},"sealed_previous_secrets":[{"sealed":"UAAWhFKGMBlzp+4/5McjIDVLBpSpPAkzW+zKb6q1eh+/iYYEiA==","expires":"2026-03-05T00:00:00Z"}]}`},
	{"events", hx("019cb82abc007000800000000000000e"), `{"id":"019cb82a-bc00-7000-8000-00000000000e","type":"message.failed","time":"2026-03-04T07:00:00Z","title":"T","sub_title":"S","message":"M","logo":"https://x/logo.png","image":"https://x/i.png","data":{"n":1.5,"s":"x"},"source":"api"}`},
	{"deliveries", hx("019cb82abc00700080000000000000d1"), `{"id":"019cb82a-bc00-7000-8000-0000000000d1","event_id":"019cb82a-bc00-7000-8000-00000000000e","event_type":"message.failed","endpoint_id":"01a23cd4-31a4-7e58-84fe-d06887b60bdc","lane":"01a23cd4-31a4-7e58-84fe-d06887b60bdc","status":"PENDING","attempt_count":1,"next_at":"2026-03-04T07:01:00Z","last_status":500,"last_error":"HTTP 500","created_at":"2026-03-04T07:00:00Z","updated_at":"2026-03-04T07:00:01Z"}`},
	{"deliveries", hx("019cb82abc00700080000000000000d2"), `{"id":"019cb82a-bc00-7000-8000-0000000000d2","event_id":"019cb82a-bc00-7000-8000-00000000000e","event_type":"message.failed","lane":"callback:cb.example.com","callback":{"url":"https://cb.example.com/x","method":"PUT","headers":{"X-Trace":"t1"},"auth":{"type":"bearer"},"timeout_ms":2000,"body":"hello"},"status":"SUCCESS","attempt_count":1,"last_status":200,"created_at":"2026-03-04T07:00:00Z","updated_at":"2026-03-04T07:00:02Z","sealed_secrets":{"auth_token":"VBfTksDjayYmywM3Kyz+MbEMzv4wkRiDrKLCiJbbag==","cookie/c":"7AJaN+U0zBm/ouearOzCU9sdiLCe7yenzZKMozqXXnHmaITRBg==","header/Authorization":"3leQQ8KyxxCcnM8FTvkY5XRhS8Fsm9XR+xDXcUKOKYYAQRHXEb5pcuhIaA=="}}`},
	{"attempts", hx("019cb82abc00700080000000000000d10001"), `{"n":0,"at":"2026-03-04T07:00:01Z","status":500,"latency_ms":42.5,"response":"oops","error":"HTTP 500"}`},
	{"attempts", hx("019cb82abc00700080000000000000d20001"), `{"n":0,"at":"2026-03-04T07:00:02Z","status":200,"latency_ms":7}`},
	{"delivery_due", hx("30316132336364342d333161342d376535382d383466652d64303638383762363062646300189991466c6fb800019cb82abc00700080000000000000d1"), ""},
	{"delivery_by_endpoint", hx("01a23cd431a47e5884fed06887b60bdc019cb82abc00700080000000000000d1"), ""},
	{"settings", `outbound.paused`, `true`},
	{"users", hx("01a23cd431a77dd8884119bdfacd69a3"), `{"id":"01a23cd4-31a7-7dd8-8841-19bdfacd69a3","name":"alice","display_name":"Alice","role":"editor","disabled":false,"created_at":"2026-03-04T05:07:07.89Z","updated_at":"2026-03-04T05:07:07.89Z","last_login_at":"2026-03-04T08:00:00Z","password_hash":"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"}`},
	{"user_names", `alice`, hx("01a23cd431a77dd8884119bdfacd69a3")},
	{"tokens", hx("01a23cd431a87a57a0f2baf5a65e2367"), `{"id":"01a23cd4-31a8-7a57-a0f2-baf5a65e2367","user_id":"01a23cd4-31a7-7dd8-8841-19bdfacd69a3","name":"ci","prefix":"sy_abcd","created_at":"2026-03-04T05:07:07.89Z","expires_at":"2027-01-01T00:00:00Z","last_used_at":"2026-03-04T09:00:00Z","hash":"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="}`},
	{"token_hashes", hx("abababababababababababababababababababababababababababababababab"), hx("01a23cd431a87a57a0f2baf5a65e2367")},
	{"sessions", `5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e`, `{"id":"5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e","user_id":"01a23cd4-31a7-7dd8-8841-19bdfacd69a3","created_at":"2026-03-04T05:07:07.89Z","expires_at":"2099-01-01T00:00:00Z","csrf":"csrf-value"}`},
	{"session_exp", hx("387ec5fc2903000035653565356535653565356535653565356535653565356535653565356535653565356535653565356535653565356535653565356535653565356535653565"), ""},
	{"audit", hx("019cb8a02a00700080000000000000a1"), `{"id":"019cb8a0-2a00-7000-8000-0000000000a1","time":"2026-03-04T09:30:00Z","actor":"alice","user_id":"01a23cd4-31a7-7dd8-8841-19bdfacd69a3","action":"provider.update","target":"01a23cd4-31a2-735e-963d-f5ef2be5807f","detail":"match script","ip":"192.0.2.9"}`},
}
