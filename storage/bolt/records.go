package bolt

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// The disk record types: what each kind of record is on disk, with its
// own JSON names (format.go says how a record is framed). They are apart
// from the storage types so that the API's JSON can change without
// changing the file; the names here are the file's, and changing one is a
// change of format (a new formatVersion, the old one still read).
//
// Most have exactly the fields of their storage type, in the same order,
// and are converted with a type conversion, so that a field added to the
// storage type stops the build until it is given its disk name here. The
// others (executions, endpoints, callbacks, deliveries) hold disk types
// inside, are converted field by field, and records_test.go fills every
// field of the storage type and checks it comes back.

// diskProvider is a provider as stored; its secrets are sealed apart
// (providerRecord).
type diskProvider struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Sequence    int    `json:"sequence"`
	Active      bool   `json:"active"`
	MatchScript string `json:"match_script"`
	// HandshakeScript came after format 1's first records, which lack it
	// (and so have none).
	HandshakeScript string            `json:"handshake_script,omitempty"`
	Properties      map[string]string `json:"properties"`
	Secrets         map[string]string `json:"-"`
	MatchTimeoutMS  int               `json:"match_timeout_ms"`
	AllowedSources  []string          `json:"allowed_sources,omitempty"`
	Version         int               `json:"version"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// diskFunction is a function as stored.
type diskFunction struct {
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

// diskMessage is a message record as decoded. appendMessageJSON writes
// it, and only the request's metadata: the outcome fields live in the
// outcomes bucket (outcomeRecord) and are never written here, but keep
// their names so that records from before that split still load.
type diskMessage struct {
	ID              string            `json:"id"`
	ReceivedAt      time.Time         `json:"received_at"`
	Method          string            `json:"method"`
	URI             string            `json:"uri"`
	Headers         map[string]string `json:"headers,omitempty"`
	Query           url.Values        `json:"query,omitempty"`
	RemoteAddr      string            `json:"remote_addr"`
	RemoteHost      string            `json:"remote_host"`
	ContentType     string            `json:"content_type,omitempty"`
	Size            int               `json:"size"`
	Status          string            `json:"status"`
	ProviderID      string            `json:"provider_id,omitempty"`
	ProviderName    string            `json:"provider_name,omitempty"`
	ProviderVersion int               `json:"provider_version,omitempty"`
	Summary         string            `json:"message,omitempty"`
	ResubmitOf      string            `json:"resubmit_of,omitempty"`
	CompletedAt     *time.Time        `json:"completed_at,omitempty"`
	DurationMS      float64           `json:"duration_ms,omitempty"`
}

// decodeMessage decodes a message record into m.
func decodeMessage(raw []byte, m *storage.Message) error {
	var d diskMessage
	if err := decodeRecord(raw, &d); err != nil {
		return err
	}
	*m = storage.Message(d)
	return nil
}

// diskScriptVersion is a saved script as stored.
type diskScriptVersion struct {
	Version int       `json:"version"`
	Script  string    `json:"script"`
	SavedAt time.Time `json:"saved_at"`
}

// diskLogLine is a logged line as stored (appendLogs writes it).
type diskLogLine struct {
	Time   time.Time `json:"time"`
	Level  string    `json:"level"`
	Text   string    `json:"text"`
	Source string    `json:"source,omitempty"`
}

// diskExecution is a function run as stored (appendExecution writes it).
type diskExecution struct {
	FunctionID   string        `json:"function_id"`
	FunctionName string        `json:"function_name"`
	Version      int           `json:"version"`
	Status       string        `json:"status"`
	Error        string        `json:"error,omitempty"`
	StartedAt    time.Time     `json:"started_at"`
	DurationMS   float64       `json:"duration_ms"`
	Logs         []diskLogLine `json:"logs"`
}

// logLines converts stored lines, keeping nil apart from empty.
func logLines(in []diskLogLine) []storage.LogLine {
	if in == nil {
		return nil
	}
	out := make([]storage.LogLine, len(in))
	for i, l := range in {
		out[i] = storage.LogLine(l)
	}
	return out
}

func (e *diskExecution) execution() storage.Execution {
	return storage.Execution{
		FunctionID: e.FunctionID, FunctionName: e.FunctionName, Version: e.Version, Status: e.Status, Error: e.Error,
		StartedAt: e.StartedAt, DurationMS: e.DurationMS, Logs: logLines(e.Logs),
	}
}

// diskHealth is an endpoint's health as stored.
type diskHealth struct {
	Enabled             bool       `json:"enabled"`
	DisabledReason      string     `json:"disabled_reason,omitempty"`
	FailingSince        *time.Time `json:"failing_since,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
}

