package manifest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/internal/testcert"
	"github.com/switchyard-dev/switchyard/manifest"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

const token = "test-admin-token"

// instance is a whole Switchyard in-process on loopback.
type instance struct {
	t       *testing.T
	c       *client.Client
	baseURL string
	dir     string
	stop    func()
}

func start(t *testing.T, dir string) *instance {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	srv, err := server.New(server.Options{Listen: "127.0.0.1:0", DataDir: dir, AdminToken: token,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	c, err := client.New("http://"+srv.Addr().String(), token)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, c: c, baseURL: "http://" + srv.Addr().String(), dir: dir}
	stopped := false
	in.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("instance did not stop within 30s")
		}
	}
	t.Cleanup(in.stop)
	in.get("/providers", nil) // started: it answers
	return in
}

func (in *instance) post(path string, body any) string {
	in.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if err := in.c.Post(context.Background(), path, body, &out); err != nil {
		in.t.Fatal(err)
	}
	return out.ID
}

func (in *instance) get(path string, out any) {
	in.t.Helper()
	if err := in.c.Get(context.Background(), path, nil, out); err != nil {
		in.t.Fatal(err)
	}
}

// snapshot is every record as the API shows it, versions and times
// included: equal snapshots mean nothing was written.
func (in *instance) snapshot() string {
	in.t.Helper()
	var b bytes.Buffer
	for _, p := range []string{"/providers", "/functions", "/endpoints", "/event-types"} {
		var raw []byte
		var out struct {
			Items []map[string]any `json:"items"`
		}
		in.get(p, &out)
		for _, it := range out.Items {
			name, _ := it["name"].(string)
			if p == "/event-types" {
				name = it["type"].(string)
			}
			raw = append(raw, []byte(strings.Join([]string{p, name, jsonString(it)}, " "))...)
			raw = append(raw, '\n')
		}
		b.Write(raw)
	}
	return b.String()
}

// seed fills an instance with providers in an order that is not their
// creation order, a handshake script, properties and secrets, functions,
// and endpoints with every kind of secret.
func seed(in *instance) {
	a := in.post("/providers", map[string]any{"name": "anyone", "match_script": "return true", "description": "catch all"})
	g := in.post("/providers", map[string]any{"name": "github", "match_script": "return HEADERS['x-github-event'] != null",
		"handshake_script": "if (QUERY.ping) { RESPONSE = {status: 200, body: 'pong'} }",
		"properties":       map[string]string{"org": "acme"}, "secrets": map[string]string{"webhook_secret": "s3cr3t-github"},
		"allowed_sources": []string{"192.0.2.0/24"}, "match_timeout_ms": 500})
	s := in.post("/providers", map[string]any{"name": "Slack Bot", "match_script": "return false", "active": false})
	if err := in.c.Put(context.Background(), "/providers/order", map[string]any{"ids": []string{g, s, a}}, nil); err != nil {
		in.t.Fatal(err)
	}
	in.post("/functions", map[string]any{"name": "greet", "provider_id": a, "uri": "hello", "script": "LOG.setMessage('hi')\nreturn 1\n"})
	in.post("/functions", map[string]any{"name": "push", "provider_id": g, "uri": "repos/{repo}/push", "script": "return 2", "timeout_ms": 2000, "description": "a push"})
	in.post("/endpoints", map[string]any{"name": "alerts", "url": "https://example.com/hook", "event_types": []string{"alarm.*"},
		"filter":         map[string]any{"data.severity": map[string]any{"$in": []string{"critical", "major"}}, "data.host": map[string]any{"$regex": "^db-"}, "data.level": map[string]any{"$gte": 2.5}},
		"headers":        map[string]string{"Authorization": "Bearer s3cr3t-header", "X-Team": "ops"},
		"cookies":        map[string]string{"session": "s3cr3t-cookie"},
		"auth":           map[string]any{"type": "basic", "username": "bot", "password": "s3cr3t-password"},
		"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"extra_body":     map[string]any{"channel": "#ops", "n": 1},
		"body_templates": map[string]string{"zh": "{\"text\": \"告警 {{title}}\"}"},
		"body_template":  "{\"text\": \"{{title}}\"}", "retry": map[string]any{"backoff": "fixed", "max_attempts": 3, "interval_ms": 1000}})
	in.post("/endpoints", map[string]any{"name": "plain", "url": "https://example.org/x", "event_types": []string{"*"}, "enabled": false})
	certsOnce.Do(func() { certs = testcert.New(in.t) })
	in.post("/endpoints", map[string]any{"name": "reach", "url": "https://example.net/hook", "event_types": []string{"*"},
		"proxy": "http://squid:s3cr3t-proxy@proxy.example.net:3128",
		"auth": map[string]any{"type": "oauth2", "token_url": "https://auth.example.net/token", "client_id": "switchyard",
			"client_secret": "s3cr3t-client", "scopes": []string{"hooks.write"}},
		"tls": map[string]any{"ca_pem": certs.CAPEM, "client_cert_pem": certs.ClientCertPEM, "client_key_pem": certs.ClientKeyPEM,
			"server_name": "hooks.internal"}})
	for name, body := range map[string]any{
		"alarm.host_lost": map[string]any{"kind": "alarm", "description": "A monitored host stopped answering",
			"example": map[string]any{"severity": "critical", "host": "db-01", "load": 2.5},
			"schema": map[string]any{"type": "object", "required": []string{"severity"},
				"properties": map[string]any{"severity": map[string]any{"enum": []string{"critical", "major"}}, "load": map[string]any{"type": "number", "maximum": 100}}}},
		"cloud.resource.synced": map[string]any{"description": "A resource was synced"},
	} {
		if err := in.c.Put(context.Background(), "/event-types/"+name, body, nil); err != nil {
			in.t.Fatal(err)
		}
	}
}

