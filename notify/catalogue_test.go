package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// engineWith is an engine whose catalogue holds the given declarations.
func engineWith(t testing.TB, types ...storage.EventType) *Engine {
	t.Helper()
	m := map[string]*declaredType{}
	for _, ty := range types {
		d := &declaredType{t: ty}
		if len(ty.Schema) > 0 {
			var err error
			if d.schema, err = compileSchema(ty.Schema); err != nil {
				t.Fatal(err)
			}
		}
		m[ty.Type] = d
	}
	e := &Engine{}
	e.catalogue.cur.Store(&m)
	return e
}

// TestSchemaErrorNamesThePlace: a refusal names the first failing place
// in the data, with array indexes, in one line.
func TestSchemaErrorNamesThePlace(t *testing.T) {
	e := engineWith(t, storage.EventType{Type: "cloud.resource.synced", Schema: json.RawMessage(`{
		"type": "object", "required": ["resources"],
		"properties": {"resources": {"type": "array", "items": {"type": "object", "required": ["id"],
			"properties": {"id": {"type": "string", "pattern": "^r-[0-9]+$"}, "size": {"type": "integer", "maximum": 10}}}}}}`)})
	for _, c := range []struct {
		data map[string]any
		want string
	}{
		{nil, "data: missing property 'resources'"},
		{map[string]any{"resources": "r-1"}, "data.resources: got string, want array"},
		{map[string]any{"resources": []any{map[string]any{"id": "r-1"}, map[string]any{"id": "x"}}}, "data.resources[1].id: '"},
		{map[string]any{"resources": []any{map[string]any{"id": "r-1", "size": 11}}}, "data.resources[0].size: maximum: got 11, want 10"},
	} {
		err := e.checkData(&storage.Event{Type: "cloud.resource.synced", Data: c.data})
		if err == nil || !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want it to say %q on one line", c.data, err, c.want)
		}
	}
	if err := e.checkData(&storage.Event{Type: "cloud.resource.synced", Data: map[string]any{"resources": []any{map[string]any{"id": "r-7", "size": json.Number("3")}}}}); err != nil {
		t.Fatalf("good data (a json.Number among it): %v", err)
	}
	if err := e.checkData(&storage.Event{Type: "undeclared", Data: map[string]any{"anything": 1}}); err != nil {
		t.Fatalf("an undeclared type: %v", err)
	}
}

// TestSchemasLoadNothing: a schema is an editor's input; it may refer to
// its own parts, never to a file or a URL, whatever the spelling.
func TestSchemasLoadNothing(t *testing.T) {
	for _, s := range []string{
		`{"$ref": "file:///etc/passwd"}`,
		`{"$ref": "/etc/passwd"}`,
		`{"$ref": "other.json"}`,
		`{"$ref": "http://169.254.169.254/latest/meta-data"}`,
		`{"$id": "file:///tmp/", "$ref": "x.json"}`,
		`{"$schema": "https://example.com/my-meta-schema"}`,
		`{"properties": {"a": {"$dynamicRef": "https://example.com/s.json#x"}}}`,
	} {
		_, err := CheckEventType("t", EventTypeChange{Schema: json.RawMessage(s)})
		if err == nil || !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: %v, want it refused", s, err)
		}
	}
	// Nor may it be recursive, or exponential once unrolled: the data
	// of a publish (a script's NOTIFY.send of what a sender posted) could
	// make its check run for ever.
	doubling := `{"$defs": {"d0": {"type": "string"}`
	for i := 1; i <= 12; i++ {
		doubling += fmt.Sprintf(`, "d%d": {"allOf": [{"$ref": "#/$defs/d%d"}, {"$ref": "#/$defs/d%d"}]}`, i, i-1, i-1)
	}
	doubling += `}, "properties": {"x": {"$ref": "#/$defs/d12"}}}`
	for s, want := range map[string]string{
		`{"properties": {"a": {"allOf": [{"$ref": "#"}, {"$ref": "#"}]}}}`:                       "refers to itself",
		`{"$defs": {"n": {"properties": {"next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"}`: "refers to itself",
		`{"$dynamicAnchor": "a", "properties": {"x": {"$dynamicRef": "#a"}}}`:                    "$dynamicRef and $recursiveRef are not supported",
		doubling: "too large: more than 2000 subschemas",
	} {
		_, err := CheckEventType("t", EventTypeChange{Schema: json.RawMessage(s)})
		if err == nil || !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), schemaURL) {
			t.Errorf("%.80s: %v, want it refused saying %q", s, err, want)
		}
	}
	for _, s := range []string{
		`{"$defs": {"host": {"type": "string"}}, "properties": {"host": {"$ref": "#/$defs/host"}, "also": {"$ref": "#/$defs/host"}}}`,
		`{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"n": {"type": "number"}}, "properties": {"n": {"$ref": "#/definitions/n"}}}`,
	} {
		if _, err := CheckEventType("t", EventTypeChange{Schema: json.RawMessage(s)}); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestSeenTypesAreBounded: at most MaxSeenTypes types are remembered,
// and those not seen within SeenWindow are forgotten, making room.
func TestSeenTypesAreBounded(t *testing.T) {
	var s seenTypes
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range MaxSeenTypes + 50 {
		s.saw("t"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), start)
	}
	if got := len(s.recent(start)); got != MaxSeenTypes {
		t.Fatalf("%d types remembered, want %d", got, MaxSeenTypes)
	}
	later := start.Add(SeenWindow + time.Hour)
	s.saw("fresh", later) // full: not remembered yet
	if got := s.recent(later); len(got) != 0 {
		t.Fatalf("after the window: %d types", len(got))
	}
	s.saw("fresh", later)
	got := s.recent(later)
	if at, ok := got["fresh"]; !ok || !at.Equal(later.Truncate(time.Minute)) || len(got) != 1 {
		t.Fatalf("after the old ones were forgotten: %v", got)
	}
}

