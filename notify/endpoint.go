package notify

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/notify/filter"
	"github.com/switchyard-dev/switchyard/notify/template"
	"github.com/switchyard-dev/switchyard/storage"
)

// Endpoint limits and defaults (docs/notifications.md, "Endpoints").
const (
	MinTimeout         = 500 * time.Millisecond
	MaxTimeout         = 120 * time.Second
	DefaultTimeout     = 5 * time.Second
	DefaultMsgKey      = "Msg"
	DefaultConcurrency = 8
	MaxConcurrency     = 256
	MaxAttempts        = 50
	// DefaultFailingFor is how long an endpoint's deliveries may keep
	// failing before it is disabled.
	DefaultFailingFor = 5 * 24 * time.Hour
	// RotationGrace is how long a replaced signing secret still signs.
	RotationGrace = 24 * time.Hour
	maxEventTypes = 100
	// MaxRateLimit bounds rate_limit (deliveries a second).
	MaxRateLimit = 10000
	// MaxFailingForHours bounds auto_disable.failing_for_hours (a year).
	MaxFailingForHours = 24 * 366
	// MaxConsecutiveFailures bounds auto_disable.consecutive_failures.
	MaxConsecutiveFailures = 1_000_000
)

// Methods an endpoint may use.
var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// Languages of system-generated titles.
var languages = map[string]bool{"en": true, "zh": true}

// invalid is a *field.Error: it wraps storage.ErrInvalid, which the API
// answers with 400, and keeps the reason apart for a script's exception.
func invalid(format string, args ...any) error {
	return field.Invalid(format, args...)
}

// Normalize fills an endpoint's defaults and checks every field, returning
// an error (wrapping storage.ErrInvalid) that names the first bad one.
func Normalize(e *storage.Endpoint) error {
	e.Name = strings.TrimSpace(e.Name)
	if e.Name == "" {
		return invalid("name is required")
	}
	if err := field.Name("name", e.Name, field.MaxName); err != nil {
		return err
	}
	if err := field.Text("description", e.Description, field.MaxDescription); err != nil {
		return err
	}
	if broker.IsBroker(e.URL) {
		if err := normalizeBroker(e); err != nil {
			return err
		}
	} else if err := checkURL(e.URL); err != nil {
		return err
	}
	if err := normalizeMethod(&e.Method); err != nil {
		return err
	}
	if err := checkEventTypes(e.EventTypes); err != nil {
		return err
	}
	if _, err := filter.Parse(e.Filter); err != nil {
		return invalid("filter: %v", err)
	}
	if len(e.Filter) == 0 {
		e.Filter = nil
	}
	if err := checkEntries(e.Headers, e.Cookies); err != nil {
		return err
	}
	for k, v := range e.Headers {
		if err := checkHeaderValue(k, v); err != nil {
			return err
		}
		if !validHeaderName(k) {
			return invalid("header name %q is not a valid HTTP header name", k)
		}
		if _, err := template.Parse(v); err != nil {
			return invalid("header %q: %v", k, err)
		}
		if strings.EqualFold(k, "Host") || strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Transfer-Encoding") {
			return invalid("header %q is set by Switchyard and cannot be configured", k)
		}
	}
	e.SecretHeaders = SecretHeaders(e.Headers, e.SecretHeaders)
	if err := checkCookies(e.Cookies); err != nil {
		return err
	}
	if err := checkAuth(&e.Auth); err != nil {
		return err
	}
	if err := checkConnection(e); err != nil {
		return err
	}
	if _, err := template.Parse(e.BodyTemplate); err != nil {
		return invalid("body_template: %v", err)
	}
	if err := checkBodyTemplates(e); err != nil {
		return err
	}
	if err := checkBodiesRender(e); err != nil {
		return err
	}
	if e.MsgKey == "" {
		e.MsgKey = DefaultMsgKey
	}
	if err := field.Line("msg_key", e.MsgKey, field.MaxName); err != nil {
		return err
	}
	if _, ok := e.ExtraBody[e.MsgKey]; ok {
		return invalid("extra_body must not set %q: the message text goes there (msg_key)", e.MsgKey)
	}
	for k := range e.ExtraBody {
		if eventFields[k] {
			return invalid("extra_body must not set %q: the event's own field has that name", k)
		}
	}
	if err := normalizeTimeout(&e.TimeoutMS); err != nil {
		return err
	}
	if err := checkRetry(&e.Retry); err != nil {
		return err
	}
	if err := checkVerify(e.Verify); err != nil {
		return err
	}
	if e.Language == "" {
		e.Language = "en"
	}
	if !languages[e.Language] {
		return invalid("language %q is not one of en, zh", e.Language)
	}
	if e.Concurrency == 0 {
		e.Concurrency = DefaultConcurrency
	}
	if e.Concurrency < 1 || e.Concurrency > MaxConcurrency {
		return invalid("concurrency must be from 1 to %d, got %d", MaxConcurrency, e.Concurrency)
	}
	if !(e.RateLimit >= 0 && e.RateLimit <= MaxRateLimit) {
		return invalid("rate_limit must be from 0 (no limit) to %d deliveries a second, got %g", MaxRateLimit, e.RateLimit)
	}
	if e.AutoDisable.FailingForHours == 0 {
		e.AutoDisable.FailingForHours = int(DefaultFailingFor / time.Hour)
	}
	if err := field.Int("auto_disable.failing_for_hours", e.AutoDisable.FailingForHours, 0, MaxFailingForHours); err != nil {
		return err
	}
	if err := field.Int("auto_disable.consecutive_failures", e.AutoDisable.ConsecutiveFailures, 0, MaxConsecutiveFailures); err != nil {
		return err
	}
	if err := field.Line("signing_secret", e.SigningSecret, field.MaxLine); err != nil {
		return err
	}
	// A "whsec_" secret (v1) or a "whsk_" Ed25519 key (v1a) signs with
	// Standard Webhooks headers; any other secret only feeds {{sign}}
	// (DingTalk-style robots).
	if _, _, err := parseSignKey(e.SigningSecret); err != nil {
		return invalid("signing_secret: %v", err)
	}
	return nil
}