// certs are the reach endpoint's TLS certificates, made once.
var (
	certs     *testcert.Set
	certsOnce sync.Once
)

// env is what the exported references of seed need.
var env = map[string]string{
	"SWITCHYARD_PROVIDER_GITHUB_WEBHOOK_SECRET":       "s3cr3t-github",
	"SWITCHYARD_ENDPOINT_ALERTS_HEADER_AUTHORIZATION": "Bearer s3cr3t-header",
	"SWITCHYARD_ENDPOINT_ALERTS_COOKIE_SESSION":       "s3cr3t-cookie",
	"SWITCHYARD_ENDPOINT_ALERTS_PASSWORD":             "s3cr3t-password",
	"SWITCHYARD_ENDPOINT_ALERTS_SIGNING_SECRET":       "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	"SWITCHYARD_ENDPOINT_REACH_CLIENT_SECRET":         "s3cr3t-client",
	"SWITCHYARD_ENDPOINT_REACH_PROXY_PASSWORD":        "s3cr3t-proxy",
}

func getenv(name string) string {
	if name == "SWITCHYARD_ENDPOINT_REACH_TLS_CLIENT_KEY" {
		return certs.ClientKeyPEM
	}
	return env[name]
}

// readTree reads every file below dir, by relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func apply(t *testing.T, in *instance, dir string, opts manifest.Options, dryRun bool) string {
	t.Helper()
	if opts.Getenv == nil {
		opts.Getenv = getenv
	}
	var out bytes.Buffer
	if err := manifest.Apply(context.Background(), in.c, dir, opts, dryRun, &out); err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	return out.String()
}

