package notify

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify/template"
	"github.com/switchyard-dev/switchyard/storage"
)

// EndpointChange is a change to an endpoint, as the admin API's POST and
// PUT /endpoints take it: a field left nil keeps the endpoint's value; so
// do auth secrets left out of an auth of the same type.
type EndpointChange struct {
	Preset        *string              `json:"preset"` // the preset to start from, on create only
	Name          *string              `json:"name"`
	Description   *string              `json:"description"`
	URL           *string              `json:"url"`
	Method        *string              `json:"method"`
	Enabled       *bool                `json:"enabled"`
	EventTypes    *[]string            `json:"event_types"`
	Filter        *map[string]any      `json:"filter"`  // {} or null: no filter
	Headers       *map[string]string   `json:"headers"` // a SecretMarker value keeps the stored one
	SecretHeaders *[]string            `json:"secret_headers"`
	Cookies       *map[string]string   `json:"cookies"` // a SecretMarker value keeps the stored one
	Auth          *AuthChange          `json:"auth"`
	Proxy         *string              `json:"proxy"` // see applyProxy
	TLS           *TLSChange           `json:"tls"`
	BodyTemplate  *string              `json:"body_template"`
	BodyTemplates *map[string]string   `json:"body_templates"` // {} or null: none
	MsgKey        *string              `json:"msg_key"`
	ExtraBody     *map[string]any      `json:"extra_body"`
	TimeoutMS     *int                 `json:"timeout_ms"`
	Retry         *storage.RetryPolicy `json:"retry"`
	Verify        *storage.Verify      `json:"verify"`
	SigningSecret *string              `json:"signing_secret"`
	Language      *string              `json:"language"`
	Concurrency   *int                 `json:"concurrency"`
	RateLimit     *float64             `json:"rate_limit"`
	AutoDisable   *storage.AutoDisable `json:"auto_disable"`
	// Validate sends the endpoint the VALIDATE event before it is saved,
	// and refuses to save it unless it answers 200.
	Validate bool `json:"validate_on_create"`
}

// AuthChange is the auth of an EndpointChange. A password or token left
// nil keeps the stored one when the type stays the same.
type AuthChange struct {
	Type     string  `json:"type"`
	Username string  `json:"username"`
	Password *string `json:"password"`
	Token    *string `json:"token"`
	// OAuth 2.0 client credentials; a client secret left nil keeps the
	// stored one when the type stays oauth2.
	TokenURL     string   `json:"token_url"`
	ClientID     string   `json:"client_id"`
	ClientSecret *string  `json:"client_secret"`
	Scopes       []string `json:"scopes"`
}

// TLSChange is the tls of an EndpointChange: a field left nil keeps the
// stored value, so the client key, never shown, is kept unless resent;
// "" clears it (a client certificate cleared takes its key with it).
type TLSChange struct {
	CAPEM         *string `json:"ca_pem"`
	ClientCertPEM *string `json:"client_cert_pem"`
	ClientKeyPEM  *string `json:"client_key_pem"`
	ServerName    *string `json:"server_name"`
}

// SecretMarker stands for a stored secret header or cookie value where an
// endpoint is shown; given back in headers or cookies, it keeps that
// value.
const SecretMarker = "[secret]"

// CreateEndpoint makes an endpoint of ch (on the preset it names, if
// any), checks it (Normalize), sends it the VALIDATE event if ch asks,
// saves it and reloads the engine. It returns the endpoint saved.
func (e *Engine) CreateEndpoint(ctx context.Context, ch EndpointChange) (storage.Endpoint, error) {
	ep, err := newEndpoint(ch)
	if err != nil {
		return ep, err
	}
	return e.saveEndpoint(ctx, &ch, ep, e.store.CreateEndpoint)
}

