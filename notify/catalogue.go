package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/storage"
)

// The outbound catalogue: the event types publishers use and subscribers
// pick from. It lists the system types (below), the declared ones (stored,
// edited by editors, each with an optional JSON Schema that a publish of
// its type must satisfy) and the types this node saw published recently
// that nobody declared. Declaring is optional: an event of an undeclared
// type publishes as before.

// Catalogue limits.
const (
	MaxEventTypes   = 1000     // declared types
	MaxSchemaBytes  = 64 << 10 // a declared type's schema, as JSON
	MaxExampleBytes = 64 << 10 // a declared type's example, as JSON
	// MaxSeenTypes bounds the undeclared types a node remembers having
	// seen; SeenWindow is how long it remembers one.
	MaxSeenTypes = 1000
	SeenWindow   = 7 * 24 * time.Hour
)

// Where a catalogue entry comes from.
const (
	SourceSystem   = "system"
	SourceDeclared = "declared"
	SourceSeen     = "seen"
)

// CatalogueEntry is one event type as the catalogue lists it.
type CatalogueEntry struct {
	Type        string          `json:"type"`
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Source      string          `json:"source"`
	// LastSeen is when this node last saw a type of source "seen"
	// published (to the minute).
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// systemTypes are the types Switchyard publishes itself, as the
// catalogue lists them; they cannot be declared.
var systemTypes = []CatalogueEntry{
	{Type: MessageFailed, Kind: storage.KindAlarm, Source: SourceSystem,
		Description: "A webhook's function threw or ran past its timeout.",
		Example: json.RawMessage(`{"message_id":"0193b1f2-7c1e-7d2a-9a51-3b7c2f1d4e5a","uri":"/webhooks/github","method":"POST","remote_addr":"203.0.113.7","status":"FAILED",` +
			`"provider_id":"0193b1f2-0000-7000-8000-000000000001","provider_name":"github","error":"notify-team: TypeError: x is undefined",` +
			`"failed_functions":[{"function_id":"0193b1f2-0000-7000-8000-000000000002","function_name":"notify-team","error":"TypeError: x is undefined"}]}`)},
	{Type: MessageUnmatched, Kind: storage.KindAlarm, Source: SourceSystem,
		Description: "No provider matched a webhook, or one did but none of its active functions has the URI.",
		Example:     json.RawMessage(`{"message_id":"0193b1f2-7c1e-7d2a-9a51-3b7c2f1d4e5b","uri":"/webhooks/unknown","method":"POST","remote_addr":"203.0.113.7","status":"UNMATCHED","reason":"no_provider"}`)},
	{Type: MessageSucceeded, Kind: storage.KindEvent, Source: SourceSystem,
		Description: "Every function of a webhook succeeded (only to endpoints that name this type exactly).",
		Example: json.RawMessage(`{"message_id":"0193b1f2-7c1e-7d2a-9a51-3b7c2f1d4e5c","uri":"/webhooks/github","method":"POST","remote_addr":"203.0.113.7","status":"SUCCESS",` +
			`"provider_id":"0193b1f2-0000-7000-8000-000000000001","provider_name":"github","functions":[{"function_id":"0193b1f2-0000-7000-8000-000000000002","function_name":"notify-team","duration_ms":12}],"duration_ms":14}`)},
	{Type: EndpointDisabled, Kind: storage.KindAlarm, Source: SourceSystem,
		Description: "An endpoint was turned off: it answered 410 Gone, or its deliveries kept failing.",
		Example:     json.RawMessage(`{"endpoint_id":"0193b1f2-0000-7000-8000-000000000003","endpoint_name":"ops chat","reason":"failing for 24 hours"}`)},
}

// reservedType reports whether name is a type Switchyard publishes or
// uses itself, which cannot be declared.
func reservedType(name string) bool {
	switch name {
	case MessageFailed, MessageUnmatched, MessageSucceeded, EndpointDisabled, TestType, ValidateType, CallbackType:
		return true
	}
	return false
}

// declaredType is a declared type ready to check events against.
type declaredType struct {
	t      storage.EventType
	schema *jsonschema.Schema // nil: none
}

// catalogue is the engine's view of the declared types: a snapshot that
// publishing reads without a lock, replaced whole on every change.
type catalogue struct {
	cur atomic.Pointer[map[string]*declaredType]
}

func (c *catalogue) get(name string) *declaredType {
	m := c.cur.Load()
	if m == nil {
		return nil
	}
	return (*m)[name]
}

// seenTypes remembers the types this node saw published: type -> the
// Unix minute it last saw it (*atomic.Int64). A publish of a type seen
// this minute costs a map read and an atomic load; at most MaxSeenTypes
// are kept, those older than SeenWindow being forgotten when the
// catalogue is listed.
type seenTypes struct {
	m sync.Map
	n atomic.Int64
}

func (s *seenTypes) saw(name string, now time.Time) {
	minute := now.Unix() / 60
	if v, ok := s.m.Load(name); ok {
		last := v.(*atomic.Int64)
		if last.Load() != minute {
			last.Store(minute)
		}
		return
	}
	if s.n.Load() >= MaxSeenTypes {
		return
	}
	last := new(atomic.Int64)
	last.Store(minute)
	if _, loaded := s.m.LoadOrStore(name, last); !loaded {
		s.n.Add(1)
	}
}

// recent lists the types seen within SeenWindow of now, forgetting the
// older ones.
func (s *seenTypes) recent(now time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	oldest := now.Add(-SeenWindow).Unix() / 60
	s.m.Range(func(k, v any) bool {
		minute := v.(*atomic.Int64).Load()
		if minute < oldest {
			if s.m.CompareAndDelete(k, v) {
				s.n.Add(-1)
			}
			return true
		}
		out[k.(string)] = time.Unix(minute*60, 0).UTC()
		return true
	})
	return out
}

// reloadCatalogue rebuilds the declared types from the store. A schema
// is compiled when it changed: the reloads of the endpoints' kind (an
// endpoint's health moving, on another node) keep the compiled ones. A
// stored schema that no longer compiles (saved by another version) is
// logged and not enforced.
func (e *Engine) reloadCatalogue(ctx context.Context) error {
	types, err := e.store.ListEventTypes(ctx)
	if err != nil {
		return fmt.Errorf("notify: load event types: %w", err)
	}
	m := make(map[string]*declaredType, len(types))
	for _, t := range types {
		d := &declaredType{t: t}
		if old := e.catalogue.get(t.Type); old != nil && bytes.Equal(old.t.Schema, t.Schema) {
			d.schema = old.schema
		} else if len(t.Schema) > 0 {
			if d.schema, err = compileSchema(t.Schema); err != nil {
				e.log.Error("event type's schema cannot be used", "event_type", t.Type, "err", err)
			}
		}
		m[t.Type] = d
	}
	e.catalogue.cur.Store(&m)
	return nil
}

// EventTypes lists the catalogue: the system types, then the declared
// ones and the types seen recently but not declared, by name.
func (e *Engine) EventTypes() []CatalogueEntry {
	out := slices.Clone(systemTypes)
	var listed []CatalogueEntry
	names := map[string]bool{}
	if m := e.catalogue.cur.Load(); m != nil {
		for _, d := range *m {
			listed = append(listed, DeclaredEntry(d.t))
			names[d.t.Type] = true
		}
	}
	for name, at := range e.seen.recent(time.Now()) {
		if names[name] || reservedType(name) {
			continue
		}
		listed = append(listed, CatalogueEntry{Type: name, Kind: storage.KindEvent, Source: SourceSeen, LastSeen: &at})
	}
	slices.SortFunc(listed, func(a, b CatalogueEntry) int { return strings.Compare(a.Type, b.Type) })
	return append(out, listed...)
}

// EventType returns one entry of the catalogue: a system type or a
// declared one (ErrNotFound otherwise).
func (e *Engine) EventType(ctx context.Context, name string) (CatalogueEntry, error) {
	for _, s := range systemTypes {
		if s.Type == name {
			return s, nil
		}
	}
	t, err := e.store.GetEventType(ctx, name)
	if err != nil {
		return CatalogueEntry{}, err
	}
	return DeclaredEntry(t), nil
}

// DeclaredEntry is a declared type as the catalogue lists it.
func DeclaredEntry(t storage.EventType) CatalogueEntry {
	created, updated := t.CreatedAt, t.UpdatedAt
	return CatalogueEntry{Type: t.Type, Kind: t.Kind, Description: t.Description, Example: t.Example, Schema: t.Schema,
		Source: SourceDeclared, CreatedAt: &created, UpdatedAt: &updated}
}

// EventTypeChange is the body of POST and PUT /event-types/{type}: the
// type comes from the path.
type EventTypeChange struct {
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example"`
	Schema      json.RawMessage `json:"schema"`
}

// DeclareEventType checks a declaration and stores it: a new type when
// create is set (ErrConflict if it is declared already), else a new one
// or in place of the stored one. It answers the stored type and whether
// it is new.
func (e *Engine) DeclareEventType(ctx context.Context, name string, ch EventTypeChange, create bool) (storage.EventType, bool, error) {
	t, err := CheckEventType(name, ch)
	if err != nil {
		return t, false, err
	}
	e.catalogueMu.Lock()
	defer e.catalogueMu.Unlock()
	if e.catalogue.get(name) == nil {
		if m := e.catalogue.cur.Load(); m != nil && len(*m) >= MaxEventTypes {
			return t, false, invalid("at most %d event types can be declared; delete one first", MaxEventTypes)
		}
	}
	saved, created, err := e.store.PutEventType(ctx, t, create)
	if err != nil {
		return saved, false, err
	}
	return saved, created, e.reloadCatalogue(ctx)
}

// DeleteEventType forgets a declared type: its events publish unchecked.
func (e *Engine) DeleteEventType(ctx context.Context, name string) error {
	if reservedType(name) {
		return fmt.Errorf("%w: %s is a system event type; it cannot be deleted", storage.ErrConflict, field.Quote(name))
	}
	e.catalogueMu.Lock()
	defer e.catalogueMu.Unlock()
	if err := e.store.DeleteEventType(ctx, name); err != nil {
		return err
	}
	return e.reloadCatalogue(ctx)
}

// CheckEventType checks a declaration of type name and returns the type
// to store. The name follows the rules of an event's type (CheckEvent)
// and may not hold '/'; the kind is "event" (the default) or "alarm";
// example and schema are JSON objects of at most 64 KiB, the schema one
// that compiles without loading anything (no remote or file $ref), and
// the example, when both are given, satisfies the schema.
func CheckEventType(name string, ch EventTypeChange) (storage.EventType, error) {
	t := storage.EventType{Type: name, Kind: ch.Kind, Description: ch.Description}
	if err := CheckEvent(storage.Event{Type: name}); err != nil {
		return t, err
	}
	if strings.Contains(name, "/") {
		return t, invalid("type must not hold '/', got %s", field.Quote(name))
	}
	if reservedType(name) {
		return t, fmt.Errorf("%w: %s is a system event type; it cannot be declared", storage.ErrConflict, field.Quote(name))
	}
	switch t.Kind {
	case "":
		t.Kind = storage.KindEvent
	case storage.KindEvent, storage.KindAlarm:
	default:
		return t, invalid("kind: must be %q or %q, got %s", storage.KindEvent, storage.KindAlarm, field.Quote(t.Kind))
	}
	if err := field.Text("description", t.Description, field.MaxDescription); err != nil {
		return t, err
	}
	var err error
	if t.Example, err = jsonObject("example", ch.Example, MaxExampleBytes); err != nil {
		return t, err
	}
	if t.Schema, err = jsonObject("schema", ch.Schema, MaxSchemaBytes); err != nil {
		return t, err
	}
	if t.Schema == nil {
		return t, nil
	}
	sch, err := compileSchema(t.Schema)
	if err != nil {
		return t, invalid("schema: %v", err)
	}
	if t.Example != nil {
		if err := validateData(sch, t.Example); err != nil {
			return t, invalid("example does not satisfy the schema: %s", err)
		}
	}
	return t, nil
}

// jsonObject checks that raw, if given (not absent, null or {}), is a
// JSON object of at most max bytes, and returns it compacted (nil if not
// given).
func jsonObject(name string, raw json.RawMessage, max int) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if len(raw) > max {
		return nil, invalid("%s: at most %d bytes of JSON, got %d", name, max, len(raw))
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	if raw[0] != '{' {
		return nil, invalid("%s: must be a JSON object", name)
	}
	if out.String() == "{}" {
		return nil, nil // an empty object is none, as "filter": {} is
	}
	return out.Bytes(), nil
}

// schemaURL is where a declared schema is said to live: nowhere, so that
// a relative $ref resolves to a URL the loader refuses.
const schemaURL = "https://event-types.switchyard.invalid/schema.json"

// noLoader refuses to load anything: a schema is an editor's input and
// must not make the server read a file or a URL. The metaschemas of the
// drafts are built into the library and need no loading.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, errors.New("a schema may not refer to another document (only to its own parts, \"#/$defs/...\")")
}