// Export, apply to a fresh instance, export again: the two directories
// are byte for byte the same, no secret's value is written, and a second
// apply changes nothing (no version, no time moves).
func TestExportApplyExportIsIdentical(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := start(t, "")
	seed(src)
	dir1, dir2 := t.TempDir(), t.TempDir()
	if _, err := manifest.Export(ctx, src.c, dir1); err != nil {
		t.Fatal(err)
	}
	tree1 := readTree(t, dir1)
	for _, want := range []string{"switchyard.yaml", "providers/anyone.js", "providers/github.js", "providers/github.handshake.js",
		"providers/Slack%20Bot.js", "functions/greet.js", "functions/push.js"} {
		if _, ok := tree1[want]; !ok {
			t.Errorf("export wrote no %s; it wrote %v", want, keys(tree1))
		}
	}
	if len(tree1) != 7 {
		t.Errorf("export wrote %v", keys(tree1))
	}
	for rel, body := range tree1 {
		if strings.Contains(body, "s3cr3t") || strings.Contains(body, "MfKQ9r8") {
			t.Fatalf("%s holds a secret's value:\n%s", rel, body)
		}
	}
	yml := tree1["switchyard.yaml"]
	if g, s, a := strings.Index(yml, "name: github"), strings.Index(yml, "name: Slack Bot"), strings.Index(yml, "name: anyone"); !(g < s && s < a) {
		t.Fatalf("providers are not in their order:\n%s", yml)
	}
	if strings.Contains(tree1["switchyard.yaml"], strings.Split(certs.ClientKeyPEM, "\n")[1]) {
		t.Fatalf("switchyard.yaml holds the TLS client key")
	}
	for _, want := range []string{"${env:SWITCHYARD_PROVIDER_GITHUB_WEBHOOK_SECRET}", "${env:SWITCHYARD_ENDPOINT_ALERTS_SIGNING_SECRET}",
		"client_secret: ${env:SWITCHYARD_ENDPOINT_REACH_CLIENT_SECRET}", "proxy_password: ${env:SWITCHYARD_ENDPOINT_REACH_PROXY_PASSWORD}",
		"client_key_pem: ${env:SWITCHYARD_ENDPOINT_REACH_TLS_CLIENT_KEY}", "proxy: http://squid@proxy.example.net:3128", "token_url: https://auth.example.net/token", "provider: github", "data.severity:", "body_templates:",
		"event_types:\n  - type: alarm.host_lost\n    kind: alarm", "enum:"} {
		if !strings.Contains(yml, want) {
			t.Fatalf("switchyard.yaml has no %s:\n%s", want, yml)
		}
	}

	dst := start(t, "")
	out := apply(t, dst, dir1, manifest.Options{}, false)
	if !strings.Contains(out, `+ create provider "github"`) || !strings.Contains(out, `+ create endpoint "alerts"`) ||
		!strings.Contains(out, `+ create event type "alarm.host_lost"`) || !strings.Contains(out, `+ create event type "cloud.resource.synced"`) {
		t.Fatalf("plan:\n%s", out)
	}
	if _, err := manifest.Export(ctx, dst.c, dir2); err != nil {
		t.Fatal(err)
	}
	tree2 := readTree(t, dir2)
	if len(tree1) != len(tree2) {
		t.Fatalf("files %v then %v", keys(tree1), keys(tree2))
	}
	for rel, body := range tree1 {
		if tree2[rel] != body {
			t.Errorf("%s differs:\n%s\n---\n%s", rel, body, tree2[rel])
		}
	}
	// The secrets arrived.
	var ep struct {
		Items []struct {
			Name    string            `json:"name"`
			Headers map[string]string `json:"headers"`
			Auth    struct {
				PasswordSet     bool `json:"password_set"`
				ClientSecretSet bool `json:"client_secret_set"`
			} `json:"auth"`
			Signing struct {
				Secret bool `json:"secret"`
			} `json:"signing"`
			ProxyPasswordSet bool `json:"proxy_password_set"`
			TLS              struct {
				ClientKeySet bool `json:"client_key_set"`
			} `json:"tls"`
		} `json:"items"`
	}
	dst.get("/endpoints", &ep)
	for _, e := range ep.Items {
		if e.Name == "alerts" && (!e.Auth.PasswordSet || !e.Signing.Secret || e.Headers["Authorization"] != "[secret]") {
			t.Fatalf("the secrets did not arrive: %+v", e)
		}
		if e.Name == "reach" && (!e.Auth.ClientSecretSet || !e.ProxyPasswordSet || !e.TLS.ClientKeySet) {
			t.Fatalf("the reach secrets did not arrive: %+v", e)
		}
	}

	before := dst.snapshot()
	if out := apply(t, dst, dir1, manifest.Options{}, false); strings.TrimSpace(out) != "no changes" {
		t.Fatalf("second apply:\n%s", out)
	}
	if after := dst.snapshot(); after != before {
		t.Fatalf("a second apply wrote:\n%s\n---\n%s", before, after)
	}
}

