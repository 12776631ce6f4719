package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"
)

type templateParam struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Default      string `json:"default"`
	Required     bool   `json:"required"`
	RequiredWhen *struct {
		Property string `json:"property"`
		Value    string `json:"value"`
	} `json:"required_when"`
	OneOf []string `json:"one_of"`
}

type templateInfo struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Secrets     []templateParam `json:"secrets"`
	Properties  []templateParam `json:"properties"`
	Script      *string         `json:"script"`
}

func TestProviderTemplatesListAndGet(t *testing.T) {
	t.Parallel()
	in := start(t)
	var all struct {
		Items      []templateInfo `json:"items"`
		NextCursor string         `json:"next_cursor"`
	}
	in.api("GET", "/provider-templates", nil, 200, &all)
	if len(all.Items) != 23 || all.NextCursor != "" {
		t.Fatalf("%d templates, next %q", len(all.Items), all.NextCursor)
	}
	byName := map[string]templateInfo{}
	for _, tp := range all.Items {
		if tp.Script != nil {
			t.Errorf("%s: the list carries the script", tp.Name)
		}
		if tp.Title == "" || tp.Description == "" || len(tp.Secrets) == 0 {
			t.Errorf("%+v", tp)
		}
		byName[tp.Name] = tp
	}
	gh := byName["github"]
	if gh.Title != "GitHub" || len(gh.Secrets) != 1 || gh.Secrets[0].Name != "secret" || !gh.Secrets[0].Required || len(gh.Properties) != 0 {
		t.Fatalf("github: %+v", gh)
	}
	alg := byName["generic-hmac"].Properties[0]
	if alg.Name != "algorithm" || alg.Default != "sha256" || alg.Required || strings.Join(alg.OneOf, ",") != "sha1,sha256,sha512" {
		t.Fatalf("generic-hmac algorithm: %+v", alg)
	}
	user := byName["azure-devops"].Secrets[0]
	if user.Name != "username" || user.Required || user.RequiredWhen == nil || user.RequiredWhen.Property != "auth" || user.RequiredWhen.Value != "basic" {
		t.Fatalf("azure-devops username: %+v", user)
	}

	var first struct {
		Items      []templateInfo `json:"items"`
		NextCursor string         `json:"next_cursor"`
	}
	in.api("GET", "/provider-templates?limit=3", nil, 200, &first)
	if len(first.Items) != 3 || first.NextCursor != "3" {
		t.Fatalf("a page of 3: %d items, next %q", len(first.Items), first.NextCursor)
	}

	var one templateInfo
	in.api("GET", "/provider-templates/github", nil, 200, &one)
	if one.Script == nil || !strings.Contains(*one.Script, "GITHUB.verify(PROPERTIES.secret)") || one.Title != "GitHub" {
		t.Fatalf("github template: %+v", one)
	}
	b := in.api("GET", "/provider-templates/gitbucket", nil, 404, nil)
	if !strings.Contains(string(b), `no provider template \"gitbucket\"`) || !strings.Contains(string(b), "github, gitlab") {
		t.Fatalf("unknown template answer %s", b)
	}
}

