package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-dev/switchyard/server"
)

// serveFlags are serve's flags, in the order serve -h lists them.
type serveFlags struct {
	fs    *flag.FlagSet
	order []string
	arg   map[string]string // a flag's value placeholder in the usage
	out   io.Writer         // where -h writes the usage

	configFile                                       *string
	listen, data, store, secretKeyFile, trusted, adv *string
	retention, auditRetention, retentionUnm, lease   durationValue
	maxBody, maxStore                                sizeValue
	maxBodies, rateBurst, workers                    intValue
	rateLimit                                        floatValue
	allowPrivate                                     boolValue
	unmatched, logLevel, logFormat                   choiceValue
}

// Log levels and formats (--log-level, --log-format).
var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// newServeFlags defines serve's flags on a new FlagSet writing to out.
func newServeFlags(out io.Writer) *serveFlags {
	f := &serveFlags{fs: flag.NewFlagSet("serve", flag.ContinueOnError), arg: map[string]string{}, out: out}
	// The flag package's own messages are a parse error and then the
	// whole usage: serve says the error alone, and the usage on -h.
	f.fs.SetOutput(io.Discard)
	str := func(name, arg, value, usage string) *string {
		f.order, f.arg[name] = append(f.order, name), arg
		return f.fs.String(name, value, usage)
	}
	val := func(v flag.Value, name, arg, usage string) {
		f.order, f.arg[name] = append(f.order, name), arg
		f.fs.Var(v, name, usage)
	}
	f.retention = durationValue(server.DefaultRetention)
	f.auditRetention = durationValue(server.DefaultAuditRetention)
	f.retentionUnm = durationValue(server.DefaultRetentionUnmatched)
	f.lease = durationValue(server.DefaultLease)
	f.maxBody = sizeValue{n: server.DefaultMaxBody, limit: 1 << 40}
	f.maxStore = sizeValue{limit: 1 << 60, zero: true}
	f.maxBodies = intValue(server.DefaultMaxConcurrentBodies)
	f.unmatched = choiceValue{server.UnmatchedKeep, []string{server.UnmatchedKeep, server.UnmatchedMetadata, server.UnmatchedDrop}}
	f.logLevel = choiceValue{"info", logLevels}
	f.logFormat = choiceValue{"text", logFormats}

	f.configFile = str("config", "FILE", "", "YAML file with any of these settings (keys are the flag names)")
	f.listen = str("listen", "HOST:PORT", server.DefaultListen, "address to listen on (:0 picks a free port)")
	f.data = str("data", "DIR", server.DefaultDataDir, "data directory (bbolt file, its instance.key, admin token)")
	f.store = str("store", "URL", "bolt", storeUsage)
	f.secretKeyFile = str("secret-key-file", "FILE", "", "file holding the base64 secrets key, the same on every node (instead of SWITCHYARD_SECRET_KEY)")
	val(&f.retention, "retention", "DURATION", "purge messages and outbound deliveries older than this (e.g. 7d, 36h)")
	val(&f.auditRetention, "audit-retention", "DURATION", "purge audit log entries older than this (0: keep them all)")
	val(&f.maxBody, "max-body", "SIZE", "largest accepted request body (e.g. 512k, 5M = 5MiB, 2MB = 2,000,000 bytes)")
	val(&f.maxBodies, "max-concurrent-bodies", "N", "webhook bodies received at once; past it a webhook waits up to 2s, then gets 503 with Retry-After")
	val(&f.rateLimit, "rate-limit", "N", "webhooks a second one client address may send (0: no limit); past it, 429 with Retry-After")
	val(&f.rateBurst, "rate-limit-burst", "N", "webhooks one client address may send at once (0: the rate limit, rounded up)")
	val(&f.unmatched, "unmatched", "keep|metadata|drop", "what is kept of a message that matches nothing: keep, metadata (no payload, no headers) or drop")
	val(&f.retentionUnm, "retention-unmatched", "DURATION", "purge messages that matched nothing older than this")
	val(&f.maxStore, "max-store-bytes", "SIZE", "past this store size (e.g. 10G), webhooks get 507 until purges free space (0: no limit)")
	val(&f.allowPrivate, "allow-private-targets", "", "let outbound HTTP reach loopback, private and link-local addresses")
	f.trusted = str("trusted-proxies", "CIDRS", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	val(&f.lease, "lease", "DURATION", "how long a node's claims on work outlive its last heartbeat; a dead node's work is taken over after it")
	f.adv = str("advertise", "ADDR", "", "address this node is reached at, as the cluster lists it (default: the listen address)")
	val(&f.workers, "workers", "N", "messages processed at once (0: 64, or 8 per core if more); only two scripts per core run JavaScript at a time")
	val(&f.logLevel, "log-level", "debug|info|warn|error", "the least important log lines written")
	val(&f.logFormat, "log-format", "text|json", "log lines as key=value text or as one JSON object each")
	return f
}

const serveUsage = `usage: switchyard serve [flags]

Runs Switchyard in the foreground: inbound webhooks, workers, the admin
API and the UI on one port, logging to standard error. Stop it with
Ctrl-C (SIGINT) or SIGTERM: it stops accepting, finishes the requests in
flight and the running scripts (up to 30s), and exits. To keep it
running in the background, run it under systemd or in a container.

Every flag can also be set by its environment variable or by a key of the
--config file named like the flag; a flag on the command line beats the
variable, which beats the file. Durations: 90s, 15m, 36h, 7d, 1d12h.
Sizes: bytes, or 512k, 5M, 1G (K, M, G, T and KiB, MiB, GiB, TiB are
1024-based; KB, MB, GB, TB are 1000-based).

flags:
`

// usage is serve -h: each flag with its variable and default.
func (f *serveFlags) usage() {
	w := f.out
	fmt.Fprint(w, serveUsage)
	f.printFlags(w)
	fmt.Fprint(w, `
secrets, from the environment only:
  SWITCHYARD_ADMIN_TOKEN  an admin API token (default: <data>/admin-token, made at the first start)
  SWITCHYARD_SECRET_KEY   base64 of the 32-byte key that seals secrets at rest (default: <data>/instance.key)

Check a configuration without starting: switchyard config check --config FILE
`)
}

// printFlags writes each flag with its variable and default.
func (f *serveFlags) printFlags(w io.Writer) {
	for _, name := range f.order {
		fl := f.fs.Lookup(name)
		head := "  --" + name
		if a := f.arg[name]; a != "" {
			head += " " + a
		}
		def := fl.DefValue
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(w, "%s\n        %s\n        env %s, default %s\n", head, fl.Usage, envName(name), def)
	}
}

// serveConfig is what serve's flags, environment and file settle on.
type serveConfig struct {
	opts      server.Options
	logLevel  slog.Level
	logFormat string
	file      string    // the --config file, if any
	settings  []setting // every flag's effective value, in usage order
	badFlags  bool      // a flag's value on the command line is wrong
}

// setting is one flag's effective value and where it came from.
type setting struct {
	name, value, source string
}

// parseServe reads the serve flags, then fills each one not given on the
// command line from SWITCHYARD_<NAME>, then from the --config file. Its
// logger writes to stderr.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (server.Options, error) {
	c, err := parseServeConfig(args, getenv, stderr)
	if err != nil {
		return c.opts, err
	}
	c.opts.Logger = newLogger(stderr, c.logLevel, c.logFormat)
	return c.opts, nil
}

