// Package providers owns the provider model's rules and ordered matching:
// providers are tried in ascending sequence, inactive ones skipped, and the
// first match script that returns a truthy value wins.
package providers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/internal/cidr"
	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// Match script time limits.
const (
	DefaultMatchTimeout = time.Second
	MaxMatchTimeout     = 10 * time.Second
)

// Normalize fills defaults and checks a provider before it is saved. Its
// errors wrap storage.ErrInvalid and say what to fix; a script that does not
// compile is refused with the compiler's message and line.
func Normalize(p *storage.Provider) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return fmt.Errorf("%w: name is required", storage.ErrInvalid)
	}
	if err := field.Name("name", p.Name, field.MaxName); err != nil {
		return err
	}
	if err := field.Text("description", p.Description, field.MaxDescription); err != nil {
		return err
	}
	if p.MatchTimeoutMS == 0 {
		p.MatchTimeoutMS = int(DefaultMatchTimeout / time.Millisecond)
	}
	if err := field.Int("match_timeout_ms", p.MatchTimeoutMS, 1, int(MaxMatchTimeout.Milliseconds())); err != nil {
		return err
	}
	if strings.TrimSpace(p.MatchScript) == "" {
		return fmt.Errorf("%w: match_script is required", storage.ErrInvalid)
	}
	if err := normalizeSources(p); err != nil {
		return err
	}
	if err := checkEnv("properties", p.Properties); err != nil {
		return err
	}
	if err := checkEnv("secrets", p.Secrets); err != nil {
		return err
	}
	if _, err := scripting.Compile(p.Name, p.MatchScript); err != nil {
		return fmt.Errorf("%w: match_script: %w", storage.ErrInvalid, err)
	}
	if strings.TrimSpace(p.HandshakeScript) == "" {
		p.HandshakeScript = "" // none: the provider costs a request nothing before it is recorded
	} else if _, err := scripting.Compile(p.Name, p.HandshakeScript); err != nil {
		return fmt.Errorf("%w: handshake_script: %w", storage.ErrInvalid, err)
	}
	for name := range p.Secrets {
		if _, clash := p.Properties[name]; clash {
			return fmt.Errorf("%w: %q is both a property and a secret", storage.ErrInvalid, name)
		}
	}
	return nil
}

// MaxSources bounds a provider's allowed_sources.
const MaxSources = 100

