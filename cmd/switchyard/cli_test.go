package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

const cliToken = "cli-test-admin-token"

// cliServer is a whole Switchyard running in-process for the CLI's
// commands to talk to, with the admin token cliToken.
type cliServer struct {
	url  string
	api  *client.Client
	stop func()
}

// startCLIServer serves the store of opts (a bbolt store in a temporary
// directory when opts names none) until the test ends or stop is called.
func startCLIServer(t *testing.T, opts server.Options) *cliServer {
	t.Helper()
	opts.Listen, opts.AdminToken, opts.AllowPrivateTargets = "127.0.0.1:0", cliToken, true
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	s := &cliServer{url: "http://" + srv.Addr().String()}
	if s.api, err = client.New(s.url, cliToken); err != nil {
		t.Fatal(err)
	}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(s.stop)
	return s
}

// call calls the admin API as the admin and fails the test on an error.
func (s *cliServer) call(t *testing.T, method, path string, in, out any) {
	t.Helper()
	if err := s.api.Do(context.Background(), method, path, nil, in, out); err != nil {
		t.Fatal(err)
	}
}

// webhook sends body to /webhooks/v1/uri and waits for its processing
// (flex-sync-webhook); it returns the message's id.
func (s *cliServer) webhook(t *testing.T, uri, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url+"/webhooks/v1/"+uri, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("flex-sync-webhook", "true")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil || a.ID == "" {
		t.Fatalf("webhook answer %d: %v", res.StatusCode, err)
	}
	return a.ID
}

// cli runs the switchyard command args against s (SWITCHYARD_SERVER)
// with the environment e, and returns its exit code and output.
func (s *cliServer) cli(t *testing.T, e map[string]string, args ...string) (int, string, string) {
	t.Helper()
	m := map[string]string{serverEnv: s.url}
	for k, v := range e {
		m[k] = v
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, env(m), &out, &errOut)
	if strings.Contains(out.String()+errOut.String(), cliToken) {
		t.Fatalf("%v printed the token", args)
	}
	return code, out.String(), errOut.String()
}

// admin is the environment of a command run with the admin token.
var admin = map[string]string{client.TokenEnv: cliToken}

// mustRun runs a command that must succeed.
func (s *cliServer) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := s.cli(t, admin, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
	}
	return out
}

