package functions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// completeTimeout bounds the write of an outcome; it does not end with the
// dispatcher's context, so a finished message is recorded during shutdown.
const completeTimeout = 30 * time.Second

// errSkip: a swept message needs nothing more (it finished or was purged
// while it waited).
var errSkip = errors.New("nothing to do")

// processAndRecord runs one message and records its outcome before it
// returns (the synchronous path).
func (d *Dispatcher) processAndRecord(j job) (Processed, error) {
	ev, start, err := d.process(j)
	if err != nil {
		return Processed{}, err
	}
	p := Processed{Outcome: ev.Outcome, Response: ev.Response}
	if p.Response != nil {
		// The answer the sender got is part of what an operator reads.
		p.Logs = append(p.Logs, note(fmt.Sprintf("answered %d, the RESPONSE set by %s", p.Response.Status, ev.ResponseFrom)))
	}
	return p, d.record(j.msg, p.Outcome, start)
}

// Processed is what the synchronous path tells its caller.
type Processed struct {
	storage.Outcome
	// Response is the answer a script set (RESPONSE), nil if none: that of
	// the first function by name that set one, else the match script's.
	Response *scripting.Response
}

// process runs one message. When the dispatcher stops mid-way the message
// is left PENDING (ErrStopping).
func (d *Dispatcher) process(j job) (evaluation, time.Time, error) {
	if j.swept {
		cur, err := d.store.GetMessage(d.ctx, j.msg.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return evaluation{}, time.Time{}, errSkip // purged meanwhile
		}
		if err != nil {
			return evaluation{}, time.Time{}, err
		}
		if cur.Status != storage.StatusPending {
			return evaluation{}, time.Time{}, errSkip // finished while it waited
		}
	}
	if j.payload == nil && j.msg.Size > 0 {
		p, err := d.store.GetPayload(d.ctx, j.msg.ID)
		if err != nil {
			return evaluation{}, time.Time{}, fmt.Errorf("read payload: %w", err)
		}
		j.payload = p
	}
	start := time.Now()
	ev, err := evaluate(d.ctx, d.engine, d.catalog.Load(), j.msg, j.payload, d.slots, d.effectsFor)
	if err != nil {
		return ev, start, err
	}
	ev.CompletedAt = time.Now().UTC()
	ev.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return ev, start, nil
}

// record writes an outcome durably (or, for an UNMATCHED message, as
// little of it as Options.Unmatched keeps), then tells the observer and
// the reporter.
func (d *Dispatcher) record(m storage.Message, o storage.Outcome, start time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	if err := d.keep(ctx, m.ID, o); err != nil {
		return err
	}
	for _, e := range o.Executions {
		if e.Status == storage.StatusFailed {
			d.log.Warn("a function failed", "message_id", m.ID, "provider", o.ProviderID,
				"function", e.FunctionID, "name", e.FunctionName, "err", firstLine(e.Error))
		}
	}
	if d.opts.Observer != nil {
		d.opts.Observer.Processed(o.Status, time.Since(start))
	}
	if d.opts.Reporter != nil {
		d.opts.Reporter.Finished(ctx, m, o)
	}
	return nil
}

// keep records the outcome: of an UNMATCHED message, without its payload
// and headers (KeepMetadata, in the same write), or instead deletes the
// whole message (KeepNothing).
func (d *Dispatcher) keep(ctx context.Context, id string, o storage.Outcome) error {
	policy := d.opts.Unmatched
	if o.Status != storage.StatusUnmatched {
		policy = KeepAll
	}
	if policy == KeepNothing {
		if _, err := d.store.DeleteMessages(ctx, []string{id}); err != nil {
			return fmt.Errorf("drop unmatched message: %w", err)
		}
		return nil
	}
	o.Strip = o.Strip || policy == KeepMetadata // a large handshake body is stripped whatever the policy
	if err := d.store.CompleteMessage(ctx, id, o); err != nil {
		return fmt.Errorf("record outcome: %w", err)
	}
	return nil
}

// Request builds the scripts' view of a message, shared by all its runs.
func Request(m storage.Message, payload []byte) scripting.Request {
	req := scripting.Request{
		MessageID:  m.ID,
		Method:     m.Method,
		URI:        m.URI,
		RemoteAddr: m.RemoteAddr,
		RemoteHost: m.RemoteHost,
		Headers:    m.Headers,
		Query:      m.Query,
		Body:       payload,
	}
	req.Share()
	return req
}

// effectsFor gives every script of a real run the dispatcher's effects.
func (d *Dispatcher) effectsFor(string) *scripting.Effects { return d.effects }

// evaluation is everything one pass of a message through matching and
// functions decided: the outcome to record, and, for a dry run, the
// functions' return values.
type evaluation struct {
	storage.Outcome
	Provider *providers.Compiled // nil when no provider matched
	Results  []any               // per execution, the script's return value
	// Response is the RESPONSE that answers in sync mode (see Processed),
	// set by ResponseFrom ("function \"deploy\"").
	Response     *scripting.Response
	ResponseFrom string
}