// compileSchema compiles a declared type's schema (JSON Schema 2020-12
// unless its $schema names another draft), loading nothing.
func compileSchema(raw json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	c.UseRegexpEngine(boundedRegexpEngine())
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(schemaURL)
	if err == nil {
		_, err = schemaSize(sch, map[*jsonschema.Schema]int{}, map[*jsonschema.Schema]bool{})
	}
	if err != nil {
		return nil, compileError(err)
	}
	return sch, nil
}

// MaxSchemaNodes bounds a schema's size with every $ref unrolled: the
// subschemas a check may apply to one place of the data. A check's
// work is at most this many times the data's size.
const MaxSchemaNodes = 2000

// schemaSize counts the subschemas of s with every reference unrolled
// (memo holds those counted, onPath those being counted). It refuses a
// schema that refers to itself, whose check could apply it to the data's
// every level over and over (twice per level makes 2^depth checks), a
// $dynamicRef or $recursiveRef, which resolve only while checking, and
// one over MaxSchemaNodes (a few definitions that each use the previous
// twice are exponential too).
func schemaSize(s *jsonschema.Schema, memo map[*jsonschema.Schema]int, onPath map[*jsonschema.Schema]bool) (int, error) {
	if s == nil {
		return 0, nil
	}
	if n, ok := memo[s]; ok {
		return n, nil
	}
	if onPath[s] {
		return 0, fmt.Errorf("%s refers to itself: a schema may not be recursive (a check could apply it to every level of the data, again and again)", s.Location)
	}
	if s.DynamicRef != nil || s.RecursiveRef != nil {
		return 0, fmt.Errorf("%s: $dynamicRef and $recursiveRef are not supported", s.Location)
	}
	onPath[s] = true
	defer delete(onPath, s)
	n := 1
	for _, c := range subschemas(s) {
		m, err := schemaSize(c, memo, onPath)
		if err != nil {
			return 0, err
		}
		if n += m; n > MaxSchemaNodes {
			return 0, fmt.Errorf("%s: too large: more than %d subschemas once its references are unrolled", s.Location, MaxSchemaNodes)
		}
	}
	memo[s] = n
	return n, nil
}