// listJSON runs a list command with --output json and decodes its items.
func listJSON[T any](t *testing.T, s *cliServer, args ...string) []T {
	t.Helper()
	var l struct {
		Items      []T    `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	out := s.mustRun(t, append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("%v --output json is not JSON: %v\n%s", args, err, out)
	}
	return l.Items
}

type cliMessage struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	ResubmitOf string `json:"resubmit_of"`
}

func TestMessagesCommands(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, server.Options{})
	var p struct{ ID string }
	s.call(t, "POST", "/providers", map[string]any{"name": "any", "match_script": "return true"}, &p)
	s.call(t, "POST", "/functions", map[string]any{"name": "hook-fn", "provider_id": p.ID, "uri": "hook",
		"script": "LOG.info('n=' + PAYLOAD.n); if (PAYLOAD.fail) throw new Error('boom ' + PAYLOAD.n); LOG.setMessage('ok ' + PAYLOAD.n)"}, nil)
	ok1 := s.webhook(t, "hook", `{"n": 1}`)
	failed2 := s.webhook(t, "hook", `{"n": 2, "fail": true}`)
	failed3 := s.webhook(t, "hook", `{"n": 3, "fail": true}`)

	// The table: headers, a row per message, the summary.
	out := s.mustRun(t, "messages", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "STATUS") || !strings.Contains(lines[0], "PROVIDER") {
		t.Fatalf("messages list:\n%s", out)
	}
	for _, want := range []string{ok1, failed2, failed3, "ok 1", "FAILED", "POST hook"} {
		if !strings.Contains(out, want) {
			t.Errorf("messages list does not show %q:\n%s", want, out)
		}
	}
	// A failed message's summary is why it failed: the function and the
	// first line of its error.
	for _, line := range lines[1:] {
		for id, want := range map[string]string{failed2: "hook-fn: ", failed3: "hook-fn: "} {
			n := map[string]string{failed2: "boom 2", failed3: "boom 3"}[id]
			if strings.HasPrefix(line, id) && (!strings.Contains(line, want) || !strings.Contains(line, n)) {
				t.Errorf("the failed message %s does not show its error %q:\n%s", id, n, out)
			}
		}
	}

	// The filters, by the provider's name; JSON.
	got := listJSON[cliMessage](t, s, "messages", "list", "--status", "failed", "--provider", "any", "--since", "1h")
	if len(got) != 2 || got[0].ID != failed3 || got[1].ID != failed2 {
		t.Fatalf("failed messages: %+v", got)
	}
	if got := listJSON[cliMessage](t, s, "messages", "list", "--function", "hook-fn", "--q", "ok 1"); len(got) != 1 || got[0].ID != ok1 {
		t.Fatalf("messages with text: %+v", got)
	}
	// --limit caps; the rest is a cursor away.
	code, out, errOut := s.cli(t, admin, "messages", "list", "--limit", "2")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(errOut, "--cursor ") {
		t.Fatalf("messages list --limit 2: %d\n%s\n%s", code, out, errOut)
	}
	cursor := strings.TrimSpace(errOut[strings.Index(errOut, "--cursor ")+len("--cursor "):])
	if got := listJSON[cliMessage](t, s, "messages", "list", "--cursor", cursor); len(got) != 1 || got[0].ID != ok1 {
		t.Fatalf("the rest of the list: %+v", got)
	}

	// get: a summary with the function's outcome and logs; JSON as is.
	out = s.mustRun(t, "messages", "get", failed2)
	for _, want := range []string{"id:", failed2, "status:", "FAILED", "provider:", "any (version 1)", "hook-fn (version 1): FAILED", "boom 2", "n=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("messages get does not show %q:\n%s", want, out)
		}
	}
	var d struct {
		ID         string
		Executions []struct{ Error string }
	}
	if err := json.Unmarshal([]byte(s.mustRun(t, "messages", "get", "--output", "json", failed2)), &d); err != nil || d.ID != failed2 || len(d.Executions) != 1 {
		t.Fatalf("messages get --output json: %+v %v", d, err)
	}

	// resubmit by filter: a job, followed to its end.
	out = s.mustRun(t, "messages", "resubmit", "--status", "FAILED", "--since", "1h", "--wait")
	if !strings.Contains(out, "done: 2 of 2 messages resubmitted, 0 failed") {
		t.Fatalf("resubmit --wait:\n%s", out)
	}
	out = s.mustRun(t, "messages", "resubmit", "--uri", "hook", "--limit", "1")
	if !strings.Contains(out, "resubmit job ") || !strings.Contains(out, " started") {
		t.Fatalf("resubmit without --wait:\n%s", out)
	}
	// resubmit by id, flags after the id.
	out = s.mustRun(t, "messages", "resubmit", ok1, "--output", "table")
	if !strings.HasPrefix(out, "resubmitted "+ok1+" as ") {
		t.Fatalf("resubmit %s:\n%s", ok1, out)
	}
	newID := strings.Fields(out)[3]
	var m cliMessage
	s.call(t, "GET", "/messages/"+newID, nil, &m)
	if m.ResubmitOf != ok1 {
		t.Fatalf("the resubmitted message: %+v", m)
	}
	var answers []struct{ ID string }
	if err := json.Unmarshal([]byte(s.mustRun(t, "messages", "resubmit", "--output", "json", ok1, failed2)), &answers); err != nil || len(answers) != 2 || answers[0].ID == "" {
		t.Fatalf("resubmit --output json: %+v %v", answers, err)
	}

	// The API's refusals: its message, exit 1.
	code, _, errOut = s.cli(t, admin, "messages", "get", "0193a000-0000-7000-8000-000000000000")
	if code != 1 || !strings.Contains(errOut, "404 Not Found") {
		t.Fatalf("get of no message: %d %s", code, errOut)
	}
	code, out, errOut = s.cli(t, admin, "messages", "resubmit", "0193a000-0000-7000-8000-000000000000", ok1)
	if code != 1 || !strings.Contains(errOut, "404") || !strings.Contains(out, "resubmitted "+ok1) {
		t.Fatalf("resubmit of one missing and one present: %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = s.cli(t, admin, "messages", "list", "--provider", "nope")
	if code != 1 || !strings.Contains(errOut, `no provider named "nope"`) {
		t.Fatalf("list by an unknown provider: %d %s", code, errOut)
	}
}

// TestAPICommandsAuth: no token gets the hint, a wrong one the server's
// message alone.
func TestAPICommandsAuth(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, server.Options{})
	for _, args := range [][]string{{"messages", "list"}, {"deliveries", "list"}, {"messages", "get", "x"}, {"deliveries", "retry", "x"}} {
		code, out, errOut := s.cli(t, nil, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "give --token or set SWITCHYARD_TOKEN") {
			t.Errorf("%v without a token: %d\n%s\n%s", args, code, out, errOut)
		}
	}
	code, _, errOut := s.cli(t, map[string]string{client.TokenEnv: "wrong-token-of-some-length"}, "messages", "list")
	if code != 1 || !strings.Contains(errOut, "401") || strings.Contains(errOut, "give --token") || strings.Contains(errOut, "wrong-token") {
		t.Errorf("a wrong token: %d %s", code, errOut)
	}
	// --token wins over the environment.
	if code, out, errOut := s.cli(t, map[string]string{client.TokenEnv: "wrong"}, "messages", "list", "--token", cliToken); code != 0 || !strings.HasPrefix(out, "ID") {
		t.Errorf("--token: %d\n%s\n%s", code, out, errOut)
	}
}

// TestCommandUsage: -h on every command prints its usage with an example;
// a group alone lists its subcommands; a bad use exits 2.
func TestCommandUsage(t *testing.T) {
	t.Parallel()
	s := &cliServer{url: "http://127.0.0.1:1"} // nothing is called
	for _, args := range [][]string{
		{"messages", "list"}, {"messages", "get"}, {"messages", "resubmit"},
		{"deliveries", "list"}, {"deliveries", "retry"}, {"user", "create"},
		{"migrate"}, {"copy-store"}, {"backup"}, {"config", "check"},
	} {
		code, out, errOut := s.cli(t, admin, append(args, "-h")...) // cli checks the token is not shown
		if code != 0 || !strings.HasPrefix(out, "usage: switchyard "+strings.Join(args, " ")) || !strings.Contains(out, "examples:\n  switchyard "+args[0]) ||
			!strings.Contains(out, "\nflags:") || errOut != "" {
			t.Errorf("%v -h: %d\n%s\n%s", args, code, out, errOut)
		}
	}
	for _, group := range []string{"messages", "deliveries", "user", "config"} {
		code, _, errOut := s.cli(t, nil, group)
		if code != 2 || !strings.Contains(errOut, "subcommands:") {
			t.Errorf("%s alone: %d %s", group, code, errOut)
		}
		if code, out, _ := s.cli(t, nil, group, "-h"); code != 0 || !strings.Contains(out, "subcommands:") {
			t.Errorf("%s -h: %d %s", group, code, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"messages", "frob"}, `unknown subcommand "frob"`},
		{[]string{"config", "chek"}, `unknown subcommand "chek"`},
		{[]string{"migrate", "extra"}, `unexpected argument "extra"`},
		{[]string{"migrate", "--bogus"}, "flag provided but not defined"},
		{[]string{"migrate", "--store", "mysql://x"}, "switchyard migrate: "},
		{[]string{"copy-store"}, "--from and --to are both needed"},
		{[]string{"copy-store", "--from", "bolt", "--to", "bolt"}, "the same store"},
		{[]string{"backup"}, "name one file to write the backup to"},
		{[]string{"backup", "a.db", "b.db"}, "name one file to write the backup to"},
		{[]string{"messages", "list", "--bogus"}, "flag provided but not defined"},
		{[]string{"messages", "list", "--output", "yaml"}, "--output must be table or json"},
		{[]string{"messages", "list", "--since", "yesterday"}, "--since must be an age"},
		{[]string{"messages", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"messages", "get"}, "give one message id"},
		{[]string{"messages", "resubmit"}, "give message ids, or filter flags"},
		{[]string{"messages", "resubmit", "id", "--status", "FAILED"}, "not both"},
		{[]string{"messages", "list", "--server", "ftp://x"}, "not an http://"},
		{[]string{"deliveries", "retry"}, "give the ids"},
		{[]string{"deliveries", "list", "--until", "soon"}, "--until must be an age"},
		{[]string{"user", "create", "--name", "ada"}, "--role is required: one of admin, editor, operator, viewer"},
		{[]string{"user", "create", "--name", "ada", "--role", "root"}, "--role must be one of"},
		{[]string{"user", "create", "--role", "admin"}, "--name is required"},
		{[]string{"user", "create", "--name", "a b", "--role", "admin"}, "--name: name may hold"},
	} {
		code, _, errOut := s.cli(t, admin, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
}

func TestDeliveriesCommands(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, server.Options{})
	var calls atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "down for a moment", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(rcv.Close)
	s.call(t, "POST", "/endpoints", map[string]any{"name": "flaky", "url": rcv.URL, "event_types": []string{"*"},
		"retry": map[string]any{"max_attempts": 1}, "auto_disable": map[string]any{"consecutive_failures": 0}}, nil)
	s.call(t, "POST", "/events", map[string]any{"type": "build.done"}, nil)

	type delivery struct {
		ID, Status   string
		AttemptCount int `json:"attempt_count"`
	}
	var failed []delivery
	eventually(t, "a failed delivery", func() bool {
		failed = listJSON[delivery](t, s, "deliveries", "list", "--status", "FAILED")
		return len(failed) == 1
	})
	out := s.mustRun(t, "deliveries", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "ENDPOINT") || !strings.Contains(lines[0], "ATTEMPTS") {
		t.Fatalf("deliveries list:\n%s", out)
	}
	for _, want := range []string{failed[0].ID, "FAILED", "flaky", "build.done", "500"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("deliveries list does not show %q:\n%s", want, out)
		}
	}
	// LAST says the status once ("answered 500" is the error's own words).
	if !strings.HasSuffix(lines[1], " 500") || strings.Contains(lines[1], "answered") {
		t.Errorf("deliveries list's LAST is not the status alone:\n%s", out)
	}
	if got := listJSON[delivery](t, s, "deliveries", "list", "--endpoint", "flaky", "--since", "1h"); len(got) != 1 {
		t.Fatalf("deliveries of flaky: %+v", got)
	}
	if code, _, errOut := s.cli(t, admin, "deliveries", "list", "--endpoint", "nope"); code != 1 || !strings.Contains(errOut, `no endpoint named "nope"`) {
		t.Fatalf("deliveries of no endpoint: %d %s", code, errOut)
	}

	out = s.mustRun(t, "deliveries", "retry", failed[0].ID)
	if !strings.HasPrefix(out, "retrying "+failed[0].ID) {
		t.Fatalf("deliveries retry:\n%s", out)
	}
	eventually(t, "the retried delivery succeeds", func() bool {
		got := listJSON[delivery](t, s, "deliveries", "list", "--status", "SUCCESS")
		return len(got) == 1 && got[0].ID == failed[0].ID && got[0].AttemptCount == 2
	})
	code, _, errOut := s.cli(t, admin, "deliveries", "retry", "0193a000-0000-7000-8000-000000000000")
	if code != 1 || !strings.Contains(errOut, "404 Not Found") {
		t.Fatalf("retry of no delivery: %d %s", code, errOut)
	}
}

// createUser runs user create with the password on stdin.
func createUser(t *testing.T, e map[string]string, password string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := userCmd(context.Background(), append([]string{"create", "--password-stdin"}, args...),
		cmdIO{getenv: env(e), stdin: strings.NewReader(password + "\n"), stdout: &out, stderr: &errOut})
	if strings.Contains(out.String()+errOut.String(), password) {
		t.Fatal("user create printed the password")
	}
	return code, out.String(), errOut.String()
}

// signIn signs in through POST /api/v1/login and returns the status.
func signIn(t *testing.T, url, name, password string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	res, err := http.Post(url+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestUserCreateOffline makes the first admin in a bbolt store no server
// holds, signs in with it once one does, and is refused while it does.
func TestUserCreateOffline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const password = "correct horse battery"
	code, out, errOut := createUser(t, nil, password, "--data", dir, "--name", "ada", "--role", "admin", "--display-name", "Ada L.")
	if code != 0 || !strings.HasPrefix(out, "created user ada (admin, id ") || !strings.Contains(out, filepath.Join(dir, "switchyard.db")) {
		t.Fatalf("user create: %d\n%s\n%s", code, out, errOut)
	}
	for _, tc := range []struct {
		password string
		args     []string
		want     string
	}{
		{password, []string{"--name", "ADA", "--role", "viewer"}, `already has a user named "ADA"`},
		{"short", []string{"--name", "bob", "--role", "viewer"}, "at least 10 characters"},
	} {
		code, _, errOut := createUser(t, nil, tc.password, append([]string{"--data", dir}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: %d %s", tc.args, code, errOut)
		}
	}
	// No --password-stdin, and stdin no terminal.
	var errOut2 bytes.Buffer
	code = userCmd(context.Background(), []string{"create", "--data", dir, "--name", "bob", "--role", "viewer"},
		cmdIO{getenv: env(nil), stdin: strings.NewReader(password), stdout: io.Discard, stderr: &errOut2})
	if code != 1 || !strings.Contains(errOut2.String(), "--password-stdin") {
		t.Fatalf("no terminal to prompt on: %d %s", code, errOut2.String())
	}

	s := startCLIServer(t, server.Options{DataDir: dir})
	if code := signIn(t, s.url, "ada", password); code != http.StatusOK {
		t.Fatalf("sign-in as the user made offline: %d", code)
	}
	var audit struct {
		Items []struct{ Actor, Action, Detail string }
	}
	s.call(t, "GET", "/audit", nil, &audit)
	found := false
	for _, e := range audit.Items {
		found = found || e.Action == "user.create" && e.Actor == "cli" && strings.HasPrefix(e.Detail, "ada (admin)")
	}
	if !found {
		t.Errorf("no audit entry of the user made offline: %+v", audit.Items)
	}

	code, _, errOut = createUser(t, nil, password, "--data", dir, "--name", "bob", "--role", "viewer")
	if code != 1 || !strings.Contains(errOut, "another switchyard holds "+dir+"; stop it or create the user through the API/UI") {
		t.Fatalf("user create while serving: %d %s", code, errOut)
	}
	s.stop()
	if code, _, errOut := createUser(t, map[string]string{"SWITCHYARD_DATA": dir}, password, "--name", "bob", "--role", "viewer"); code != 0 {
		t.Fatalf("user create once stopped, the data directory from SWITCHYARD_DATA: %d %s", code, errOut)
	}
}

// TestUserCreatePostgres makes a user in a PostgreSQL store while a node
// serves it: with the nodes' secrets key it works and the node signs the
// user in; with none, or another, it is refused.
func TestUserCreatePostgres(t *testing.T) {
	t.Parallel()
	pg := pgtest.SchemaURL(t, pgtest.FreshSchema(t))
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	s := startCLIServer(t, server.Options{Store: pg, SecretKey: key})
	const password = "correct horse battery"
	nodir := filepath.Join(t.TempDir(), "unused")

	code, _, errOut := createUser(t, nil, password, "--store", pg, "--data", nodir, "--name", "ada", "--role", "admin")
	if code != 1 || !strings.Contains(errOut, "needs the secrets key") {
		t.Fatalf("no key: %d %s", code, errOut)
	}
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32))
	code, _, errOut = createUser(t, map[string]string{"SWITCHYARD_SECRET_KEY": other}, password, "--store", pg, "--data", nodir, "--name", "ada", "--role", "admin")
	if code != 1 || !strings.Contains(errOut, "does not open this store's secrets") {
		t.Fatalf("another key: %d %s", code, errOut)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := seal.WriteSecretFile(keyFile, key+"\n"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := createUser(t, nil, password, "--store", pg, "--data", nodir, "--secret-key-file", keyFile, "--name", "ada", "--role", "admin")
	if code != 0 {
		t.Fatalf("user create on PostgreSQL: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(nodir); !os.IsNotExist(err) {
		t.Errorf("user create on PostgreSQL made a data directory: %v", err)
	}
	if code := signIn(t, s.url, "ada", password); code != http.StatusOK {
		t.Fatalf("sign-in on the running node as the user made beside it: %d", code)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"1h", "2026-12-03T13:00:00Z"},
		{"90m", "2026-12-03T12:30:00Z"},
		{"7d", "2026-11-26T14:00:00Z"},
		{"2026-12-01T10:00:00+01:00", "2026-12-01T10:00:00+01:00"},
		{"1764770400", "1764770400"},
		{"-1h", "error"},
		{"yesterday", "error"},
		{"3x", "error"},
	} {
		got, err := parseSince("since", tc.in, now)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("parseSince(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLastOutcome(t *testing.T) {
	t.Parallel()
	next := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    storage.Delivery
		want string
	}{
		{storage.Delivery{Status: storage.DeliveryFailed, LastStatus: 501, LastError: "answered 501"}, "501"},
		{storage.Delivery{Status: storage.DeliveryFailed, LastStatus: 302, LastError: "answered 302 (redirects are not followed)"}, "302 (redirects are not followed)"},
		{storage.Delivery{Status: storage.DeliveryFailed, LastStatus: 500, LastError: "answered 500, want 200"}, "500, want 200"},
		{storage.Delivery{Status: storage.DeliveryFailed, LastError: "dial tcp 10.0.0.1:443: connect: connection refused\nsecond line"}, "dial tcp 10.0.0.1:443: connect: connection refused"},
		{storage.Delivery{Status: storage.DeliveryFailed, LastError: strings.Repeat("x", 100)}, strings.Repeat("x", 59) + "…"},
		{storage.Delivery{Status: storage.DeliveryPending, LastStatus: 503, LastError: "answered 503", NextAt: &next}, "503 next " + stamp(next)},
		{storage.Delivery{Status: storage.DeliveryPending}, "-"},
	} {
		if got := lastOutcome(tc.d); got != tc.want {
			t.Errorf("lastOutcome(%d %q) = %q, want %q", tc.d.LastStatus, tc.d.LastError, got, tc.want)
		}
	}
}

// What senders and scripts put in a message (its URI, its summary, its
// logs) cannot forge lines or send escape sequences to the terminal of
// an operator who lists it; JSON output keeps it as it is.
func TestTextOutputEscapesWhatTheServerHolds(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, server.Options{})
	var p struct{ ID string }
	s.call(t, "POST", "/providers", map[string]any{"name": "any", "match_script": "return true"}, &p)
	s.call(t, "POST", "/functions", map[string]any{"name": "f", "provider_id": p.ID, "uri": "hook",
		"script": `LOG.info("a\u001b]0;pwned\u0007b\nFAKE LOG LINE"); LOG.setMessage("ok\r\u001b[2KFAKE ROW\u202e"); return true`}, nil)
	id := s.webhook(t, "hook", `{}`)
	res, err := http.Post(s.url+"/webhooks/v1/x%0d%1b%5b2KFAKE%20LINE%0a01a23e79-0000%20%20SUCCESS", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	clean := func(what, out string) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\r\a\u202e") {
			t.Errorf("%s prints raw control characters:\n%q", what, out)
		}
	}
	eventually(t, "both messages listed", func() bool {
		return strings.Count(s.mustRun(t, "messages", "list"), "\n") == 3
	})
	out := s.mustRun(t, "messages", "list")
	clean("messages list", out)
	if !strings.Contains(out, `x\r\x1b[2KFAKE LINE\n01a23e79-0000  SUCCESS`) || !strings.Contains(out, `\x1b[2KFAKE ROW\u202e`) {
		t.Errorf("messages list does not show the escaped URI and summary:\n%s", out)
	}
	out = s.mustRun(t, "messages", "get", id)
	clean("messages get", out)
	if !strings.Contains(out, `a\x1b]0;pwned\ab\nFAKE LOG LINE`) {
		t.Errorf("messages get does not show the escaped log line:\n%s", out)
	}
	if out := s.mustRun(t, "messages", "get", id, "--output", "json"); !strings.Contains(out, `\u001b]0;pwned`) {
		t.Errorf("JSON output changed the log line:\n%s", out)
	}
}

func TestIDOfNeverGuesses(t *testing.T) {
	names := map[string]string{"id-1": "sh", "id-2": "ſh", "id-3": "Deploy", "id-4": "deploy "}
	if id, err := idOf(names, "/providers", "sh"); err != nil || id != "id-1" {
		t.Errorf(`idOf("sh") = %q, %v; want id-1 (ſ is not s)`, id, err)
	}
	if _, err := idOf(names, "/providers", "DEPLOY"); err == nil || !strings.Contains(err.Error(), "2 providers are named") {
		t.Errorf("two providers of one name: %v", err)
	}
	if _, err := idOf(names, "/endpoints", "nope"); err == nil || err.Error() != `no endpoint named "nope"` {
		t.Errorf("no such name: %v", err)
	}
}
