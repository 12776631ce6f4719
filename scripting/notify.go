package scripting

import (
	"encoding/json"

	"github.com/dop251/goja"
)

// notifyMethods are the functions of NOTIFY.
var notifyMethods = []method{
	{"send", func(r *run) func(goja.FunctionCall) goja.Value { return r.notifySend }},
}

var notifyNames = methodNames(notifyMethods)

// notifySend implements NOTIFY.send(type, fields): it publishes an outbound
// event and returns its id. fields ({title, sub_title, message, logo,
// image, data}) pass through JSON, so only plain data reaches the engine.
func (r *run) notifySend(call goja.FunctionCall) goja.Value {
	const fn = "NOTIFY.send"
	t := call.Argument(0)
	if !isString(t) || t.String() == "" {
		panic(r.rt.NewTypeError("%s", fn+": the event type must be a non-empty string, got "+quote(t)))
	}
	fields := map[string]any{}
	if f := call.Argument(1); !goja.IsUndefined(f) && !goja.IsNull(f) {
		if _, ok := f.(*goja.Object); !ok {
			panic(r.rt.NewTypeError("%s", fn+": fields must be an object, got "+quote(f)))
		}
		s, err := r.jsonStringify(f)
		if err != nil {
			panic(r.newError("TypeError", fn+": fields cannot be converted to JSON: "+err.Error()))
		}
		if err := json.Unmarshal([]byte(s.String()), &fields); err != nil {
			panic(r.rt.NewTypeError("%s", fn+": fields must be an object"))
		}
	}
	p := r.effects().Notify
	if p == nil {
		panic(r.newError("Error", fn+": outbound notifications are not available here"))
	}
	id, err := p.Publish(r.ctx, t.String(), fields)
	if err != nil {
		r.checkStopped()
		panic(r.newError("Error", fn+": "+err.Error()))
	}
	return r.rt.ToValue(id)
}