// An edit in the directory is one update naming the fields it changes,
// and --update-secrets sends the secrets again.
func TestApplyUpdates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	dir := t.TempDir()
	if _, err := manifest.Export(ctx, in.c, dir); err != nil {
		t.Fatal(err)
	}
	write := func(rel, body string) {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("functions/greet.js", "return 3")
	yml := readTree(t, dir)["switchyard.yaml"]
	yml = strings.Replace(yml, "description: catch all", "description: everything else", 1)
	yml = strings.Replace(yml, "uri: hello", "uri: hello2", 1)
	yml = strings.Replace(yml, "^db-", "^pg-", 1)
	yml = strings.Replace(yml, "告警", "警报", 1)
	yml = strings.Replace(yml, "description: A resource was synced", "description: A cloud resource was synced", 1)
	// The schema's enum gains a value (the endpoint's filter, above, has
	// a "- major" too).
	head, types, _ := strings.Cut(yml, "event_types:")
	yml = head + "event_types:" + regexp.MustCompile(`( +)- major\n`).ReplaceAllString(types, "$1- major\n$1- minor\n")
	write("switchyard.yaml", yml)
	out := apply(t, in, dir, manifest.Options{}, false)
	for _, want := range []string{`~ update provider "anyone" (description)`, `~ update function "greet" (uri, script)`, `~ update endpoint "alerts" (filter, body_templates)`,
		`~ update event type "cloud.resource.synced" (description)`, `~ update event type "alarm.host_lost" (schema)`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan has no %q:\n%s", want, out)
		}
	}
	var lost struct {
		Schema struct {
			Properties struct {
				Severity struct{ Enum []string } `json:"severity"`
			} `json:"properties"`
		} `json:"schema"`
	}
	in.get("/event-types/alarm.host_lost", &lost)
	if strings.Join(lost.Schema.Properties.Severity.Enum, ",") != "critical,major,minor" {
		t.Fatalf("the schema after the update: %+v\n%s", lost, yml)
	}
	if n := strings.Count(out, "~ update"); n != 5 {
		t.Errorf("%d updates:\n%s", n, out)
	}
	if out := apply(t, in, dir, manifest.Options{}, false); strings.TrimSpace(out) != "no changes" {
		t.Fatalf("after the update:\n%s", out)
	}
	out = apply(t, in, dir, manifest.Options{UpdateSecrets: true}, true)
	for _, want := range []string{`~ update provider "github" (secrets)`, `~ update endpoint "alerts" (headers, cookies, auth, signing_secret)`,
		`~ update endpoint "reach" (auth, proxy_password, tls)`} {
		if !strings.Contains(out, want) {
			t.Errorf("--update-secrets plan has no %q:\n%s", want, out)
		}
	}
	// A secret added under a new name is seen without the flag.
	yml = strings.Replace(yml, "webhook_secret: ${env:SWITCHYARD_PROVIDER_GITHUB_WEBHOOK_SECRET}",
		"api_key: ${env:SWITCHYARD_PROVIDER_GITHUB_WEBHOOK_SECRET}", 1)
	write("switchyard.yaml", yml)
	out = apply(t, in, dir, manifest.Options{}, false)
	if !strings.Contains(out, `~ update provider "github" (secrets)`) {
		t.Fatalf("a renamed secret is not sent:\n%s", out)
	}
	var p struct {
		Items []struct {
			Name    string   `json:"name"`
			Secrets []string `json:"secrets"`
		} `json:"items"`
	}
	in.get("/providers", &p)
	if p.Items[0].Name != "github" || strings.Join(p.Items[0].Secrets, ",") != "api_key" {
		t.Fatalf("secrets after the rename: %+v", p.Items[0])
	}
}

