package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"7d", 7 * 24 * time.Hour},
		{"36h", 36 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1d12h", 36 * time.Hour},
		{"1d12h30m", 36*time.Hour + 30*time.Minute},
		{"1.5d", 36 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"250ms", 250 * time.Millisecond},
		{" 2d ", 48 * time.Hour},
		{"0", 0},
		{"0d", 0},
		{"-1h", -time.Hour},
		{"-1d", -24 * time.Hour},
	} {
		got, err := parseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "soon", "7", "d", "7days", "1d-12h", "-1d12h", "1dd", "7D", "1e400d", "999999999d"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("%q accepted as %v", in, got)
		}
	}
	for d, want := range map[time.Duration]string{168 * time.Hour: "7d", 36 * time.Hour: "1d12h", 25*time.Hour + 30*time.Minute: "1d1h30m", 30 * time.Second: "30s", 0: "0s"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"5M", 5 << 20}, {"5m", 5 << 20}, {"5MiB", 5 << 20}, {"5MB", 5e6}, {"512k", 512 << 10}, {"512K", 512 << 10},
		{"512KiB", 512 << 10}, {"2kB", 2000}, {"1G", 1 << 30}, {"1GiB", 1 << 30}, {"1GB", 1e9}, {"1T", 1 << 40},
		{"1048576", 1 << 20}, {"7B", 7}, {"10 KiB", 10 << 10},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5M", "M", "5X", "lots", "2T", "99999999999999999999"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("%q accepted as %d", in, got)
		}
	}
	// The store's limit takes 0 (no limit) and larger sizes.
	store := sizeValue{limit: 1 << 60, zero: true}
	for in, want := range map[string]int64{"0": 0, "20GiB": 20 << 30, "2T": 2 << 40, "500MB": 500e6} {
		if err := store.Set(in); err != nil || store.n != want {
			t.Errorf("store %q: %d %v, want %d", in, store.n, err, want)
		}
	}
}

