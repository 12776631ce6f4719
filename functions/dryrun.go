package functions

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// DryRunOptions are the unsaved changes a dry run tries. All are optional.
type DryRunOptions struct {
	// ProviderID with MatchScript replaces that provider's match script.
	// The provider takes part even if it is inactive.
	ProviderID  string `json:"provider_id"`
	MatchScript string `json:"match_script"`
	// HandshakeScript with ProviderID replaces that provider's handshake
	// script, which then takes part even if the provider is inactive.
	HandshakeScript string `json:"handshake_script"`
	// FunctionID with Script replaces that function's script; the function
	// takes part even if it is inactive. Script without FunctionID runs as
	// an unsaved function of ProviderID bound to the message's URI.
	FunctionID string `json:"function_id"`
	Script     string `json:"script"`
}

// DryRunResult is what a dry run decided, without recording anything.
type DryRunResult struct {
	MessageID string            `json:"message_id"`
	Status    string            `json:"status"`
	Provider  *DryRunProvider   `json:"provider"` // null: no provider matched
	Summary   string            `json:"message,omitempty"`
	Logs      []storage.LogLine `json:"logs"` // match scripts and router notes
	Functions []DryRunFunction  `json:"functions"`
	Effects   []Effect          `json:"effects"` // what the scripts would have done
	// Answer is the RESPONSE a script set: a handshake's (then nothing
	// else ran), or the one a sync request would get; null when none.
	Answer     *DryRunAnswer `json:"answer"`
	DurationMS float64       `json:"duration_ms"`
}

// DryRunAnswer is the HTTP answer a script set through RESPONSE.
type DryRunAnswer struct {
	By      string            `json:"by"` // who set it: "handshake", `function "deploy"`, `the match script of provider "GitHub"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// dryRunAnswer describes r, set by by.
func dryRunAnswer(by string, r *scripting.Response) *DryRunAnswer {
	if r == nil {
		return nil
	}
	a := &DryRunAnswer{By: by, Status: r.Status, Headers: make(map[string]string, len(r.Headers)), Body: string(r.Body)}
	for name := range r.Headers {
		a.Headers[name] = r.Headers.Get(name)
	}
	return a
}

// DryRunProvider names the provider that matched.
type DryRunProvider struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Version    int    `json:"version"`
	Overridden bool   `json:"overridden"` // ran the unsaved match script
}

// DryRunFunction is one function's execution with the value it returned.
type DryRunFunction struct {
	storage.Execution
	Result     any  `json:"result"`
	Overridden bool `json:"overridden"` // ran the unsaved script
}

// Effect is one call a script made to HTTP, NOTIFY or DEDUPE during a dry
// run: recorded, not performed.
type Effect struct {
	Kind  string    `json:"kind"`  // "http", "notify", "webhook", "dedupe"
	Scope string    `json:"scope"` // "provider:<id>" or "function:<id>"
	Time  time.Time `json:"time"`

	// http, webhook
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"` // credentials redacted
	Body    string            `json:"body,omitempty"`    // cut at 64 KiB

	// notify
	EventType string                 `json:"event_type,omitempty"`
	Fields    *scripting.EventFields `json:"fields,omitempty"`

	// dedupe
	Key        string  `json:"key,omitempty"`
	TTLSeconds float64 `json:"ttl_seconds,omitempty"`
}

// unsavedID names the unsaved function of a dry run.
const unsavedID = "unsaved"

// maxEffectBody bounds the request body kept per recorded HTTP call.
const maxEffectBody = 64 << 10