// normalizeSources checks allowed_sources and writes each range as
// cidr.Parse reads it, once, in the order given; none is nil.
func normalizeSources(p *storage.Provider) error {
	if len(p.AllowedSources) > MaxSources {
		return field.Invalid("allowed_sources has %d entries; the limit is %d", len(p.AllowedSources), MaxSources)
	}
	var out []string
	for i, s := range p.AllowedSources {
		r, err := cidr.Parse(s)
		if err != nil {
			return field.Invalid("allowed_sources[%d]: %s is not a CIDR (e.g. 192.30.252.0/22) nor an IP address", i, field.Quote(s))
		}
		if n := r.String(); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	p.AllowedSources = out
	return nil
}

// checkEnv checks properties or secrets: one-line names, values of text
// (a PEM key spans lines). Errors name the entry, never show its value.
func checkEnv(what string, m map[string]string) error {
	if len(m) > field.MaxEntries {
		return field.Invalid("%s has %d entries; the limit is %d", what, len(m), field.MaxEntries)
	}
	for k, v := range m {
		if k == "" {
			return field.Invalid("%s: a name is empty", what)
		}
		if err := field.Line(what+" name "+field.Quote(k), k, field.MaxName); err != nil {
			return err
		}
		if err := field.Text(what+"["+field.Quote(k)+"]", v, field.MaxValue); err != nil {
			return err
		}
	}
	return nil
}

// Compiled is an active provider ready to run.
type Compiled struct {
	storage.Provider
	Program *scripting.Program
	// Handshake is the compiled handshake script, nil when there is none.
	Handshake *scripting.Program
	Timeout   time.Duration
	// Env is what scripts see as PROPERTIES: properties and opened secrets.
	Env map[string]string
	// Secrets replaces the secrets' values in what the provider's scripts
	// write (logs, errors, summaries): an operator reads those.
	Secrets *redact.Secrets
	// Sources are the allowed sources, parsed (none: every address).
	Sources []netip.Prefix
}

// admits reports whether a request from remote may reach c's scripts:
// c has no allowed sources, or remote is in one. client caches remote
// parsed, across the providers of one request.
func (c *Compiled) admits(remote string, client *netip.Addr) bool {
	if len(c.Sources) == 0 {
		return true
	}
	if !client.IsValid() {
		*client = cidr.Addr(remote)
	}
	return cidr.Contains(c.Sources, *client)
}

// Set is an immutable, ordered list of the active providers.
type Set struct {
	list       []*Compiled
	handshakes []*Compiled // those of list with a handshake script, in order
}

// Build compiles the active providers of list (already in sequence order).
// Programs of prev are reused when a provider's id and version are the same,
// so a script is compiled once per saved version.
func Build(list []storage.Provider, prev *Set) (*Set, error) {
	old := map[string]*Compiled{}
	if prev != nil {
		for _, c := range prev.list {
			old[c.ID] = c
		}
	}
	s := &Set{}
	for _, p := range list {
		if !p.Active {
			continue
		}
		env := make(map[string]string, len(p.Properties)+len(p.Secrets))
		maps.Copy(env, p.Properties)
		maps.Copy(env, p.Secrets)
		c := &Compiled{Provider: p, Env: env, Secrets: redact.NewSecrets(p.Secrets), Timeout: time.Duration(p.MatchTimeoutMS) * time.Millisecond}
		if c.Timeout <= 0 {
			c.Timeout = DefaultMatchTimeout
		}
		for _, s := range p.AllowedSources {
			r, err := cidr.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("provider %s (%s): allowed source %q: %w", p.Name, p.ID, s, err)
			}
			c.Sources = append(c.Sources, r)
		}
		if o := old[p.ID]; o != nil && o.Version == p.Version && o.MatchScript == p.MatchScript {
			c.Program = o.Program
		} else {
			prog, err := scripting.Compile("provider:"+p.Name, p.MatchScript)
			if err != nil {
				return nil, fmt.Errorf("provider %s (%s): %w", p.Name, p.ID, err)
			}
			c.Program = prog
		}
		if err := c.compileHandshake(old[p.ID]); err != nil {
			return nil, err
		}
		s.list = append(s.list, c)
		if c.Handshake != nil {
			s.handshakes = append(s.handshakes, c)
		}
	}
	return s, nil
}

// compileHandshake compiles c's handshake script, reusing o's program
// when the script is the same.
func (c *Compiled) compileHandshake(o *Compiled) error {
	switch {
	case c.HandshakeScript == "":
	case o != nil && o.Handshake != nil && o.HandshakeScript == c.HandshakeScript:
		c.Handshake = o.Handshake
	default:
		prog, err := scripting.Compile("handshake:"+c.Name, c.HandshakeScript)
		if err != nil {
			return fmt.Errorf("provider %s (%s) handshake: %w", c.Name, c.ID, err)
		}
		c.Handshake = prog
	}
	return nil
}

// Len is the number of active providers.
func (s *Set) Len() int { return len(s.list) }

// Result is what matching decided.
type Result struct {
	Provider *Compiled           // nil: no provider matched
	Summary  string              // LOG.setMessage of the winning match script
	Logs     []storage.LogLine   // lines of every match script that ran, and its failures
	Response *scripting.Response // RESPONSE of the winning match script, nil if it set none
}

