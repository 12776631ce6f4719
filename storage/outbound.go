package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Delivery statuses. A delivery is PENDING until an attempt succeeds
// (SUCCESS) or its retry policy is used up (FAILED); a replay makes it
// PENDING again.
const (
	DeliveryPending = "PENDING"
	DeliverySuccess = "SUCCESS"
	DeliveryFailed  = "FAILED"
)

// Auth is how an outbound request authenticates. Password, Token and
// ClientSecret are secrets: plaintext in memory, sealed at rest, never
// serialised.
type Auth struct {
	Type     string `json:"type"` // "none", "basic", "bearer" or "oauth2"
	Username string `json:"username,omitempty"`
	Password string `json:"-"`
	Token    string `json:"-"`
	// OAuth 2.0 client credentials (type "oauth2", endpoints only): the
	// token endpoint, the client and the scopes asked for.
	TokenURL     string   `json:"token_url,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"-"`
	Scopes       []string `json:"scopes,omitempty"`
}

// TLS is how an endpoint's HTTPS connections are made: CAPEM, when set,
// is the only roots its server's certificate is verified against; a
// client certificate (ClientCertPEM with ClientKeyPEM, a secret) is
// offered to servers that ask; ServerName replaces the URL's host in
// SNI and in the certificate check.
type TLS struct {
	CAPEM         string `json:"ca_pem,omitempty"`
	ClientCertPEM string `json:"client_cert_pem,omitempty"`
	ClientKeyPEM  string `json:"-"`
	ServerName    string `json:"server_name,omitempty"`
}

// RetryPolicy says how often a failing delivery is tried again.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first one included.
	MaxAttempts int `json:"max_attempts"`
	// IntervalMS is the fixed delay, or the first delay of an exponential
	// backoff; 0 with "exponential" means the default schedule.
	IntervalMS int    `json:"interval_ms,omitempty"`
	Backoff    string `json:"backoff"` // "fixed" or "exponential"
}

// Verify says which answers count as success: by default (Type "") any
// 2xx; "status" a given status (Value "200"); "contains" a 2xx whose body
// contains Value.
type Verify struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
}

// AutoDisable says when a failing endpoint is disabled: when its deliveries
// have been failing (no success, at least one exhausted delivery) for
// FailingForHours, or after ConsecutiveFailures exhausted deliveries in a
// row (0: never by count).
type AutoDisable struct {
	FailingForHours     int `json:"failing_for_hours"`
	ConsecutiveFailures int `json:"consecutive_failures"`
}

// OldSecret is a signing secret being rotated out: requests are still
// signed with it, beside the new one, until Expires.
type OldSecret struct {
	Secret  string    `json:"-"`
	Expires time.Time `json:"expires"`
}

// EndpointHealth is the state the delivery engine keeps about an endpoint.
type EndpointHealth struct {
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	// ConsecutiveFailures counts exhausted deliveries since the last
	// success.
	ConsecutiveFailures int `json:"consecutive_failures"`
}

