package notify

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/internal/jsonesc"
	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/notify/filter"
	"github.com/switchyard-dev/switchyard/notify/template"
	"github.com/switchyard-dev/switchyard/storage"
)

// Response reading: enough of the body for "contains" verification; the
// stored excerpt is the first storage.MaxResponseExcerpt bytes of it. The
// rest is drained (up to drainLimit) so the connection can be reused.
const (
	verifyRead = 64 << 10
	drainLimit = 256 << 10
)

// target is an endpoint ready to send to: templates parsed, signing keys
// decoded. It is rebuilt whenever the endpoint changes.
type target struct {
	ep      storage.Endpoint
	url     *template.Template
	body    *template.Template            // nil without body_template
	headers map[string]*template.Template // the headers with placeholders
	names   []string                      // their names, sorted
	// static holds what every request carries: headers without
	// placeholders, the defaults, cookies and auth.
	static http.Header
	keys   []signKey // Standard Webhooks keys (v1 or v1a): the current one first
	// usesSign: some template names {{sign}}, so it is computed.
	usesSign bool
	// extra is extra_body encoded once: `"k":v,` for each key, sorted.
	extra []byte
	// filter is the endpoint's filter compiled; nil matches every event.
	filter *filter.Filter
	// broker is where a broker endpoint publishes (destination.go); nil
	// for HTTP.
	broker *broker.Spec
	// keys digest how the endpoint is reached (reach.go).
	reachKeys reachKeys
}

// newTarget prepares an endpoint (already normalised). Secrets rotated out
// before now are dropped.
func newTarget(ep storage.Endpoint, now time.Time) (*target, error) {
	t := &target{ep: ep, headers: make(map[string]*template.Template, len(ep.Headers)), reachKeys: newReachKeys(&ep)}
	var err error
	if t.filter, err = filter.Parse(ep.Filter); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	if t.url, err = template.Parse(ep.URL); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if t.broker, err = brokerSpec(ep); err != nil {
		return nil, err
	}
	if body, field := bodyTemplate(&ep); body != "" {
		if t.body, err = template.Parse(body); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
	}
	for k, v := range ep.Headers {
		if t.headers[k], err = template.Parse(v); err != nil {
			return nil, fmt.Errorf("header %q: %w", k, err)
		}
		t.usesSign = t.usesSign || slices.Contains(t.headers[k].Names(), "sign")
	}
	t.static = make(http.Header, len(ep.Headers)+4)
	for k, h := range t.headers {
		if len(h.Names()) == 0 {
			t.static.Set(k, h.Text(template.Vars{}))
			delete(t.headers, k)
		}
	}
	t.names = slices.Sorted(maps.Keys(t.headers))
	// Defaults, unless configured. User-Agent is set here so the egress
	// client need not copy every request to add it.
	for _, d := range [...]struct{ k, v string }{{"Content-Type", "application/json"}, {"User-Agent", egress.DefaultUserAgent}} {
		if !hasHeader(ep.Headers, d.k) {
			t.static.Set(d.k, d.v)
		}
	}
	setCookies(t.static, ep.Cookies)
	setAuth(t.static, ep.Auth)
	for _, k := range []string{"Cookie", "Authorization"} {
		if t.static.Get(k) != "" && hasHeader(ep.Headers, k) {
			delete(t.headers, headerName(ep.Headers, k)) // cookies and auth win over a header of that name
			t.names = slices.Sorted(maps.Keys(t.headers))
		}
	}
	t.usesSign = t.usesSign || slices.Contains(t.url.Names(), "sign") || (t.body != nil && slices.Contains(t.body.Names(), "sign"))
	for _, k := range slices.Sorted(maps.Keys(ep.ExtraBody)) {
		v, err := json.Marshal(ep.ExtraBody[k])
		if err != nil {
			return nil, fmt.Errorf("extra_body %q: %w", k, err)
		}
		t.extra = appendString(t.extra, k)
		t.extra = append(t.extra, ':')
		t.extra = append(t.extra, v...)
		t.extra = append(t.extra, ',')
	}
	if k, ok, err := parseSignKey(ep.SigningSecret); err != nil {
		return nil, fmt.Errorf("signing_secret: %w", err)
	} else if ok {
		t.keys = append(t.keys, k)
		for _, old := range ep.PreviousSecrets {
			if old.Expires.After(now) {
				// Old keys of either kind sign beside the new one: a
				// rotation from v1 to v1a (or back) overlaps too.
				if k, ok, err := parseSignKey(old.Secret); ok && err == nil {
					t.keys = append(t.keys, k)
				}
			}
		}
	}
	return t, nil
}

// outgoing is one HTTP request ready to send.
type outgoing struct {
	method  string
	url     string
	header  http.Header
	body    []byte
	timeout time.Duration
	verify  storage.Verify
}

