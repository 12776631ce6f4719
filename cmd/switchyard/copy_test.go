package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
	"github.com/switchyard-dev/switchyard/storage/transfer/transfertest"
)

// boltNode makes a data directory as a bbolt node leaves it: its
// instance.key and a store filled with records of every kind.
func boltNode(t *testing.T, messages int) (dir string, key []byte, fx transfertest.Fixture) {
	t.Helper()
	dir = t.TempDir()
	key, err := seal.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	st := openBolt(t, filepath.Join(dir, "switchyard.db"), key)
	fx = transfertest.Fill(t, st, messages)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, key, fx
}

// openBolt opens the bbolt file at path with key; it is closed when the
// test ends.
func openBolt(t *testing.T, path string, key []byte) *bolt.Store {
	t.Helper()
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(path, sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// withPassword puts a password into a URL's user info: the test server
// trusts its clients and never asks for it, and it must never be shown.
func withPassword(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "pg-pa55word")
	return u.String()
}

// TestCopyStoreToPostgres moves a bbolt node into PostgreSQL with
// copy-store, then serves the copy: a node on it answers what the bbolt
// node held. A second copy into the same database is refused.
func TestCopyStoreToPostgres(t *testing.T) {
	t.Parallel()
	dir, key, fx := boltNode(t, 40)
	pg := withPassword(t, pgtest.SchemaURL(t, pgtest.FreshSchema(t)))

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"copy-store", "--from", "bolt:" + dir, "--to", pg, "--batch", "16"}, env(nil), &out, &errOut)
	if code != 0 {
		t.Fatalf("copy-store: %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"copy-store: copied 40 of 40 messages", "copy-store: copied 2 of 2 users", "of bodies"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("the progress does not say %q:\n%s", want, errOut.String())
		}
	}
	for _, want := range []string{"messages     40 (40 payloads)  40 (40 payloads)", "providers    2 (4 versions)", "idempotency  2 ", "event_types  2", "every record of the source"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
	printed := out.String() + errOut.String()
	for _, secret := range append([]string{"pg-pa55word"}, transfertest.Secrets...) {
		if strings.Contains(printed, secret) {
			t.Errorf("copy-store printed the secret %q", secret)
		}
	}

	// A node on the copy, with the bbolt node's key, serves its records.
	srv, err := server.New(server.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Store: pg, AdminToken: crashToken,
		SecretKey: base64.StdEncoding.EncodeToString(key), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	node := &child{url: "http://" + srv.Addr().String()}
	code, body := node.api(t, "GET", "/providers", "")
	if code != 200 || !strings.Contains(string(body), `"name":"Stripe"`) || strings.Index(string(body), "Stripe") > strings.Index(string(body), "GitHub") {
		t.Fatalf("providers on the copy: %d %s", code, body)
	}
	for i, id := range fx.Messages {
		code, body := node.api(t, "GET", "/messages/"+id+"/payload", "")
		if code != 200 || !bytes.Equal(body, transfertest.Body(i)) {
			t.Fatalf("body of message %d on the copy: %d, %d bytes", i, code, len(body))
		}
	}
	code, body = node.api(t, "GET", "/endpoints/"+fx.Endpoints[0], "")
	var ep struct {
		Enabled        bool
		DisabledReason string `json:"disabled_reason"`
		Auth           struct {
			ClientID        string `json:"client_id"`
			ClientSecretSet bool   `json:"client_secret_set"`
		}
		ProxyPasswordSet bool `json:"proxy_password_set"`
		TLS              struct {
			ClientKeySet bool `json:"client_key_set"`
		}
	}
	if json.Unmarshal(body, &ep) != nil || code != 200 || ep.Enabled || ep.DisabledReason != "failing for 24h" || ep.Auth.ClientID != "bot" ||
		!ep.Auth.ClientSecretSet || !ep.ProxyPasswordSet || !ep.TLS.ClientKeySet {
		t.Fatalf("endpoint on the copy: %d %s", code, body)
	}
	// Again into the same database: refused, saying what it holds.
	out.Reset()
	errOut.Reset()
	dir2, _, _ := boltNode(t, 1)
	code = run(context.Background(), []string{"copy-store", "--from", "bolt:" + dir2, "--to", pg}, env(nil), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "not empty") || !strings.Contains(errOut.String(), "40 messages") ||
		strings.Contains(errOut.String(), "pg-pa55word") {
		t.Fatalf("copy into a used database: %d %s", code, errOut.String())
	}
}

// TestCopyStoreBackToBolt copies a PostgreSQL store into a new bbolt
// file, which gets the key as its instance.key.
func TestCopyStoreBackToBolt(t *testing.T) {
	t.Parallel()
	dir, key, _ := boltNode(t, 5)
	pg := pgtest.SchemaURL(t, pgtest.FreshSchema(t))
	keyFile := filepath.Join(dir, seal.KeyFile)
	if code := run(context.Background(), []string{"copy-store", "--from", "bolt:" + filepath.Join(dir, "switchyard.db"), "--to", pg}, env(nil), io.Discard, io.Discard); code != 0 {
		t.Fatalf("copy-store to PostgreSQL: %d", code)
	}
	back := filepath.Join(t.TempDir(), "node2")
	if err := os.Mkdir(back, 0o700); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"copy-store", "--from", pg, "--to", "bolt:" + back, "--secret-key-file", keyFile, "--compare-all"}, env(nil), &out, &errOut)
	if code != 0 {
		t.Fatalf("copy-store back: %d\n%s\n%s", code, out.String(), errOut.String())
	}
	got, err := seal.ReadKeyFile(filepath.Join(back, seal.KeyFile))
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("the bbolt copy's instance.key: %v", err)
	}
	if err := bolt.CheckFile(filepath.Join(back, "switchyard.db")); err != nil {
		t.Fatal(err)
	}
}

func TestCopyStoreErrors(t *testing.T) {
	t.Parallel()
	dir, _, _ := boltNode(t, 1)
	empty, keyed := t.TempDir(), t.TempDir()
	if _, err := seal.LoadKey(keyed, ""); err != nil {
		t.Fatal(err)
	}
	anyKey := map[string]string{"SWITCHYARD_SECRET_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32))}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"copy-store", "--from", "bolt:" + dir}, nil, 2, "--from and --to are both needed"},
		{[]string{"copy-store", "--from", "bolt:" + dir, "--to", "bolt:" + dir}, nil, 2, "the same store"},
		{[]string{"copy-store", "--from", "mysql://u:hunter2@db/x", "--to", "bolt:" + empty}, nil, 2, "want bolt"},
		{[]string{"copy-store", "--from", "bolt:" + empty, "--to", "bolt:" + t.TempDir()}, anyKey, 1, "no bbolt store"},
		{[]string{"copy-store", "--from", "bolt:" + empty, "--to", "bolt:" + t.TempDir()}, nil, 1, "secrets key: none given"},
		{[]string{"copy-store", "--from", "bolt:" + dir, "--to", "bolt:" + keyed}, anyKey, 1, "another secrets key"},
	} {
		var errOut bytes.Buffer
		code := run(context.Background(), tc.args, env(tc.env), io.Discard, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String(), "hunter2") {
			t.Errorf("%v: %d %s, want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}

	// A store held by a running serve is refused, saying why.
	c := startChild(t, dir)
	defer c.cmd.Process.Kill()
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"copy-store", "--from", "bolt:" + dir, "--to", "bolt:" + t.TempDir()}, env(nil), io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "in use") || !strings.Contains(errOut.String(), "switchyard backup") {
		t.Fatalf("copy of a store in use: %d %s", code, errOut.String())
	}
}

// eventually polls cond for up to 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}
