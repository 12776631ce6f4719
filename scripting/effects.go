package scripting

import (
	"context"
	"time"
)

// Effects are the ways a script reaches outside its run: HTTP requests
// (HTTP.request), the dedupe store (DEDUPE.first) and outbound events
// (NOTIFY.send). The caller chooses them per request, so a dry run can
// record what a script would do instead of doing it. A nil field makes the
// matching global throw a clear error when a script calls it.
//
// Every call receives the run's context, which ends at the script's
// deadline; implementations must return promptly when it does.
type Effects struct {
	HTTP   HTTPClient
	Dedupe Deduper
	Notify Publisher
}

// HTTPClient sends the requests of HTTP.request. The implementation owns
// the egress policy (which addresses may be reached) and must refuse a
// response body over its cap rather than buffer it.
type HTTPClient interface {
	Do(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)
}

// HTTPRequest is one HTTP.request call, after defaults are applied.
type HTTPRequest struct {
	URL     string
	Method  string            // upper case, default GET (POST when a body is given)
	Headers map[string]string // as the script gave them
	Body    []byte
	Timeout time.Duration // the script's own timeout; the run's deadline bounds it too
}

// HTTPResponse is what HTTP.request returns to the script.
type HTTPResponse struct {
	Status  int
	Headers map[string]string // lower-case names, multiple values joined by ", "
	Body    []byte
}

// Deduper backs DEDUPE.first.
type Deduper interface {
	// FirstSeen reports whether key has not been seen within ttl, and records
	// it if so. Exactly one of several concurrent callers with the same
	// new key gets true.
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Publisher backs NOTIFY.send and NOTIFY.webhook.
type Publisher interface {
	// Publish records an outbound event durably and returns its id.
	Publish(ctx context.Context, eventType string, fields EventFields) (string, error)
	// Webhook records a one-off callback request durably (delivered with
	// retries like an event) and returns its delivery id. A request the
	// engine refuses is an error wrapping ErrBadWebhook.
	Webhook(ctx context.Context, req *WebhookRequest) (string, error)
}

// EventFields are the fields of a NOTIFY.send call, each of the type it
// must have, under the names the script gives them.
type EventFields struct {
	Title    string         `json:"title,omitempty"`
	SubTitle string         `json:"sub_title,omitempty"`
	Message  string         `json:"message,omitempty"`
	Logo     string         `json:"logo,omitempty"`
	Image    string         `json:"image,omitempty"`
	Data     map[string]any `json:"data,omitempty"` // plain JSON data
}

// IsZero reports whether no field is set.
func (f EventFields) IsZero() bool {
	return f.Title == "" && f.SubTitle == "" && f.Message == "" && f.Logo == "" && f.Image == "" && len(f.Data) == 0
}

// WebhookRequest is one NOTIFY.webhook call, after defaults are applied.
type WebhookRequest struct {
	URL     string
	Method  string // upper case, default POST
	Headers map[string]string
	Cookies map[string]string
	Auth    WebhookAuth
	Timeout time.Duration // 0: the engine's default
	Body    []byte
}

// WebhookAuth is a callback's authentication: Type "", "none", "basic"
// (Username, Password) or "bearer" (Token).
type WebhookAuth struct {
	Type, Username, Password, Token string
}