// subschemas lists the schemas s applies to the data or a part of it.
func subschemas(s *jsonschema.Schema) []*jsonschema.Schema {
	out := []*jsonschema.Schema{s.Ref, s.Not, s.If, s.Then, s.Else, s.PropertyNames, s.UnevaluatedProperties,
		s.Contains, s.Items2020, s.UnevaluatedItems, s.ContentSchema}
	out = append(out, s.AllOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.OneOf...)
	out = append(out, s.PrefixItems...)
	for _, c := range s.Properties {
		out = append(out, c)
	}
	for _, c := range s.PatternProperties {
		out = append(out, c)
	}
	for _, c := range s.DependentSchemas {
		out = append(out, c)
	}
	for _, v := range s.Dependencies {
		if c, ok := v.(*jsonschema.Schema); ok {
			out = append(out, c)
		}
	}
	for _, v := range []any{s.AdditionalProperties, s.AdditionalItems, s.Items} {
		switch c := v.(type) {
		case *jsonschema.Schema:
			out = append(out, c)
		case []*jsonschema.Schema:
			out = append(out, c...)
		}
	}
	return out
}

// validateData checks a JSON document against sch.
func validateData(sch *jsonschema.Schema, raw json.RawMessage) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return schemaError(sch.Validate(doc))
}

var printer = message.NewPrinter(language.English)

// schemaError turns a validation error into one line that names the
// first failing place in the data, e.g. `data.severity: value must be one
// of "critical", "major"`.
func schemaError(err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	path := "data"
	for _, tok := range ve.InstanceLocation {
		if _, err := strconv.Atoi(tok); err == nil {
			path += "[" + tok + "]"
		} else {
			path += "." + tok
		}
	}
	return errors.New(path + ": " + ve.ErrorKind.LocalizedString(printer))
}

// checkData checks an event's data against the schema of its declared
// type, if it has one.
func (e *Engine) checkData(ev *storage.Event) error {
	d := e.catalogue.get(ev.Type)
	if d == nil || d.schema == nil {
		return nil
	}
	var doc any = map[string]any{}
	if ev.Data != nil {
		doc = ev.Data
	}
	if err := schemaError(d.schema.Validate(doc)); err != nil {
		return invalid("data does not satisfy the schema of event type %s: %s", field.Quote(ev.Type), err)
	}
	return nil
}