// Without --prune what the directory lacks is noted and kept; --dry-run
// changes nothing; --prune deletes it, functions before their provider.
func TestApplyPruneAndDryRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	dir := t.TempDir()
	if _, err := manifest.Export(ctx, in.c, dir); err != nil {
		t.Fatal(err)
	}
	extra := in.post("/providers", map[string]any{"name": "extra", "match_script": "return false"})
	in.post("/functions", map[string]any{"name": "extra-fn", "provider_id": extra, "uri": "extra", "script": "return 1"})
	in.post("/endpoints", map[string]any{"name": "extra-ep", "url": "https://example.net/", "event_types": []string{"*"}})
	if err := in.c.Put(ctx, "/event-types/extra.type", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}

	out := apply(t, in, dir, manifest.Options{}, false)
	if !strings.Contains(out, "no changes") || !strings.Contains(out, `note: provider "extra" is on the server but not in the directory`) ||
		!strings.Contains(out, `note: function "extra-fn"`) || !strings.Contains(out, `note: endpoint "extra-ep"`) || !strings.Contains(out, `note: event type "extra.type"`) {
		t.Fatalf("without --prune:\n%s", out)
	}
	before := in.snapshot()
	out = apply(t, in, dir, manifest.Options{Prune: true}, true)
	want := "- delete function \"extra-fn\"\n- delete endpoint \"extra-ep\"\n- delete provider \"extra\"\n- delete event type \"extra.type\"\ndry run: nothing was changed\n"
	if out != want {
		t.Fatalf("dry run with --prune:\n%s\nwant:\n%s", out, want)
	}
	if in.snapshot() != before {
		t.Fatal("--dry-run changed the server")
	}
	apply(t, in, dir, manifest.Options{Prune: true}, false)
	after := in.snapshot()
	if strings.Contains(after, "/providers extra ") || strings.Contains(after, "extra-fn") || strings.Contains(after, "extra-ep") || strings.Contains(after, "extra.type") {
		t.Fatalf("--prune left:\n%s", after)
	}
	if out := apply(t, in, dir, manifest.Options{Prune: true}, false); strings.TrimSpace(out) != "no changes" {
		t.Fatalf("after the prune:\n%s", out)
	}

	// An empty directory with --prune would wipe the server: refused.
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "switchyard.yaml"), []byte("providers: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before = in.snapshot()
	var buf strings.Builder
	err := manifest.Apply(ctx, in.c, empty, manifest.Options{Prune: true}, false, &buf)
	if err == nil || !strings.Contains(err.Error(), "--prune would delete everything") || in.snapshot() != before {
		t.Fatalf("--prune of an empty directory: %v\n%s", err, buf.String())
	}
}

// A name with path characters maps to a file inside DIR, and back.
func TestNamesCannotEscapeTheDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	p := in.post("/providers", map[string]any{"name": "../../escape", "match_script": "return true", "handshake_script": "RESPONSE = null"})
	in.post("/functions", map[string]any{"name": "../x.handshake", "provider_id": p, "uri": "e", "script": "return 1"})
	in.post("/functions", map[string]any{"name": `a\b/c.d`, "provider_id": p, "uri": "f", "script": "return 1"})
	parent := t.TempDir()
	dir := filepath.Join(parent, "cfg")
	if _, err := manifest.Export(ctx, in.c, dir); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(parent)
	if err != nil || len(ents) != 1 {
		t.Fatalf("export wrote beside DIR: %v %v", ents, err)
	}
	tree := readTree(t, dir)
	for _, want := range []string{"providers/%2E%2E%2F%2E%2E%2Fescape.js", "providers/%2E%2E%2F%2E%2E%2Fescape.handshake.js",
		"functions/%2E%2E%2Fx%2Ehandshake.js", "functions/a%5Cb%2Fc%2Ed.js"} {
		if _, ok := tree[want]; !ok {
			t.Errorf("no %s in %v", want, keys(tree))
		}
	}
	dst := start(t, "")
	apply(t, dst, dir, manifest.Options{}, false)
	if out := apply(t, dst, dir, manifest.Options{}, false); strings.TrimSpace(out) != "no changes" {
		t.Fatalf("second apply:\n%s", out)
	}
}

// A reference to a variable that is not set stops apply before any
// change, naming the variable.
func TestMissingEnvFailsBeforeAnyChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := start(t, "")
	seed(src)
	dir := t.TempDir()
	if _, err := manifest.Export(ctx, src.c, dir); err != nil {
		t.Fatal(err)
	}
	dst := start(t, "")
	before := dst.snapshot()
	partial := func(name string) string {
		if name == "SWITCHYARD_ENDPOINT_ALERTS_PASSWORD" {
			return ""
		}
		return env[name]
	}
	err := manifest.Apply(ctx, dst.c, dir, manifest.Options{Getenv: partial}, false, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SWITCHYARD_ENDPOINT_ALERTS_PASSWORD") {
		t.Fatalf("apply: %v", err)
	}
	if dst.snapshot() != before {
		t.Fatal("apply changed the server before failing")
	}
}

