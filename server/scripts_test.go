package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

type version struct {
	Version int    `json:"version"`
	Script  string `json:"script"`
	Current bool   `json:"current"`
	SavedAt string `json:"saved_at"`
}

// Every save of a script is a version; executions record the version they
// ran; a rollback saves an old script as a new version.
func TestScriptVersionsAndRollback(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("p", "return true")
	f := in.function(p.ID, "f", "v", "LOG.setMessage('one'); return 1")
	in.api("PUT", "/functions/"+f.ID, map[string]any{"description": "no script change"}, http.StatusOK, nil)
	in.api("PUT", "/functions/"+f.ID, map[string]any{"script": "LOG.setMessage('two'); return 2"}, http.StatusOK, nil)

	var vs struct{ Items []version }
	in.api("GET", "/functions/"+f.ID+"/versions", nil, http.StatusOK, &vs)
	if len(vs.Items) != 2 || vs.Items[0].Version != 2 || !vs.Items[0].Current || vs.Items[1].Current || !strings.Contains(vs.Items[1].Script, "'one'") {
		t.Fatalf("versions: %+v", vs.Items)
	}
	_, a := in.send("v", []byte(`{}`), true, nil)
	if d := in.message(a.ID); d.Message != "two" || d.Executions[0].Version != 2 || d.ProviderVer != 1 {
		t.Fatalf("execution of version 2: %+v", d)
	}

	var rolled function
	in.api("POST", "/functions/"+f.ID+"/versions/1/rollback", nil, http.StatusOK, &rolled)
	if rolled.Version != 3 {
		t.Fatalf("rollback must save a new version, got %d", rolled.Version)
	}
	var v3 version
	in.api("GET", "/functions/"+f.ID+"/versions/3", nil, http.StatusOK, &v3)
	if !v3.Current || !strings.Contains(v3.Script, "'one'") {
		t.Fatalf("version 3: %+v", v3)
	}
	_, a = in.send("v", []byte(`{}`), true, nil)
	if d := in.message(a.ID); d.Message != "one" || d.Executions[0].Version != 3 {
		t.Fatalf("after rollback: %+v", d)
	}

	// Providers alike.
	in.api("PUT", "/providers/"+p.ID, map[string]any{"match_script": "return false"}, http.StatusOK, nil)
	var pv struct{ Items []version }
	in.api("GET", "/providers/"+p.ID+"/versions", nil, http.StatusOK, &pv)
	if len(pv.Items) != 2 || pv.Items[1].Script != "return true" {
		t.Fatalf("provider versions: %+v", pv.Items)
	}
	var rp provider
	in.api("POST", "/providers/"+p.ID+"/versions/1/rollback", nil, http.StatusOK, &rp)
	if rp.Version != 3 {
		t.Fatalf("provider rollback version %d", rp.Version)
	}

	// Wrong kinds and numbers.
	in.api("GET", "/providers/"+f.ID+"/versions", nil, http.StatusNotFound, nil)
	in.api("GET", "/functions/"+f.ID+"/versions/9", nil, http.StatusNotFound, nil)
	in.api("GET", "/functions/"+f.ID+"/versions/zero", nil, http.StatusBadRequest, nil)
}

type dryRunAnswer struct {
	Status   string `json:"status"`
	Provider *struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Overridden bool   `json:"overridden"`
	} `json:"provider"`
	Message   string    `json:"message"`
	Logs      []logLine `json:"logs"`
	Functions []struct {
		FunctionName string    `json:"function_name"`
		Status       string    `json:"status"`
		Error        string    `json:"error"`
		Result       any       `json:"result"`
		Overridden   bool      `json:"overridden"`
		Logs         []logLine `json:"logs"`
	} `json:"functions"`
	Effects []struct {
		Kind      string            `json:"kind"`
		Scope     string            `json:"scope"`
		Method    string            `json:"method"`
		URL       string            `json:"url"`
		Headers   map[string]string `json:"headers"`
		Body      string            `json:"body"`
		EventType string            `json:"event_type"`
		Key       string            `json:"key"`
	} `json:"effects"`
}