// evaluate matches m against cat and runs the functions it routes to, each
// script with the effects that effects gives for its scope and holding a
// slot of g while it runs. It fails only when ctx ends.
func evaluate(ctx context.Context, eng *scripting.Engine, cat *catalog, m storage.Message, payload []byte, g gate, effects func(scope string) *scripting.Effects) (evaluation, error) {
	req := Request(m, payload)
	if err := g.enter(ctx); err != nil {
		return evaluation{}, ErrStopping
	}
	match, err := cat.providers.Match(ctx, eng, req, effects)
	g.leave()
	if err != nil {
		return evaluation{}, ErrStopping
	}
	ev := evaluation{Outcome: storage.Outcome{Logs: match.Logs, Summary: match.Summary}, Provider: match.Provider}
	if match.Response != nil {
		ev.Response, ev.ResponseFrom = match.Response, fmt.Sprintf("the match script of provider %q", match.Provider.Name)
	}
	o := &ev.Outcome
	if match.Provider == nil {
		o.Status = storage.StatusUnmatched
		o.Logs = append(o.Logs, note(fmt.Sprintf("no provider matched (%d active)", cat.providers.Len())))
		return ev, nil
	}
	o.ProviderID, o.ProviderName, o.ProviderVersion = match.Provider.ID, match.Provider.Name, match.Provider.Version
	route := cat.routes.For(match.Provider.ID, m.URI)
	fns := route.Functions
	if len(fns) == 0 {
		o.Status = storage.StatusUnmatched
		o.Logs = append(o.Logs, note(fmt.Sprintf("provider %q matched, but no active function of it has uri %q or a pattern matching it", match.Provider.Name, m.URI)))
		return ev, nil
	}
	if route.Pattern != "" {
		o.Logs = append(o.Logs, note(fmt.Sprintf("uri %q matched the pattern %q", m.URI, route.Pattern)))
	}
	req.Properties, req.PathParams = match.Provider.Env, route.Params
	o.Executions = make([]storage.Execution, len(fns))
	ev.Results = make([]any, len(fns))
	summaries := make([]string, len(fns))
	responses := make([]*scripting.Response, len(fns))
	exec := func(i int) {
		if g.enter(ctx) != nil {
			return // stopping: the whole evaluation is dropped below
		}
		defer g.leave()
		o.Executions[i], ev.Results[i], summaries[i], responses[i] = execute(ctx, eng, fns[i], req, effects, match.Provider.Secrets)
	}
	if len(fns) == 1 {
		exec(0)
	} else {
		var wg sync.WaitGroup
		for i := range fns {
			wg.Go(func() { exec(i) })
		}
		wg.Wait()
	}
	if ctx.Err() != nil {
		return evaluation{}, ErrStopping
	}
	o.Status = storage.StatusSuccess
	for i, e := range o.Executions {
		if e.Status == storage.StatusFailed {
			o.Status = storage.StatusFailed
		}
		if summaries[i] != "" {
			o.Summary = summaries[i]
		}
	}
	answering := -1 // the first function by name that set RESPONSE
	for i, r := range responses {
		if r != nil && (answering < 0 || fns[i].Name < fns[answering].Name) {
			answering = i
		}
	}
	if answering >= 0 {
		ev.Response, ev.ResponseFrom = responses[answering], fmt.Sprintf("function %q", fns[answering].Name)
	}
	return ev, nil
}

// execute runs one function script. What it records (logs, error,
// summary) has the values of secrets replaced; its return value does not.
func execute(ctx context.Context, eng *scripting.Engine, f *Compiled, req scripting.Request, effects func(scope string) *scripting.Effects, secrets *redact.Secrets) (storage.Execution, any, string, *scripting.Response) {
	started := time.Now()
	req.Scope = "function:" + f.ID
	req.Effects = effects(req.Scope)
	r := eng.Run(ctx, f.Program, &req, f.Timeout)
	e := storage.Execution{
		FunctionID:   f.ID,
		FunctionName: f.Name,
		Version:      f.Version,
		Status:       storage.StatusSuccess,
		StartedAt:    started.UTC(),
		DurationMS:   float64(r.Duration.Microseconds()) / 1000,
		Logs:         providers.Lines("", r.Logs, secrets),
	}
	if e.Logs == nil {
		e.Logs = []storage.LogLine{}
	}
	if r.Err != nil {
		e.Status, e.Error = storage.StatusFailed, secrets.String(r.Err.Error())
	}
	return e, r.Value, secrets.String(r.Summary), r.Response
}

// firstLine is an error's first line, at most 300 bytes: a log line's
// summary of it (the message's own log has the whole, with its stack).
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// note is a line the router itself writes into a message's log.
func note(text string) storage.LogLine {
	return storage.LogLine{Time: time.Now().UTC(), Level: "INFO", Source: "router", Text: text}
}