// A provider made from the GitHub template matches a webhook signed as
// GitHub signs it, end to end, and refuses a wrong signature.
func TestProviderFromTemplateEndToEnd(t *testing.T) {
	t.Parallel()
	const secret = "It's a Secret to Everybody"
	in := start(t)
	var p struct {
		provider
		Description    string            `json:"description"`
		MatchScript    string            `json:"match_script"`
		Properties     map[string]string `json:"properties"`
		MatchTimeoutMS int               `json:"match_timeout_ms"`
	}
	raw := in.api("POST", "/providers", map[string]any{"template": "github", "secrets": map[string]string{"secret": secret}}, http.StatusCreated, &p)
	if strings.Contains(string(raw), secret) {
		t.Fatalf("the secret is in the answer: %s", raw)
	}
	if p.Name != "GitHub" || p.Description != "Created from the GitHub template." || !p.Active || p.MatchTimeoutMS != 1000 ||
		len(p.Secrets) != 1 || p.Secrets[0] != "secret" || !strings.HasPrefix(p.MatchScript, "// @name GitHub") {
		t.Fatalf("created %+v", p)
	}
	in.function(p.ID, "events", "github", `LOG.setMessage(GITHUB.event() + " " + PAYLOAD.repository.full_name); return true`)

	body, err := os.ReadFile("../testdata/github/push.json")
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	code, a := in.send("github", body, true, http.Header{"X-GitHub-Event": {"push"}, "X-Hub-Signature-256": {sig}})
	if code != 200 || a.Provider == nil || *a.Provider != "GitHub" {
		t.Fatalf("signed push: %d %+v", code, a)
	}
	if d := in.message(a.ID); d.Message != "push Codertocat/Hello-World" {
		t.Fatalf("summary %q", d.Message)
	}
	bad := "sha256=" + strings.Repeat("0", 64)
	if code, a := in.send("github", body, true, http.Header{"X-GitHub-Event": {"push"}, "X-Hub-Signature-256": {bad}}); code != 404 || a.Status != "UNMATCHED" {
		t.Fatalf("wrong signature: %d %+v", code, a)
	}
	if code, _ := in.send("github", body, true, http.Header{"X-Hub-Signature-256": {sig}}); code != 404 {
		t.Fatalf("no X-GitHub-Event: %d", code)
	}

	// Azure DevOps with basic authentication, and settings from the body.
	var az struct {
		provider
		Description    string            `json:"description"`
		Properties     map[string]string `json:"properties"`
		MatchTimeoutMS int               `json:"match_timeout_ms"`
	}
	in.api("POST", "/providers", map[string]any{
		"template": "azure-devops", "name": "Azure (fabrikam)", "description": "builds", "match_timeout_ms": 500,
		"secrets": map[string]string{"username": "switchyard", "password": "pässword"},
	}, http.StatusCreated, &az)
	if az.Name != "Azure (fabrikam)" || az.Description != "builds" || az.MatchTimeoutMS != 500 ||
		az.Properties["auth"] != "basic" || az.Properties["header"] != "X-Webhook-Token" || len(az.Secrets) != 2 {
		t.Fatalf("created %+v", az)
	}
	in.function(az.ID, "builds", "azure", `return true`)
	event := []byte(`{"subscriptionId":"00000000-0000-0000-0000-000000000000","notificationId":1,"id":"4a5d99d6-1c75-4e53-91b9-ee80057d4ce3","eventType":"build.complete","publisherId":"tfs","message":{"text":"Build ConsumerAddressModule_20150407.2 succeeded"},"resource":{"id":2,"buildNumber":"ConsumerAddressModule_20150407.2","status":"completed","result":"succeeded"},"resourceVersion":"2.0","createdDate":"2026-01-20T10:15:00Z"}`)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("switchyard:pässword"))
	if code, a := in.send("azure", event, true, http.Header{"Authorization": {basic}}); code != 200 || *a.Provider != "Azure (fabrikam)" {
		t.Fatalf("azure: %d %+v", code, a)
	}
	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("switchyard:password"))
	if code, _ := in.send("azure", event, true, http.Header{"Authorization": {wrong}}); code != 404 {
		t.Fatalf("azure, wrong password: %d", code)
	}
}

func TestProviderFromTemplateRefusals(t *testing.T) {
	t.Parallel()
	in := start(t)
	for _, c := range []struct {
		name  string
		body  map[string]any
		want  []string
		avoid string
	}{
		{"missing secret", map[string]any{"template": "github"},
			[]string{`the GitHub template: needs secret \"secret\" (the webhook's Secret, as typed in GitHub)`}, ""},
		{"unknown template", map[string]any{"template": "gitbucket", "secrets": map[string]string{"secret": "s"}},
			[]string{`no provider template \"gitbucket\"`, "asana, azure-devops, bitbucket-cloud, bitbucket-server, discord, dropbox, generic-hmac, github, gitlab, jira, linear, meta, microsoft-graph, pagerduty, sendgrid, sentry, shopify, slack, standard-webhooks, stripe, twilio, x, zoom"}, ""},
		{"with a match script", map[string]any{"template": "github", "match_script": "return true", "secrets": map[string]string{"secret": "s"}},
			[]string{"either template or match_script, not both"}, ""},
		{"unknown secret", map[string]any{"template": "github", "secrets": map[string]string{"secret": "s", "token": "hunter2"}},
			[]string{`unknown secret \"token\" (this template takes secret)`}, "hunter2"},
		{"secret as a property", map[string]any{"template": "stripe", "properties": map[string]string{"secret": "whsec_hunter2"}},
			[]string{`\"secret\" is a secret of this template, not a property`}, "hunter2"},
		{"bad value", map[string]any{"template": "generic-hmac", "secrets": map[string]string{"secret": "s"}, "properties": map[string]string{"encoding": "base32"}},
			[]string{`property \"encoding\" must be one of hex, base64, not \"base32\"`}, ""},
		{"conditional secret", map[string]any{"template": "gitlab", "properties": map[string]string{"auth": "signing"}, "secrets": map[string]string{"token": "t"}},
			[]string{`needs secret \"signing_token\"`, "required when auth is signing"}, ""},
		{"bad timeout", map[string]any{"template": "github", "secrets": map[string]string{"secret": "s"}, "match_timeout_ms": 60000},
			[]string{"match_timeout_ms"}, ""},
	} {
		b := string(in.api("POST", "/providers", c.body, http.StatusBadRequest, nil))
		for _, w := range c.want {
			if !strings.Contains(b, w) {
				t.Errorf("%s: answer %s should say %s", c.name, b, w)
			}
		}
		if c.avoid != "" && strings.Contains(b, c.avoid) {
			t.Errorf("%s: answer %s shows a secret", c.name, b)
		}
	}
	var list struct{ Items []provider }
	in.api("GET", "/providers", nil, 200, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a refused request created %+v", list.Items)
	}
	// A template applies only on creation.
	p := in.provider("x", "return false")
	in.api("PUT", "/providers/"+p.ID, map[string]any{"template": "github"}, http.StatusBadRequest, nil)
}
