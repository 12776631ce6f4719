package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

// Audit is the part of the store behind the audit log, which the server
// alone uses: its middleware appends entries, its API lists them and its
// purge loop deletes the old ones.
type Audit interface {
	AppendAudit(ctx context.Context, e storage.AuditEntry) error
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEntry, string, error)
	PurgeAudit(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// RunAudit runs the tests of the audit log against the backend that open
// returns.
func RunAudit(t *testing.T, open func(t *testing.T) Audit) {
	run(t, open, []test[Audit]{
		{"Audit", testAudit},
		{"PurgeAudit", testPurgeAudit},
	})
}

func auditIDs(es []storage.AuditEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func testAudit(t *testing.T, s Audit) {
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	actions := []string{"provider.update", "provider.delete", "message.resubmit", "user.login", "provider"}
	var entries []storage.AuditEntry // oldest first
	for i := range 20 {
		at := base.Add(time.Duration(i) * time.Second)
		e := storage.AuditEntry{
			ID: NewID(t, at), Time: at, Actor: []string{"alice", "bob"}[i%2], Action: actions[i%len(actions)],
			Target: fmt.Sprint("target", i%4), Detail: fmt.Sprint("change ", i), IP: "192.0.2.1",
		}
		if i == 0 {
			e.UserID = uuid.NewString()
		}
		check(s.AppendAudit(ctx(t), e))
		entries = append(entries, e)
	}
	for name, id := range map[string]string{"empty": "", "malformed": "nope", "v4": uuid.NewString()} {
		wantErr(t, name+" id", s.AppendAudit(ctx(t), storage.AuditEntry{ID: id, Actor: "x", Action: "y"}), storage.ErrInvalid)
	}
	wantErr(t, "same id twice", s.AppendAudit(ctx(t), entries[0]), storage.ErrConflict)

	list := func(f storage.AuditFilter) []storage.AuditEntry {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 100
		}
		page, _, err := s.ListAudit(ctx(t), f)
		check(err)
		return page
	}
	// Every entry, newest first, as appended.
	all := list(storage.AuditFilter{})
	if len(all) != 20 {
		t.Fatalf("listed %d entries, want 20", len(all))
	}
	for i, got := range all {
		want := entries[19-i]
		if got.ID != want.ID || !got.Time.Equal(want.Time) || got.Actor != want.Actor || got.UserID != want.UserID || got.Action != want.Action ||
			got.Target != want.Target || got.Detail != want.Detail || got.IP != want.IP {
			t.Fatalf("position %d: got %+v, want %+v", i, got, want)
		}
	}
	// Without a limit, a page holds 50.
	if page, next, err := s.ListAudit(ctx(t), storage.AuditFilter{}); err != nil || len(page) != 20 || next != "" {
		t.Fatalf("default page: %d entries, next %q, %v", len(page), next, err)
	}

	want := func(keep func(e storage.AuditEntry) bool) []string {
		var out []string
		for i := len(entries) - 1; i >= 0; i-- {
			if keep(entries[i]) {
				out = append(out, entries[i].ID)
			}
		}
		return out
	}
	for name, tc := range map[string]struct {
		f    storage.AuditFilter
		keep func(e storage.AuditEntry) bool
	}{
		"actor":          {storage.AuditFilter{Actor: "bob"}, func(e storage.AuditEntry) bool { return e.Actor == "bob" }},
		"exact action":   {storage.AuditFilter{Action: "provider.update"}, func(e storage.AuditEntry) bool { return e.Action == "provider.update" }},
		"action no dot":  {storage.AuditFilter{Action: "provider"}, func(e storage.AuditEntry) bool { return e.Action == "provider" }},
		"action prefix":  {storage.AuditFilter{Action: "provider."}, func(e storage.AuditEntry) bool { return e.Action == "provider.update" || e.Action == "provider.delete" }},
		"partial action": {storage.AuditFilter{Action: "provider.up"}, func(e storage.AuditEntry) bool { return false }},
		"target":         {storage.AuditFilter{Target: "target1"}, func(e storage.AuditEntry) bool { return e.Target == "target1" }},
		"combined": {storage.AuditFilter{Actor: "alice", Action: "provider.", Target: "target2"}, func(e storage.AuditEntry) bool {
			return e.Actor == "alice" && (e.Action == "provider.update" || e.Action == "provider.delete") && e.Target == "target2"
		}},
		"since until": {storage.AuditFilter{Since: base.Add(5 * time.Second), Until: base.Add(12 * time.Second)}, func(e storage.AuditEntry) bool {
			return !e.Time.Before(base.Add(5*time.Second)) && e.Time.Before(base.Add(12*time.Second))
		}},
		"since and actor": {storage.AuditFilter{Since: base.Add(15 * time.Second), Actor: "alice"}, func(e storage.AuditEntry) bool {
			return !e.Time.Before(base.Add(15*time.Second)) && e.Actor == "alice"
		}},
	} {
		if got, want := auditIDs(list(tc.f)), want(tc.keep); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}

	// Paging newest first covers every match exactly once, whatever the
	// page size; a page may be short while a cursor is still returned.
	for _, f := range []storage.AuditFilter{{Limit: 3}, {Limit: 4, Actor: "alice"}, {Limit: 1, Action: "provider."}} {
		var seen []string
		cursor := ""
		for range 30 {
			f.Cursor = cursor
			page, next, err := s.ListAudit(ctx(t), f)
			check(err)
			if len(page) > f.Limit {
				t.Fatalf("page of %d with limit %d", len(page), f.Limit)
			}
			seen = append(seen, auditIDs(page)...)
			if next == "" {
				break
			}
			cursor = next
		}
		f.Cursor, f.Limit = "", 100
		if want := auditIDs(list(f)); fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Fatalf("paging %+v: got %v, want %v", f, seen, want)
		}
	}
	_, _, err := s.ListAudit(ctx(t), storage.AuditFilter{Cursor: "nope"})
	wantErr(t, "bad cursor", err, storage.ErrInvalid)

	// A zero time becomes the time of the append.
	before := time.Now().Add(-time.Second)
	e := storage.AuditEntry{ID: NewID(t, time.Now()), Actor: "admin-token", Action: "user.create"}
	check(s.AppendAudit(ctx(t), e))
	if got := list(storage.AuditFilter{Actor: "admin-token"}); len(got) != 1 || got[0].Time.Before(before) || got[0].Time.After(time.Now().Add(time.Second)) {
		t.Fatalf("entry without a time: %+v", got)
	}
}

