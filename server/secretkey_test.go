package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// keyFile writes key (base64) to a file of its own and names it.
func keyFile(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serving waits until the instance answers requests: Run has started
// everything (an instance stopped before that stops with an error).
func (in *instance) serving() {
	in.t.Helper()
	in.api("GET", "/providers", nil, 200, nil)
}

// newOn tries to make an instance with dir as its data directory (and
// its bbolt store there, unless edit says otherwise).
func newOn(dir string, edit func(*server.Options)) (*server.Server, error) {
	o := server.Options{Listen: "127.0.0.1:0", DataDir: dir, AdminToken: testToken, Logger: discard()}
	edit(&o)
	return server.New(o)
}

// A bbolt store records a value sealed with its key at first start; a
// later start with another key is refused, saying where that key came
// from, and the same key from another source is accepted.
func TestSecretKeyCheckOnBolt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, func(o *server.Options) { o.DataDir, o.SecretKey = dir, testKey('a') })
	in.provider("p", "return true", map[string]any{"secrets": map[string]string{"token": "t"}})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*server.Options){
		"another key":          func(o *server.Options) { o.SecretKey = testKey('b') },
		"another key file":     func(o *server.Options) { o.SecretKeyFile = keyFile(t, testKey('b')) },
		"the data dir's a new": func(o *server.Options) {}, // instance.key, made now, is another key
	} {
		_, err := newOn(dir, edit)
		if !errors.Is(err, server.ErrWrongSecretKey) {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(err.Error(), "this store's secrets were sealed with another key: put the instance.key it was made with beside switchyard.db") ||
			strings.Contains(err.Error(), "every node") {
			t.Errorf("%s: %v", name, err)
		}
	}
	start(t, func(o *server.Options) { o.DataDir, o.SecretKeyFile = dir, keyFile(t, testKey('a')) }).serving()
}

// A bbolt store restored into a new data directory without its
// instance.key: the start makes a key, finds the store sealed with
// another, refuses saying to put the store's instance.key back, and
// leaves no key of its own behind; with the key put back it starts.
func TestRestoredBoltStoreWithoutItsKey(t *testing.T) {
	t.Parallel()
	old := t.TempDir()
	in := start(t, func(o *server.Options) { o.DataDir = old })
	in.provider("p", "return true", map[string]any{"secrets": map[string]string{"token": "t"}})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(old, "switchyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	restored := t.TempDir()
	if err := os.WriteFile(filepath.Join(restored, "switchyard.db"), db, 0o600); err != nil {
		t.Fatal(err)
	}

	_, err = newOn(restored, func(o *server.Options) {})
	if !errors.Is(err, server.ErrWrongSecretKey) ||
		!strings.Contains(err.Error(), "this store's secrets were sealed with another key: put the instance.key it was made with beside switchyard.db") ||
		!strings.Contains(err.Error(), "(or give SWITCHYARD_SECRET_KEY / --secret-key-file)") ||
		strings.Contains(err.Error(), "every node") {
		t.Fatalf("a restored store without its key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(restored, "instance.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the key made by the refused start is still there: %v", err)
	}

	key, err := os.ReadFile(filepath.Join(old, "instance.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "instance.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, func(o *server.Options) { o.DataDir = restored }).serving()
}

// A bbolt store made before the check value existed is never refused: its
// first start writes one, with the key it has always had (the data
// directory's instance.key); from then on another key is refused.
func TestSecretKeyCheckAddedToOlderBoltStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, err := seal.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	openBolt := func() *bolt.Store {
		st, err := bolt.Open(filepath.Join(dir, "switchyard.db"), sealer)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := openBolt()
	ctx := context.Background()
	p, err := st.CreateProvider(ctx, storage.Provider{Name: "old", Active: true, MatchScript: "return PROPERTIES.token === 'old-secret'",
		Secrets: map[string]string{"token": "old-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	in := start(t, func(o *server.Options) { o.DataDir = dir })
	in.function(p.ID, "f", "old", "return 1")
	if code, a := in.send("old", []byte(`{}`), true, nil); code != 200 || a.Status != "SUCCESS" {
		t.Fatalf("the old provider's secret: %d %+v", code, a)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	st = openBolt()
	check, err := st.Setting(ctx, "secrets_check")
	st.Close()
	if err != nil || len(check) == 0 {
		t.Fatalf("no check value written: %q %v", check, err)
	}
	if _, err := newOn(dir, func(o *server.Options) { o.SecretKey = testKey('z') }); !errors.Is(err, server.ErrWrongSecretKey) {
		t.Fatalf("another key after the upgrade: %v", err)
	}
	start(t, func(o *server.Options) { o.DataDir = dir }).serving()
}

func TestSecretKeyOptionErrors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		edit func(*server.Options)
		want string
	}{
		"both":         {func(o *server.Options) { o.SecretKey, o.SecretKeyFile = testKey('a'), keyFile(t, testKey('a')) }, "not both"},
		"missing file": {func(o *server.Options) { o.SecretKeyFile = filepath.Join(t.TempDir(), "nope.key") }, "nope.key"},
		"short key":    {func(o *server.Options) { o.SecretKey = "c2hvcnQ=" }, "SWITCHYARD_SECRET_KEY"},
		"bad file":     {func(o *server.Options) { o.SecretKeyFile = keyFile(t, "garbage!") }, "--secret-key-file"},
	} {
		if _, err := newOn(t.TempDir(), c.edit); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}
