// Package transfer copies a whole store into another, every record as it
// is: ids, versions, timestamps, password hashes and the history of every
// script. It is what `switchyard copy-store` runs to move one bbolt node
// to PostgreSQL (or back).
//
// storage.Store cannot do this: its Create methods give a record a new
// id, version and time. A backend that can be copied from implements
// Exporter, which reads its records a batch at a time in key order; one
// that can be copied into implements Importer, which writes a batch
// verbatim, with the indexes that go with it, in one transaction.
// storage/bolt and storage/postgres implement both.
//
// Secrets travel opened (the storage types hold them in plain text, in
// memory only) and the importer seals them again with its own key: the
// two stores' sealed forms differ anyway. Copy never prints a record's
// value: a mismatch names the record and the field.
package transfer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Kind names one kind of record.
type Kind string

// The kinds of record a store holds.
const (
	Settings   Kind = "settings"
	Users      Kind = "users"
	Tokens     Kind = "tokens"
	Sessions   Kind = "sessions"
	Providers  Kind = "providers"
	Functions  Kind = "functions"
	Endpoints  Kind = "endpoints"
	EventTypes Kind = "event_types"
	Events     Kind = "events"
	Deliveries Kind = "deliveries"
	// Idempotency keys of POST /events, with the answer they gave.
	Idempotency Kind = "idempotency"
	Messages    Kind = "messages"
	Seen        Kind = "seen"
	Audit       Kind = "audit"
)

// Kinds lists every kind in the order Copy copies them: a record comes
// after what it refers to (a token after its user, a function after its
// provider).
var Kinds = []Kind{Settings, Users, Tokens, Sessions, Providers, Functions, Endpoints, EventTypes, Events, Deliveries, Idempotency, Messages, Seen, Audit}

// Check says whether k is one of Kinds: nil, or an error that wraps
// storage.ErrInvalid.
func (k Kind) Check() error {
	if slices.Contains(Kinds, k) {
		return nil
	}
	return fmt.Errorf("%w: no kind of record is called %q", storage.ErrInvalid, k)
}

// Part names what Counts.Parts counts for records of k: "versions",
// "payloads", "attempts", or "" for a kind that has no parts.
func (k Kind) Part() string {
	switch k {
	case Providers, Functions:
		return "versions"
	case Messages:
		return "payloads"
	case Deliveries:
		return "attempts"
	}
	return ""
}

// Show is a record's key as a message may show it: an id or a setting's
// name, but not a session's id (a hash of its cookie) nor a DEDUPE key
// or an idempotency key (anything a script or a publisher chose).
func (k Kind) Show(key string) string {
	if k == Sessions || k == Seen || k == Idempotency {
		return "a record (its key is not shown)"
	}
	return key
}

// Provider is a provider with every saved version of its match script.
type Provider struct {
	storage.Provider
	Versions []storage.ScriptVersion // oldest first
}

// Function is a function with every saved version of its script.
type Function struct {
	storage.Function
	Versions []storage.ScriptVersion // oldest first
}

// Message is a message with its outcome, logs, executions and body.
type Message struct {
	storage.MessageDetail
	// Payload is the body as received; nil when none is stored.
	Payload []byte
}

// SeenKey is a DEDUPE key, kept until ExpiresAt.
type SeenKey struct {
	Key       string
	ExpiresAt time.Time
}

// Setting is a named value (Store.Setting).
type Setting struct {
	Name  string
	Value []byte
}

// Batch is a run of records of one kind, in key order: only the slice of
// its Kind is used. A record's key is its ID, or a DEDUPE or idempotency
// key's Key, a setting's Name or an event type's Type; keys sort byte by
// byte.
type Batch struct {
	Kind       Kind
	Settings   []Setting
	Users      []storage.User
	Tokens     []storage.APIToken
	Sessions   []storage.Session
	Providers  []Provider
	Functions  []Function
	Endpoints  []storage.Endpoint
	EventTypes []storage.EventType
	Events     []storage.EncodedEvent
	Deliveries []storage.DeliveryDetail
	// Idempotency records travel whole, expired or not: the target's
	// purge forgets them as the source's would.
	Idempotency []storage.Idempotency
	Messages    []Message
	Seen        []SeenKey
	Audit       []storage.AuditEntry
}