// Endpoint is an HTTP receiver of outbound events.
type Endpoint struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Method      string `json:"method"`
	EndpointHealth
	EventTypes []string `json:"event_types"`
	// Filter narrows the events of EventTypes to those it matches
	// (package notify/filter); nil or empty matches every one.
	Filter  map[string]any    `json:"filter,omitempty"`
	Headers map[string]string `json:"headers,omitempty"` // values are templates
	// SecretHeaders names the headers whose values are secrets: sealed at
	// rest and never returned. Every cookie value is a secret too.
	SecretHeaders []string          `json:"secret_headers,omitempty"`
	Cookies       map[string]string `json:"cookies,omitempty"`
	Auth          Auth              `json:"auth"`
	Proxy         string            `json:"proxy,omitempty"` // an HTTP(S) proxy URL without its password
	ProxyPassword string            `json:"-"`               // the proxy's password, a secret
	TLS           TLS               `json:"tls"`
	BodyTemplate  string            `json:"body_template,omitempty"`
	// BodyTemplates maps a language (as Language) to the body template
	// used, in place of BodyTemplate, by an endpoint of that language.
	BodyTemplates map[string]string `json:"body_templates,omitempty"`
	MsgKey        string            `json:"msg_key"`
	ExtraBody     map[string]any    `json:"extra_body,omitempty"`
	TimeoutMS     int               `json:"timeout_ms"`
	Retry         RetryPolicy       `json:"retry"`
	Verify        Verify            `json:"verify"`
	Language      string            `json:"language"`
	// Concurrency bounds the requests in flight to this endpoint;
	// RateLimit bounds requests per second (0: no limit).
	Concurrency int         `json:"concurrency"`
	RateLimit   float64     `json:"rate_limit"`
	AutoDisable AutoDisable `json:"auto_disable"`
	// SigningSecret ("whsec_...") and PreviousSecrets are secrets.
	SigningSecret   string      `json:"-"`
	PreviousSecrets []OldSecret `json:"-"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// Event is one outbound event. ID and Time are set on publish.
type Event struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Time     time.Time      `json:"time"`
	Title    string         `json:"title,omitempty"`
	SubTitle string         `json:"sub_title,omitempty"`
	Message  string         `json:"message,omitempty"`
	Logo     string         `json:"logo,omitempty"`
	Image    string         `json:"image,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	// Source says who published it: "api", "script:<name>", "system".
	Source string `json:"source,omitempty"`
}

// EncodedEvent is an event with its data encoded as JSON once, when it is
// published: the store writes DataJSON as the event's data and reads it
// back as JSON, never encoding the data again, and a delivery's default
// body embeds it as it is. Event.Data holds the same data decoded, for
// templates and system texts.
type EncodedEvent struct {
	Event
	// DataJSON is Event.Data as a JSON object; nil when the event has no
	// data.
	DataJSON json.RawMessage `json:"-"`
}

// EncodeEvent encodes ev's data.
func EncodeEvent(ev Event) (EncodedEvent, error) {
	out := EncodedEvent{Event: ev}
	if len(ev.Data) == 0 {
		return out, nil
	}
	b, err := json.Marshal(ev.Data)
	if err != nil {
		return out, fmt.Errorf("event %s: data: %w", ev.ID, err)
	}
	out.DataJSON = b
	return out, nil
}

// DecodeData decodes an event's data as a store or a publisher gives it,
// numbers as json.Number: an integer past 2^53 keeps every digit in a
// template and in the event's answers, as it does in DataJSON.
func DecodeData(raw []byte) (map[string]any, error) {
	var data map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	return data, nil
}

// Callback is a one-off request a script asked for with NOTIFY.webhook.
// Auth secrets are sealed at rest like an endpoint's.
type Callback struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers,omitempty"`
	Cookies   map[string]string `json:"cookies,omitempty"`
	Auth      Auth              `json:"auth"`
	TimeoutMS int               `json:"timeout_ms"`
	Body      string            `json:"body,omitempty"`
}