// newEndpoint is the endpoint a create starts from: enabled, on the
// preset ch names, if any.
func newEndpoint(ch EndpointChange) (storage.Endpoint, error) {
	ep := storage.Endpoint{EndpointHealth: storage.EndpointHealth{Enabled: true}}
	if ch.Preset != nil {
		p, ok := template.PresetByName(*ch.Preset)
		if !ok {
			return ep, invalid("no endpoint preset named %q; the presets are %s", *ch.Preset, strings.Join(presetNames(), ", "))
		}
		ep.BodyTemplate, ep.Verify, ep.Headers = p.Body, p.Verify, p.Headers
	}
	return ep, nil
}

// TestUnsaved sends a test event to the endpoint a create of ch would
// make, checked as a create checks it (its errors wrap storage.ErrInvalid
// the same way), and returns the attempt. Nothing is stored; the name is
// not checked against the stored endpoints, and validate_on_create is
// ignored.
func (e *Engine) TestUnsaved(ctx context.Context, ch EndpointChange) (storage.Attempt, error) {
	ep, err := newEndpoint(ch)
	if err != nil {
		return storage.Attempt{}, err
	}
	if err := ch.apply(&ep, time.Now()); err != nil {
		return storage.Attempt{}, err
	}
	if err := Normalize(&ep); err != nil {
		return storage.Attempt{}, err
	}
	return e.Test(ctx, ep)
}

// UpdateEndpoint applies ch to the stored endpoint id, checks the result,
// sends it the VALIDATE event if ch asks, saves it and reloads the engine.
// It returns the endpoint saved.
func (e *Engine) UpdateEndpoint(ctx context.Context, id string, ch EndpointChange) (storage.Endpoint, error) {
	if ch.Preset != nil {
		return storage.Endpoint{}, invalid("preset applies on create only; set body_template and verify instead")
	}
	ep, err := e.store.GetEndpoint(ctx, id)
	if err != nil {
		return ep, err
	}
	if err := ch.checkDestination(ep, time.Now()); err != nil {
		return ep, err
	}
	return e.saveEndpoint(ctx, &ch, ep, func(ctx context.Context, ep storage.Endpoint) (storage.Endpoint, error) {
		saved, err := e.store.UpdateEndpoint(ctx, ep)
		if err != nil || ch.Enabled == nil {
			return saved, err
		}
		// The health is the engine's; an operator's enable or disable
		// is the one change to it an edit makes.
		return e.store.SetEndpointHealth(ctx, saved.ID, ep.EndpointHealth)
	})
}

// DeleteEndpoint deletes an endpoint and reloads the engine.
func (e *Engine) DeleteEndpoint(ctx context.Context, id string) error {
	if err := e.store.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	return e.Reload(ctx)
}

// saveEndpoint applies ch to ep, checks the result (sending it the
// VALIDATE request when asked), saves it with save and reloads.
func (e *Engine) saveEndpoint(ctx context.Context, ch *EndpointChange, ep storage.Endpoint,
	save func(context.Context, storage.Endpoint) (storage.Endpoint, error)) (storage.Endpoint, error) {
	if err := ch.apply(&ep, time.Now()); err != nil {
		return ep, err
	}
	if err := Normalize(&ep); err != nil {
		return ep, err
	}
	if err := e.checkName(ctx, ep); err != nil {
		return ep, err
	}
	if ch.Validate {
		if err := e.Validate(ctx, ep); err != nil {
			return ep, err
		}
	}
	// The name check and the save are one step, in this process and
	// among every node.
	e.nameMu.Lock()
	defer e.nameMu.Unlock()
	unlock, err := storage.Lock(ctx, e.store, endpointNamesLock)
	if err != nil {
		return ep, err
	}
	defer unlock()
	if err := e.checkName(ctx, ep); err != nil {
		return ep, err
	}
	saved, err := save(ctx, ep)
	if err != nil {
		return saved, err
	}
	return saved, e.Reload(ctx)
}

// endpointNamesLock is the store's lock that makes an endpoint's name
// check and its save one step among nodes.
const endpointNamesLock = "endpoints.names"

