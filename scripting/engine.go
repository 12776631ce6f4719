// Package scripting runs user-written JavaScript: match scripts, which decide
// which provider sent a webhook, and function scripts, which act on it.
//
// A script is compiled once into a Program and run many times. Every run gets
// a fresh goja runtime with the FlexDeploy-style globals (FLX_MESSAGE_ID,
// HTTP_HEADERS, PAYLOAD, LOG, HMAC, ...), so no state survives from one run to
// the next. A run is bounded by a timeout, the caller's context, a maximum
// call depth and log limits, and a request nested deep enough to exhaust the
// stack of goja's JSON parser is refused. The timeout interrupts JavaScript
// code; it cannot cut short a single call into a goja built-in written in Go
// (a catastrophic regular expression, JSON.stringify of a huge structure the
// script built), which ends when that call returns.
package scripting

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// Defaults for zero Limits fields and a zero timeout.
const (
	DefaultMaxLogLines  = 1000
	DefaultMaxLogLine   = 8192
	DefaultMaxLogBytes  = 256 << 10
	DefaultMaxCallStack = 1024
	DefaultTimeout      = time.Second
)

// Request is the webhook request a script sees through its globals. Body
// must not change while Run runs.
type Request struct {
	MessageID  string
	Method     string // "POST"
	URI        string // "git/push" (no query)
	RemoteAddr string
	RemoteHost string
	Headers    map[string]string // lower-case names, multiple values already joined by ", "
	Query      url.Values
	Body       []byte            // raw body, byte for byte
	Properties map[string]string // provider properties and decrypted secrets
	PathParams map[string]string // a pattern's values ("*": the rest); nil in match scripts and for exact URIs

	// Effects are what HTTP, DEDUPE and NOTIFY do; nil makes them throw.
	Effects *Effects
	// Scope names the script that runs ("provider:<id>", "function:<id>"):
	// DEDUPE keys are kept apart per scope, so two functions deduplicating
	// the same delivery id do not see each other's keys.
	Scope string

	shared *shared // see Share
}

// shared is what every run of one request can reuse, computed once.
type shared struct {
	once  sync.Once
	body  string // Body as a string
	guard bool   // needsJSONGuard
}

// Share makes copies of r taken afterwards share the per-request work of
// their runs (converting the body to a string, scanning it for the JSON
// guard), so that a match script and the functions of one message do it
// once. Call it before copying r for several runs; Body, Headers and Query
// must not change afterwards.
func (r *Request) Share() { r.shared = &shared{} }

// prepared returns the body as a string and whether runs need the JSON
// guard, computed once per shared request.
func (r *Request) prepared() (string, bool) {
	if r.shared == nil {
		return string(r.Body), needsJSONGuard(r)
	}
	r.shared.once.Do(func() {
		r.shared.body, r.shared.guard = string(r.Body), needsJSONGuard(r)
	})
	return r.shared.body, r.shared.guard
}

// Result is the outcome of one run.
type Result struct {
	Value   any    // the script's return value exported to Go (nil for undefined)
	Truthy  bool   // JS truthiness of the return value
	Summary string // last LOG.setMessage(text), "" if never called
	Logs    []LogLine
	// MissingHeaders are the request headers the script asked for (through
	// HTTP_HEADERS or a sender helper) and did not find, the first
	// maxMissingHeaders in order: why a match script said no.
	MissingHeaders []string
	// Response is what the script set in RESPONSE, nil if nothing; a
	// RESPONSE that cannot be sent fails the run (Err) instead.
	Response *Response
	Err      error // nil, *ScriptError, or an error wrapping ErrTimeout or the caller's ctx.Err()
	Duration time.Duration
}

