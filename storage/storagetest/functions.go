package storagetest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/storage"
)

// Functions is the part of the store behind providers, functions and
// messages: what the dispatcher (functions.Store, but for ClaimPending,
// which is storage.Cluster's and checked by RunNode) and the catalogue
// (functions.CatalogueStore) use, and what the server alone uses: the
// admin API's reads, the pending messages a page at a time, and the
// purge of old messages.
type Functions interface {
	ListProviders(ctx context.Context) ([]storage.Provider, error)
	ListFunctions(ctx context.Context) ([]storage.Function, error)
	AppendMessage(ctx context.Context, m storage.Message, payload []byte) error
	CompleteMessage(ctx context.Context, id string, o storage.Outcome) error
	GetMessage(ctx context.Context, id string) (storage.MessageDetail, error)
	GetPayload(ctx context.Context, id string) ([]byte, error)
	PendingMessages(ctx context.Context, after string, limit int) ([]storage.Message, error)
	DeleteMessages(ctx context.Context, ids []string) (int, error)
	functions.CatalogueStore
	GetProvider(ctx context.Context, id string) (storage.Provider, error)
	GetFunction(ctx context.Context, id string) (storage.Function, error)
	ScriptVersions(ctx context.Context, id string) ([]storage.ScriptVersion, error)
	GetScriptVersion(ctx context.Context, id string, version int) (storage.ScriptVersion, error)
	ListMessages(ctx context.Context, f storage.MessageFilter) ([]storage.Message, string, error)
	PurgeMessages(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// RunFunctions runs the tests of providers, functions, their script
// versions and messages against the backend that open returns.
func RunFunctions(t *testing.T, open func(t *testing.T) Functions) {
	run(t, open, []test[Functions]{
		{"ProviderCRUD", testProviderCRUD},
		{"ProviderSecrets", testProviderSecrets},
		{"ProviderOrder", testProviderOrder},
		{"FunctionCRUD", testFunctionCRUD},
		{"DeleteProviderInUse", testDeleteProviderInUse},
		{"MessageLifecycle", testMessageLifecycle},
		{"ListMessagesFiltersAndPages", testListMessages},
		{"PendingMessages", testPendingMessages},
		{"PurgeMessages", testPurge},
		{"StripAndDropMessages", testStripAndDrop},
		{"SearchMessages", testSearchMessages},
		{"SearchIsBounded", testSearchIsBounded},
		{"DeleteMessages", testDeleteMessages},
		{"ConcurrentAppends", testConcurrentAppends},
		{"NotFound", testNotFound},
		{"ScriptVersions", testScriptVersions},
	})
}

func testProviderCRUD(t *testing.T, s Functions) {
	p := must(s.CreateProvider(ctx(t), storage.Provider{Name: "GitHub", Active: true, MatchScript: "return true", HandshakeScript: "RESPONSE.body = 'hi'", Properties: map[string]string{"a": "b"}, MatchTimeoutMS: 1000,
		AllowedSources: []string{"192.30.252.0/22", "2001:db8::/32"}}))
	if p.ID == "" || p.Version != 1 || p.Sequence != 1 || p.CreatedAt.IsZero() {
		t.Fatalf("created provider lacks id/version/sequence/time: %+v", p)
	}
	if u, err := uuid.Parse(p.ID); err != nil || u.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7", p.ID)
	}
	got := must(s.GetProvider(ctx(t), p.ID))
	if got.Name != "GitHub" || got.Properties["a"] != "b" || !got.Active || got.HandshakeScript != "RESPONSE.body = 'hi'" || !slices.Equal(got.AllowedSources, []string{"192.30.252.0/22", "2001:db8::/32"}) {
		t.Fatalf("get: %+v", got)
	}
	got.Description = "changed"
	got.AllowedSources = nil
	upd := must(s.UpdateProvider(ctx(t), got))
	if upd.Version != 1 || upd.Description != "changed" || upd.Sequence != 1 || upd.AllowedSources != nil {
		t.Fatalf("update without script change: %+v", upd)
	}
	if got := must(s.GetProvider(ctx(t), p.ID)); got.AllowedSources != nil {
		t.Fatalf("allowed sources after clearing them: %#v", got.AllowedSources)
	}
	upd.MatchScript = "return false"
	upd.HandshakeScript = ""
	upd = must(s.UpdateProvider(ctx(t), upd))
	if upd.Version != 2 {
		t.Fatalf("script change must bump version, got %d", upd.Version)
	}
	if got := must(s.GetProvider(ctx(t), p.ID)); got.HandshakeScript != "" {
		t.Fatalf("handshake script not removed: %q", got.HandshakeScript)
	}
	if err := s.DeleteProvider(ctx(t), p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProvider(ctx(t), p.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func testProviderSecrets(t *testing.T, s Functions) {
	p := must(s.CreateProvider(ctx(t), storage.Provider{Name: "x", Secrets: map[string]string{"secret": "s3cr3t"}}))
	got := must(s.GetProvider(ctx(t), p.ID))
	if got.Secrets["secret"] != "s3cr3t" {
		t.Fatalf("secret not returned decrypted: %v", got.Secrets)
	}
	got.Secrets = nil // keep
	got.Name = "y"
	must(s.UpdateProvider(ctx(t), got))
	if got := must(s.GetProvider(ctx(t), p.ID)); got.Secrets["secret"] != "s3cr3t" {
		t.Fatalf("nil secrets must keep the stored ones: %v", got.Secrets)
	}
	got.Secrets = map[string]string{"other": "o"}
	must(s.UpdateProvider(ctx(t), got))
	got = must(s.GetProvider(ctx(t), p.ID))
	if len(got.Secrets) != 1 || got.Secrets["other"] != "o" {
		t.Fatalf("non-nil secrets must replace: %v", got.Secrets)
	}
}

func testProviderOrder(t *testing.T, s Functions) {
	var ids []string
	for i := range 3 {
		p := must(s.CreateProvider(ctx(t), storage.Provider{Name: fmt.Sprint("p", i)}))
		if p.Sequence != i+1 {
			t.Fatalf("provider %d got sequence %d", i, p.Sequence)
		}
		ids = append(ids, p.ID)
	}
	list := must(s.ReorderProviders(ctx(t), []string{ids[2], ids[0], ids[1]}))
	want := []string{"p2", "p0", "p1"}
	for i, p := range list {
		if p.Name != want[i] || p.Sequence != i+1 {
			t.Fatalf("after reorder position %d: %s seq %d", i, p.Name, p.Sequence)
		}
	}
	list = must(s.ListProviders(ctx(t)))
	for i, p := range list {
		if p.Name != want[i] {
			t.Fatalf("list after reorder position %d: %s", i, p.Name)
		}
	}
	for _, bad := range [][]string{{ids[0], ids[1]}, {ids[0], ids[0], ids[1]}, {ids[0], ids[1], uuid.NewString()}} {
		if _, err := s.ReorderProviders(ctx(t), bad); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("reorder %v: want ErrInvalid, got %v", bad, err)
		}
	}
	// Creating after a reorder appends last.
	p := must(s.CreateProvider(ctx(t), storage.Provider{Name: "p3"}))
	if p.Sequence != 4 {
		t.Fatalf("new provider sequence %d, want 4", p.Sequence)
	}
}

func testFunctionCRUD(t *testing.T, s Functions) {
	p := must(s.CreateProvider(ctx(t), storage.Provider{Name: "p"}))
	if _, err := s.CreateFunction(ctx(t), storage.Function{Name: "f", ProviderID: uuid.NewString()}); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("function for a missing provider: want ErrInvalid, got %v", err)
	}
	f := must(s.CreateFunction(ctx(t), storage.Function{Name: "f", ProviderID: p.ID, URI: "git/push", Active: true, Script: "return 1", TimeoutMS: 30000}))
	if f.ID == "" || f.Version != 1 {
		t.Fatalf("created: %+v", f)
	}
	f.Script = "return 2"
	f = must(s.UpdateFunction(ctx(t), f))
	if f.Version != 2 {
		t.Fatalf("script change must bump version: %d", f.Version)
	}
	list := must(s.ListFunctions(ctx(t)))
	if len(list) != 1 || list[0].Script != "return 2" {
		t.Fatalf("list: %+v", list)
	}
	if err := s.DeleteFunction(ctx(t), f.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFunction(ctx(t), f.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func testDeleteProviderInUse(t *testing.T, s Functions) {
	p := must(s.CreateProvider(ctx(t), storage.Provider{Name: "p"}))
	f := must(s.CreateFunction(ctx(t), storage.Function{Name: "f", ProviderID: p.ID}))
	if err := s.DeleteProvider(ctx(t), p.ID); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("delete provider in use: want ErrConflict, got %v", err)
	}
	check(s.DeleteFunction(ctx(t), f.ID))
	check(s.DeleteProvider(ctx(t), p.ID))
}

// NewMessage returns a message with a fresh UUIDv7 id received at `at`.
func NewMessage(t testing.TB, at time.Time, uri string) storage.Message {
	u, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	// Put the wanted time into the id, keeping its random bits.
	ms := uint64(at.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return storage.Message{
		ID: u.String(), ReceivedAt: at.UTC(), Method: "POST", URI: uri,
		Headers: map[string]string{"x-test": "1"}, Query: url.Values{"a": {"1", "2"}},
		RemoteAddr: "127.0.0.1", RemoteHost: "127.0.0.1",
	}
}

func testMessageLifecycle(t *testing.T, s Functions) {
	m := NewMessage(t, time.Now(), "git/push")
	body := []byte("{\"a\":\"\xff\xfe bytes\"}")
	check(s.AppendMessage(ctx(t), m, body))
	d := must(s.GetMessage(ctx(t), m.ID))
	if d.Status != storage.StatusPending || d.Size != len(body) || d.Headers["x-test"] != "1" || len(d.Query["a"]) != 2 {
		t.Fatalf("appended: %+v", d)
	}
	if got := must(s.GetPayload(ctx(t), m.ID)); string(got) != string(body) {
		t.Fatalf("payload not byte for byte: %q", got)
	}
	now := time.Now()
	o := storage.Outcome{
		Status: storage.StatusSuccess, ProviderID: "p1", ProviderName: "GitHub", Summary: "built",
		CompletedAt: now, DurationMS: 1.5,
		Logs:       []storage.LogLine{{Time: now, Level: "INFO", Text: "matched", Source: "provider:GitHub"}},
		Executions: []storage.Execution{{FunctionID: "f1", FunctionName: "build", Version: 3, Status: storage.StatusSuccess, StartedAt: now, DurationMS: 1, Logs: []storage.LogLine{{Time: now, Level: "FINE", Text: "hi"}}}},
	}
	check(s.CompleteMessage(ctx(t), m.ID, o))
	d = must(s.GetMessage(ctx(t), m.ID))
	if d.Status != storage.StatusSuccess || d.ProviderName != "GitHub" || d.Summary != "built" || d.CompletedAt == nil {
		t.Fatalf("completed: %+v", d.Message)
	}
	if len(d.Logs) != 1 || len(d.Executions) != 1 || d.Executions[0].Version != 3 || d.Executions[0].Logs[0].Text != "hi" {
		t.Fatalf("details: %+v %+v", d.Logs, d.Executions)
	}
	if p := must(s.PendingMessages(ctx(t), "", 10)); len(p) != 0 {
		t.Fatalf("completed message still pending: %v", p)
	}
}

func testListMessages(t *testing.T, s Functions) {
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var ids []string
	for i := range 30 {
		uri := "a"
		if i%3 == 0 {
			uri = "b"
		}
		m := NewMessage(t, base.Add(time.Duration(i)*time.Second), uri)
		check(s.AppendMessage(ctx(t), m, []byte("x")))
		if i%2 == 0 {
			check(s.CompleteMessage(ctx(t), m.ID, storage.Outcome{Status: storage.StatusSuccess, ProviderID: "p", CompletedAt: time.Now()}))
		}
		ids = append(ids, m.ID)
	}
	// Paging newest first covers every message exactly once.
	var seen []string
	cursor := ""
	for range 20 {
		page, next, err := s.ListMessages(ctx(t), storage.MessageFilter{Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if m.Headers != nil {
				t.Fatal("lists must not carry headers")
			}
			seen = append(seen, m.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 30 {
		t.Fatalf("paged %d messages, want 30", len(seen))
	}
	for i, id := range seen {
		if id != ids[29-i] {
			t.Fatalf("position %d: not newest first", i)
		}
	}
	count := func(f storage.MessageFilter) int {
		f.Limit = 100
		page, _, err := s.ListMessages(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		return len(page)
	}
	if n := count(storage.MessageFilter{Status: storage.StatusSuccess}); n != 15 {
		t.Errorf("status filter: %d, want 15", n)
	}
	if n := count(storage.MessageFilter{Status: storage.StatusPending}); n != 15 {
		t.Errorf("pending filter: %d, want 15", n)
	}
	if n := count(storage.MessageFilter{URI: "b"}); n != 10 {
		t.Errorf("uri filter: %d, want 10", n)
	}
	if n := count(storage.MessageFilter{ProviderID: "p", URI: "b"}); n != 5 {
		t.Errorf("provider+uri filter: %d, want 5", n)
	}
	if n := count(storage.MessageFilter{Since: base.Add(10 * time.Second), Until: base.Add(20 * time.Second)}); n != 10 {
		t.Errorf("time filter: %d, want 10", n)
	}
	if _, _, err := s.ListMessages(ctx(t), storage.MessageFilter{Cursor: "nope"}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("bad cursor: want ErrInvalid, got %v", err)
	}
}

func testPendingMessages(t *testing.T, s Functions) {
	pagesOfPending(t, s, s.PendingMessages)
}

// pagesOfPending appends five messages, completes the second, and checks
// that page (PendingMessages or ClaimPending) reads the other four in two
// pages, oldest first. It returns the first page.
func pagesOfPending(t *testing.T, s Functions, page func(ctx context.Context, after string, limit int) ([]storage.Message, error)) []storage.Message {
	var ids []string
	for i := range 5 {
		m := NewMessage(t, time.Now().Add(time.Duration(i)*time.Millisecond), "u")
		check(s.AppendMessage(ctx(t), m, nil))
		ids = append(ids, m.ID)
	}
	check(s.CompleteMessage(ctx(t), ids[1], storage.Outcome{Status: storage.StatusFailed, CompletedAt: time.Now()}))
	first := must(page(ctx(t), "", 2))
	if len(first) != 2 || first[0].ID != ids[0] || first[1].ID != ids[2] {
		t.Fatalf("first pending page: %v", first)
	}
	rest := must(page(ctx(t), first[1].ID, 10))
	if len(rest) != 2 || rest[0].ID != ids[3] || rest[1].ID != ids[4] {
		t.Fatalf("second pending page: %v", rest)
	}
	return first
}

func testPurge(t *testing.T, s Functions) {
	old := NewMessage(t, time.Now().Add(-8*24*time.Hour), "u")
	old2 := NewMessage(t, time.Now().Add(-7*24*time.Hour-time.Minute), "u")
	fresh := NewMessage(t, time.Now(), "u")
	for _, m := range []storage.Message{old, old2, fresh} {
		check(s.AppendMessage(ctx(t), m, []byte("body")))
	}
	cutoff := time.Now().Add(-7 * 24 * time.Hour)
	if n := must(s.PurgeMessages(ctx(t), cutoff, 1)); n != 1 {
		t.Fatalf("purged %d with limit 1", n)
	}
	if n := must(s.PurgeMessages(ctx(t), cutoff, 100)); n != 1 {
		t.Fatalf("second purge removed %d, want 1", n)
	}
	for _, id := range []string{old.ID, old2.ID} {
		if _, err := s.GetMessage(ctx(t), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("purged message still there: %v", err)
		}
		if _, err := s.GetPayload(ctx(t), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("purged payload still there: %v", err)
		}
	}
	if _, err := s.GetMessage(ctx(t), fresh.ID); err != nil {
		t.Fatalf("fresh message purged: %v", err)
	}
	if p := must(s.PendingMessages(ctx(t), "", 10)); len(p) != 1 || p[0].ID != fresh.ID {
		t.Fatalf("pending index after purge: %v", p)
	}
}

func testConcurrentAppends(t *testing.T, s Functions) {
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			m := NewMessage(t, time.Now(), "c")
			errs <- s.AppendMessage(context.Background(), m, []byte(m.ID))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := must(s.PendingMessages(ctx(t), "", 1000)); len(p) != n {
		t.Fatalf("%d pending after %d concurrent appends", len(p), n)
	}
}

func testNotFound(t *testing.T, s Functions) {
	for name, fn := range map[string]func() error{
		"provider":     func() error { _, err := s.GetProvider(ctx(t), uuid.NewString()); return err },
		"malformed id": func() error { _, err := s.GetProvider(ctx(t), "../etc"); return err },
		"function":     func() error { _, err := s.GetFunction(ctx(t), uuid.NewString()); return err },
		"message":      func() error { _, err := s.GetMessage(ctx(t), uuid.NewString()); return err },
		"payload":      func() error { _, err := s.GetPayload(ctx(t), uuid.NewString()); return err },
		"complete":     func() error { return s.CompleteMessage(ctx(t), uuid.NewString(), storage.Outcome{}) },
		"update":       func() error { _, err := s.UpdateProvider(ctx(t), storage.Provider{ID: uuid.NewString()}); return err },
	} {
		if err := fn(); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: want ErrNotFound, got %v", name, err)
		}
	}
}

func testScriptVersions(t *testing.T, s Functions) {
	p := must(s.CreateProvider(ctx(t), storage.Provider{Name: "p", MatchScript: "return 1"}))
	p.Description = "no script change"
	p = must(s.UpdateProvider(ctx(t), p))
	p.MatchScript = "return 2"
	p = must(s.UpdateProvider(ctx(t), p))
	// A rollback is a save of an old script: a new version.
	old := must(s.GetScriptVersion(ctx(t), p.ID, 1))
	p.MatchScript = old.Script
	p = must(s.UpdateProvider(ctx(t), p))
	if p.Version != 3 {
		t.Fatalf("provider version %d after two script changes, want 3", p.Version)
	}
	vs := must(s.ScriptVersions(ctx(t), p.ID))
	want := []string{"return 1", "return 2", "return 1"} // newest first
	if len(vs) != 3 {
		t.Fatalf("versions: %+v", vs)
	}
	for i, v := range vs {
		if v.Version != 3-i || v.Script != want[i] || v.SavedAt.IsZero() {
			t.Fatalf("version %d: %+v", i, v)
		}
	}

	f := must(s.CreateFunction(ctx(t), storage.Function{Name: "f", ProviderID: p.ID, Script: "LOG.info(1)"}))
	f.Script = "LOG.info(2)"
	f = must(s.UpdateFunction(ctx(t), f))
	fv := must(s.ScriptVersions(ctx(t), f.ID))
	if len(fv) != 2 || fv[0].Version != 2 || fv[0].Script != "LOG.info(2)" || fv[1].Script != "LOG.info(1)" {
		t.Fatalf("function versions: %+v", fv)
	}
	if _, err := s.GetScriptVersion(ctx(t), f.ID, 3); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := s.ScriptVersions(ctx(t), uuid.NewString()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("versions of nothing: %v", err)
	}

	check(s.DeleteFunction(ctx(t), f.ID))
	check(s.DeleteProvider(ctx(t), p.ID))
	if _, err := s.GetScriptVersion(ctx(t), p.ID, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("versions must go with their provider: %v", err)
	}
	if _, err := s.GetScriptVersion(ctx(t), f.ID, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("versions must go with their function: %v", err)
	}
}