func testPurgeAudit(t *testing.T, s Audit) {
	base := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Millisecond)
	var ids []string
	for i := range 5 {
		at := base.Add(time.Duration(i) * 24 * time.Hour)
		e := storage.AuditEntry{ID: NewID(t, at), Time: at, Actor: "alice", Action: "provider.update"}
		check(s.AppendAudit(ctx(t), e))
		ids = append(ids, e.ID)
	}
	cutoff := base.Add(3 * 24 * time.Hour) // entries 0, 1 and 2 are older
	if n := must(s.PurgeAudit(ctx(t), cutoff, 0)); n != 0 {
		t.Fatalf("purged %d with limit 0", n)
	}
	if n := must(s.PurgeAudit(ctx(t), cutoff, 2)); n != 2 {
		t.Fatalf("purged %d with limit 2", n)
	}
	if page, _, err := s.ListAudit(ctx(t), storage.AuditFilter{}); err != nil || fmt.Sprint(auditIDs(page)) != fmt.Sprint([]string{ids[4], ids[3], ids[2]}) {
		t.Fatalf("after purging the 2 oldest: %v %v", auditIDs(page), err)
	}
	if n := must(s.PurgeAudit(ctx(t), cutoff, 100)); n != 1 {
		t.Fatalf("second purge removed %d, want 1", n)
	}
	if n := must(s.PurgeAudit(ctx(t), cutoff, 100)); n != 0 {
		t.Fatalf("third purge removed %d, want 0", n)
	}
	if page, _, err := s.ListAudit(ctx(t), storage.AuditFilter{}); err != nil || fmt.Sprint(auditIDs(page)) != fmt.Sprint([]string{ids[4], ids[3]}) {
		t.Fatalf("after purge: %v %v", auditIDs(page), err)
	}
}