// Limits bound what one run may do. Zero (or negative) fields take the
// defaults.
type Limits struct {
	MaxLogLines  int // lines per run, default 1000; past it one final "log truncated" line, then nothing
	MaxLogLine   int // bytes per line, default 8192; longer text is cut and ends with "…"
	MaxLogBytes  int // bytes of log text per run, default 256 KiB; past it one final "log truncated" line
	MaxCallStack int // maximum call depth, default 1024
	// MaxHeap: when the live heap of the process passes it, running
	// scripts are stopped, the longest-running first, until it is under
	// again (see watchdog). Default 2 GiB.
	MaxHeap uint64
}

// Engine runs programs. It is safe for concurrent use.
type Engine struct {
	limits   Limits
	watchdog *watchdog
	jwks     *jwksCache // the key sets JWT.verify fetched

	decodeHook func() // tests: called whenever a run decodes PAYLOAD
}

// NewEngine returns an engine with the given limits; zero fields take the
// defaults.
func NewEngine(l Limits) *Engine {
	if l.MaxLogLines <= 0 {
		l.MaxLogLines = DefaultMaxLogLines
	}
	if l.MaxLogLine <= 0 {
		l.MaxLogLine = DefaultMaxLogLine
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = DefaultMaxLogBytes
	}
	if l.MaxCallStack <= 0 {
		l.MaxCallStack = DefaultMaxCallStack
	}
	if l.MaxHeap == 0 {
		l.MaxHeap = DefaultMaxHeap
	}
	return &Engine{limits: l, watchdog: &watchdog{limit: l.MaxHeap}, jwks: &jwksCache{}}
}

// run is the state of one execution.
type run struct {
	rt     *goja.Runtime
	ctx    context.Context // ends at the run's deadline
	req    *Request
	limits *Limits
	reach  *reach // what the program can get at (see capBuiltins)
	jwks   *jwksCache

	logs    []LogLine
	logSize int  // bytes of log text so far
	logFull bool // the log was truncated; nothing more is kept
	summary string

	missingHeaders []string // see Result.MissingHeaders

	pristine   goja.Value    // FLX_PRISTINE_PAYLOAD as set
	payload    goja.Value    // decoded PAYLOAD, nil until first read
	stringify  goja.Callable // JSON.stringify, looked up on first use
	isArray    goja.Callable // the runtime's own Array.isArray (see spreadable)
	makers     *goja.Object  // the web built-ins' makers (see makeClasses), nil until first used
	decodeHook func()
}

// maxMissingHeaders bounds Result.MissingHeaders.
const maxMissingHeaders = 8

// missingHeader notes that the script asked for a request header that is
// not there.
func (r *run) missingHeader(name string) {
	if len(r.missingHeaders) >= maxMissingHeaders || slices.Contains(r.missingHeaders, name) {
		return
	}
	r.missingHeaders = append(r.missingHeaders, strings.Clone(name))
}

// errInterrupted is the value runs are interrupted with.
var errInterrupted = errors.New("script interrupted")

// errNotCallable is returned by run.call for a missing function.
var errNotCallable = errors.New("not a function")

// Run executes p in a fresh runtime against req, bounded by timeout (1 s
// when zero or negative) and by ctx. It never panics: every failure is
// reported in Result.Err.
func (e *Engine) Run(ctx context.Context, p *Program, req *Request, timeout time.Duration) Result {
	// The watchdog hears that the run is over once execute has returned
	// and the runtime is out of reach, so that a collection then frees
	// what the run held.
	w := e.watchdog.begin()
	defer e.watchdog.end(w)
	return e.execute(ctx, p, req, timeout, w)
}

