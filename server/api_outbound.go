package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/notify/template"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// endpointView is an endpoint as the API shows it: secrets as flags.
type endpointView struct {
	storage.Endpoint
	Auth    authView    `json:"auth"`
	Signing signingView `json:"signing"`
	// Proxy (from storage.Endpoint) is shown without its password.
	ProxyPasswordSet bool    `json:"proxy_password_set,omitempty"`
	TLS              tlsView `json:"tls"`
}

type authView struct {
	Type            string   `json:"type"`
	Username        string   `json:"username,omitempty"`
	PasswordSet     bool     `json:"password_set,omitempty"`
	TokenSet        bool     `json:"token_set,omitempty"`
	TokenURL        string   `json:"token_url,omitempty"`
	ClientID        string   `json:"client_id,omitempty"`
	ClientSecretSet bool     `json:"client_secret_set,omitempty"`
	Scopes          []string `json:"scopes,omitempty"`
}

// tlsView is an endpoint's TLS settings: the certificates, the key as a
// flag.
type tlsView struct {
	storage.TLS
	ClientKeySet bool `json:"client_key_set,omitempty"`
}

type signingView struct {
	// Secret says whether a signing secret is set; StandardWebhooks
	// whether it signs with Standard Webhooks headers (webhook-*): Type
	// "v1" for a "whsec_" secret, "v1a" for a "whsk_" Ed25519 key, whose
	// public key ("whpk_...") PublicKey gives; the secret never.
	Secret           bool       `json:"secret"`
	StandardWebhooks bool       `json:"standard_webhooks"`
	Type             string     `json:"type,omitempty"`
	PublicKey        string     `json:"public_key,omitempty"`
	RotatingUntil    *time.Time `json:"rotating_until,omitempty"`
}

// viewerEndpoint hides from viewers what may carry credentials: header and
// cookie values, and the URL's path and query (a chat robot's URL is its
// key).
func viewerEndpoint(v endpointView) endpointView {
	hidden := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k := range m {
			out[k] = "[hidden]"
		}
		return out
	}
	v.Headers, v.Cookies = hidden(v.Headers), hidden(v.Cookies)
	if u, err := url.Parse(v.URL); err == nil {
		v.URL = u.Scheme + "://" + u.Host + "/…"
	}
	v.ExtraBody = nil
	if u, err := url.Parse(v.Proxy); err == nil && v.Proxy != "" {
		v.Proxy = u.Scheme + "://" + u.Host
	}
	return v
}

// viewEndpoint shows e without its secrets: the values of its secret
// headers and of its cookies are notify.SecretMarker.
func viewEndpoint(e storage.Endpoint) endpointView {
	v := endpointView{Endpoint: e}
	if secret := notify.SecretHeaders(e.Headers, e.SecretHeaders); len(secret) > 0 {
		v.Headers = maps.Clone(e.Headers)
		for _, name := range secret {
			v.Headers[name] = notify.SecretMarker
		}
		v.SecretHeaders = secret
	}
	if len(e.Cookies) > 0 {
		v.Cookies = make(map[string]string, len(e.Cookies))
		for k := range e.Cookies {
			v.Cookies[k] = notify.SecretMarker
		}
	}
	v.Auth = authView{Type: e.Auth.Type, Username: e.Auth.Username, PasswordSet: e.Auth.Password != "", TokenSet: e.Auth.Token != "",
		TokenURL: e.Auth.TokenURL, ClientID: e.Auth.ClientID, ClientSecretSet: e.Auth.ClientSecret != "", Scopes: e.Auth.Scopes}
	v.ProxyPasswordSet = e.ProxyPassword != ""
	v.TLS = tlsView{TLS: e.TLS, ClientKeySet: e.TLS.ClientKeyPEM != ""}
	scheme := notify.SigningScheme(e.SigningSecret)
	v.Signing = signingView{Secret: e.SigningSecret != "", StandardWebhooks: scheme != "", Type: scheme, PublicKey: notify.SigningPublicKey(e.SigningSecret)}
	now := time.Now()
	for _, old := range e.PreviousSecrets {
		if old.Expires.After(now) && (v.Signing.RotatingUntil == nil || old.Expires.After(*v.Signing.RotatingUntil)) {
			until := old.Expires
			v.Signing.RotatingUntil = &until
		}
	}
	if v.EventTypes == nil {
		v.EventTypes = []string{}
	}
	return v
}