// Match runs the match scripts in order until one returns a truthy value.
// A provider with allowed sources that do not hold the request's client
// address does not match, and its script is not run. A match script that
// throws or times out does not match; its error is logged in
// Result.Logs. Match returns an error only when ctx ends.
//
// effects gives each match script its Effects by scope ("provider:<id>");
// nil gives none.
func (s *Set) Match(ctx context.Context, eng *scripting.Engine, req scripting.Request, effects func(scope string) *scripting.Effects) (Result, error) {
	var res Result
	var refusals []storage.LogLine // why each provider said no; logged only if none matched
	var client netip.Addr          // read at the first provider with sources
	for _, c := range s.list {
		if !c.admits(req.RemoteAddr, &client) {
			refusals = append(refusals, storage.LogLine{Time: time.Now().UTC(), Level: "INFO", Source: "provider:" + c.Name,
				Text: "did not match: the request came from " + field.Quote(req.RemoteAddr) + ", outside its allowed_sources; its match script was not run"})
			continue
		}
		req.Properties = c.Env
		req.Scope = "provider:" + c.ID
		if effects != nil {
			req.Effects = effects(req.Scope)
		}
		r := eng.Run(ctx, c.Program, &req, c.Timeout)
		source := "provider:" + c.Name
		res.Logs = append(res.Logs, Lines(source, r.Logs, c.Secrets)...)
		if r.Err != nil {
			if ctx.Err() != nil && errors.Is(r.Err, ctx.Err()) {
				return res, ctx.Err()
			}
			res.Logs = append(res.Logs, storage.LogLine{Time: time.Now().UTC(), Level: "SEVERE", Source: source, Text: "match script failed: " + c.Secrets.String(r.Err.Error())})
			continue
		}
		if r.Truthy {
			res.Provider, res.Summary, res.Response = c, c.Secrets.String(r.Summary), r.Response
			return res, nil
		}
		refusals = append(refusals, storage.LogLine{Time: time.Now().UTC(), Level: "INFO", Source: source, Text: refusal(r)})
	}
	res.Logs = append(res.Logs, refusals...)
	return res, nil
}

// refusal says why a match script did not match: what it returned (its
// type, never its value) and the request headers it looked for and did
// not find, the usual cause (a sender's event header missing).
func refusal(r scripting.Result) string {
	var got string
	switch v := r.Value.(type) {
	case nil:
		got = "null or undefined"
	case bool:
		got = "false"
	case string:
		got = "an empty string"
	case float64, int64:
		got = fmt.Sprint(v)
	default:
		got = "a falsy value"
	}
	text := "did not match: the match script returned " + got
	if len(r.MissingHeaders) > 0 {
		text += "; headers it looked for and did not find: " + strings.Join(r.MissingHeaders, ", ")
	}
	return text
}

// Lines converts script log lines into stored ones, tagged with source,
// with the values of secrets replaced.
func Lines(source string, in []scripting.LogLine, secrets *redact.Secrets) []storage.LogLine {
	if len(in) == 0 {
		return nil
	}
	out := make([]storage.LogLine, len(in))
	for i, l := range in {
		out[i] = storage.LogLine{Time: l.Time, Level: l.Level, Text: secrets.String(l.Text), Source: source}
	}
	return out
}

// HasHandshakes reports whether any active provider has a handshake
// script: without one, a request costs nothing before it is recorded.
func (s *Set) HasHandshakes() bool { return len(s.handshakes) > 0 }

// Answer is a handshake script's answer to a request.
type Answer struct {
	Provider *Compiled
	Response *scripting.Response
	Logs     []storage.LogLine // lines of every handshake script that ran, and its failures
}

// Handshake runs the handshake scripts of the active providers in order
// until one sets RESPONSE, and returns that answer; nil when none did.
// A handshake script that throws or times out does not answer; its error
// is in the logs of a later answer, and failed names the provider for the
// caller to log. Handshake returns an error only when ctx ends.
func (s *Set) Handshake(ctx context.Context, eng *scripting.Engine, req scripting.Request, effects func(scope string) *scripting.Effects) (a *Answer, failed []error, err error) {
	var logs []storage.LogLine
	var client netip.Addr // read at the first provider with sources
	for _, c := range s.handshakes {
		if !c.admits(req.RemoteAddr, &client) {
			continue // a sender outside its allowed_sources gets no answer from it
		}
		req.Properties = c.Env
		req.Scope = "provider:" + c.ID
		if effects != nil {
			req.Effects = effects(req.Scope)
		}
		r := eng.Run(ctx, c.Handshake, &req, c.Timeout)
		source := "handshake:" + c.Name
		logs = append(logs, Lines(source, r.Logs, c.Secrets)...)
		if r.Err != nil {
			if ctx.Err() != nil && errors.Is(r.Err, ctx.Err()) {
				return nil, failed, ctx.Err()
			}
			text := "handshake script failed: " + c.Secrets.String(r.Err.Error())
			logs = append(logs, storage.LogLine{Time: time.Now().UTC(), Level: storage.LevelSevere, Source: source, Text: text})
			failed = append(failed, fmt.Errorf("provider %s: %s", c.Name, text))
			continue
		}
		if r.Response != nil {
			return &Answer{Provider: c, Response: r.Response, Logs: logs}, failed, nil
		}
	}
	return nil, failed, nil
}
