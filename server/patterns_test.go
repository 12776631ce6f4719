package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Path patterns over HTTP: the API refuses a malformed uri (400) and an
// overlapping one (409, naming the other function); webhooks reach the
// pattern's function with PATH_PARAMS taken from the decoded path, the
// same through /flexdeploy/webhooks/v1/, which records the same URI.
func TestPathPatternsOverHTTP(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	const script = `LOG.setMessage(URI + " " + JSON.stringify(PATH_PARAMS)); return 1`
	repo := in.function(p.ID, "repo", "repos/{repo}/push", script)
	in.function(p.ID, "jira", "jira/*", script)

	body := in.api("POST", "/functions", map[string]any{"name": "bad", "provider_id": p.ID, "uri": "a/*/b", "script": "1"}, http.StatusBadRequest, nil)
	if !strings.Contains(string(body), `\"*\" may only be the whole last segment`) {
		t.Errorf("malformed uri: %s", body)
	}
	body = in.api("POST", "/functions", map[string]any{"name": "clash", "provider_id": p.ID, "uri": "repos/main/{event}", "script": "1"}, http.StatusConflict, nil)
	if !strings.Contains(string(body), `of function \"repo\" (`+repo.ID+`)`) || !strings.Contains(string(body), `both would match \"repos/main/push\"`) {
		t.Errorf("overlapping uri: %s", body)
	}

	for _, tc := range []struct {
		path, uri, want string // want "" for UNMATCHED
	}{
		{"/webhooks/v1/repos/switchyard/push?x=1", "repos/switchyard/push", `{"repo":"switchyard"}`},
		{"/flexdeploy/webhooks/v1/repos/switchyard/push?x=1", "repos/switchyard/push", `{"repo":"switchyard"}`},
		{"/webhooks/v1/repos/switch%20yard/push", "repos/switch yard/push", `{"repo":"switch yard"}`},
		{"/webhooks/v1/repos/a%2Fb/push", "repos/a/b/push", ""},
		{"/flexdeploy/webhooks/v1/jira/a%2Fb/", "jira/a/b", `{"*":"a/b"}`},
		{"/webhooks/v1/jira", "jira", ""},
		// A %3F is a "?" inside the URI, not the start of a query.
		{"/webhooks/v1/repos/a%3Fb/push", "repos/a?b/push", `{"repo":"a?b"}`},
	} {
		code, resp, _ := in.do("POST", tc.path, []byte(`{}`), http.Header{"Content-Type": {"application/json"}, "Flex-Sync-Webhook": {"true"}})
		var a syncAnswer
		if err := jsonUnmarshal(resp, &a); err != nil {
			t.Fatalf("%s: %d %s", tc.path, code, resp)
		}
		d := in.message(a.ID)
		if d.URI != tc.uri {
			t.Errorf("%s: recorded uri %q, want %q", tc.path, d.URI, tc.uri)
		}
		if tc.want == "" {
			if d.Status != "UNMATCHED" {
				t.Errorf("%s: %s, want UNMATCHED", tc.path, d.Status)
			}
			continue
		}
		if code != http.StatusOK || d.Status != "SUCCESS" || d.Message != tc.uri+" "+tc.want {
			t.Errorf("%s: %d %s %q, want %q", tc.path, code, d.Status, d.Message, tc.uri+" "+tc.want)
		}
	}
	// Any method, through the alias too, without a body.
	if code, _, _ := in.do("GET", "/flexdeploy/webhooks/v1/jira/x", nil, nil); code != http.StatusAccepted {
		t.Errorf("GET through the alias: %d", code)
	}
	if code, _, _ := in.do("POST", "/flexdeploy/webhooks/v2/jira/x", nil, nil); code != http.StatusNotFound {
		t.Errorf("another path below /flexdeploy: %d, want 404", code)
	}
}

// Two nodes on one PostgreSQL schema: a pattern saved through A routes a
// webhook sent to B (through the alias) with its PATH_PARAMS once B's
// catalogue reloads, and B refuses a pattern that overlaps it, reading
// the functions from the shared store.
func TestClusterPathPatterns(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	a := start(t, pg)
	b := start(t, pg)

	p := a.provider("ci", `return true`)
	f := a.function(p.ID, "build", "builds/{team}/*", `LOG.setMessage(PATH_PARAMS.team + " " + PATH_PARAMS["*"]); return 1`)
	within(t, 10*time.Second, "a pattern saved on A routes on B", func() bool {
		code, resp, _ := b.do("POST", "/flexdeploy/webhooks/v1/builds/ops/web/42", []byte(`{}`), http.Header{"Flex-Sync-Webhook": {"true"}})
		var ans syncAnswer
		if code != http.StatusOK || jsonUnmarshal(resp, &ans) != nil {
			return false
		}
		d := b.message(ans.ID)
		return d.Status == "SUCCESS" && d.Message == "ops web/42" && d.URI == "builds/ops/web/42"
	})
	body := b.api("POST", "/functions", map[string]any{"name": "clash", "provider_id": p.ID, "uri": "builds/ops/{id}", "script": "1"}, http.StatusConflict, nil)
	if !strings.Contains(string(body), f.ID) {
		t.Errorf("the conflict on B does not name A's function: %s", body)
	}
}