// parseServeConfig is parseServe's work: every error it finds past the
// command line, joined.
func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	f := newServeFlags(stderr)
	var flagErrs []error
	restore := collectFlagErrors(f.fs, &flagErrs)
	err := f.fs.Parse(args)
	restore()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.usage()
		}
		return serveConfig{}, err
	}
	if f.fs.NArg() > 0 {
		return serveConfig{}, fmt.Errorf("unexpected argument %q", f.fs.Arg(0))
	}
	// A bad flag keeps its default: the variable and the file do not
	// stand in for it, and the checks below see a good value.
	sources, err := fillFlagsFrom(f.fs, f.configFile, getenv)
	errs := flagErrs
	if err != nil {
		errs = append(errs, err)
	}
	secretKey, err := secretKeyEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	opts := server.Options{
		Listen:              *f.listen,
		DataDir:             *f.data,
		Store:               *f.store,
		Retention:           time.Duration(f.retention),
		AllowPrivateTargets: bool(f.allowPrivate),
		Workers:             int(f.workers),
		Lease:               time.Duration(f.lease),
		Advertise:           *f.adv,
		MaxConcurrentBodies: int(f.maxBodies),
		RateLimit:           float64(f.rateLimit),
		RateLimitBurst:      int(f.rateBurst),
		Unmatched:           f.unmatched.v,
		RetentionUnmatched:  time.Duration(f.retentionUnm),
		MaxBody:             f.maxBody.n,
		MaxStoreBytes:       f.maxStore.n,
		AdminToken:          getenv("SWITCHYARD_ADMIN_TOKEN"),
		SecretKey:           secretKey,
		SecretKeyFile:       *f.secretKeyFile,
	}
	bad := func(name, problem string) {
		errs = append(errs, fmt.Errorf("%s: %s", sources.describe(name), problem))
	}
	if opts.MaxConcurrentBodies <= 0 {
		bad("max-concurrent-bodies", "must be positive")
	}
	if opts.Workers < 0 {
		bad("workers", "must not be negative (0: the default)")
	}
	if opts.Retention <= 0 {
		bad("retention", "must be positive")
	}
	if opts.Lease < server.MinLease {
		bad("lease", fmt.Sprintf("must be at least %s", server.MinLease))
	}
	switch ar := time.Duration(f.auditRetention); {
	case ar < 0:
		bad("audit-retention", "must not be negative (0 keeps every entry)")
	case ar == 0:
		opts.AuditRetention = server.KeepForever
	default:
		opts.AuditRetention = ar
	}
	if opts.RetentionUnmatched <= 0 {
		bad("retention-unmatched", "must be positive")
	}
	if opts.RateLimit < 0 {
		bad("rate-limit", "must not be negative (0: no limit)")
	}
	if opts.RateLimitBurst < 0 {
		bad("rate-limit-burst", "must not be negative (0: the rate, rounded up)")
	}
	if opts.TrustedProxies, err = parsePrefixes(*f.trusted); err != nil {
		bad("trusted-proxies", err.Error())
	}
	c := serveConfig{opts: opts, logFormat: f.logFormat.v, file: *f.configFile, badFlags: len(flagErrs) > 0}
	_ = c.logLevel.UnmarshalText([]byte(f.logLevel.v)) // one of logLevels
	for _, name := range f.order {
		v := f.fs.Lookup(name).Value.String()
		if v == "" {
			v = "none"
		}
		c.settings = append(c.settings, setting{name, v, sources.source(name)})
	}
	return c, errors.Join(errs...)
}

