package scripting

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/dop251/goja"
)

// notifyMethods are the functions of NOTIFY.
var notifyMethods = []method{
	{"send", func(r *run) func(goja.FunctionCall) goja.Value { return r.notifySend }},
	{"webhook", func(r *run) func(goja.FunctionCall) goja.Value { return r.notifyWebhook }},
}

// notifyFields are the members NOTIFY.send's fields may have.
var notifyFields = []string{"title", "sub_title", "message", "logo", "image", "data"}

// webhookOptions are the members NOTIFY.webhook's argument may have.
var webhookOptions = []string{"url", "method", "headers", "cookies", "auth", "timeout", "body"}

var notifyNames = methodNames(notifyMethods)

// notifySend implements NOTIFY.send(type, fields): it publishes an outbound
// event and returns its id. fields ({title, sub_title, message, logo,
// image, data}) pass through JSON once, so only plain data reaches the
// engine, and are typed here (eventFields).
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
		for k := range fields {
			if !slices.Contains(notifyFields, k) {
				panic(r.rt.NewTypeError("%s: unknown field %q (the fields are title, sub_title, message, logo, image and data)", fn, truncateRunes(k, 64)))
			}
		}
	}
	p := r.effects().Notify
	if p == nil {
		panic(r.newError("Error", fn+": outbound notifications are not available here"))
	}
	f, err := eventFields(fields)
	if err != nil {
		panic(r.newError("Error", fn+": "+err.Error()))
	}
	id, err := p.Publish(r.ctx, t.String(), f)
	if err != nil {
		r.checkStopped()
		panic(r.newError("Error", fn+": "+err.Error()))
	}
	return r.rt.ToValue(id)
}

// eventFields types NOTIFY.send's fields, decoded from JSON: the texts
// must be strings and data an object; null stands for none.
func eventFields(fields map[string]any) (EventFields, error) {
	var f EventFields
	texts := map[string]*string{"title": &f.Title, "sub_title": &f.SubTitle, "message": &f.Message, "logo": &f.Logo, "image": &f.Image}
	for k, v := range fields {
		if v == nil {
			continue
		}
		if k == "data" {
			d, ok := v.(map[string]any)
			if !ok {
				return f, errors.New("data must be an object")
			}
			f.Data = d
			continue
		}
		s, ok := v.(string)
		if !ok {
			return f, fmt.Errorf("%s must be a string", k)
		}
		*texts[k] = s
	}
	return f, nil
}

// notifyWebhook implements NOTIFY.webhook({url, method, headers, cookies,
// auth, timeout, body}): a one-off callback, recorded durably and
// delivered with retries by the outbound engine (so the script does not
// wait for the receiver). It returns the delivery's id. The body is sent
// as given (a string) or as JSON (an object or array).
func (r *run) notifyWebhook(call goja.FunctionCall) goja.Value {
	const fn = "NOTIFY.webhook"
	arg := call.Argument(0)
	o, ok := arg.(*goja.Object)
	if !ok || o.ClassName() == "Array" || o.ClassName() == "Function" {
		panic(r.rt.NewTypeError("%s", fn+": expects an object {url, method, headers, cookies, auth, timeout, body}, got "+quote(arg)))
	}
	for _, k := range o.Keys() {
		if !slices.Contains(webhookOptions, k) {
			panic(r.rt.NewTypeError("%s: unknown option %q (the options are url, method, headers, cookies, auth, timeout and body)", fn, truncateRunes(k, 64)))
		}
	}
	req := &WebhookRequest{Method: "POST"}
	u := r.httpURL(fn, option(o, "url"))
	req.URL = u.String()
	req.Body, req.Headers = r.httpBodyHeaders(fn, o)
	req.Cookies = r.httpHeaders(fn+" cookies", option(o, "cookies"))
	if m := option(o, "method"); !goja.IsUndefined(m) && !goja.IsNull(m) {
		req.Method = r.httpMethod(fn, m, true)
	}
	req.Timeout = r.httpTimeout(fn, option(o, "timeout"))
	req.Auth = r.webhookAuth(fn, option(o, "auth"))
	p := r.effects().Notify
	if p == nil {
		panic(r.newError("Error", fn+": outbound notifications are not available here"))
	}
	id, err := p.Webhook(r.ctx, req)
	if err != nil {
		r.checkStopped()
		if errors.Is(err, ErrBadWebhook) {
			panic(r.rt.NewTypeError("%s", fn+": "+err.Error()))
		}
		panic(r.newError("Error", fn+": "+err.Error()))
	}
	r.logText(LevelInfo, "NOTIFY.webhook "+req.Method+" "+logURL(u)+" queued as "+id)
	return r.rt.ToValue(id)
}

// ErrBadWebhook marks a NOTIFY.webhook request the engine refuses.
var ErrBadWebhook = errors.New("bad webhook request")

// webhookAuth reads the auth option: {type: "basic", username, password}
// or {type: "bearer", token}. Values never reach error messages.
func (r *run) webhookAuth(fn string, v goja.Value) WebhookAuth {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return WebhookAuth{}
	}
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() == "Array" || o.ClassName() == "Function" {
		panic(r.rt.NewTypeError("%s", fn+": auth must be an object {type, username, password} or {type, token}"))
	}
	get := func(k string) string {
		val := option(o, k)
		if goja.IsUndefined(val) || goja.IsNull(val) {
			return ""
		}
		if !isString(val) {
			panic(r.rt.NewTypeError("%s: auth.%s must be a string", fn, k))
		}
		return val.String()
	}
	for _, k := range o.Keys() {
		if !slices.Contains([]string{"type", "username", "password", "token"}, k) {
			panic(r.rt.NewTypeError("%s: unknown auth option %q (the options are type, username, password and token)", fn, truncateRunes(k, 64)))
		}
	}
	a := WebhookAuth{Type: get("type"), Username: get("username"), Password: get("password"), Token: get("token")}
	switch a.Type {
	case "", "none", "basic", "bearer":
	default:
		panic(r.rt.NewTypeError("%s: auth.type must be none, basic or bearer, got %q", fn, truncateRunes(a.Type, 32)))
	}
	return a
}
