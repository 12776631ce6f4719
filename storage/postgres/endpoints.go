package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/storage"
)

// sealedSecrets are the secrets of an endpoint or of a callback, sealed
// together as one JSON object bound to their owner: auth password and
// token, signing secrets (endpoints only), and the values of secret
// headers and of every cookie, which the record's plain headers leave
// out.
type sealedSecrets struct {
	AuthPassword  string            `json:"auth_password,omitempty"`
	AuthToken     string            `json:"auth_token,omitempty"`
	SigningSecret string            `json:"signing_secret,omitempty"`
	Previous      []oldSecret       `json:"previous_secrets,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Cookies       map[string]string `json:"cookies,omitempty"`
	ClientSecret  string            `json:"auth_client_secret,omitempty"`
	ProxyPassword string            `json:"proxy_password,omitempty"`
	TLSClientKey  string            `json:"tls_client_key,omitempty"`
}

// plainTLS is the tls column: an endpoint's TLS settings but the client
// key.
type plainTLS struct {
	CAPEM         string `json:"ca_pem,omitempty"`
	ClientCertPEM string `json:"client_cert_pem,omitempty"`
	ServerName    string `json:"server_name,omitempty"`
}

// plainOAuth2 is the auth_oauth2 column: an auth's OAuth 2.0 fields but
// the client secret.
type plainOAuth2 struct {
	TokenURL string   `json:"token_url,omitempty"`
	ClientID string   `json:"client_id,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
}

type oldSecret struct {
	Secret  string    `json:"secret"`
	Expires time.Time `json:"expires"`
}

func endpointAAD(id string) []byte { return []byte("endpoint/" + id + "/secrets") }
func deliveryAAD(id string) []byte { return []byte("delivery/" + id + "/secrets") }

// seal seals the secrets; nil (SQL NULL) when there are none.
func (s *Store) seal(sec *sealedSecrets, aad []byte) ([]byte, error) {
	if sec.AuthPassword == "" && sec.AuthToken == "" && sec.SigningSecret == "" &&
		len(sec.Previous) == 0 && len(sec.Headers) == 0 && len(sec.Cookies) == 0 &&
		sec.ClientSecret == "" && sec.ProxyPassword == "" && sec.TLSClientKey == "" {
		return nil, nil
	}
	plain, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	return s.sealer.Seal(plain, aad), nil
}

// open reverses seal.
func (s *Store) open(sealed, aad []byte) (sealedSecrets, error) {
	var sec sealedSecrets
	if sealed == nil {
		return sec, nil
	}
	plain, err := s.sealer.Open(sealed, aad)
	if err != nil {
		return sec, err
	}
	return sec, json.Unmarshal(plain, &sec)
}

// splitSecret parts m into the values secret(name) chooses and the rest;
// each is nil when empty.
func splitSecret(m map[string]string, secret func(name string) bool) (plain, sealed map[string]string) {
	for k, v := range m {
		if secret(k) {
			if sealed == nil {
				sealed = map[string]string{}
			}
			sealed[k] = v
		} else {
			if plain == nil {
				plain = map[string]string{}
			}
			plain[k] = v
		}
	}
	return plain, sealed
}

