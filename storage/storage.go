// Package storage declares Switchyard's domain records, the Store
// interface every backend implements, and Cluster (cluster.go), what lets
// many nodes share one store. Backends live in subpackages (storage/bolt,
// storage/postgres) and all pass the conformance suite in
// storage/storagetest.
//
// The interface speaks the domain (AppendMessage, CompleteMessage,
// PendingMessages...) rather than buckets or tables, so each backend can use
// its native shape.
package storage

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// Sentinel errors. The server maps them to HTTP statuses in one place.
var (
	// ErrNotFound: no record with that id.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change contradicts the stored state (e.g. deleting a
	// provider that still has functions).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is not acceptable (bad field, bad script).
	ErrInvalid = errors.New("invalid")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable: the store cannot be reached now (a database
	// restarting, a network partition); the same call may work later.
	ErrUnavailable = errors.New("the store cannot be reached")
)

// Message statuses.
const (
	StatusPending   = "PENDING"
	StatusSuccess   = "SUCCESS"
	StatusFailed    = "FAILED"
	StatusUnmatched = "UNMATCHED"
)

// Provider decides, with its match script, whether it sent a webhook.
// Providers are tried in ascending Sequence; the first match wins.
type Provider struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Sequence    int    `json:"sequence"`
	Active      bool   `json:"active"`
	MatchScript string `json:"match_script"`
	// HandshakeScript, optional, runs for every request before anything
	// is recorded; the first that sets RESPONSE answers it (a sender's
	// URL verification).
	HandshakeScript string            `json:"handshake_script"`
	Properties      map[string]string `json:"properties"`
	Secrets         map[string]string `json:"-"` // plaintext in memory, sealed at rest, never serialised to clients
	MatchTimeoutMS  int               `json:"match_timeout_ms"`
	// AllowedSources are CIDRs (normalised: "203.0.113.0/24"); when there
	// are some, a request from an address outside all of them never
	// matches the provider, whose match script is then not run.
	AllowedSources []string  `json:"allowed_sources"`
	Version        int       `json:"version"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Function is a script bound to a provider and a URI.
type Function struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	ProviderID  string    `json:"provider_id"`
	URI         string    `json:"uri"`
	Active      bool      `json:"active"`
	Script      string    `json:"script"`
	TimeoutMS   int       `json:"timeout_ms"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Message is the metadata of one received webhook. Its body is stored apart
// (see Store.GetPayload) so that lists never read bodies.
type Message struct {
	ID           string            `json:"id"`
	ReceivedAt   time.Time         `json:"received_at"`
	Method       string            `json:"method"`
	URI          string            `json:"uri"`
	Headers      map[string]string `json:"headers,omitempty"`
	Query        url.Values        `json:"query,omitempty"`
	RemoteAddr   string            `json:"remote_addr"`
	RemoteHost   string            `json:"remote_host"`
	ContentType  string            `json:"content_type,omitempty"`
	Size         int               `json:"size"`
	Status       string            `json:"status"`
	ProviderID   string            `json:"provider_id,omitempty"`
	ProviderName string            `json:"provider_name,omitempty"`
	// ProviderVersion is the version of the match script that matched.
	ProviderVersion int        `json:"provider_version,omitempty"`
	Summary         string     `json:"message,omitempty"` // set by LOG.setMessage
	ResubmitOf      string     `json:"resubmit_of,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	DurationMS      float64    `json:"duration_ms,omitempty"`
}

// LogLine is one line a script logged.
type LogLine struct {
	Time   time.Time `json:"time"`
	Level  string    `json:"level"`
	Text   string    `json:"text"`
	Source string    `json:"source,omitempty"` // e.g. "provider:GitHub" for match-script lines
}

// Levels of a LogLine: those of scripts' LOG (kept as the script logged
// them), and of the lines the router writes itself.
const (
	LevelFine    = "FINE"
	LevelInfo    = "INFO"
	LevelWarning = "WARNING"
	LevelSevere  = "SEVERE" // an error: LOG.error, LOG.severe, a failed match script
)

// Execution records one function run for one message.
type Execution struct {
	FunctionID   string    `json:"function_id"`
	FunctionName string    `json:"function_name"`
	Version      int       `json:"version"`
	Status       string    `json:"status"` // SUCCESS or FAILED
	Error        string    `json:"error,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	DurationMS   float64   `json:"duration_ms"`
	Logs         []LogLine `json:"logs"`
}

// Outcome is what processing a message decided; CompleteMessage records it.
type Outcome struct {
	Status          string
	ProviderID      string
	ProviderName    string
	ProviderVersion int
	Summary         string
	CompletedAt     time.Time
	DurationMS      float64
	Logs            []LogLine // message-level lines (match scripts, router notes)
	Executions      []Execution
	// Strip deletes the message's payload and headers with the outcome,
	// in the same write (--unmatched metadata); GetPayload then answers
	// ErrNotFound.
	Strip bool
}

// ScriptVersion is one saved version of a provider's match script or of a
// function's script. Every save that changes the script adds one; versions
// are numbered from 1 and never rewritten.
type ScriptVersion struct {
	Version int       `json:"version"`
	Script  string    `json:"script"`
	SavedAt time.Time `json:"saved_at"`
}

// MessageDetail is a message with everything recorded about its processing.
type MessageDetail struct {
	Message
	Logs       []LogLine   `json:"logs"`
	Executions []Execution `json:"executions"`
}

// MessageFilter selects messages for a list, newest first.
type MessageFilter struct {
	Status     string
	ProviderID string
	URI        string
	// FunctionID selects the messages one of whose executions ran that
	// function.
	FunctionID string
	// Text selects the messages that hold it, exactly as given (case
	// matters), in their summary or URI; with Deep, also in a header (its
	// name, or its value unless it is a credential's, see
	// redact.CredentialHeader), a log line, an execution's error or the
	// payload.
	Text   string
	Deep   bool
	Since  time.Time // inclusive; zero means unbounded
	Until  time.Time // exclusive; zero means unbounded
	Cursor string    // the next_cursor of the previous page
	Limit  int
}

// A page of ListMessages with FunctionID or Text reads more than
// metadata, so it is bounded harder than other pages: it looks at no more
// than SearchScan messages, newest first, and stops after the message
// that brings the payload bytes it searched past SearchBytes; then it
// returns what it found with the cursor to go on from.
const (
	SearchScan  = 1000
	SearchBytes = 16 << 20
)

// Searching reports whether f needs more than a message's metadata, and
// so is bounded by SearchScan and SearchBytes.
func (f *MessageFilter) Searching() bool { return f.FunctionID != "" || f.Text != "" }

// Store is the durable state of one Switchyard installation: the union
// that every backend implements and the conformance suite checks, part
// by part. Its consumers each declare the part they use (functions.Store
// for the dispatcher, functions.CatalogueStore for the catalogue,
// notify.Store for the outbound engine, access.Store for users, tokens
// and sessions, scripting.Deduper for DEDUPE) and take only that.
//
// Writes that return nil are durable (committed and fsync'd). Implementations
// must be safe for concurrent use.
type Store interface {
	// Cluster: the nodes sharing the store, their claims, the change
	// feed and the locks (a store of one process has one node).
	Cluster

	ListProviders(ctx context.Context) ([]Provider, error) // ascending Sequence
	GetProvider(ctx context.Context, id string) (Provider, error)
	// CreateProvider stores p with a new id, Version 1 and the next Sequence.
	CreateProvider(ctx context.Context, p Provider) (Provider, error)
	// UpdateProvider replaces the editable fields of p.ID and bumps Version
	// when the match script changes. A nil Secrets keeps the stored ones.
	UpdateProvider(ctx context.Context, p Provider) (Provider, error)
	// DeleteProvider fails with ErrConflict while functions refer to it.
	DeleteProvider(ctx context.Context, id string) error
	// ReorderProviders sets Sequence by position; ids must name every
	// provider exactly once (ErrInvalid otherwise).
	ReorderProviders(ctx context.Context, ids []string) ([]Provider, error)

	ListFunctions(ctx context.Context) ([]Function, error)
	GetFunction(ctx context.Context, id string) (Function, error)
	// CreateFunction fails with ErrInvalid if the provider does not exist.
	CreateFunction(ctx context.Context, f Function) (Function, error)
	UpdateFunction(ctx context.Context, f Function) (Function, error)
	DeleteFunction(ctx context.Context, id string) error

	// ScriptVersions lists the saved scripts of a provider or function,
	// newest first (ErrNotFound if it does not exist). Creating and
	// updating providers and functions records them; deleting one deletes
	// its versions.
	ScriptVersions(ctx context.Context, id string) ([]ScriptVersion, error)
	// GetScriptVersion returns one saved version (ErrNotFound if absent).
	GetScriptVersion(ctx context.Context, id string, version int) (ScriptVersion, error)

	// FirstSeen reports whether key has not been seen within its TTL, and
	// if so records it (durably) as seen for ttl. Of concurrent callers
	// with the same new key exactly one gets true.
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// PurgeSeen forgets up to limit keys whose TTL ended before now and
	// says how many it forgot.
	PurgeSeen(ctx context.Context, now time.Time, limit int) (int, error)

	// AppendMessage durably records a received message and its raw body
	// with status PENDING.
	AppendMessage(ctx context.Context, m Message, payload []byte) error
	// CompleteMessage records the outcome of processing a PENDING message.
	CompleteMessage(ctx context.Context, id string, o Outcome) error
	GetMessage(ctx context.Context, id string) (MessageDetail, error)
	GetPayload(ctx context.Context, id string) ([]byte, error)
	// ListMessages returns one page, newest first, and the cursor of the
	// next page ("" at the end). A page may hold fewer than Limit items
	// while a cursor is still returned: backends bound the work per page.
	ListMessages(ctx context.Context, f MessageFilter) ([]Message, string, error)
	// PendingMessages returns PENDING messages with ids after `after`,
	// oldest first.
	PendingMessages(ctx context.Context, after string, limit int) ([]Message, error)
	// PurgeMessages deletes up to limit messages received before cutoff,
	// oldest first, and says how many it deleted.
	PurgeMessages(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// PurgeUnmatched deletes up to limit UNMATCHED messages received
	// before cutoff, oldest first, and says how many it deleted.
	PurgeUnmatched(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// DeleteMessages deletes the messages with these ids, with their
	// payloads, logs and executions, and says how many it deleted (ids
	// not found are passed over). A message being processed meanwhile
	// stays deleted (its CompleteMessage finds nothing).
	DeleteMessages(ctx context.Context, ids []string) (int, error)

	// Outbound endpoints. Secrets (auth password and token, signing
	// secrets) are sealed at rest and opened on read. UpdateEndpoint
	// replaces the configuration (every field but ID, CreatedAt and the
	// EndpointHealth, secrets included: the caller merges what it keeps);
	// only SetEndpointHealth changes the health, so an edit never undoes
	// what the delivery engine recorded meanwhile.
	ListEndpoints(ctx context.Context) ([]Endpoint, error) // oldest first
	GetEndpoint(ctx context.Context, id string) (Endpoint, error)
	CreateEndpoint(ctx context.Context, e Endpoint) (Endpoint, error)
	UpdateEndpoint(ctx context.Context, e Endpoint) (Endpoint, error)
	// DeleteEndpoint removes the endpoint; its deliveries stay, and the
	// engine fails the PENDING ones when it next picks them.
	DeleteEndpoint(ctx context.Context, id string) error
	// SetEndpointHealth records the engine's view of an endpoint (enabled,
	// failing since) without touching its configuration.
	SetEndpointHealth(ctx context.Context, id string, h EndpointHealth) (Endpoint, error)

	// The outbound catalogue: declared event types, by name. Changes are
	// ChangeEndpoints (the engine that uses them reloads with endpoints).
	ListEventTypes(ctx context.Context) ([]EventType, error) // by Type
	GetEventType(ctx context.Context, name string) (EventType, error)
	// PutEventType stores t under t.Type with UpdatedAt now: a new one
	// (CreatedAt now) or, unless create is set (then ErrConflict), in
	// place of the one stored, whose CreatedAt it keeps. It answers what
	// it stored and whether it was new.
	PutEventType(ctx context.Context, t EventType, create bool) (EventType, bool, error)
	DeleteEventType(ctx context.Context, name string) error

	// AppendEvent durably records an event and its deliveries (PENDING,
	// due at their NextAt) in one write. The event's data is written as
	// ev.DataJSON holds it, not encoded again.
	AppendEvent(ctx context.Context, ev EncodedEvent, ds []Delivery) error
	// AppendEventOnce is AppendEvent under an idempotency key: unless the
	// store holds a record of key.Key that expires after now, it records
	// key, ev and ds in one write and returns key and true; otherwise it
	// writes nothing and returns the record it holds and false. Of
	// concurrent callers with one new key (on every node sharing the
	// store) exactly one gets true. An expired record not yet purged is
	// replaced.
	AppendEventOnce(ctx context.Context, key Idempotency, ev EncodedEvent, ds []Delivery) (Idempotency, bool, error)
	// PurgeIdempotency forgets up to limit idempotency records that
	// expired before now and says how many it forgot.
	PurgeIdempotency(ctx context.Context, now time.Time, limit int) (int, error)
	// GetEvent returns an event with its data both as JSON (DataJSON)
	// and decoded (Data).
	GetEvent(ctx context.Context, id string) (EncodedEvent, error)
	GetDelivery(ctx context.Context, id string) (DeliveryDetail, error)
	// ListDeliveries returns one page, newest first, like ListMessages.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, string, error)
	// DueDeliveries returns PENDING deliveries due at or before now. For
	// every lane that has some, take(lane) says how many of its earliest
	// to return (0 skips the lane); lanes are visited in key order.
	// Deliveries for which skip(id) is true (the caller already has them
	// in hand) are passed over without being read or counted; skip may be
	// nil.
	DueDeliveries(ctx context.Context, now time.Time, take func(lane string) int, skip func(id string) bool) ([]Delivery, error)
	// RecordAttempt appends an attempt to a delivery (numbered after its
	// last) and moves it to u's state, all in one write.
	RecordAttempt(ctx context.Context, id string, a Attempt, u DeliveryUpdate) (Delivery, error)
	// ReplayDelivery makes a delivery that is not PENDING due now again,
	// with a fresh retry budget (Base = AttemptCount). ErrConflict if it
	// is PENDING.
	ReplayDelivery(ctx context.Context, id string, now time.Time) (Delivery, error)
	// ReplayFailed does the same for every FAILED delivery of an endpoint
	// created in [since, until) and says how many it replayed.
	ReplayFailed(ctx context.Context, endpointID string, since, until, now time.Time) (int, error)
	// PurgeDeliveries deletes up to limit deliveries created before
	// cutoff (with their attempts), and events published before cutoff,
	// oldest first, and says how many records it deleted.
	PurgeDeliveries(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// CountPendingDeliveries counts the PENDING deliveries (due now or
	// waiting for a retry), at most limit of them: the cost is bounded by
	// limit, whatever the store holds (bbolt walks the due index,
	// PostgreSQL the partial index of PENDING deliveries).
	CountPendingDeliveries(ctx context.Context, limit int) (int, error)

	// Setting and PutSetting keep small named values (e.g. whether
	// outbound delivery is paused). Setting returns nil for a name never
	// set.
	Setting(ctx context.Context, name string) ([]byte, error)
	PutSetting(ctx context.Context, name string, value []byte) error
	// InitSetting keeps value under name unless the name is set already,
	// in one step, and returns the value kept: value, or the one that was
	// there. Of many nodes initialising one setting at once, one wins and
	// all get its value.
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)

	// Users. Names are unique, case-insensitively (ErrConflict).
	ListUsers(ctx context.Context) ([]User, error) // oldest first
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByName(ctx context.Context, name string) (User, error)
	CreateUser(ctx context.Context, u User) (User, error)
	// UpdateUser replaces every field but ID and CreatedAt.
	UpdateUser(ctx context.Context, u User) (User, error)
	// RecordLogin sets a user's LastLoginAt and nothing else (a sign-in
	// must not write back a user it read before an admin's change).
	RecordLogin(ctx context.Context, id string, at time.Time) error
	// DeleteUser deletes the user with its tokens and sessions.
	DeleteUser(ctx context.Context, id string) error

	// API tokens, found by the SHA-256 of the token.
	CreateToken(ctx context.Context, t APIToken) (APIToken, error)
	ListTokens(ctx context.Context, userID string) ([]APIToken, error) // oldest first
	TokenByHash(ctx context.Context, hash []byte) (APIToken, error)
	// TouchToken records when a token was last used.
	TouchToken(ctx context.Context, id string, at time.Time) error
	DeleteToken(ctx context.Context, id string) error

	// Sessions. The caller makes the ID (a hash of the cookie's secret).
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, id string) (Session, error)
	DeleteSession(ctx context.Context, id string) error
	// ListSessions returns a user's sessions that have not expired,
	// oldest first; none for an unknown user.
	ListSessions(ctx context.Context, userID string) ([]Session, error)
	// DeleteSessions deletes every session of a user, expired or not,
	// but the one whose id is keep ("" keeps none), and answers how many
	// it deleted.
	DeleteSessions(ctx context.Context, userID, keep string) (int, error)
	// PurgeSessions deletes up to limit sessions that expired before now.
	PurgeSessions(ctx context.Context, now time.Time, limit int) (int, error)

	// AppendAudit records a change; e.ID must be a UUIDv7 (the caller's).
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns one page, newest first, like ListMessages.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, string, error)
	// PurgeAudit deletes up to limit entries older than cutoff.
	PurgeAudit(ctx context.Context, cutoff time.Time, limit int) (int, error)

	// Ping reports whether the store answers now: nil when it can be
	// read and written, ErrClosed once closed, the backend's error when
	// it cannot be reached (readiness checks call it, so it is cheap).
	Ping(ctx context.Context) error
	// StoreSize is how many bytes the store holds, as --max-store-bytes
	// counts them: for bbolt the file's pages in use (its free pages,
	// which it reuses, are not counted: the file never shrinks); for
	// PostgreSQL the stored size of the payloads (the part senders
	// control; the database's files do not shrink either). Callers poll
	// it: it may cost a scan.
	StoreSize(ctx context.Context) (int64, error)
	Close() error
}

// WriterStats count a backend's group commits since it was opened: the
// transactions committed, the writes they carried (so Writes/Commits is
// how many writes share a commit), and the time spent committing. Both
// backends keep them; /metrics exports them.
type WriterStats struct {
	Commits       uint64  // transactions committed
	Writes        uint64  // writes they carried
	CommitSeconds float64 // time spent committing (bbolt: fsync included)
}