// checkName refuses to save ep under a name another endpoint holds,
// unless ep already had it (a store may hold duplicates from before
// names were unique).
func (e *Engine) checkName(ctx context.Context, ep storage.Endpoint) error {
	all, err := e.store.ListEndpoints(ctx)
	if err != nil {
		return fmt.Errorf("check the name against the other endpoints: %w", err)
	}
	return field.UniqueName("endpoint", all, func(o storage.Endpoint) (string, string) { return o.ID, o.Name }, ep.ID, ep.Name)
}

// apply overlays the change on ep. now dates a rotated-out signing
// secret. Its errors wrap storage.ErrInvalid.
func (ch *EndpointChange) apply(ep *storage.Endpoint, now time.Time) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&ep.Name, ch.Name)
	set(&ep.Description, ch.Description)
	set(&ep.URL, ch.URL)
	set(&ep.Method, ch.Method)
	set(&ep.BodyTemplate, ch.BodyTemplate)
	if ch.BodyTemplates != nil {
		ep.BodyTemplates = *ch.BodyTemplates
	}
	set(&ep.MsgKey, ch.MsgKey)
	set(&ep.Language, ch.Language)
	if ch.Enabled != nil {
		ep.Enabled = *ch.Enabled
		if ep.Enabled {
			// Turning an endpoint back on clears what disabled it.
			ep.DisabledReason, ep.FailingSince, ep.ConsecutiveFailures = "", nil, 0
		} else if ep.DisabledReason == "" {
			ep.DisabledReason = "disabled by an operator"
		}
	}
	if ch.EventTypes != nil {
		ep.EventTypes = *ch.EventTypes
	}
	if ch.Filter != nil {
		ep.Filter = *ch.Filter
	}
	if err := ch.applyHeaders(ep); err != nil {
		return err
	}
	if ch.Cookies != nil {
		c, err := keepSecrets("cookie", *ch.Cookies, ep.Cookies, slices.Collect(maps.Keys(ep.Cookies)))
		if err != nil {
			return err
		}
		ep.Cookies = c
	}
	if ch.ExtraBody != nil {
		ep.ExtraBody = *ch.ExtraBody
	}
	if ch.TimeoutMS != nil {
		ep.TimeoutMS = *ch.TimeoutMS
	}
	if ch.Retry != nil {
		ep.Retry = *ch.Retry
	}
	if ch.Verify != nil {
		ep.Verify = *ch.Verify
	}
	if ch.Concurrency != nil {
		ep.Concurrency = *ch.Concurrency
	}
	if ch.RateLimit != nil {
		ep.RateLimit = *ch.RateLimit
	}
	if ch.AutoDisable != nil {
		ep.AutoDisable = *ch.AutoDisable
	}
	if a := ch.Auth; a != nil {
		old := ep.Auth
		ep.Auth = storage.Auth{Type: a.Type, Username: a.Username}
		if a.Type == old.Type {
			ep.Auth.Password, ep.Auth.Token = old.Password, old.Token
		}
		set(&ep.Auth.Password, a.Password)
		set(&ep.Auth.Token, a.Token)
		ep.Auth.TokenURL, ep.Auth.ClientID, ep.Auth.Scopes = a.TokenURL, a.ClientID, a.Scopes
		if a.Type == old.Type {
			ep.Auth.ClientSecret = old.ClientSecret
		}
		set(&ep.Auth.ClientSecret, a.ClientSecret)
	}
	if ch.Proxy != nil {
		applyProxy(ep, *ch.Proxy)
	}
	if t := ch.TLS; t != nil {
		set(&ep.TLS.CAPEM, t.CAPEM)
		set(&ep.TLS.ServerName, t.ServerName)
		if t.ClientCertPEM != nil && *t.ClientCertPEM == "" && t.ClientKeyPEM == nil {
			ep.TLS.ClientKeyPEM = ""
		}
		set(&ep.TLS.ClientCertPEM, t.ClientCertPEM)
		set(&ep.TLS.ClientKeyPEM, t.ClientKeyPEM)
	}
	if ch.SigningSecret != nil && *ch.SigningSecret != ep.SigningSecret {
		secret := *ch.SigningSecret
		if secret == GenerateV1a {
			var err error
			if secret, err = newEdSecret(); err != nil {
				return err
			}
		}
		rotate(ep, secret, now)
	}
	return nil
}