// DryRun runs the stored message id through matching and functions as they
// are now, with opts' unsaved changes, and returns what happened without
// recording anything: HTTP.request and NOTIFY.send calls are recorded in
// the result instead of sent (HTTP.request answers 200 with an empty body)
// and DEDUPE.first answers true without remembering the key. Bad options
// wrap storage.ErrInvalid; a missing message is storage.ErrNotFound.
func (d *Dispatcher) DryRun(ctx context.Context, id string, opts DryRunOptions) (DryRunResult, error) {
	md, err := d.store.GetMessage(ctx, id)
	if err != nil {
		return DryRunResult{}, err
	}
	payload, err := d.store.GetPayload(ctx, id)
	if err != nil {
		return DryRunResult{}, err
	}
	cat, secrets, err := d.dryRunCatalog(ctx, md.Message, opts)
	if err != nil {
		return DryRunResult{}, err
	}
	rec := &recorder{}
	start := time.Now()
	if a, _, err := cat.providers.Handshake(ctx, d.engine, Request(md.Message, payload), rec.effectsFor); err != nil {
		return DryRunResult{}, err
	} else if a != nil {
		res := DryRunResult{
			MessageID: id, Status: storage.StatusSuccess, Summary: "handshake answered by " + a.Provider.Name,
			Provider: &DryRunProvider{ID: a.Provider.ID, Name: a.Provider.Name, Version: a.Provider.Version, Overridden: a.Provider.ID == opts.ProviderID && opts.HandshakeScript != ""},
			Logs:     a.Logs, Functions: []DryRunFunction{}, Effects: rec.effects, Answer: dryRunAnswer("handshake", a.Response),
			DurationMS: float64(time.Since(start).Microseconds()) / 1000,
		}
		if res.Logs == nil {
			res.Logs = []storage.LogLine{}
		}
		if res.Effects == nil {
			res.Effects = []Effect{}
		}
		redactResult(&res, secrets)
		return res, nil
	}
	ev, err := evaluate(ctx, d.engine, cat, md.Message, payload, nil, rec.effectsFor)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return DryRunResult{}, cerr
		}
		return DryRunResult{}, err
	}
	res := DryRunResult{
		MessageID:  id,
		Status:     ev.Status,
		Summary:    ev.Summary,
		Logs:       ev.Logs,
		Functions:  make([]DryRunFunction, len(ev.Executions)),
		Effects:    rec.effects,
		Answer:     dryRunAnswer(ev.ResponseFrom, ev.Response),
		DurationMS: float64(time.Since(start).Microseconds()) / 1000,
	}
	if res.Logs == nil {
		res.Logs = []storage.LogLine{}
	}
	if res.Effects == nil {
		res.Effects = []Effect{}
	}
	if p := ev.Provider; p != nil {
		res.Provider = &DryRunProvider{ID: p.ID, Name: p.Name, Version: p.Version, Overridden: p.ID == opts.ProviderID && opts.MatchScript != ""}
	}
	for i, e := range ev.Executions {
		over := opts.Script != "" && (e.FunctionID == opts.FunctionID || e.FunctionID == unsavedID)
		res.Functions[i] = DryRunFunction{Execution: e, Result: ev.Results[i], Overridden: over}
	}
	redactResult(&res, secrets)
	return res, nil
}

// redactResult replaces the values of secrets everywhere in a dry run's
// answer: the logs, errors and summary (already redacted per provider as
// they were written), the return values and the recorded calls.
func redactResult(res *DryRunResult, secrets *redact.Secrets) {
	if secrets == nil {
		return
	}
	res.Summary = secrets.String(res.Summary)
	if a := res.Answer; a != nil {
		a.Body = secrets.String(a.Body)
		a.Headers = secrets.Value(a.Headers).(map[string]string)
	}
	lines := func(ls []storage.LogLine) {
		for i := range ls {
			ls[i].Text = secrets.String(ls[i].Text)
		}
	}
	lines(res.Logs)
	for i := range res.Functions {
		f := &res.Functions[i]
		lines(f.Logs)
		f.Error = secrets.String(f.Error)
		f.Result = secrets.Value(f.Result)
	}
	for i := range res.Effects {
		e := &res.Effects[i]
		e.URL, e.Body, e.Key, e.EventType = secrets.String(e.URL), secrets.String(e.Body), secrets.String(e.Key), secrets.String(e.EventType)
		if e.Headers != nil {
			e.Headers = secrets.Value(e.Headers).(map[string]string)
		}
		if f := e.Fields; f != nil {
			for _, s := range []*string{&f.Title, &f.SubTitle, &f.Message, &f.Logo, &f.Image} {
				*s = secrets.String(*s)
			}
			if f.Data != nil {
				f.Data = secrets.Value(f.Data).(map[string]any)
			}
		}
	}
}

// dryRunCatalog builds providers and routes from the store with opts
// applied, reusing the compiled programs of the live catalog. It returns
// with them the replacer of every provider's secrets.
func (d *Dispatcher) dryRunCatalog(ctx context.Context, m storage.Message, opts DryRunOptions) (*catalog, *redact.Secrets, error) {
	plist, err := d.store.ListProviders(ctx)
	if err != nil {
		return nil, nil, err
	}
	all := make([]map[string]string, len(plist))
	for i, p := range plist {
		all[i] = p.Secrets
	}
	cat, err := d.dryRunRoutes(ctx, m, opts, plist)
	if err != nil {
		return nil, nil, err
	}
	return cat, redact.NewSecrets(all...), nil
}

