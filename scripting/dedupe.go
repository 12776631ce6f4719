package scripting

import (
	"math"
	"time"

	"github.com/dop251/goja"
)

// DEDUPE limits.
const (
	DefaultDedupeTTL = 24 * time.Hour
	MaxDedupeTTL     = 30 * 24 * time.Hour
	MaxDedupeKey     = 1024 // bytes
)

// dedupeMethods are the functions of DEDUPE.
var dedupeMethods = []method{
	{"first", func(r *run) func(goja.FunctionCall) goja.Value { return r.dedupeFirst }},
}

var dedupeNames = methodNames(dedupeMethods)

// dedupeFirst implements DEDUPE.first(key, ttlSeconds): true the first time
// key is seen by this script within the TTL (default one day).
func (r *run) dedupeFirst(call goja.FunctionCall) goja.Value {
	const fn = "DEDUPE.first"
	k := call.Argument(0)
	if !isString(k) || k.String() == "" {
		panic(r.rt.NewTypeError("%s", fn+": the key must be a non-empty string, got "+quote(k)))
	}
	key := k.String()
	if len(key) > MaxDedupeKey {
		panic(r.rt.NewTypeError("%s: the key is longer than %d bytes", fn, MaxDedupeKey))
	}
	ttl, err := r.seconds(call.Argument(1), DefaultDedupeTTL, MaxDedupeTTL)
	if err != "" {
		panic(r.rt.NewTypeError("%s: ttlSeconds %s", fn, err))
	}
	d := r.effects().Dedupe
	if d == nil {
		panic(r.newError("Error", fn+": deduplication is not available here"))
	}
	first, e := d.FirstSeen(r.ctx, r.req.Scope+"\x00"+key, ttl)
	if e != nil {
		r.checkStopped()
		panic(r.newError("Error", fn+": "+e.Error()))
	}
	return r.rt.ToValue(first)
}

// effects returns the request's effects, never nil.
func (r *run) effects() *Effects {
	if r.req.Effects == nil {
		return &Effects{}
	}
	return r.req.Effects
}

// checkStopped arms the run's interrupt at once if its deadline or the
// caller's context has passed, so that an effect cut short by the deadline
// ends the run as a timeout even if the script catches the error thrown.
func (r *run) checkStopped() {
	if r.ctx.Err() != nil {
		r.rt.Interrupt(errInterrupted)
	}
}

// seconds converts an optional number of seconds into a duration in
// (0, max]; undefined or null gives def. The string is why it is refused.
func (r *run) seconds(v goja.Value, def, max time.Duration) (time.Duration, string) {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return def, ""
	}
	f := v.ToFloat()
	if math.IsNaN(f) || f <= 0 {
		return 0, "must be a positive number, got " + quote(v)
	}
	if f > max.Seconds() {
		return 0, "must be at most " + max.String()
	}
	return time.Duration(f * float64(time.Second)), ""
}