// newLogger is the one logger of the process: level and format as
// --log-level and --log-format say.
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	o := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

const storeUsage = "store: bolt (<data>/switchyard.db), bolt:<file>, or postgres://user:pass@host:5432/db?sslmode=..."

// sources says where each flag's value came from: a flag name to
// "flag", an environment variable's name, or "FILE line N".
type sources map[string]string

// source is where name's value came from ("default" when nowhere).
func (s sources) source(name string) string {
	if src, ok := s[name]; ok {
		return src
	}
	return "default"
}

// describe names a flag as its value's source does, for an error:
// --retention, SWITCHYARD_RETENTION, or "FILE: retention (line 3)".
func (s sources) describe(name string) string {
	src := s.source(name)
	if src == "flag" || src == "default" {
		return "--" + name
	}
	return src
}

// fillFlags sets every flag of fs not given on the command line from
// SWITCHYARD_<NAME>, then from the YAML file that configFile names (the
// --config flag, or SWITCHYARD_CONFIG). The file is serve's: a key that
// names none of serve's settings is an error; keys that name no flag of
// fs are left alone.
func fillFlags(fs *flag.FlagSet, configFile *string, getenv func(string) string) error {
	_, err := fillFlagsFrom(fs, configFile, getenv)
	return err
}

// fillFlagsFrom is fillFlags, saying where each flag's value came from.
// It reports every bad value, not only the first.
func fillFlagsFrom(fs *flag.FlagSet, configFile *string, getenv func(string) string) (sources, error) {
	src := sources{}
	fs.Visit(func(f *flag.Flag) { src[f.Name] = "flag" })
	if src["config"] == "" {
		if v := getenv(envName("config")); v != "" {
			*configFile, src["config"] = v, envName("config")
		}
	}
	fileValues, err := readConfig(*configFile)
	if err != nil && fileValues == nil {
		return src, err
	}
	errs := []error{err} // unknown keys; the values of the known ones are read too
	fs.VisitAll(func(f *flag.Flag) {
		if src[f.Name] == "flag" || f.Name == "config" {
			return
		}
		source, v := envName(f.Name), getenv(envName(f.Name))
		if v == "" {
			fv, ok := fileValues[f.Name]
			if !ok {
				return
			}
			source, v = fmt.Sprintf("%s: %s (line %d)", *configFile, f.Name, fv.line), fv.value
		}
		src[f.Name] = source
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, valueError(source, v, err))
		}
	})
	return src, errors.Join(errs...)
}

// collectFlagErrors makes each of fs's values note a value it refuses in
// *errs, as the flag package words it, and take the next flag, so that a
// command line with several bad values has them all reported, not only
// the first. restore puts the values back, for fs.Set to fail again.
func collectFlagErrors(fs *flag.FlagSet, errs *[]error) (restore func()) {
	values := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		values[f] = f.Value
		f.Value = collectingValue{f.Value, f.Name, errs}
	})
	return func() {
		for f, v := range values {
			f.Value = v
		}
	}
}

