package storagetest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// sameJSON: a and b are the same JSON document (a store may compact it).
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// testEventTypes: the catalogue's declared types are stored by name,
// created once (a second create is a conflict), replaced in place
// keeping their creation time, listed by name, and deleted; their
// example and schema come back as given, and absent ones stay absent.
func testEventTypes(t *testing.T, s Notify) {
	if got := must(s.ListEventTypes(ctx(t))); len(got) != 0 {
		t.Fatalf("a new store lists event types %v", got)
	}
	_, err := s.GetEventType(ctx(t), "alarm.host_lost")
	wantErr(t, "GetEventType of an undeclared type", err, storage.ErrNotFound)

	schema := json.RawMessage(`{"type": "object", "properties": {"severity": {"enum": ["critical", "major"]}}, "required": ["severity"]}`)
	example := json.RawMessage(`{"severity": "critical", "host": "db-01", "big": 12345678901234567890}`)
	lost := storage.EventType{Type: "alarm.host_lost", Kind: storage.KindAlarm, Description: "a host stopped answering",
		Example: example, Schema: schema}
	first, created, err := s.PutEventType(ctx(t), lost, true)
	check(err)
	if !created || first.CreatedAt.IsZero() || !first.UpdatedAt.Equal(first.CreatedAt) {
		t.Fatalf("create answered created=%v, times %v %v", created, first.CreatedAt, first.UpdatedAt)
	}
	_, _, err = s.PutEventType(ctx(t), lost, true)
	wantErr(t, "creating a declared type again", err, storage.ErrConflict)
	if msg := err.Error(); strings.Contains(msg, "put") || !strings.Contains(msg, `"alarm.host_lost" is declared already`) {
		t.Fatalf("creating a declared type again: %q, want it to say the type is declared already, naming no verb", msg)
	}

	synced := storage.EventType{Type: "cloud.resource.synced", Kind: storage.KindEvent, Description: "synced"}
	_, created, err = s.PutEventType(ctx(t), synced, false)
	check(err)
	if !created {
		t.Fatal("a put of a new type did not say it created it")
	}

	got := must(s.GetEventType(ctx(t), "alarm.host_lost"))
	if got.Kind != storage.KindAlarm || got.Description != lost.Description || !sameJSON(got.Example, example) || !sameJSON(got.Schema, schema) ||
		!got.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("GetEventType = %+v, want %+v", got, first)
	}

	// A replacement keeps the creation time and may drop the schema.
	lost.Description, lost.Schema, lost.Kind = "lost", nil, storage.KindEvent
	replaced, created, err := s.PutEventType(ctx(t), lost, false)
	check(err)
	if created || !replaced.CreatedAt.Equal(first.CreatedAt) || replaced.UpdatedAt.Before(first.UpdatedAt) {
		t.Fatalf("replace answered created=%v, times %v %v (first %v)", created, replaced.CreatedAt, replaced.UpdatedAt, first.CreatedAt)
	}
	got = must(s.GetEventType(ctx(t), "alarm.host_lost"))
	if got.Schema != nil || got.Kind != storage.KindEvent || got.Description != "lost" || !sameJSON(got.Example, example) {
		t.Fatalf("after replace: %+v", got)
	}

	list := must(s.ListEventTypes(ctx(t)))
	if len(list) != 2 || list[0].Type != "alarm.host_lost" || list[1].Type != "cloud.resource.synced" || list[1].Example != nil {
		t.Fatalf("ListEventTypes = %+v", list)
	}

	check(s.DeleteEventType(ctx(t), "alarm.host_lost"))
	wantErr(t, "deleting a deleted type", s.DeleteEventType(ctx(t), "alarm.host_lost"), storage.ErrNotFound)
	if list := must(s.ListEventTypes(ctx(t))); len(list) != 1 || list[0].Type != "cloud.resource.synced" {
		t.Fatalf("after delete: %+v", list)
	}
}
