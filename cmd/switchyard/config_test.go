package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestServeSettingsPrecedence(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "switchyard.yaml")
	os.WriteFile(cfg, []byte("listen: 127.0.0.1:9000\nretention: 24h\nmax-body: 1MiB\ntrusted-proxies:\n  - 10.0.0.0/8\n  - 192.0.2.1\nworkers: 3\nmax-concurrent-bodies: 32\n"), 0o600)

	// Defaults.
	o, err := parseServe(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Listen != "127.0.0.1:8080" || o.DataDir != "./data" || o.Retention != 168*time.Hour || o.MaxBody != 5<<20 || len(o.TrustedProxies) != 0 || o.AllowPrivateTargets || o.MaxConcurrentBodies != 256 {
		t.Fatalf("defaults %+v", o)
	}
	// The file.
	o, err = parseServe([]string{"--config", cfg}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Listen != "127.0.0.1:9000" || o.Retention != 24*time.Hour || o.MaxBody != 1<<20 || len(o.TrustedProxies) != 2 || o.Workers != 3 || o.MaxConcurrentBodies != 32 {
		t.Fatalf("from file %+v", o)
	}
	if o.TrustedProxies[1].String() != "192.0.2.1/32" {
		t.Fatalf("single address as a prefix: %v", o.TrustedProxies[1])
	}
	// The environment beats the file; a flag beats both.
	e := env(map[string]string{
		"SWITCHYARD_CONFIG": cfg, "SWITCHYARD_LISTEN": "127.0.0.1:9100", "SWITCHYARD_MAX_BODY": "64KiB",
		"SWITCHYARD_ALLOW_PRIVATE_TARGETS": "true", "SWITCHYARD_ADMIN_TOKEN": "tok", "SWITCHYARD_DATA": "/var/lib/sy",
		"SWITCHYARD_MAX_CONCURRENT_BODIES": "64",
	})
	o, err = parseServe([]string{"--listen", "127.0.0.1:9200"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Listen != "127.0.0.1:9200" || o.MaxBody != 64<<10 || !o.AllowPrivateTargets || o.AdminToken != "tok" || o.DataDir != "/var/lib/sy" || o.Retention != 24*time.Hour || o.MaxConcurrentBodies != 64 {
		t.Fatalf("precedence %+v", o)
	}
}

// TestServeLimitSettings: the inbound limits have their defaults, and
// are read from the file and the environment like every flag.
func TestServeLimitSettings(t *testing.T) {
	t.Parallel()
	o, err := parseServe(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.RateLimit != 0 || o.RateLimitBurst != 0 || o.Unmatched != "keep" || o.RetentionUnmatched != 24*time.Hour || o.MaxStoreBytes != 0 {
		t.Fatalf("defaults %+v", o)
	}
	cfg := filepath.Join(t.TempDir(), "switchyard.yaml")
	os.WriteFile(cfg, []byte("rate-limit: 2.5\nrate-limit-burst: 10\nunmatched: metadata\nretention-unmatched: 2h\nmax-store-bytes: 10GiB\n"), 0o600)
	o, err = parseServe([]string{"--config", cfg}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.RateLimit != 2.5 || o.RateLimitBurst != 10 || o.Unmatched != "metadata" || o.RetentionUnmatched != 2*time.Hour || o.MaxStoreBytes != 10<<30 {
		t.Fatalf("from file %+v", o)
	}
	o, err = parseServe(nil, env(map[string]string{
		"SWITCHYARD_CONFIG": cfg, "SWITCHYARD_RATE_LIMIT": "100", "SWITCHYARD_UNMATCHED": "drop", "SWITCHYARD_MAX_STORE_BYTES": "0",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.RateLimit != 100 || o.RateLimitBurst != 10 || o.Unmatched != "drop" || o.MaxStoreBytes != 0 {
		t.Fatalf("from the environment %+v", o)
	}
}

func TestServeSettingsErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("listen: [unclosed\n"), 0o600)
	nested := filepath.Join(t.TempDir(), "nested.yaml")
	os.WriteFile(nested, []byte("listen:\n  a: b\n"), 0o600)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--max-body", "lots"}, nil, "max-body"},
		{[]string{"--max-body", "0"}, nil, "max-body"},
		{[]string{"--max-concurrent-bodies", "0"}, nil, "max-concurrent-bodies"},
		{nil, map[string]string{"SWITCHYARD_MAX_CONCURRENT_BODIES": "many"}, "SWITCHYARD_MAX_CONCURRENT_BODIES"},
		{[]string{"--trusted-proxies", "10.0.0.0/33"}, nil, "trusted-proxies"},
		{[]string{"--retention", "-1h"}, nil, "retention"},
		{[]string{"--audit-retention", "-1h"}, nil, "audit-retention"},
		{[]string{"--lease", "10ms"}, nil, "lease"},
		{[]string{"--unmatched", "some"}, nil, "unmatched"},
		{[]string{"--rate-limit", "-1"}, nil, "rate-limit"},
		{[]string{"--rate-limit-burst", "-1"}, nil, "rate-limit-burst"},
		{[]string{"--retention-unmatched", "0s"}, nil, "retention-unmatched"},
		{[]string{"--max-store-bytes", "-5"}, nil, "max-store-bytes"},
		{[]string{"--max-store-bytes", "lots"}, nil, "max-store-bytes"},
		{nil, map[string]string{"SWITCHYARD_RETENTION": "soon"}, "SWITCHYARD_RETENTION"},
		{[]string{"--config", "/nonexistent/sy.yaml"}, nil, "config"},
		{[]string{"--config", bad}, nil, "bad.yaml"},
		{[]string{"--config", nested}, nil, "single value"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{[]string{"--nope"}, nil, "not defined"},
	} {
		_, err := parseServe(tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want it to mention %q", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"5MiB": 5 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "100": 100, "2MB": 2e6, "10 KiB": 10 << 10, "7B": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5MiB", "MiB", "99999999GiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"version"}, env(nil), &out, &errOut); code != 0 || !strings.Contains(out.String(), "switchyard") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run(context.Background(), nil, env(nil), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Fatalf("no command: %d", code)
	}
	if code := run(context.Background(), []string{"frobnicate"}, env(nil), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("unknown command: %d", code)
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"serve", "--store", "postgres://u:hunter2@db/x", "--data", t.TempDir()}, env(nil), &out, &errOut); code != 1 || strings.Contains(errOut.String(), "hunter2") || !strings.Contains(errOut.String(), "PostgreSQL") {
		t.Fatalf("postgres store: %d %s", code, errOut.String())
	}
}

func TestLease(t *testing.T) {
	t.Parallel()
	o, err := parseServe(nil, env(nil), io.Discard)
	if err != nil || o.Lease != server.DefaultLease || o.Advertise != "" {
		t.Fatalf("defaults: %v %v %q", err, o.Lease, o.Advertise)
	}
	o, err = parseServe([]string{"--advertise", "10.0.0.5:8080"}, env(map[string]string{"SWITCHYARD_LEASE": "12s"}), io.Discard)
	if err != nil || o.Lease != 12*time.Second || o.Advertise != "10.0.0.5:8080" {
		t.Fatalf("from the environment: %v %v %q", err, o.Lease, o.Advertise)
	}
}

func TestAuditRetention(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, server.DefaultAuditRetention},
		{[]string{"--audit-retention", "720h"}, 720 * time.Hour},
		{[]string{"--audit-retention", "0"}, server.KeepForever},
	} {
		o, err := parseServe(tc.args, env(nil), io.Discard)
		if err != nil || o.AuditRetention != tc.want {
			t.Errorf("%v: %v %v, want %v", tc.args, o.AuditRetention, err, tc.want)
		}
	}
}

// The secrets key comes from SWITCHYARD_SECRET_KEY, or from its old name
// SWITCHYARD_INSTANCE_KEY; the two disagreeing is an error. The key file
// is a flag like the others (environment, config file).
func TestSecretKeySettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env      map[string]string
		key      string
		keyFile  string
		wantErr  bool
		testName string
	}{
		{map[string]string{"SWITCHYARD_SECRET_KEY": "new"}, "new", "", false, "new name"},
		{map[string]string{"SWITCHYARD_INSTANCE_KEY": "old"}, "old", "", false, "old name"},
		{map[string]string{"SWITCHYARD_SECRET_KEY": "same", "SWITCHYARD_INSTANCE_KEY": "same"}, "same", "", false, "both, agreeing"},
		{map[string]string{"SWITCHYARD_SECRET_KEY": "one", "SWITCHYARD_INSTANCE_KEY": "two"}, "", "", true, "both, disagreeing"},
		{map[string]string{"SWITCHYARD_SECRET_KEY_FILE": "/run/secrets/sy"}, "", "/run/secrets/sy", false, "key file"},
	} {
		o, err := parseServe(nil, env(c.env), io.Discard)
		if (err != nil) != c.wantErr || o.SecretKey != c.key || o.SecretKeyFile != c.keyFile {
			t.Errorf("%s: %+v %v", c.testName, o, err)
		}
	}
}