// diskAuth is an endpoint's or a callback's auth as stored; its secrets
// are sealed apart.
type diskAuth struct {
	Type     string `json:"type"`
	Username string `json:"username,omitempty"`
	Password string `json:"-"`
	Token    string `json:"-"`
	// The OAuth 2.0 fields came after format 1's first records, which
	// lack them (and have none).
	TokenURL     string   `json:"token_url,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"-"`
	Scopes       []string `json:"scopes,omitempty"`
}

// diskTLS is an endpoint's TLS settings as stored; the client key is
// sealed apart.
type diskTLS struct {
	CAPEM         string `json:"ca_pem,omitempty"`
	ClientCertPEM string `json:"client_cert_pem,omitempty"`
	ClientKeyPEM  string `json:"-"`
	ServerName    string `json:"server_name,omitempty"`
}

type diskRetry struct {
	MaxAttempts int    `json:"max_attempts"`
	IntervalMS  int    `json:"interval_ms,omitempty"`
	Backoff     string `json:"backoff"`
}

type diskVerify struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
}

type diskAutoDisable struct {
	FailingForHours     int `json:"failing_for_hours"`
	ConsecutiveFailures int `json:"consecutive_failures"`
}

// diskEndpoint is an endpoint's configuration and health as stored. Its
// secrets (auth, signing secrets, secret headers, cookies) are sealed
// apart (endpointRecord), so SigningSecret and PreviousSecrets have no
// place here.
type diskEndpoint struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Method      string `json:"method"`
	diskHealth
	EventTypes []string `json:"event_types"`
	// Filter came after format 1's first records, which lack it (and so
	// have none).
	Filter        map[string]any    `json:"filter,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	SecretHeaders []string          `json:"secret_headers,omitempty"`
	Cookies       map[string]string `json:"cookies,omitempty"`
	Auth          diskAuth          `json:"auth"`
	Proxy         string            `json:"proxy,omitempty"` // came after format 1's first records, as tls did
	TLS           diskTLS           `json:"tls,omitzero"`
	BodyTemplate  string            `json:"body_template,omitempty"`
	// BodyTemplates came after format 1's first records, which lack it.
	BodyTemplates map[string]string `json:"body_templates,omitempty"`
	MsgKey        string            `json:"msg_key"`
	ExtraBody     map[string]any    `json:"extra_body,omitempty"`
	TimeoutMS     int               `json:"timeout_ms"`
	Retry         diskRetry         `json:"retry"`
	Verify        diskVerify        `json:"verify"`
	Language      string            `json:"language"`
	Concurrency   int               `json:"concurrency"`
	RateLimit     float64           `json:"rate_limit"`
	AutoDisable   diskAutoDisable   `json:"auto_disable"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// toDiskEndpoint takes e's fields but its signing secrets.