// applyProxy sets the proxy to raw: its password, if it carries one, is
// the new password; without one, the stored password is kept while the
// proxy's user name stays the same (the API shows the proxy without it);
// "user:@host" removes it.
func applyProxy(ep *storage.Endpoint, raw string) {
	plain, pw := SplitProxy(raw)
	u, err := url.Parse(raw)
	given := err == nil && u.User != nil && strings.Contains(u.User.String(), ":")
	if !given && proxyUser(plain) != "" && proxyUser(plain) == proxyUser(ep.Proxy) {
		pw = ep.ProxyPassword
	}
	ep.Proxy, ep.ProxyPassword = plain, pw
}

// proxyUser is the user name of a proxy URL, "" for none.
func proxyUser(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	return u.User.Username()
}

// applyHeaders overlays the headers and secret_headers of the change.
func (ch *EndpointChange) applyHeaders(ep *storage.Endpoint) error {
	wasSecret, oldHeaders := SecretHeaders(ep.Headers, ep.SecretHeaders), ep.Headers
	if ch.Headers != nil {
		h, err := keepSecrets("header", *ch.Headers, ep.Headers, wasSecret)
		if err != nil {
			return err
		}
		ep.Headers = h
	}
	if ch.SecretHeaders != nil {
		for _, name := range *ch.SecretHeaders {
			if !hasHeader(ep.Headers, name) {
				return invalid("secret_headers names %q, which is not one of the headers", name)
			}
		}
		ep.SecretHeaders = *ch.SecretHeaders
	}
	// A secret header stops being one only with a new value: its stored
	// value, sealed and never shown, must not turn readable by being
	// unmarked.
	nowSecret := SecretHeaders(ep.Headers, ep.SecretHeaders)
	for _, name := range wasSecret {
		if v, ok := ep.Headers[name]; ok && v == oldHeaders[name] && !slices.Contains(nowSecret, name) {
			return invalid("secret_headers: %q holds a secret value; to make the header plain, send its new value in headers in the same request (the stored one is never shown)", name)
		}
	}
	return nil
}

// rotate makes secret the endpoint's signing secret. The old one keeps
// signing beside it for RotationGrace, so receivers can switch without
// dropping any delivery; secrets whose grace has passed are dropped, and
// an empty secret ends signing at once.
func rotate(ep *storage.Endpoint, secret string, now time.Time) {
	kept := ep.PreviousSecrets[:0:0]
	for _, old := range ep.PreviousSecrets {
		if old.Expires.After(now) {
			kept = append(kept, old)
		}
	}
	if ep.SigningSecret != "" && secret != "" {
		kept = append(kept, storage.OldSecret{Secret: ep.SigningSecret, Expires: now.Add(RotationGrace)})
	}
	if secret == "" {
		kept = nil
	}
	ep.SigningSecret, ep.PreviousSecrets = secret, kept
}

// keepSecrets returns the new headers or cookies with every value given as
// SecretMarker replaced by the stored secret value of that name (secret
// lists the names whose stored values are secrets).
func keepSecrets(kind string, given, stored map[string]string, secret []string) (map[string]string, error) {
	out := maps.Clone(given)
	for k, v := range out {
		if v != SecretMarker {
			continue
		}
		old, ok := stored[k]
		if !ok || !slices.Contains(secret, k) {
			return nil, invalid("%s %q: %q stands for the stored secret value, and there is none for this name; give the value", kind, k, SecretMarker)
		}
		out[k] = old
	}
	return out, nil
}

// presetNames lists the names of the endpoint presets.
func presetNames() []string {
	var names []string
	for _, p := range template.Presets() {
		names = append(names, p.Name)
	}
	return names
}