// dryRunRoutes builds the catalog of dryRunCatalog from plist.
func (d *Dispatcher) dryRunRoutes(ctx context.Context, m storage.Message, opts DryRunOptions, plist []storage.Provider) (*catalog, error) {
	flist, err := d.store.ListFunctions(ctx)
	if err != nil {
		return nil, err
	}
	if (opts.MatchScript != "" || opts.HandshakeScript != "") && opts.ProviderID == "" {
		return nil, fmt.Errorf("%w: match_script and handshake_script need provider_id", storage.ErrInvalid)
	}
	if opts.ProviderID != "" {
		i := indexOf(plist, func(p storage.Provider) bool { return p.ID == opts.ProviderID })
		if i < 0 {
			return nil, fmt.Errorf("%w: provider_id %q names no provider", storage.ErrInvalid, opts.ProviderID)
		}
		if opts.MatchScript != "" {
			if _, err := scripting.Compile(plist[i].Name, opts.MatchScript); err != nil {
				return nil, fmt.Errorf("%w: match_script: %w", storage.ErrInvalid, err)
			}
			plist[i].MatchScript, plist[i].Active = opts.MatchScript, true
		}
		if opts.HandshakeScript != "" {
			if _, err := scripting.Compile(plist[i].Name, opts.HandshakeScript); err != nil {
				return nil, fmt.Errorf("%w: handshake_script: %w", storage.ErrInvalid, err)
			}
			plist[i].HandshakeScript, plist[i].Active = opts.HandshakeScript, true
		}
	}
	switch {
	case opts.FunctionID != "":
		i := indexOf(flist, func(f storage.Function) bool { return f.ID == opts.FunctionID })
		if i < 0 {
			return nil, fmt.Errorf("%w: function_id %q names no function", storage.ErrInvalid, opts.FunctionID)
		}
		if opts.Script != "" {
			if _, err := scripting.Compile(flist[i].Name, opts.Script); err != nil {
				return nil, fmt.Errorf("%w: script: %w", storage.ErrInvalid, err)
			}
			flist[i].Script, flist[i].Active = opts.Script, true
		}
	case opts.Script != "":
		if opts.ProviderID == "" {
			return nil, fmt.Errorf("%w: an unsaved script needs function_id, or provider_id to run as a new function of that provider", storage.ErrInvalid)
		}
		if _, err := scripting.Compile("unsaved function", opts.Script); err != nil {
			return nil, fmt.Errorf("%w: script: %w", storage.ErrInvalid, err)
		}
		flist = append(flist, storage.Function{
			ID: unsavedID, Name: "unsaved function", ProviderID: opts.ProviderID, URI: m.URI,
			Active: true, Script: opts.Script, TimeoutMS: int(DefaultTimeout / time.Millisecond),
		})
	}
	cat, err := buildCatalog(d.catalog.Load(), plist, flist)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", storage.ErrInvalid, err)
	}
	return cat, nil
}

func indexOf[T any](list []T, match func(T) bool) int {
	for i, v := range list {
		if match(v) {
			return i
		}
	}
	return -1
}

// recorder is the Effects of a dry run: it records every call and performs
// none. Functions run concurrently, so it locks.
type recorder struct {
	mu      sync.Mutex
	effects []Effect
}

func (r *recorder) add(e Effect) {
	e.Time = time.Now().UTC()
	r.mu.Lock()
	r.effects = append(r.effects, e)
	r.mu.Unlock()
}

// effectsFor returns Effects that record calls under scope.
func (r *recorder) effectsFor(scope string) *scripting.Effects {
	s := scopedRecorder{r: r, scope: scope}
	return &scripting.Effects{HTTP: s, Dedupe: s, Notify: s}
}

type scopedRecorder struct {
	r     *recorder
	scope string
}

// Do records an HTTP request and answers 200 with an empty body.
func (s scopedRecorder) Do(_ context.Context, req *scripting.HTTPRequest) (*scripting.HTTPResponse, error) {
	body := string(req.Body)
	if len(body) > maxEffectBody {
		body = body[:maxEffectBody] + "…"
	}
	s.r.add(Effect{Kind: "http", Scope: s.scope, Method: req.Method, URL: req.URL, Headers: redact.Headers(req.Headers), Body: body})
	return &scripting.HTTPResponse{Status: 200, Headers: map[string]string{"x-switchyard-dry-run": "true"}}, nil
}

// FirstSeen records the call and answers true, remembering nothing.
func (s scopedRecorder) FirstSeen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if i := strings.IndexByte(key, 0); i >= 0 {
		key = key[i+1:] // the scope prefix the engine adds
	}
	s.r.add(Effect{Kind: "dedupe", Scope: s.scope, Key: key, TTLSeconds: ttl.Seconds()})
	return true, nil
}

// Publish records the event and returns a made-up id.
func (s scopedRecorder) Publish(_ context.Context, eventType string, fields scripting.EventFields) (string, error) {
	e := Effect{Kind: "notify", Scope: s.scope, EventType: eventType}
	if !fields.IsZero() {
		e.Fields = &fields
	}
	s.r.add(e)
	return "dry-run", nil
}

// Webhook records a NOTIFY.webhook callback and returns a made-up id.
func (s scopedRecorder) Webhook(_ context.Context, req *scripting.WebhookRequest) (string, error) {
	body := string(req.Body)
	if len(body) > maxEffectBody {
		body = body[:maxEffectBody] + "…"
	}
	s.r.add(Effect{Kind: "webhook", Scope: s.scope, Method: req.Method, URL: req.URL, Headers: redact.Headers(req.Headers), Body: body})
	return "dry-run", nil
}