// merge adds from's entries to m (made when nil and from is not empty).
func merge(m, from map[string]string) map[string]string {
	for k, v := range from {
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	return m
}

const endpointColumns = `id, name, description, url, method, enabled, disabled_reason, failing_since, consecutive_failures,
	event_types, headers, secret_headers, auth_type, auth_username, body_template, msg_key, extra_body, timeout_ms,
	retry_max_attempts, retry_interval_ms, retry_backoff, verify_type, verify_value, language, concurrency, rate_limit,
	auto_disable_failing_for_hours, auto_disable_consecutive_failures, secrets, event_filter, body_templates, proxy, tls, auth_oauth2, created_at, updated_at`

// endpointConfig is the configuration of e as stored: every column of
// endpointColumns from name to body_templates, but the health.
func (s *Store) endpointConfig(e *storage.Endpoint) ([]any, error) {
	plain, secretHeaders := splitSecret(e.Headers, func(k string) bool {
		return slices.Contains(e.SecretHeaders, k) || redact.CredentialHeader(k)
	})
	sec := sealedSecrets{
		AuthPassword: e.Auth.Password, AuthToken: e.Auth.Token, SigningSecret: e.SigningSecret,
		Headers: secretHeaders, Cookies: e.Cookies,
		ClientSecret: e.Auth.ClientSecret, ProxyPassword: e.ProxyPassword, TLSClientKey: e.TLS.ClientKeyPEM,
	}
	for _, old := range e.PreviousSecrets {
		sec.Previous = append(sec.Previous, oldSecret(old))
	}
	sealed, err := s.seal(&sec, endpointAAD(e.ID))
	if err != nil {
		return nil, err
	}
	docs := make([]json.RawMessage, 6)
	for i, v := range []any{e.EventTypes, plain, e.SecretHeaders, e.ExtraBody, e.Filter, e.BodyTemplates} {
		if docs[i], err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	var tlsDoc, oauthDoc []byte // SQL NULL when unset
	if t := (plainTLS{e.TLS.CAPEM, e.TLS.ClientCertPEM, e.TLS.ServerName}); t != (plainTLS{}) {
		if tlsDoc, err = json.Marshal(t); err != nil {
			return nil, err
		}
	}
	if o := (plainOAuth2{e.Auth.TokenURL, e.Auth.ClientID, e.Auth.Scopes}); o.TokenURL != "" || o.ClientID != "" || len(o.Scopes) > 0 {
		if oauthDoc, err = json.Marshal(o); err != nil {
			return nil, err
		}
	}
	return []any{e.Name, e.Description, e.URL, e.Method,
		docs[0], docs[1], docs[2], e.Auth.Type, e.Auth.Username, e.BodyTemplate, e.MsgKey, docs[3], e.TimeoutMS,
		e.Retry.MaxAttempts, e.Retry.IntervalMS, e.Retry.Backoff, e.Verify.Type, e.Verify.Value, e.Language, e.Concurrency, e.RateLimit,
		e.AutoDisable.FailingForHours, e.AutoDisable.ConsecutiveFailures, sealed, docs[4], docs[5],
		e.Proxy, tlsDoc, oauthDoc}, nil
}

// endpointConfigSet is the SET list that writes endpointConfig from $2 on.
const endpointConfigSet = `name = $2, description = $3, url = $4, method = $5,
	event_types = $6, headers = $7, secret_headers = $8, auth_type = $9, auth_username = $10, body_template = $11, msg_key = $12,
	extra_body = $13, timeout_ms = $14, retry_max_attempts = $15, retry_interval_ms = $16, retry_backoff = $17, verify_type = $18,
	verify_value = $19, language = $20, concurrency = $21, rate_limit = $22, auto_disable_failing_for_hours = $23,
	auto_disable_consecutive_failures = $24, secrets = $25, event_filter = $26, body_templates = $27,
	proxy = $28, tls = $29, auth_oauth2 = $30`

// scanEndpoint reads endpointColumns and opens the secrets.
func (s *Store) scanEndpoint(row pgx.Row) (storage.Endpoint, error) {
	var (
		e                                                                    storage.Endpoint
		failingSince                                                         *int64
		eventTypes, headers, secretHeaders, extraBody, filter, bodyTemplates []byte
		sealed, tlsDoc, oauthDoc                                             []byte
		created, updated                                                     int64
	)
	err := row.Scan(&e.ID, &e.Name, &e.Description, &e.URL, &e.Method, &e.Enabled, &e.DisabledReason, &failingSince, &e.ConsecutiveFailures,
		&eventTypes, &headers, &secretHeaders, &e.Auth.Type, &e.Auth.Username, &e.BodyTemplate, &e.MsgKey, &extraBody, &e.TimeoutMS,
		&e.Retry.MaxAttempts, &e.Retry.IntervalMS, &e.Retry.Backoff, &e.Verify.Type, &e.Verify.Value, &e.Language, &e.Concurrency, &e.RateLimit,
		&e.AutoDisable.FailingForHours, &e.AutoDisable.ConsecutiveFailures, &sealed, &filter, &bodyTemplates,
		&e.Proxy, &tlsDoc, &oauthDoc, &created, &updated)
	if err != nil {
		return storage.Endpoint{}, err
	}
	e.FailingSince, e.CreatedAt, e.UpdatedAt = timePtrOf(failingSince), timeOf(&created), timeOf(&updated)
	for _, d := range []struct {
		raw []byte
		v   any
	}{{eventTypes, &e.EventTypes}, {headers, &e.Headers}, {secretHeaders, &e.SecretHeaders}, {extraBody, &e.ExtraBody}, {filter, &e.Filter}, {bodyTemplates, &e.BodyTemplates}} {
		if err := unmarshalJSON(d.raw, d.v); err != nil {
			return storage.Endpoint{}, fmt.Errorf("endpoint %s: %w", e.ID, err)
		}
	}
	var t plainTLS
	var o plainOAuth2
	if err := unmarshalJSON(tlsDoc, &t); err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: tls: %w", e.ID, err)
	}
	if err := unmarshalJSON(oauthDoc, &o); err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: auth_oauth2: %w", e.ID, err)
	}
	e.TLS = storage.TLS{CAPEM: t.CAPEM, ClientCertPEM: t.ClientCertPEM, ServerName: t.ServerName}
	e.Auth.TokenURL, e.Auth.ClientID, e.Auth.Scopes = o.TokenURL, o.ClientID, o.Scopes
	sec, err := s.open(sealed, endpointAAD(e.ID))
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s secrets: %w", e.ID, err)
	}
	e.Auth.Password, e.Auth.Token, e.SigningSecret = sec.AuthPassword, sec.AuthToken, sec.SigningSecret
	e.Auth.ClientSecret, e.ProxyPassword, e.TLS.ClientKeyPEM = sec.ClientSecret, sec.ProxyPassword, sec.TLSClientKey
	for _, old := range sec.Previous {
		e.PreviousSecrets = append(e.PreviousSecrets, storage.OldSecret(old))
	}
	e.Headers, e.Cookies = merge(e.Headers, sec.Headers), sec.Cookies
	return e, nil
}