// The rules below hold for an endpoint and for a script's callback
// (NOTIFY.webhook) alike: where the request goes and how.

// normalizeMethod upper-cases the method, POST by default, and checks it.
func normalizeMethod(m *string) error {
	*m = strings.ToUpper(strings.TrimSpace(*m))
	if *m == "" {
		*m = "POST"
	}
	if !methods[*m] {
		return invalid("method %q is not one of GET, POST, PUT, PATCH, DELETE", *m)
	}
	return nil
}

// checkEntries bounds how many headers and cookies a request has.
func checkEntries(headers, cookies map[string]string) error {
	if len(headers) > field.MaxEntries || len(cookies) > field.MaxEntries {
		return invalid("headers and cookies may have %d entries each", field.MaxEntries)
	}
	return nil
}

func checkCookies(cookies map[string]string) error {
	for k, v := range cookies {
		if !validCookie(k, v) {
			return invalid("cookie %q: names must be tokens and values must not hold spaces, quotes, commas, semicolons or backslashes", k)
		}
	}
	return nil
}

// normalizeTimeout gives a timeout of 0 the default and checks the rest.
func normalizeTimeout(ms *int) error {
	if *ms == 0 {
		*ms = int(DefaultTimeout / time.Millisecond)
	}
	return field.Int("timeout_ms", *ms, int(MinTimeout.Milliseconds()), int(MaxTimeout.Milliseconds()))
}

// SecretHeaders returns the names of the headers of h whose values are
// secrets, spelt as h spells them and sorted: those named in names (in any
// case) and every credential-like one (Authorization, X-Api-Key...: see
// redact.CredentialHeader), whether or not it was named, so that an
// endpoint saved before secret_headers existed is covered too. Names
// without a header are dropped (the API refuses them when they are given).
func SecretHeaders(h map[string]string, names []string) []string {
	var out []string
	for k := range h {
		if redact.CredentialHeader(k) || slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, k) }) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// eventFields are the keys of an event's default JSON body.
var eventFields = map[string]bool{"id": true, "type": true, "time": true, "title": true, "sub_title": true, "message": true, "logo": true, "image": true, "data": true}