func toDiskEndpoint(e *storage.Endpoint) diskEndpoint {
	return diskEndpoint{
		ID: e.ID, Name: e.Name, Description: e.Description, URL: e.URL, Method: e.Method,
		diskHealth: diskHealth(e.EndpointHealth),
		EventTypes: e.EventTypes, Filter: e.Filter, Headers: e.Headers, SecretHeaders: e.SecretHeaders, Cookies: e.Cookies,
		Auth: diskAuth(e.Auth), Proxy: e.Proxy, TLS: diskTLS(e.TLS), BodyTemplate: e.BodyTemplate, BodyTemplates: e.BodyTemplates, MsgKey: e.MsgKey, ExtraBody: e.ExtraBody,
		TimeoutMS: e.TimeoutMS, Retry: diskRetry(e.Retry), Verify: diskVerify(e.Verify), Language: e.Language,
		Concurrency: e.Concurrency, RateLimit: e.RateLimit, AutoDisable: diskAutoDisable(e.AutoDisable),
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

// endpoint returns the endpoint, its signing secrets not yet opened.
func (d *diskEndpoint) endpoint() storage.Endpoint {
	return storage.Endpoint{
		ID: d.ID, Name: d.Name, Description: d.Description, URL: d.URL, Method: d.Method,
		EndpointHealth: storage.EndpointHealth(d.diskHealth),
		EventTypes:     d.EventTypes, Filter: d.Filter, Headers: d.Headers, SecretHeaders: d.SecretHeaders, Cookies: d.Cookies,
		Auth: storage.Auth(d.Auth), Proxy: d.Proxy, TLS: storage.TLS(d.TLS), BodyTemplate: d.BodyTemplate, BodyTemplates: d.BodyTemplates, MsgKey: d.MsgKey, ExtraBody: d.ExtraBody,
		TimeoutMS: d.TimeoutMS, Retry: storage.RetryPolicy(d.Retry), Verify: storage.Verify(d.Verify), Language: d.Language,
		Concurrency: d.Concurrency, RateLimit: d.RateLimit, AutoDisable: storage.AutoDisable(d.AutoDisable),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// diskEvent is an event as stored, but its data, which eventRecord
// writes as the publisher encoded it.
type diskEvent struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Time     time.Time      `json:"time"`
	Title    string         `json:"title,omitempty"`
	SubTitle string         `json:"sub_title,omitempty"`
	Message  string         `json:"message,omitempty"`
	Logo     string         `json:"logo,omitempty"`
	Image    string         `json:"image,omitempty"`
	Data     map[string]any `json:"-"`
	Source   string         `json:"source,omitempty"`
}

// diskCallback is a callback as stored; its auth secrets, and its secret
// headers and cookies, are sealed apart (deliveryRecord).
type diskCallback struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers,omitempty"`
	Cookies   map[string]string `json:"cookies,omitempty"`
	Auth      diskAuth          `json:"auth"`
	TimeoutMS int               `json:"timeout_ms"`
	Body      string            `json:"body,omitempty"`
}

// diskDelivery is a delivery as stored.
type diskDelivery struct {
	ID           string        `json:"id"`
	EventID      string        `json:"event_id"`
	EventType    string        `json:"event_type"`
	EndpointID   string        `json:"endpoint_id,omitempty"`
	Lane         string        `json:"lane"`
	Callback     *diskCallback `json:"callback,omitempty"`
	Status       string        `json:"status"`
	AttemptCount int           `json:"attempt_count"`
	Base         int           `json:"base,omitempty"`
	NextAt       *time.Time    `json:"next_at,omitempty"`
	LastStatus   int           `json:"last_status,omitempty"`
	LastError    string        `json:"last_error,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

func toDiskDelivery(d *storage.Delivery) diskDelivery {
	r := diskDelivery{
		ID: d.ID, EventID: d.EventID, EventType: d.EventType, EndpointID: d.EndpointID, Lane: d.Lane,
		Status: d.Status, AttemptCount: d.AttemptCount, Base: d.Base, NextAt: d.NextAt,
		LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if cb := d.Callback; cb != nil {
		r.Callback = &diskCallback{URL: cb.URL, Method: cb.Method, Headers: cb.Headers, Cookies: cb.Cookies,
			Auth: diskAuth(cb.Auth), TimeoutMS: cb.TimeoutMS, Body: cb.Body}
	}
	return r
}

// delivery returns the delivery, its callback's secrets not yet opened.
func (r *diskDelivery) delivery() storage.Delivery {
	d := storage.Delivery{
		ID: r.ID, EventID: r.EventID, EventType: r.EventType, EndpointID: r.EndpointID, Lane: r.Lane,
		Status: r.Status, AttemptCount: r.AttemptCount, Base: r.Base, NextAt: r.NextAt,
		LastStatus: r.LastStatus, LastError: r.LastError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if cb := r.Callback; cb != nil {
		d.Callback = &storage.Callback{URL: cb.URL, Method: cb.Method, Headers: cb.Headers, Cookies: cb.Cookies,
			Auth: storage.Auth(cb.Auth), TimeoutMS: cb.TimeoutMS, Body: cb.Body}
	}
	return d
}

// diskAttempt is a delivery attempt as stored; its number is its key's,
// and N is written as 0.
type diskAttempt struct {
	N         int       `json:"n"`
	At        time.Time `json:"at"`
	Status    int       `json:"status,omitempty"`
	LatencyMS float64   `json:"latency_ms"`
	Response  string    `json:"response,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// diskUser is a user as stored, password hash included.
type diskUser struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	DisplayName  string     `json:"display_name,omitempty"`
	Role         string     `json:"role"`
	Disabled     bool       `json:"disabled"`
	PasswordHash string     `json:"password_hash,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

// diskToken is an API token as stored, hash included.
type diskToken struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       []byte     `json:"hash"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// diskSession is a session as stored, CSRF token included.
type diskSession struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CSRF      string    `json:"csrf,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// diskAudit is an audit entry as stored.
type diskAudit struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	UserID string    `json:"user_id,omitempty"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	IP     string    `json:"ip,omitempty"`
}

// diskEventType is a declared event type as stored, keyed by its name.
type diskEventType struct {
	Type        string          `json:"type"`
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}