// A dry run re-runs a stored message with unsaved scripts, records what the
// scripts would do and changes nothing.
func TestDryRun(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("p", "return PAYLOAD.kind === 'a'")
	f := in.function(p.ID, "f", "dry", "LOG.info('saved'); return 'saved'")
	_, a := in.send("dry", []byte(`{"kind":"b"}`), true, nil)
	if d := in.message(a.ID); d.Status != "UNMATCHED" {
		t.Fatalf("message %+v", d)
	}

	// As saved: still unmatched.
	var r dryRunAnswer
	in.api("POST", "/messages/"+a.ID+"/dry-run", nil, http.StatusOK, &r)
	if r.Status != "UNMATCHED" || r.Provider != nil {
		t.Fatalf("dry run as saved: %+v", r)
	}

	// With an unsaved match script and function script.
	body := map[string]any{
		"provider_id": p.ID, "match_script": "return PAYLOAD.kind === 'b'",
		"function_id": f.ID, "script": `
			LOG.info('draft');
			var res = HTTP.request({url: 'https://ci.example.com/job?token=x', method: 'POST', headers: {Authorization: 'Bearer s3cr3t'}, body: {ref: 'main'}});
			NOTIFY.send('build.started', {title: 'go'});
			if (!DEDUPE.first('delivery-1', 60)) throw new Error('dedupe said seen');
			LOG.setMessage('status ' + res.status);
			return {status: res.status}`,
	}
	in.api("POST", "/messages/"+a.ID+"/dry-run", body, http.StatusOK, &r)
	if r.Status != "SUCCESS" || r.Provider == nil || r.Provider.ID != p.ID || !r.Provider.Overridden || r.Message != "status 200" {
		t.Fatalf("dry run with drafts: %+v", r)
	}
	if len(r.Functions) != 1 || !r.Functions[0].Overridden || r.Functions[0].Logs[0].Text != "draft" {
		t.Fatalf("functions: %+v", r.Functions)
	}
	if res, _ := r.Functions[0].Result.(map[string]any); res["status"] != float64(200) {
		t.Fatalf("result: %#v", r.Functions[0].Result)
	}
	if len(r.Effects) != 3 {
		t.Fatalf("effects: %+v", r.Effects)
	}
	h, n, dd := r.Effects[0], r.Effects[1], r.Effects[2]
	if h.Kind != "http" || h.Method != "POST" || h.Scope != "function:"+f.ID || !strings.Contains(h.Body, `"ref":"main"`) {
		t.Fatalf("http effect: %+v", h)
	}
	if strings.Contains(h.Headers["Authorization"], "s3cr3t") || h.Headers["Authorization"] == "" {
		t.Fatalf("credentials must be redacted: %+v", h.Headers)
	}
	if n.Kind != "notify" || n.EventType != "build.started" || dd.Kind != "dedupe" || dd.Key != "delivery-1" {
		t.Fatalf("notify/dedupe effects: %+v %+v", n, dd)
	}

	// The dry run recorded nothing: the dedupe key is still new, the
	// scripts are unchanged and no message was added.
	var msgs struct{ Items []messageDetail }
	in.api("GET", "/messages", nil, http.StatusOK, &msgs)
	if len(msgs.Items) != 1 {
		t.Fatalf("a dry run added messages: %d", len(msgs.Items))
	}
	in.api("POST", "/messages/"+a.ID+"/dry-run", body, http.StatusOK, &r)
	if r.Status != "SUCCESS" {
		t.Fatalf("second dry run: %+v", r)
	}
	var pv struct{ Items []version }
	in.api("GET", "/providers/"+p.ID+"/versions", nil, http.StatusOK, &pv)
	if len(pv.Items) != 1 {
		t.Fatalf("a dry run saved a version: %+v", pv.Items)
	}

	// A new, unsaved function of the provider.
	in.api("POST", "/messages/"+a.ID+"/dry-run", map[string]any{"provider_id": p.ID, "match_script": "return true", "script": "return URI"}, http.StatusOK, &r)
	if len(r.Functions) != 2 {
		t.Fatalf("unsaved function: %+v", r.Functions)
	}

	// Bad input.
	resp := in.api("POST", "/messages/"+a.ID+"/dry-run", map[string]any{"function_id": f.ID, "script": "return ("}, http.StatusBadRequest, nil)
	if !strings.Contains(string(resp), "line 1") {
		t.Fatalf("compile error: %s", resp)
	}
	in.api("POST", "/messages/"+a.ID+"/dry-run", map[string]any{"match_script": "return true"}, http.StatusBadRequest, nil)
	in.api("POST", "/messages/"+a.ID+"/dry-run", map[string]any{"provider_id": "nope", "match_script": "return true"}, http.StatusBadRequest, nil)
	in.api("POST", "/messages/0190b5c1-0000-7000-8000-000000000000/dry-run", nil, http.StatusNotFound, nil)
}

// DEDUPE.first is durable across restarts and kept apart per function.
func TestDedupeAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, func(o *server.Options) { o.DataDir = dir })
	p := in.provider("p", "return true")
	script := `if (!DEDUPE.first(HTTP_HEADERS["x-delivery"], 3600)) { LOG.setMessage("duplicate"); return }
		LOG.setMessage("new")`
	in.function(p.ID, "f", "d", script)
	send := func(in *instance, delivery string) string {
		t.Helper()
		_, a := in.send("d", []byte(`{}`), true, http.Header{"X-Delivery": {delivery}})
		return in.message(a.ID).Message
	}
	if got := send(in, "1"); got != "new" {
		t.Fatalf("first delivery: %q", got)
	}
	if got := send(in, "1"); got != "duplicate" {
		t.Fatalf("redelivery: %q", got)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in2 := start(t, func(o *server.Options) { o.DataDir = dir })
	if got := send(in2, "1"); got != "duplicate" {
		t.Fatalf("redelivery after restart: %q", got)
	}
	if got := send(in2, "2"); got != "new" {
		t.Fatalf("another delivery: %q", got)
	}
	// A second function on the same URI has its own keys.
	in2.function(p.ID, "g", "d", script+"; LOG.info('g')")
	_, a := in2.send("d", []byte(`{}`), true, http.Header{"X-Delivery": {"2"}})
	d := in2.message(a.ID)
	got := map[string]string{}
	for _, e := range d.Executions {
		got[e.FunctionName] = e.Status
	}
	if len(d.Executions) != 2 || got["f"] != "SUCCESS" || got["g"] != "SUCCESS" {
		t.Fatalf("executions: %+v", d.Executions)
	}
	for _, e := range d.Executions {
		// g logs after a new key; f returned early on the duplicate.
		if e.FunctionName == "g" && (len(e.Logs) != 1 || e.Logs[0].Text != "g") {
			t.Fatalf("g must see delivery 2 as new: %+v", e.Logs)
		}
	}
}