// A bad value names where it came from, the value and what was expected.
func TestValueErrorsNameTheirSource(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "sy.yaml")
	os.WriteFile(cfg, []byte("listen: 127.0.0.1:9000\nretention: a week\n"), 0o600)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"SWITCHYARD_WORKERS": "abc"}, `SWITCHYARD_WORKERS: "abc" is not a whole number`},
		{nil, map[string]string{"SWITCHYARD_RATE_LIMIT": "fast"}, `SWITCHYARD_RATE_LIMIT: "fast" is not a number`},
		{nil, map[string]string{"SWITCHYARD_ALLOW_PRIVATE_TARGETS": "yes please"}, `SWITCHYARD_ALLOW_PRIVATE_TARGETS: "yes please" is not true or false`},
		{nil, map[string]string{"SWITCHYARD_MAX_BODY": "5 megs"}, `SWITCHYARD_MAX_BODY: "5 megs" is not a size such as 512k, 5M`},
		{nil, map[string]string{"SWITCHYARD_LOG_LEVEL": "loud"}, `SWITCHYARD_LOG_LEVEL: "loud" is not debug, info, warn or error`},
		{[]string{"--config", cfg}, nil, cfg + `: retention (line 2): "a week" is not a duration such as 90s, 15m, 36h, 7d or 1d12h`},
		{[]string{"--workers", "abc"}, nil, `invalid value "abc" for flag -workers: not a whole number`},
		{[]string{"--log-format", "xml"}, nil, `-log-format: not text or json`},
		{nil, map[string]string{"SWITCHYARD_RETENTION": "0s"}, `SWITCHYARD_RETENTION: must be positive`},
	} {
		_, err := parseServe(tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
	// Every bad value is reported, not only the first.
	_, err := parseServe(nil, env(map[string]string{"SWITCHYARD_WORKERS": "abc", "SWITCHYARD_LEASE": "forever"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SWITCHYARD_WORKERS") || !strings.Contains(err.Error(), "SWITCHYARD_LEASE") {
		t.Fatalf("two bad values: %v", err)
	}
}

// Human durations and sizes are read from flags, the environment and the
// file alike.
func TestHumanDurationsAndSizesEverywhere(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "sy.yaml")
	os.WriteFile(cfg, []byte("retention: 7d\nmax-body: 5M\naudit-retention: 30d\n"), 0o600)
	o, err := parseServe([]string{"--config", cfg, "--lease", "1m"}, env(map[string]string{"SWITCHYARD_RETENTION_UNMATCHED": "1d12h", "SWITCHYARD_MAX_STORE_BYTES": "10G"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Retention != 7*24*time.Hour || o.MaxBody != 5<<20 || o.AuditRetention != 30*24*time.Hour || o.Lease != time.Minute || o.RetentionUnmatched != 36*time.Hour || o.MaxStoreBytes != 10<<30 {
		t.Fatalf("%+v", o)
	}
}

func TestUnknownKeysAreErrors(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "sy.yaml")
	os.WriteFile(cfg, []byte("# a comment\nretention: 7d\nlistn: 0.0.0.0:8080\nmax_body: 5M\ntls-cert: /etc/cert.pem\n"), 0o600)
	_, err := parseServe([]string{"--config", cfg}, env(nil), io.Discard)
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	for _, want := range []string{
		`unknown key "listn" (line 3); did you mean "listen"?`,
		`unknown key "max_body" (line 4); did you mean "max-body"?`,
		`unknown key "tls-cert" (line 5)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"tls-cert" (line 5); did you mean`) {
		t.Errorf("a suggestion for a key close to nothing: %v", err)
	}

	// serve refuses to start, with the same words, and creates nothing.
	data := filepath.Join(t.TempDir(), "data")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--config", cfg, "--data", data}, env(nil), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `did you mean "listen"?`) {
		t.Fatalf("serve: %d %s", code, errOut.String())
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve with a bad file made its data directory: %v", err)
	}
	// config check says so too, one problem a line.
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"config", "check", "--config", cfg}, env(nil), &out, &errOut); code != 1 || strings.Count(errOut.String(), "unknown key") != 3 || out.Len() != 0 {
		t.Fatalf("config check: %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
	}
}

// A file far larger than any settings file is refused before it is parsed.
func TestConfigFileTooLarge(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(cfg, []byte("listen: \""+strings.Repeat("x", 2<<20)+"\"\n"), 0o600)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"config", "check", "--config", cfg}, env(nil), &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "larger than 1024 KiB") || strings.Contains(errOut.String(), "xxxx") {
		t.Fatalf("config check of a 2 MiB file: %d %.300s", code, errOut.String())
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"), 0o600)
	// The port is held: config check does not bind it.
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "sy.yaml")
	os.WriteFile(cfg, []byte("listen: "+held.Addr().String()+"\ndata: "+data+"\nstore: postgres://sy:hunter2@db.example:5432/sy?sslmode=disable\nretention: 7d\nmax-body: 5M\ntrusted-proxies:\n  - 10.0.0.0/8\nlog-format: json\n"), 0o600)

	var out, errOut bytes.Buffer
	e := env(map[string]string{"SWITCHYARD_SECRET_KEY_FILE": keyFile, "SWITCHYARD_ADMIN_TOKEN": "sy_topsecret", "SWITCHYARD_WORKERS": "12"})
	code := run(context.Background(), []string{"config", "check", "--config", cfg, "--lease", "1m"}, e, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := out.String()
	if !strings.HasPrefix(got, "ok\n") {
		t.Fatalf("output %q", got)
	}
	for _, want := range []string{
		"retention              7d  (" + cfg + ": retention (line 4))",
		"max-body               5MiB",
		"workers                12  (SWITCHYARD_WORKERS)",
		"lease                  1m0s  (flag)",
		"log-format             json",
		"store                  postgres://sy:xxxxx@db.example:5432/sy",
		"admin token            set, hidden  (SWITCHYARD_ADMIN_TOKEN)",
		"trusted-proxies        10.0.0.0/8",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"hunter2", "sy_topsecret", "AQEBAQEB"} {
		if strings.Contains(got+errOut.String(), secret) {
			t.Errorf("a secret is printed: %s", got)
		}
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config check made the data directory: %v", err)
	}

	// Problems: every one, one a line, exit 1.
	out.Reset()
	errOut.Reset()
	e = env(map[string]string{"SWITCHYARD_SECRET_KEY_FILE": filepath.Join(dir, "missing"), "SWITCHYARD_LISTEN": "localhost", "SWITCHYARD_WORKERS": "abc"})
	code = run(context.Background(), []string{"config", "check", "--store", "mysql://x"}, e, &out, &errOut)
	if code != 1 || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	if !strings.Contains(errOut.String(), `SWITCHYARD_WORKERS: "abc" is not a whole number`) {
		t.Fatalf("the value error first: %s", errOut.String())
	}
	// With the values right, the checks that need them (the key file,
	// the listen address, the store URL's form) all report.
	errOut.Reset()
	e = env(map[string]string{"SWITCHYARD_SECRET_KEY_FILE": filepath.Join(dir, "missing"), "SWITCHYARD_LISTEN": "localhost"})
	code = run(context.Background(), []string{"config", "check", "--data", data}, e, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "secret-key-file") || !strings.Contains(errOut.String(), `listen "localhost": want host:port`) {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	errOut.Reset()
	code = run(context.Background(), []string{"config", "check", "--store", "mysql://x"}, env(nil), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "want bolt, bolt:<file> or postgres://") {
		t.Fatalf("bad store: exit %d: %s", code, errOut.String())
	}
	errOut.Reset()
	code = run(context.Background(), []string{"config", "check", "--store", "postgres://u:pw@db/x"}, env(nil), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "secrets key") || strings.Contains(errOut.String(), "pw@") {
		t.Fatalf("postgres without a key: exit %d: %s", code, errOut.String())
	}
	// Wrong usage.
	if code := run(context.Background(), []string{"config", "check", "--nope"}, env(nil), &out, &errOut); code != 2 {
		t.Fatalf("unknown flag: exit %d", code)
	}
	if code := run(context.Background(), []string{"config"}, env(nil), &out, &errOut); code != 2 {
		t.Fatalf("no subcommand: exit %d", code)
	}
}

// Every bad value on the command line is reported, with the variables'
// and the file's, not only the first; a boolean flag still needs no value.
func TestEveryBadFlagIsReported(t *testing.T) {
	t.Parallel()
	e := env(map[string]string{"SWITCHYARD_RETENTION": "forever"})
	for _, cmd := range [][]string{{"config", "check"}, {"serve"}} {
		args := append(cmd, "--log-level", "verbose", "--allow-private-targets", "--unmatched", "nah", "--workers", "x", "--data", t.TempDir())
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, e, &out, &errOut)
		prefix := "switchyard " + strings.Join(cmd, " ") + ": "
		for _, want := range []string{
			prefix + `invalid value "verbose" for flag -log-level: not debug, info, warn or error`,
			prefix + `invalid value "nah" for flag -unmatched: not keep, metadata or drop`,
			prefix + `invalid value "x" for flag -workers: not a whole number`,
			prefix + `SWITCHYARD_RETENTION: "forever" is not a duration`,
		} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("%v: no %q in:\n%s", cmd, want, errOut.String())
			}
		}
		if code != 2 || out.Len() != 0 || strings.Contains(errOut.String(), "allow-private-targets") {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", cmd, code, out.String(), errOut.String())
		}
	}
}