// records gives a batch's records alike: how many there are, and the key
// and value of the i-th.
func (b *Batch) records() (n int, key func(i int) string, rec func(i int) any) {
	switch b.Kind {
	case Settings:
		return view(b.Settings, func(r *Setting) string { return r.Name })
	case Users:
		return view(b.Users, func(r *storage.User) string { return r.ID })
	case Tokens:
		return view(b.Tokens, func(r *storage.APIToken) string { return r.ID })
	case Sessions:
		return view(b.Sessions, func(r *storage.Session) string { return r.ID })
	case Providers:
		return view(b.Providers, func(r *Provider) string { return r.ID })
	case Functions:
		return view(b.Functions, func(r *Function) string { return r.ID })
	case Endpoints:
		return view(b.Endpoints, func(r *storage.Endpoint) string { return r.ID })
	case EventTypes:
		return view(b.EventTypes, func(r *storage.EventType) string { return r.Type })
	case Events:
		return view(b.Events, func(r *storage.EncodedEvent) string { return r.ID })
	case Deliveries:
		return view(b.Deliveries, func(r *storage.DeliveryDetail) string { return r.ID })
	case Idempotency:
		return view(b.Idempotency, func(r *storage.Idempotency) string { return r.Key })
	case Messages:
		return view(b.Messages, func(r *Message) string { return r.ID })
	case Seen:
		return view(b.Seen, func(r *SeenKey) string { return r.Key })
	case Audit:
		return view(b.Audit, func(r *storage.AuditEntry) string { return r.ID })
	}
	return 0, nil, nil
}

func view[T any](s []T, key func(*T) string) (int, func(int) string, func(int) any) {
	return len(s), func(i int) string { return key(&s[i]) }, func(i int) any { return &s[i] }
}

// Len is how many records the batch holds.
func (b *Batch) Len() int {
	n, _, _ := b.records()
	return n
}

// Key is the key of the i-th record.
func (b *Batch) Key(i int) string {
	_, key, _ := b.records()
	return key(i)
}

// Last is the key of the batch's last record, where the next batch
// starts after; "" for an empty batch.
func (b *Batch) Last() string {
	n, key, _ := b.records()
	if n == 0 {
		return ""
	}
	return key(n - 1)
}

// PayloadBytes is the size of the message bodies the batch carries.
func (b *Batch) PayloadBytes() int64 {
	var n int64
	for i := range b.Messages {
		n += int64(len(b.Messages[i].Payload))
	}
	return n
}

// MaxBatchBytes bounds the bodies one exported batch carries: an exporter
// ends a batch of messages after the one that reaches it, so that a batch
// of large bodies stays a few MiB in memory and in one transaction.
const MaxBatchBytes = 16 << 20

// Counts is how many records of a kind a store holds, and how many parts
// they have (Kind.Part: script versions, message bodies, delivery
// attempts).
type Counts struct {
	Records int64
	Parts   int64
}

// Exporter reads a store's records as they are.
type Exporter interface {
	// Export returns up to limit records of kind k whose keys sort after
	// `after` ("" for the first), in key order. A batch of messages may
	// hold fewer (MaxBatchBytes); an empty batch means there are no
	// more. Each call is a short read of its own: a batch is a consistent
	// view, the whole export is only if nothing writes to the store
	// meanwhile.
	Export(ctx context.Context, k Kind, after string, limit int) (Batch, error)
	// Count says how many records of kind k the store holds.
	Count(ctx context.Context, k Kind) (Counts, error)
}

// Importer writes records into a store as they are.
type Importer interface {
	// Import writes every record of b, in one transaction, with the
	// indexes that go with them, and seals their secrets with the
	// store's key. It fails with storage.ErrConflict if one exists
	// already; what a record refers to must have been imported before
	// (Kinds is an order that works).
	Import(ctx context.Context, b Batch) error
	// Count says how many records of kind k the store holds.
	Count(ctx context.Context, k Kind) (Counts, error)
}

// Target is a store to copy into: Copy imports into it, then reads back
// what it wrote to compare.
type Target interface {
	Importer
	Exporter
}