// ListEndpoints returns every endpoint, oldest first.
func (s *Store) ListEndpoints(ctx context.Context) ([]storage.Endpoint, error) {
	out, err := queryAll(ctx, s.db(), s.scanEndpoint, `SELECT `+endpointColumns+` FROM endpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", s.mapErr(err))
	}
	return out, nil
}

// GetEndpoint returns one endpoint with its secrets opened.
func (s *Store) GetEndpoint(ctx context.Context, id string) (storage.Endpoint, error) {
	e, err := getByID(ctx, s, "endpoints", endpointColumns, id, s.scanEndpoint)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("endpoint %s: %w", id, err)
	}
	return e, nil
}

// CreateEndpoint stores e with a new id.
func (s *Store) CreateEndpoint(ctx context.Context, e storage.Endpoint) (storage.Endpoint, error) {
	u, err := newID()
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("create endpoint: %w", err)
	}
	now, ns := s.nowTime()
	e.ID, e.CreatedAt, e.UpdatedAt = u.String(), now, now
	config, err := s.endpointConfig(&e)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("create endpoint: %w", err)
	}
	args := append(append([]any{u}, config...), e.Enabled, e.DisabledReason, nanosPtr(e.FailingSince), e.ConsecutiveFailures, ns)
	_, err = s.db().Exec(ctx, `INSERT INTO endpoints (id, name, description, url, method,
			event_types, headers, secret_headers, auth_type, auth_username, body_template, msg_key, extra_body, timeout_ms,
			retry_max_attempts, retry_interval_ms, retry_backoff, verify_type, verify_value, language, concurrency, rate_limit,
			auto_disable_failing_for_hours, auto_disable_consecutive_failures, secrets, event_filter, body_templates,
			proxy, tls, auth_oauth2,
			enabled, disabled_reason, failing_since, consecutive_failures, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25,
			$26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $35)`, args...)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("create endpoint: %w", s.mapErr(err))
	}
	return e, nil
}

// UpdateEndpoint replaces every field of e.ID but its creation time and
// its health, secrets included.
func (s *Store) UpdateEndpoint(ctx context.Context, e storage.Endpoint) (storage.Endpoint, error) {
	u, err := parseID(e.ID)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("update endpoint: %w", err)
	}
	now, ns := s.nowTime()
	e.UpdatedAt = now
	config, err := s.endpointConfig(&e)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	var created int64
	var failingSince *int64
	h := &e.EndpointHealth
	err = s.db().QueryRow(ctx, `UPDATE endpoints SET `+endpointConfigSet+`, updated_at = $31 WHERE id = $1
		RETURNING created_at, enabled, disabled_reason, failing_since, consecutive_failures`,
		append(append([]any{u}, config...), ns)...).Scan(&created, &h.Enabled, &h.DisabledReason, &failingSince, &h.ConsecutiveFailures)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("update endpoint %s: %w", e.ID, s.mapErr(err))
	}
	e.CreatedAt, h.FailingSince = timeOf(&created), timePtrOf(failingSince)
	return e, nil
}

// DeleteEndpoint removes an endpoint. Its deliveries stay until purged.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "endpoints", id); err != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	return nil
}

// SetEndpointHealth replaces the endpoint's health and nothing else (not
// even UpdatedAt, which tracks configuration changes).
func (s *Store) SetEndpointHealth(ctx context.Context, id string, h storage.EndpointHealth) (storage.Endpoint, error) {
	u, err := parseID(id)
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("set endpoint health: %w", err)
	}
	e, err := s.scanEndpoint(s.db().QueryRow(ctx, `UPDATE endpoints
		SET enabled = $2, disabled_reason = $3, failing_since = $4, consecutive_failures = $5
		WHERE id = $1 RETURNING `+endpointColumns,
		u, h.Enabled, h.DisabledReason, nanosPtr(h.FailingSince), h.ConsecutiveFailures))
	if err != nil {
		return storage.Endpoint{}, fmt.Errorf("set endpoint health %s: %w", id, s.mapErr(err))
	}
	return e, nil
}