func TestServeHelp(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"serve", "-h"}, env(nil), &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := errOut.String()
	f := newServeFlags(io.Discard)
	for _, name := range f.order {
		if !strings.Contains(help, "--"+name) || !strings.Contains(help, "env "+envName(name)+", default ") {
			t.Errorf("serve -h lacks --%s or %s", name, envName(name))
		}
	}
	for _, want := range []string{"foreground", "SIGTERM", "Ctrl-C", "SWITCHYARD_ADMIN_TOKEN", "SWITCHYARD_SECRET_KEY", "default 127.0.0.1:8080", "default 7d", "default 5MiB", "1024-based"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve -h lacks %q", want)
		}
	}
}

// With its port taken, serve says so and leaves nothing behind: no data
// directory, no admin token, no key.
func TestServePortTaken(t *testing.T) {
	t.Parallel()
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, port, _ := net.SplitHostPort(held.Addr().String())
	data := filepath.Join(t.TempDir(), "data")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--listen", held.Addr().String(), "--data", data}, env(nil), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "port "+port+" is in use (another switchyard?)") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the data directory was made: %v", err)
	}
}

// A second serve on a data directory whose bbolt file is held says who
// holds it, and makes no admin token.
func TestServeSecondInstanceOnOneDataDirectory(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	db, err := bbolt.Open(filepath.Join(data, "switchyard.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0", "--data", data}, env(nil), &out, &errOut)
	want := "another switchyard process holds " + filepath.Join(data, "switchyard.db") + "; stop it or use another --data"
	if code != 1 || !strings.Contains(errOut.String(), want) || strings.Contains(errOut.String(), "timeout") {
		t.Fatalf("exit %d: %s\nwant %q", code, errOut.String(), want)
	}
	if _, err := os.Stat(filepath.Join(data, "admin-token")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an admin token was made: %v", err)
	}
}

func TestLogLevelAndFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o, err := parseServe(nil, env(map[string]string{"SWITCHYARD_LOG_LEVEL": "warn", "SWITCHYARD_LOG_FORMAT": "json"}), &buf)
	if err != nil {
		t.Fatal(err)
	}
	o.Logger.Debug("hidden debug")
	o.Logger.Info("hidden info")
	o.Logger.Warn("shown", "endpoint", "ep_1")
	o.Logger.Error("shown too", "err", "boom")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		if rec["level"] != "WARN" && rec["level"] != "ERROR" {
			t.Fatalf("level %v", rec["level"])
		}
	}
	// debug, text (the default format).
	buf.Reset()
	o, err = parseServe([]string{"--log-level", "debug"}, env(nil), &buf)
	if err != nil {
		t.Fatal(err)
	}
	o.Logger.Debug("retrying", "delivery", "d1")
	if !strings.Contains(buf.String(), "level=DEBUG msg=retrying delivery=d1") {
		t.Fatalf("debug text line %q", buf.String())
	}
	// info by default: no debug lines.
	buf.Reset()
	o, _ = parseServe(nil, env(nil), &buf)
	o.Logger.Debug("hidden")
	o.Logger.Info("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Fatalf("default level: %q", buf.String())
	}
}