// Unknown keys, secrets written as values and stray script files are
// errors that say where.
func TestReadRefusesMistakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yml string
		files     map[string]string
		want      string
	}{
		{"unknown key", "providers:\n  - name: a\n    descriptio: x\n", map[string]string{"providers/a.js": "return true"}, "line 3: field descriptio not found"},
		{"secret value", "providers:\n  - name: a\n    secrets:\n      k: plain\n", map[string]string{"providers/a.js": "return true"}, "write a secret as ${env:NAME}"},
		{"missing script", "providers:\n  - name: a\n", nil, "providers/a.js"},
		{"stray file", "providers:\n  - name: a\n", map[string]string{"providers/a.js": "return true", "providers/b.js": "x"}, "providers/b.js belongs to no record"},
		{"unknown provider", "functions:\n  - name: f\n    provider: nope\n", map[string]string{"functions/f.js": "return 1"}, `provider "nope" is not in the directory`},
		{"duplicate", "endpoints:\n  - name: a\n  - name: A\n", nil, "have one name"},
		{"broker password in the url", "endpoints:\n  - name: q\n    url: amqp://guest:pw@rabbit:5672/?routing_key=q\n", nil, "a broker url's password belongs in auth.password"},
		{"wildcard type", "event_types:\n  - type: alarm.*\n", nil, `event type "alarm.*": invalid: type must not hold spaces or '*'`},
		{"remote schema", "event_types:\n  - type: a\n    schema: {$ref: 'https://example.com/s.json'}\n", nil, "may not refer to another document"},
		{"type twice", "event_types:\n  - type: a\n  - type: a\n", nil, `event type "a" is declared twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"switchyard.yaml": tc.yml}
			for k, v := range tc.files {
				files[k] = v
			}
			for rel, body := range files {
				p := filepath.Join(dir, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := manifest.Read(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// A server that holds duplicate names from before names were unique:
// export and apply refuse, listing them.
func TestDuplicatesOnTheServerAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	dir := t.TempDir()
	if _, err := manifest.Export(ctx, in.c, dir); err != nil {
		t.Fatal(err)
	}
	in.stop()
	addDuplicate(t, in.dir)
	in2 := start(t, in.dir)
	before := in2.snapshot()
	var dup *manifest.DuplicatesError
	_, err := manifest.Export(ctx, in2.c, t.TempDir())
	if !errors.As(err, &dup) || !strings.Contains(err.Error(), `provider "anyone": ids `) {
		t.Fatalf("export: %v", err)
	}
	err = manifest.Apply(ctx, in2.c, dir, manifest.Options{Getenv: getenv, Prune: true}, false, io.Discard)
	if !errors.As(err, &dup) || len(dup.List) != 1 {
		t.Fatalf("apply: %v", err)
	}
	if in2.snapshot() != before {
		t.Fatal("apply changed a server with duplicates")
	}
}

// addDuplicate writes a second provider "anyone" straight into the bbolt
// store of dir, as a store from before names were unique may hold it.
func addDuplicate(t *testing.T, dir string) {
	t.Helper()
	key, err := seal.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(dir, "switchyard.db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateProvider(context.Background(), storage.Provider{Name: "anyone", Active: true, MatchScript: "return true", MatchTimeoutMS: 1000}); err != nil {
		t.Fatal(err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A viewer sees endpoints with their URLs and headers hidden: export
// refuses such a token rather than write a wrong directory.
func TestExportNeedsAnOperatorsToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	uid := in.post("/users", map[string]any{"name": "vic", "role": "viewer", "password": "a long enough password 1"})
	var tok struct {
		Token string `json:"token"`
	}
	if err := in.c.Post(ctx, "/tokens", map[string]any{"name": "t", "user_id": uid}, &tok); err != nil {
		t.Fatal(err)
	}
	base := in.baseURL
	viewer, err := client.New(base, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := manifest.Export(ctx, viewer, dir); err == nil || !strings.Contains(err.Error(), "role (viewer)") {
		t.Fatalf("export as a viewer: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a refused export wrote %v", ents)
	}
}