func (s *Server) listEndpoints(c echo.Context) error {
	all, err := s.store.ListEndpoints(c.Request().Context())
	if err != nil {
		return err
	}
	full := principal(c).Can(access.Operate)
	views := make([]endpointView, len(all))
	for i, e := range all {
		views[i] = viewEndpoint(e)
		if !full {
			views[i] = viewerEndpoint(views[i])
		}
	}
	out, err := page(c, views)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getEndpoint(c echo.Context) error {
	e, err := s.store.GetEndpoint(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if !principal(c).Can(access.Operate) {
		return c.JSON(http.StatusOK, viewerEndpoint(viewEndpoint(e)))
	}
	return c.JSON(http.StatusOK, viewEndpoint(e))
}

// endpointInput is the body of POST and PUT /endpoints: a
// notify.EndpointChange, where "template", the old name of "preset", is
// still taken.
type endpointInput struct {
	notify.EndpointChange
	Template *string `json:"template"`
}

// decodeEndpoint decodes an endpointInput into the change it asks for.
func decodeEndpoint(c echo.Context) (notify.EndpointChange, error) {
	var in endpointInput
	if err := decode(c, &in); err != nil {
		return in.EndpointChange, err
	}
	if in.Template != nil {
		if in.Preset != nil {
			return in.EndpointChange, fmt.Errorf("%w: send preset alone: template is its old name", storage.ErrInvalid)
		}
		in.Preset = in.Template
	}
	return in.EndpointChange, nil
}

// createEndpoint: POST /endpoints.
func (s *Server) createEndpoint(c echo.Context) error {
	in, err := decodeEndpoint(c)
	if err != nil {
		return err
	}
	e, err := s.notify.CreateEndpoint(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return s.answerSaved(c, e, "", http.StatusCreated)
}

// updateEndpoint: PUT /endpoints/{id}.
func (s *Server) updateEndpoint(c echo.Context) error {
	in, err := decodeEndpoint(c)
	if err != nil {
		return err
	}
	e, err := s.notify.UpdateEndpoint(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	action := ""
	if in.Enabled != nil {
		action = map[bool]string{true: "endpoint.enable", false: "endpoint.disable"}[*in.Enabled]
	}
	return s.answerSaved(c, e, action, http.StatusOK)
}

// answerSaved answers a create or an edit with code, and refines its
// audit entry with action (if not "") and the endpoint.
func (s *Server) answerSaved(c echo.Context, e storage.Endpoint, action string, code int) error {
	setAudit(c, action, e.ID, e.Name)
	return c.JSON(code, savedEndpoint{endpointView: viewEndpoint(e), Warnings: s.endpointWarnings(c.Request().Context(), e)})
}

// savedEndpoint is the answer to a create or an edit: the endpoint, and
// what will keep it from working that is not an error in it.
type savedEndpoint struct {
	endpointView
	Warnings []string `json:"warnings,omitempty"`
}

// endpointWarnings warns when the egress guard will refuse the
// endpoint's host (a loopback or private address, without
// --allow-private-targets): saved, its deliveries would all fail.
func (s *Server) endpointWarnings(ctx context.Context, e storage.Endpoint) []string {
	u, err := url.Parse(e.URL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var out []string
	if why := s.egress.Refuses(ctx, u.Hostname()); why != "" {
		out = append(out, fmt.Sprintf("url: deliveries to %s will be refused (%s): outbound HTTP to private addresses is off; start Switchyard with --allow-private-targets to allow it", u.Hostname(), why))
	}
	for _, f := range []struct{ name, raw string }{{"proxy", e.Proxy}, {"auth.token_url", e.Auth.TokenURL}} {
		if p, err := url.Parse(f.raw); err == nil && f.raw != "" {
			if why := s.egress.Refuses(ctx, p.Hostname()); why != "" {
				out = append(out, fmt.Sprintf("%s: connections to %s will be refused (%s): outbound HTTP to private addresses is off; start Switchyard with --allow-private-targets to allow it", f.name, p.Hostname(), why))
			}
		}
	}
	if exp, ok := notify.ClientCertExpiry(e.TLS); ok && exp.Before(time.Now()) {
		out = append(out, fmt.Sprintf("tls.client_cert_pem: the client certificate expired on %s; receivers that check it will refuse the connection", exp.UTC().Format(time.RFC3339)))
	}
	return out
}

func (s *Server) deleteEndpoint(c echo.Context) error {
	if err := s.notify.DeleteEndpoint(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// testEndpoint: POST /endpoints/{id}/test sends a test event now and
// answers with the attempt.
func (s *Server) testEndpoint(c echo.Context) error {
	ctx := c.Request().Context()
	e, err := s.store.GetEndpoint(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	a, err := s.notify.Test(ctx, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// testUnsavedEndpoint: POST /endpoints/test sends a test event to the
// endpoint its body (that of POST /endpoints) describes, checked as a
// create would check it, and answers with the attempt. Nothing is saved.
func (s *Server) testUnsavedEndpoint(c echo.Context) error {
	in, err := decodeEndpoint(c)
	if err != nil {
		return err
	}
	a, err := s.notify.TestUnsaved(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if in.Name != nil {
		setAudit(c, "", "", *in.Name)
	}
	return c.JSON(http.StatusOK, a)
}

// replayEndpoint: POST /endpoints/{id}/replay {"since", "until"} replays
// the endpoint's FAILED deliveries created in that range.
func (s *Server) replayEndpoint(c echo.Context) error {
	var in struct {
		Since string `json:"since"`
		Until string `json:"until"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	var since, until time.Time
	var err error
	if in.Since != "" {
		if since, err = parseTime("since", in.Since); err != nil {
			return err
		}
	}
	if in.Until != "" {
		if until, err = parseTime("until", in.Until); err != nil {
			return err
		}
	}
	if !since.IsZero() && !until.IsZero() && since.After(until) {
		return fmt.Errorf("%w: since must not be after until", storage.ErrInvalid)
	}
	n, err := s.notify.ReplayFailed(c.Request().Context(), c.Param("id"), since, until)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"replayed": n})
}

// listEndpointPresets: GET /endpoint-presets (and GET
// /endpoint-templates, its old name) lists the ready-made endpoint bodies.
func (s *Server) listEndpointPresets(c echo.Context) error {
	return c.JSON(http.StatusOK, list[template.Preset]{Items: template.Presets()})
}

// eventInput is the body of POST /events.
type eventInput struct {
	// ID is an idempotency key, like the Idempotency-Key header.
	ID       *string   `json:"id,omitempty"`
	Type     string    `json:"type"`
	Title    string    `json:"title"`
	SubTitle string    `json:"sub_title"`
	Message  string    `json:"message"`
	Logo     string    `json:"logo"`
	Image    string    `json:"image"`
	Data     eventData `json:"data"`
}

// eventData is an event's data, its numbers kept as written
// (json.Number): an id past 2^53 reaches receivers, filters, templates
// and the idempotency hash with every digit.
type eventData map[string]any

func (d *eventData) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] != '{' {
		return fmt.Errorf("%w: data must be an object, got %s", storage.ErrInvalid, jsonKind(b[0]))
	}
	m, err := storage.DecodeData(b)
	*d = m
	return err
}

// idempotencyHeader names the publisher's idempotency key;
// replayedHeader marks an answer given again to a repeat.
const (
	idempotencyHeader = "Idempotency-Key"
	replayedHeader    = "Idempotent-Replayed"
)

// publishEvent: POST /events records the event and its deliveries, then
// answers 202 with the event and how many deliveries it made. With an
// idempotency key (the Idempotency-Key header or the body's id) a repeat
// within 24 hours answers the first event again, with
// Idempotent-Replayed: true, and delivers nothing more.
func (s *Server) publishEvent(c echo.Context) error {
	var in eventInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.ID != nil && *in.ID == "" {
		return fmt.Errorf("%w: id must not be empty: it is an idempotency key (leave it out to publish without one)", storage.ErrInvalid)
	}
	var id string
	if in.ID != nil {
		id = *in.ID
	}
	key, err := idempotencyKey(c.Request().Header.Values(idempotencyHeader), id)
	if err != nil {
		return err
	}
	ev := storage.Event{Type: in.Type, Title: in.Title, SubTitle: in.SubTitle, Message: in.Message,
		Logo: in.Logo, Image: in.Image, Data: map[string]any(in.Data), Source: "api"}
	if key == "" {
		ev, n, err := s.notify.Publish(c.Request().Context(), ev)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, notify.Published{Event: ev, Deliveries: n})
	}
	// The request is hashed as decoded and encoded again (keys sorted,
	// no spaces, no id, numbers but integers as float64 writes them), so
	// a repeat that differs only in layout (1.50 or 1.5) or in where the
	// key travels is the same request; integers keep every digit.
	in.ID = nil
	if in.Data != nil {
		in.Data, _ = hashForm(map[string]any(in.Data)).(map[string]any)
	}
	canon, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%w: the event cannot be encoded: %w", storage.ErrInvalid, err)
	}
	hash := sha256.Sum256(canon)
	answer, replayed, err := s.notify.PublishOnce(c.Request().Context(), ev, key, hash[:])
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set(replayedHeader, "true")
	}
	return c.JSONBlob(http.StatusAccepted, answer)
}

// hashForm is event data as the idempotency hash sees it: a number that
// is not an integer literal as the float64 it stands for (hashed as
// before numbers were kept as written), the rest as it is.
func hashForm(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = hashForm(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = hashForm(e)
		}
		return out
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			if f, err := x.Float64(); err == nil {
				return f
			}
		}
	}
	return v
}

// idempotencyKey returns a publish's idempotency key from the
// Idempotency-Key header or the body's id ("" when neither is given):
// 1 to 255 printable ASCII characters, and the same if both are given.
func idempotencyKey(header []string, id string) (string, error) {
	if len(header) > 1 {
		return "", fmt.Errorf("%w: send one %s header, got %d", storage.ErrInvalid, idempotencyHeader, len(header))
	}
	key := id
	if len(header) == 1 {
		if id != "" && header[0] != id {
			return "", fmt.Errorf("%w: the %s header and the body's id differ; send one, or the same in both", storage.ErrInvalid, idempotencyHeader)
		}
		key = header[0]
		if key == "" {
			return "", fmt.Errorf("%w: the %s header is empty", storage.ErrInvalid, idempotencyHeader)
		}
	}
	if len(key) > storage.MaxIdempotencyKey {
		return "", fmt.Errorf("%w: an idempotency key has at most %d characters, got %d", storage.ErrInvalid, storage.MaxIdempotencyKey, len(key))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", fmt.Errorf("%w: an idempotency key is printable ASCII (space to ~); byte %d is not", storage.ErrInvalid, i)
		}
	}
	return key, nil
}

var deliveryStatuses = []string{storage.DeliveryPending, storage.DeliverySuccess, storage.DeliveryFailed}

// listDeliveries: GET /deliveries?endpoint_id=&event_id=&status=&since=&until=&limit=&cursor=
func (s *Server) listDeliveries(c echo.Context) error {
	if err := knownParams(c, "endpoint_id", "event_id", "status", "since", "until", "limit", "cursor"); err != nil {
		return err
	}
	q, err := readListQuery(c, deliveryStatuses)
	if err != nil {
		return err
	}
	f := storage.DeliveryFilter{
		EndpointID: c.QueryParam("endpoint_id"),
		EventID:    c.QueryParam("event_id"),
		Status:     q.status,
		Since:      q.since,
		Until:      q.until,
		Cursor:     c.QueryParam("cursor"),
		Limit:      q.limit,
	}
	items, next, err := s.store.ListDeliveries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	full := principal(c).Can(access.Operate)
	for i := range items {
		items[i].Callback = redactCallback(items[i].Callback)
		if !full {
			items[i].Callback = nil // viewers see statuses only
		}
	}
	return c.JSON(http.StatusOK, list[storage.Delivery]{Items: items, NextCursor: next})
}

// getDelivery: GET /deliveries/{id} with every attempt and its event.
func (s *Server) getDelivery(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.store.GetDelivery(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	d.Callback = redactCallback(d.Callback)
	if d.Attempts == nil {
		d.Attempts = []storage.Attempt{}
	}
	out := struct {
		storage.DeliveryDetail
		Event *storage.Event `json:"event,omitempty"`
	}{DeliveryDetail: d}
	if ev, err := s.store.GetEvent(ctx, d.EventID); err == nil {
		out.Event = &ev.Event
	}
	if !principal(c).Can(access.Operate) {
		// Viewers see statuses: not the event, the request or the answers.
		out.Event, out.Callback = nil, nil
		for i := range out.Attempts {
			out.Attempts[i].Response = ""
		}
		c.Response().Header().Set("X-Switchyard-Redacted", "event, callback, responses")
	}
	return c.JSON(http.StatusOK, out)
}

// redactCallback hides the values of a callback's credential-like headers
// (redact.CredentialHeader) and of all its cookies, from every role.
func redactCallback(cb *storage.Callback) *storage.Callback {
	if cb == nil {
		return nil
	}
	out := *cb
	out.URL, out.Headers = redact.URL(cb.URL), redact.Headers(cb.Headers)
	if len(cb.Cookies) > 0 {
		out.Cookies = make(map[string]string, len(cb.Cookies))
		for k := range cb.Cookies {
			out.Cookies[k] = redact.Marker
		}
	}
	return &out
}

// retryDelivery: POST /deliveries/{id}/retry replays one delivery now.
func (s *Server) retryDelivery(c echo.Context) error {
	d, err := s.notify.Replay(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, d)
}

// outboundState is GET and PUT /outbound: the global pause switch.
type outboundState struct {
	Paused   bool `json:"paused"`
	InFlight int  `json:"in_flight"`
}

func (s *Server) getOutbound(c echo.Context) error {
	return c.JSON(http.StatusOK, outboundState{Paused: s.notify.Paused(), InFlight: s.notify.InFlight()})
}

func (s *Server) putOutbound(c echo.Context) error {
	var in struct {
		Paused *bool `json:"paused"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Paused == nil {
		return fmt.Errorf("%w: paused (true or false) is required", storage.ErrInvalid)
	}
	if err := s.notify.SetPaused(c.Request().Context(), *in.Paused); err != nil {
		return err
	}
	return s.getOutbound(c)
}