// execute is Run, watched by the memory watchdog as w.
func (e *Engine) execute(ctx context.Context, p *Program, req *Request, timeout time.Duration, w *watched) (res Result) {
	start := time.Now()
	var r *run
	defer func() {
		if x := recover(); x != nil {
			res.Value, res.Truthy = nil, false
			res.Err = fmt.Errorf("script engine failure: %v", x)
		}
		if r != nil {
			res.Logs, res.Summary, res.MissingHeaders = r.logs, strings.Clone(r.summary), r.missingHeaders
		}
		res.Duration = time.Since(start)
	}()
	if p == nil || p.prog == nil {
		res.Err = errors.New("scripting: no program to run")
		return res
	}
	if err := ctx.Err(); err != nil {
		res.Err = fmt.Errorf("script not started: %w", err)
		return res
	}
	if req == nil {
		req = &Request{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	rt := goja.New()
	rt.SetParserOptions(parser.WithDisableSourceMaps)
	rt.SetMaxCallStackSize(e.limits.MaxCallStack)
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r = &run{rt: rt, ctx: runCtx, req: req, limits: &e.limits, reach: p.reach, jwks: e.jwks, decodeHook: e.decodeHook}
	r.installGlobals()

	stop := context.AfterFunc(runCtx, func() { rt.Interrupt(errInterrupted) })
	defer stop()
	e.watchdog.attach(w, rt, cancel)

	val, err := rt.RunProgram(p.prog)
	// Converting the outcome may run user code (getters, toString), so it
	// happens while the interrupt is still armed.
	if err == nil {
		res.Truthy = val != nil && val.ToBoolean()
		res.Value, err = export(val)
	}
	if err == nil && r.reach.can("RESPONSE") {
		res.Response, err = r.readResponse()
	}
	if err != nil {
		res.Value, res.Truthy, res.Response = nil, false, nil
		res.Err = e.runError(ctx, p, err, timeout)
		if w.stopped.Load() {
			// Whatever the run saw last (the interrupt, or its context
			// cancelled under an HTTP.request), the watchdog stopped it.
			res.Err = fmt.Errorf("%w (%s; see docs/security.md)", ErrMemory, formatBytes(e.limits.MaxHeap))
		}
	}
	return res
}

// export converts the script's result to Go, catching what a getter may
// throw (or an interrupt raised meanwhile).
func export(v goja.Value) (out any, err error) {
	defer func() {
		if x := recover(); x != nil {
			if e, ok := x.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("exporting the result: %v", x)
			}
		}
	}()
	if v == nil {
		return nil, nil
	}
	if err := checkNesting(v); err != nil {
		return nil, err
	}
	return plainExport(v.Export()), nil
}

// maxResultDepth is the deepest nesting of objects and arrays a result
// may have, that of encoding/json.
const maxResultDepth = 10000

// checkNesting refuses a result nested deeper than maxResultDepth before
// goja's Export and plainExport recurse into it: two million nested
// objects (a loop of o = {a: o}) exhaust the goroutine stack, a fatal
// error. The walk is iterative and visits each object once.
func checkNesting(v goja.Value) error {
	type item struct {
		o     *goja.Object
		depth int
	}
	root, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	seen := map[*goja.Object]bool{root: true}
	stack := []item{{root, 1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > maxResultDepth {
			return fmt.Errorf("the result nests deeper than %d levels", maxResultDepth)
		}
		for _, k := range it.o.Keys() {
			if c, ok := it.o.Get(k).(*goja.Object); ok && !seen[c] {
				seen[c] = true
				stack = append(stack, item{c, it.depth + 1})
			}
		}
	}
	return nil
}

// runError classifies an error from a run.
func (e *Engine) runError(ctx context.Context, p *Program, err error, timeout time.Duration) error {
	var intr *goja.InterruptedError
	var overflow *goja.StackOverflowError
	var ex *goja.Exception
	var se *ScriptError
	switch {
	case errors.As(err, &se): // a RESPONSE the server cannot send
		return se
	case errors.As(err, &intr), errors.Is(err, errInterrupted): // the second: see stopIfLate
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("script stopped: %w", cerr)
		}
		return fmt.Errorf("%w after %s", ErrTimeout, timeout)
	case errors.As(err, &overflow):
		return p.scriptError(&overflow.Exception, true)
	case errors.As(err, &ex):
		if err := p.scriptError(ex, false); !errors.As(err, &intr) {
			return err
		}
		return e.runError(ctx, p, intr, timeout) // interrupted while rendering
	}
	return fmt.Errorf("script failed: %w", err)
}