func checkURL(raw string) error {
	if raw == "" {
		return invalid("url is required")
	}
	if err := field.Line("url", raw, field.MaxURI); err != nil {
		return err
	}
	if _, err := template.Parse(raw); err != nil {
		return invalid("url: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("url %q does not parse: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid("url must start with http:// or https:// (an endpoint's may also name a broker: amqp://, nats:// or redis://)")
	}
	if u.Host == "" {
		return invalid("url has no host")
	}
	if u.User != nil {
		return invalid("url must not carry credentials; use auth")
	}
	return checkHost(u)
}

// normalizeBroker checks an endpoint whose url names a message broker
// (package broker). Credentials in the url move to auth (basic), where
// they are sealed like every password: the url is stored and shown
// without them. A url given back as shown, with the user but no password,
// keeps the stored password. HTTP's own fields are refused: headers,
// cookies, verify, a bearer or OAuth 2.0 token, a proxy and tls; method
// is ignored.
func normalizeBroker(e *storage.Endpoint) error {
	if err := field.Line("url", e.URL, field.MaxURI); err != nil {
		return err
	}
	takeBrokerCredentials(e)
	e.Method = "" // ignored: POST
	d, err := broker.Parse(e.URL)
	if err != nil {
		return invalid("url %v", err)
	}
	if u, err := url.Parse(e.URL); err == nil {
		if err := checkHost(u); err != nil {
			return err
		}
	}
	switch {
	case e.Auth.Type == "bearer" || e.Auth.Type == "oauth2":
		return invalid("auth: a %s url logs in with a user and password (auth type basic, or user:password@ in the url), not auth type %s", d.Kind, e.Auth.Type)
	case e.Proxy != "" || e.ProxyPassword != "":
		return invalid("proxy: a %s destination is reached directly; proxy applies to HTTP urls only", d.Kind)
	case e.TLS != (storage.TLS{}):
		return invalid("tls: a %s destination takes no tls settings; they apply to HTTPS urls only", d.Kind)
	case len(e.Headers) > 0:
		return invalid("headers: a %s destination carries no HTTP headers (webhook-id, the event type and the signature travel as message headers by themselves)", d.Kind)
	case len(e.Cookies) > 0:
		return invalid("cookies: a %s destination takes no cookies", d.Kind)
	case e.Verify.Type != "":
		return invalid("verify: a %s destination succeeds when the broker confirms the message; verify applies to HTTP answers only", d.Kind)
	}
	return nil
}

// takeBrokerCredentials moves the user and password of a broker url to
// e's auth (basic). A url with the stored user and no password keeps the
// stored password.
func takeBrokerCredentials(e *storage.Endpoint) {
	clean, c, found := broker.SplitCredentials(e.URL)
	if !found {
		return
	}
	if c.Username == "" {
		c.Username = "default" // redis://:password@host: Redis's default user
	}
	kept := e.Auth.Type == "basic" && e.Auth.Username == c.Username
	if c.Password == "" && kept {
		c.Password = e.Auth.Password
	}
	e.Auth = storage.Auth{Type: "basic", Username: c.Username, Password: c.Password}
	e.URL = clean
}

// checkHost checks the url's host name against DNS's limits (253
// characters, labels of 63) and its port against TCP's (1 to 65535).
func checkHost(u *url.URL) error {
	host := u.Hostname()
	if len(host) > 253 {
		return invalid("url: the host name must be at most 253 characters, got %d", len(host))
	}
	if !strings.Contains(host, ":") { // not an IPv6 address
		for _, label := range strings.Split(host, ".") {
			if len(label) > 63 {
				return invalid("url: each part of the host name must be at most 63 characters, got %d", len(label))
			}
		}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return invalid("url: the port must be from 1 to 65535, got %s", field.Quote(p))
		}
	}
	return nil
}

// checkEventTypes accepts exact types and "*" wildcards ("alarm.*", "*").
func checkEventTypes(types []string) error {
	if len(types) == 0 {
		return invalid("event_types is required: list the event types to deliver, e.g. [\"alarm.*\"] or [\"*\"]")
	}
	if len(types) > maxEventTypes {
		return invalid("event_types has more than %d entries", maxEventTypes)
	}
	for _, t := range types {
		if err := field.Line("event type "+field.Quote(t), t, MaxEventType); err != nil {
			return err
		}
		if t == "" || strings.TrimSpace(t) != t {
			return invalid("event type %q is empty or has surrounding spaces", t)
		}
		if _, err := path.Match(t, ""); err != nil {
			return invalid("event type pattern %q is malformed", t)
		}
	}
	return nil
}

// Subscribed reports whether an event type matches one of the patterns.
// "*" matches any run of characters, dots included: "alarm.*" matches
// "alarm.host.lost". A type that only an exact name subscribes to
// (ExactOnly: message.succeeded) matches no wildcard.
func Subscribed(patterns []string, eventType string) bool {
	if ExactOnly(eventType) {
		return slices.Contains(patterns, eventType)
	}
	for _, p := range patterns {
		if wildcard(p, eventType) {
			return true
		}
	}
	return false
}