// Delivery is one event on its way to one endpoint (or one callback). Its
// ID is the webhook-id the receiver sees on every attempt.
type Delivery struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	EndpointID string `json:"endpoint_id,omitempty"` // "" for a callback
	// Lane is the queue the delivery waits in: its endpoint's id, or
	// "callback:<host>" for a callback. Deliveries of one lane share its
	// concurrency, rate limit and slow-downs.
	Lane         string    `json:"lane"`
	Callback     *Callback `json:"callback,omitempty"`
	Status       string    `json:"status"`
	AttemptCount int       `json:"attempt_count"`
	// Base is the number of attempts made before the latest replay: the
	// retry policy counts from it.
	Base       int        `json:"base,omitempty"`
	NextAt     *time.Time `json:"next_at,omitempty"` // set while PENDING
	LastStatus int        `json:"last_status,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	N         int       `json:"n"` // from 1
	At        time.Time `json:"at"`
	Status    int       `json:"status,omitempty"` // HTTP status; 0 when no answer came
	LatencyMS float64   `json:"latency_ms"`
	Response  string    `json:"response,omitempty"` // the first 16 KiB of the body
	Error     string    `json:"error,omitempty"`
}

// DeliveryDetail is a delivery with every attempt, oldest first.
type DeliveryDetail struct {
	Delivery
	Attempts []Attempt `json:"attempts"`
}

// DeliveryUpdate is the state a delivery moves to after an attempt.
type DeliveryUpdate struct {
	Status string     // DeliveryPending, DeliverySuccess or DeliveryFailed
	NextAt *time.Time // when PENDING: the next attempt's time
}

// DeliveryFilter selects deliveries for a list, newest first.
type DeliveryFilter struct {
	EndpointID string
	EventID    string
	Status     string
	Since      time.Time // created at or after; zero means unbounded
	Until      time.Time // created before; zero means unbounded
	Cursor     string
	Limit      int
}

// MaxResponseExcerpt bounds Attempt.Response.
const MaxResponseExcerpt = 16 << 10

// PrepareDelivery checks a delivery that AppendEvent is to store with
// event eventID and fills what the caller may leave out: the event id,
// status PENDING, the creation and update times (now), and NextAt (due at
// once). Every backend's AppendEvent applies it, so they refuse and
// default alike.
func PrepareDelivery(d Delivery, eventID string, now time.Time) (Delivery, error) {
	if d.Lane == "" || strings.IndexByte(d.Lane, 0) >= 0 {
		return d, fmt.Errorf("%w: delivery %s has no lane or a NUL in it", ErrInvalid, d.ID)
	}
	switch {
	case d.EventID == "":
		d.EventID = eventID
	case d.EventID != eventID:
		return d, fmt.Errorf("%w: delivery %s belongs to event %s", ErrInvalid, d.ID, d.EventID)
	}
	if d.Status != "" && d.Status != DeliveryPending {
		return d, fmt.Errorf("%w: delivery %s has status %q, want PENDING", ErrInvalid, d.ID, d.Status)
	}
	d.Status = DeliveryPending
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	if d.NextAt == nil {
		at := d.CreatedAt
		d.NextAt = &at
	}
	return d, nil
}

// IdempotencyWindow is how long a publish under an idempotency key is
// remembered: a repeat within it answers the first event.
const IdempotencyWindow = 24 * time.Hour

// MaxIdempotencyKey bounds an idempotency key's length in bytes.
const MaxIdempotencyKey = 255

// Idempotency is the record of a publish under an idempotency key: the
// key, a SHA-256 of the request that used it, the event it made and the
// answer it gave. It is written with the event and its deliveries, in
// the same write, and outlives them if they are purged first.
type Idempotency struct {
	Key      string
	BodyHash []byte // SHA-256 of the canonical request
	EventID  string
	// Response is the body of the first answer, given again to repeats.
	Response  json.RawMessage
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CheckIdempotency checks a record AppendEventOnce is to store for event
// eventID.
func CheckIdempotency(k Idempotency, eventID string) error {
	switch {
	case k.Key == "" || len(k.Key) > MaxIdempotencyKey:
		return fmt.Errorf("%w: an idempotency key has 1 to %d bytes", ErrInvalid, MaxIdempotencyKey)
	case k.EventID != eventID:
		return fmt.Errorf("%w: idempotency key %q is for event %s, not %s", ErrInvalid, k.Key, k.EventID, eventID)
	case !k.ExpiresAt.After(k.CreatedAt):
		return fmt.Errorf("%w: idempotency key %q expires before it is made", ErrInvalid, k.Key)
	case !json.Valid(k.Response):
		return fmt.Errorf("%w: idempotency key %q: the response is not JSON", ErrInvalid, k.Key)
	}
	return nil
}

// The kinds of event type in the catalogue: an event tells that something
// happened, an alarm that something needs attention. The kind only groups
// types for the people picking them; delivery treats both alike.
const (
	KindEvent = "event"
	KindAlarm = "alarm"
)

// EventType is a type declared in the outbound catalogue: a name events
// are published under, what it means, an example of its data and,
// optionally, a JSON Schema its data must satisfy. Example and Schema are
// JSON objects kept as given (nil when absent); package notify checks
// them before the store is asked to keep them.
type EventType struct {
	Type        string          `json:"type"`
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}