// BenchmarkCheckData is what the catalogue adds to a publish: the check
// of bench/notify's event against the schema bench/notify -catalogue
// declares, and the same publish of an undeclared type.
func BenchmarkCheckData(b *testing.B) {
	e := engineWith(b, storage.EventType{Type: "bench.disk_full", Schema: json.RawMessage(`{"type": "object", "required": ["host", "mount", "used_pct", "seq", "sent"],
		"properties": {"host": {"type": "string", "pattern": "^[a-z]+-[0-9]+$"}, "mount": {"type": "string", "minLength": 1},
			"used_pct": {"type": "number", "minimum": 0, "maximum": 100}, "seq": {"type": "integer", "minimum": 0},
			"sent": {"type": "string", "maxLength": 32}}}`)})
	data := map[string]any{"host": "web-1", "mount": "/var", "used_pct": 93, "seq": int64(7), "sent": "1764800000000000000"}
	for _, c := range []struct{ name, typ string }{{"declared", "bench.disk_full"}, {"undeclared", "bench.other"}} {
		b.Run(c.name, func(b *testing.B) {
			ev := storage.Event{Type: c.typ, Data: data}
			for b.Loop() {
				if err := e.checkData(&ev); err != nil {
					b.Fatal(err)
				}
				e.seen.saw(ev.Type, time.Now())
			}
		})
	}
}

// TestSchemaPatternsAreBounded: Go's regexp expands counted repeats, so
// a schema's patterns are refused when their compiled program is large
// (one pattern or all together), and are not run on long strings.
func TestSchemaPatternsAreBounded(t *testing.T) {
	prop := func(pattern string) string {
		p, _ := json.Marshal(pattern)
		return `{"type": "object", "properties": {"s": {"type": "string", "pattern": ` + string(p) + `}}}`
	}
	for s, want := range map[string]string{
		prop(strings.Repeat("[ab]{1000}", 20) + "c"):   "too large once its repeats are expanded",
		prop(strings.Repeat("[ab]{1000}", 3000) + "c"): "at most 1024 characters",
		`{"patternProperties": {"[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}": {}}}`: "too large once",
		`{"propertyNames": {"pattern": "` + strings.Repeat("[ab]{1000}", 11) + `"}}`:                                                                    "too large once",
		`{"properties": {"a": {"pattern": "[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{900}"}, "b": {"pattern": "[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{900}"}, "c": {"pattern": "[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{900}"}, "d": {"pattern": "[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{900}"}, "e": {"pattern": "[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{900}"}, "f": {"pattern": "[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{1000}[ab]{900}"}}}`: "patterns are too large together",
	} {
		_, err := CheckEventType("t", EventTypeChange{Schema: json.RawMessage(s)})
		if err == nil || !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.80s: %v, want it refused saying %q", s, err, want)
		}
	}
	e := engineWith(t, storage.EventType{Type: "t", Schema: json.RawMessage(prop(`^a*$`))})
	for s, ok := range map[string]bool{
		strings.Repeat("a", MaxPatternInput):   true,
		strings.Repeat("a", MaxPatternInput+1): false,
	} {
		err := e.checkData(&storage.Event{Type: "t", Data: map[string]any{"s": s}})
		if (err == nil) != ok {
			t.Errorf("a string of %d characters: %v, want accepted %v", len(s), err, ok)
		}
	}
}