// request builds the request of one attempt at delivering ev with
// webhook-id msgID.
func (t *target) request(ev storage.EncodedEvent, msgID string, now time.Time) (*outgoing, error) {
	ev.Event = localize(ev.Event, t.ep.Language)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	v := vars(ev.Event, ts)
	if t.usesSign && t.ep.SigningSecret != "" {
		v.Sign = robotSign(t.ep.SigningSecret, ts)
	}
	o := &outgoing{
		method:  t.ep.Method,
		url:     t.url.URL(v),
		header:  t.static.Clone(),
		timeout: time.Duration(t.ep.TimeoutMS) * time.Millisecond,
		verify:  t.ep.Verify,
	}
	for _, k := range t.names {
		o.header.Set(k, t.headers[k].Text(v))
	}
	var err error
	switch {
	case ev.Type == ValidateType && t.body == nil:
		o.body, err = json.Marshal(map[string]string{t.ep.MsgKey: ev.Message})
	case t.body == nil:
		o.body = t.defaultBody(ev)
	case isJSON(o.header.Get("Content-Type")):
		o.body, err = t.body.JSON(v)
	default:
		o.body = []byte(t.body.Raw(v))
	}
	if err != nil {
		return nil, err
	}
	if o.method == http.MethodGet {
		o.body = nil
	}
	// Canonical names, assigned directly: Set would canonicalise again.
	// Every delivery carries its id and time, signed or not, so that any
	// receiver can drop a retry it has already handled.
	o.header["X-Switchyard-Event"] = []string{ev.Type}
	o.header["Webhook-Id"] = []string{msgID}
	o.header["Webhook-Timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	if len(t.keys) > 0 {
		o.header["Webhook-Signature"] = []string{signature(t.keys, msgID, now, o.body)}
	}
	return o, nil
}

// callbackRequest builds the request of a NOTIFY.webhook callback.
// Like an endpoint's, it carries webhook-id and webhook-timestamp (now).
func callbackRequest(cb *storage.Callback, ev storage.Event, msgID string, now time.Time) *outgoing {
	o := &outgoing{
		method:  cb.Method,
		url:     cb.URL,
		header:  make(http.Header, len(cb.Headers)+4),
		timeout: time.Duration(cb.TimeoutMS) * time.Millisecond,
	}
	for k, v := range cb.Headers {
		o.header.Set(k, v)
	}
	if cb.Body != "" && o.method != http.MethodGet {
		o.body = []byte(cb.Body)
		if o.header.Get("Content-Type") == "" {
			o.header.Set("Content-Type", "application/json")
		}
	}
	setCookies(o.header, cb.Cookies)
	setAuth(o.header, cb.Auth)
	o.header.Set("X-Switchyard-Event", ev.Type)
	o.header["Webhook-Id"] = []string{msgID}
	o.header["Webhook-Timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	return o
}

func vars(ev storage.Event, ts string) template.Vars {
	return template.Vars{
		ID: ev.ID, Type: ev.Type, Title: ev.Title, SubTitle: ev.SubTitle, Message: ev.Message,
		Logo: ev.Logo, Image: ev.Image, Time: ev.Time.UTC().Format(time.RFC3339), Timestamp: ts,
		Data: ev.Data,
	}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.Contains(contentType, "json")
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// defaultBody is the body without a template: the event as JSON, the
// endpoint's extra_body, and the text under msg_key. It is written by
// hand (it is made for every attempt); data is embedded as it was
// encoded at publish.
func (t *target) defaultBody(ev storage.EncodedEvent) []byte {
	data := []byte(ev.DataJSON)
	if data == nil {
		data = []byte("{}")
	}
	b := make([]byte, 0, 192+len(ev.Title)+len(ev.SubTitle)+2*len(ev.Message)+len(data)+len(t.extra))
	b = append(b, '{')
	for _, f := range [...]struct{ k, v string }{
		{"id", ev.ID}, {"type", ev.Type}, {"time", ev.Time.UTC().Format(time.RFC3339Nano)},
		{"title", ev.Title}, {"sub_title", ev.SubTitle}, {"message", ev.Message},
		{"logo", ev.Logo}, {"image", ev.Image},
	} {
		if f.k == t.ep.MsgKey {
			continue // msg_key names an event field: the text takes its place
		}
		b = appendString(b, f.k)
		b = append(b, ':')
		b = appendString(b, f.v)
		b = append(b, ',')
	}
	if t.ep.MsgKey != "data" {
		b = append(b, `"data":`...)
		b = append(b, data...)
		b = append(b, ',')
	}
	b = append(b, t.extra...)
	b = appendString(b, t.ep.MsgKey)
	b = append(b, ':')
	b = appendString(b, text(ev.Event))
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = jsonesc.Append(b, s, false)
	return append(b, '"')
}

// text is an event's readable text: title, sub title and message, one a
// line.
func text(ev storage.Event) string {
	parts := make([]string, 0, 3)
	for _, s := range []string{ev.Title, ev.SubTitle, ev.Message} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

// hasHeader reports whether h names a header, in any case.
func hasHeader(h map[string]string, name string) bool { return headerName(h, name) != "" }

// headerName returns the key under which h holds name, in any case.
func headerName(h map[string]string, name string) string {
	for k := range h {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// setCookies sends cookies as one Cookie header, sorted by name.
func setCookies(h http.Header, cookies map[string]string) {
	if len(cookies) == 0 {
		return
	}
	var sb strings.Builder
	for i, k := range slices.Sorted(maps.Keys(cookies)) {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(k + "=" + cookies[k])
	}
	h.Set("Cookie", sb.String())
}

func setAuth(h http.Header, a storage.Auth) {
	switch a.Type {
	case "basic":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)))
	case "bearer":
		h.Set("Authorization", "Bearer "+a.Token)
	}
}

// bodyTemplate is the body template ep uses, and the field it is from:
// the one of body_templates for ep's language, else body_template ("" for
// the default body).
func bodyTemplate(ep *storage.Endpoint) (string, string) {
	if body, ok := ep.BodyTemplates[ep.Language]; ok && body != "" {
		return body, "body_templates." + ep.Language
	}
	return ep.BodyTemplate, "body_template"
}