// collectingValue is a flag's value that notes its Set errors.
type collectingValue struct {
	flag.Value
	name string
	errs *[]error
}

func (v collectingValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		*v.errs = append(*v.errs, fmt.Errorf("invalid value %q for flag -%s: %w", s, v.name, err))
	}
	return nil
}

// IsBoolFlag keeps a boolean flag one that needs no value.
func (v collectingValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// valueError: SWITCHYARD_WORKERS: "abc" is not a whole number.
func valueError(source, value string, err error) error {
	var e expected
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %q is %s", source, value, e)
	}
	return fmt.Errorf("%s: %q: %w", source, value, err)
}

// secretKeyEnv reads the secrets key from SWITCHYARD_SECRET_KEY, or from
// SWITCHYARD_INSTANCE_KEY, its deprecated alias. The two set to
// different keys is an error: which one would the node use?
func secretKeyEnv(getenv func(string) string) (string, error) {
	key := strings.TrimSpace(getenv("SWITCHYARD_SECRET_KEY"))
	old := strings.TrimSpace(getenv(deprecatedKeyEnv))
	if key != "" && old != "" && key != old {
		return "", errors.New("SWITCHYARD_SECRET_KEY and " + deprecatedKeyEnv + " (its deprecated alias) hold different keys: set SWITCHYARD_SECRET_KEY alone")
	}
	if key == "" {
		key = old
	}
	return key, nil
}

// deprecatedKeyEnv is the secrets key's first name, still read.
const deprecatedKeyEnv = "SWITCHYARD_INSTANCE_KEY"

// envName: max-body -> SWITCHYARD_MAX_BODY.
func envName(flagName string) string {
	return "SWITCHYARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// fileValue is a value of the config file, with its line.
type fileValue struct {
	value string
	line  int
}

// maxConfigFile bounds serve's YAML file: it holds a few dozen settings.
const maxConfigFile = 1 << 20

// readConfig reads serve's YAML file: a flat map of its flag names to
// values (a list, for trusted-proxies). Every key that names no setting
// is an error, with its line and, when one is close, the key meant.
func readConfig(path string) (map[string]fileValue, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(raw) > maxConfigFile {
		return nil, fmt.Errorf("config %s: larger than %d KiB; a settings file is a few lines (is this the right file?)", path, maxConfigFile>>10)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config %s: want a map of settings (listen: 127.0.0.1:8080, ...), line %d", path, root.Line)
	}
	known := serveKeys()
	out := map[string]fileValue{}
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !known[k.Value] {
			msg := fmt.Sprintf("config %s: unknown key %q (line %d)", path, k.Value, k.Line)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		if _, dup := out[k.Value]; dup {
			errs = append(errs, fmt.Errorf("config %s: %q is given twice (line %d)", path, k.Value, k.Line))
			continue
		}
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag != "!!null" {
				out[k.Value] = fileValue{v.Value, k.Line}
			}
		case yaml.SequenceNode: // trusted-proxies as a YAML list
			parts := make([]string, 0, len(v.Content))
			for _, p := range v.Content {
				if p.Kind != yaml.ScalarNode {
					errs = append(errs, fmt.Errorf("config %s: %q (line %d) must be a list of single values", path, k.Value, p.Line))
				}
				parts = append(parts, p.Value)
			}
			out[k.Value] = fileValue{strings.Join(parts, ","), k.Line}
		default:
			errs = append(errs, fmt.Errorf("config %s: %q (line %d) must be a single value", path, k.Value, k.Line))
		}
	}
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, nil
}

// serveKeys are the keys of serve's file: its flags but --config.
func serveKeys() map[string]bool {
	keys := map[string]bool{}
	for _, name := range newServeFlags(io.Discard).order {
		if name != "config" {
			keys[name] = true
		}
	}
	return keys
}

// suggest is the known key closest to key, if one is close enough to be
// a typo of it (max_body, listn, retension), else "".
func suggest(key string, known map[string]bool) string {
	norm := strings.ToLower(strings.ReplaceAll(key, "_", "-"))
	best, bestDist := "", 0
	for k := range known {
		d := editDistance(norm, k)
		if best == "" || d < bestDist || d == bestDist && k < best {
			best, bestDist = k, d
		}
	}
	limit := 1
	if len(norm) >= 6 {
		limit = 2
	}
	if bestDist <= limit {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") { // a single address
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR or an IP address", part)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