// wildcard matches s against p where '*' stands for any run of characters.
// It remembers only the last star passed (the classic greedy match), so a
// pattern with many stars costs at most len(p)·len(s) steps, never an
// exponential backtrack.
func wildcard(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			// Let the last star take one more character, and retry.
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func checkAuth(a *storage.Auth) error {
	if a.Type != "oauth2" {
		a.TokenURL, a.ClientID, a.ClientSecret, a.Scopes = "", "", "", nil
	}
	switch a.Type {
	case "", "none":
		a.Type, a.Username, a.Password, a.Token = "none", "", "", ""
	case "basic":
		if a.Username == "" {
			return invalid("auth: basic needs a username")
		}
		if strings.Contains(a.Username, ":") {
			return invalid("auth: a basic username cannot contain ':'")
		}
		if err := field.Line("auth.username", a.Username, field.MaxName); err != nil {
			return err
		}
		if err := field.Line("auth.password", a.Password, field.MaxLine); err != nil {
			return err
		}
		a.Token = ""
	case "bearer":
		if a.Token == "" {
			return invalid("auth: bearer needs a token")
		}
		if err := field.Line("auth.token", a.Token, field.MaxLine); err != nil {
			return err
		}
		a.Username, a.Password = "", ""
	case "oauth2":
		return checkOAuth2(a)
	default:
		return invalid("auth type %q is not one of none, basic, bearer, oauth2", a.Type)
	}
	return nil
}

// Default retry schedule: immediately, then after 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h and 10 h (the Standard Webhooks / Svix schedule).
var defaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

func checkRetry(r *storage.RetryPolicy) error {
	if r.Backoff == "" {
		r.Backoff = "exponential"
	}
	if r.Backoff != "exponential" && r.Backoff != "fixed" {
		return invalid("retry.backoff %q is not one of fixed, exponential", r.Backoff)
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = len(defaultSchedule)
	}
	if r.MaxAttempts < 1 || r.MaxAttempts > MaxAttempts {
		return invalid("retry.max_attempts must be from 1 to %d, got %d", MaxAttempts, r.MaxAttempts)
	}
	if r.Backoff == "fixed" && r.IntervalMS == 0 {
		r.IntervalMS = int(time.Minute / time.Millisecond)
	}
	if err := field.Int("retry.interval_ms", r.IntervalMS, 0, int((24 * time.Hour).Milliseconds())); err != nil {
		return err
	}
	if r.IntervalMS > 0 && r.IntervalMS < 100 {
		return invalid("retry.interval_ms must be at least 100, got %d", r.IntervalMS)
	}
	return nil
}

func checkVerify(v storage.Verify) error {
	switch v.Type {
	case "":
		if v.Value != "" {
			return invalid("verify.value needs verify.type (status or contains)")
		}
	case "status":
		n, err := strconv.Atoi(v.Value)
		if err != nil || n < 100 || n > 599 {
			return invalid("verify.value must be an HTTP status (100-599) for type status, got %q", v.Value)
		}
	case "contains":
		if v.Value == "" {
			return invalid("verify.value must be the text the response body contains")
		}
	default:
		return invalid("verify.type %q is not one of status, contains", v.Type)
	}
	return nil
}

// secretKey decodes a Standard Webhooks secret: "whsec_" and base64.
func secretKey(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return nil, fmt.Errorf("must start with whsec_ followed by base64 (a Standard Webhooks secret)")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("the part after whsec_ is not valid base64")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("the key must be 24 to 64 bytes, got %d", len(key))
	}
	return key, nil
}

// checkHeaderValue refuses what would split or end a header: CR, LF, NUL
// and the other control characters (tab is allowed), and values longer
// than a server reads.
func checkHeaderValue(k, v string) error {
	return field.Line("header "+field.Quote(k), strings.ReplaceAll(v, "\t", " "), field.MaxLine)
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > field.MaxName {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isToken(k[i]) {
			return false
		}
	}
	return true
}

func isToken(c byte) bool {
	return c > 0x20 && c < 0x7f && !strings.ContainsRune("()<>@,;:\\\"/[]?={}", rune(c))
}

func validCookie(k, v string) bool {
	if !validHeaderName(k) {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// checkBodyTemplates checks each of body_templates as body_template is
// checked, under a language Switchyard knows. An empty template is none:
// it is dropped, and an empty map is nil.
func checkBodyTemplates(e *storage.Endpoint) error {
	for _, lang := range slices.Sorted(maps.Keys(e.BodyTemplates)) {
		if !languages[lang] {
			return invalid("body_templates: language %q is not one of en, zh", lang)
		}
		if e.BodyTemplates[lang] == "" {
			delete(e.BodyTemplates, lang)
			continue
		}
		if _, err := template.Parse(e.BodyTemplates[lang]); err != nil {
			return invalid("body_templates.%s: %v", lang, err)
		}
	}
	if len(e.BodyTemplates) == 0 {
		e.BodyTemplates = nil
	}
	return nil
}
