package scripting

import "github.com/dop251/goja"

// installGlobals defines the globals every script sees. They behave as
// plain JavaScript objects, never as reflective wrappers over Go maps:
// HTTP_HEADERS, QUERY_PARAMS and PROPERTIES are DynamicObjects that read the
// request's maps (see stringMap) and PAYLOAD decodes lazily (see
// lazyObject).
func (r *run) installGlobals() {
	rt, req := r.rt, r.req
	g := rt.GlobalObject()
	body, guard := req.prepared()
	if guard || r.reach.can("parse") {
		r.guardJSONParse() // a body, or a string the script builds, may nest deep enough to kill the process
	}

	r.pristine = rt.ToValue(body)
	g.Set("FLX_MESSAGE_ID", req.MessageID)
	g.Set("FLX_REMOTE_ADDR", req.RemoteAddr)
	g.Set("FLX_REMOTE_HOST", req.RemoteHost)
	g.Set("URI", req.URI)
	g.Set("METHOD", req.Method)
	g.Set("FLX_PRISTINE_PAYLOAD", r.pristine)
	g.Set("HTTP_HEADERS", r.newHeaderMap(req.Headers))
	g.Set("QUERY_PARAMS", r.newStringMap(nil, req.Query))
	g.Set("PROPERTIES", r.newStringMap(req.Properties, nil))
	getter := r.fn(r.payloadGetter)
	getter.DefineDataProperty("name", rt.ToValue("get PAYLOAD"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	g.DefineAccessorProperty("PAYLOAD", getter, nil, goja.FLAG_TRUE, goja.FLAG_TRUE)
	g.Set("LOG", r.newMethods(logMethods, logNames))
	g.Set("HMAC", r.newMethods(hmacMethods, hmacNames))
	// The helpers are installed only for a script that can reach them
	// (names them, or makes names up; see reach): nine more objects on the
	// global object cost a quarter of a fresh runtime.
	for _, s := range senders {
		r.setIfReached(s.name, s.methods, s.names)
	}
	r.setIfReached("HTTP", httpMethods, httpNames)
	r.setIfReached("DEDUPE", dedupeMethods, dedupeNames)
	r.setIfReached("NOTIFY", notifyMethods, notifyNames)
	r.installWeb()
	r.setIfReached("CRYPTO", cryptoMethods, cryptoNames)
	r.setIfReached("JWT", jwtMethods, jwtNames)
	if r.reach.can("RESPONSE") {
		r.installResponse()
	}
	r.setIfReached("NET", netMethods, netNames)
	if r.reach.can("PATH_PARAMS") {
		g.Set("PATH_PARAMS", r.newStringMap(req.PathParams, nil))
	}
	r.capBuiltins()
	if r.reach.bigints() {
		r.installArith()
	}
	if r.reach.dynamic {
		r.guardDynamicCode()
	}
}

// setIfReached installs a global of methods if the script can reach it.
func (r *run) setIfReached(name string, methods []method, names []string) {
	if r.reach.can(name) {
		r.rt.GlobalObject().Set(name, r.newMethods(methods, names))
	}
}

// api is a global object of methods.
type api struct {
	name    string
	methods []method
	names   []string
}

// newAPI lists a global's methods.
func newAPI(name string, methods []method) api {
	return api{name: name, methods: methods, names: methodNames(methods)}
}

// fn wraps a Go function as a JavaScript function.
func (r *run) fn(f func(goja.FunctionCall) goja.Value) *goja.Object {
	return r.rt.ToValue(f).(*goja.Object)
}

// jsonFunc returns the runtime's JSON.parse or JSON.stringify, nil if the
// script replaced them with something not callable.
func (r *run) jsonFunc(name string) goja.Callable {
	j, ok := r.rt.Get("JSON").(*goja.Object)
	if !ok {
		return nil
	}
	f, _ := goja.AssertFunction(j.Get(name))
	return f
}

// call calls a JavaScript function from Go code that runs inside the
// script. An interrupt or a stack overflow is raised again so that the
// script stops; an ordinary exception is returned for the caller to handle.
func (r *run) call(f goja.Callable, args ...goja.Value) (goja.Value, error) {
	if f == nil {
		return nil, errNotCallable
	}
	v, err := f(goja.Undefined(), args...)
	if err != nil {
		switch err.(type) {
		case *goja.InterruptedError, *goja.StackOverflowError:
			panic(err)
		}
	}
	return v, err
}
