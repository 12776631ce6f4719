package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-dev/switchyard/server"
)

// parseServe reads the serve flags, then fills each one not given on the
// command line from SWITCHYARD_<NAME>, then from the --config file.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (server.Options, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configFile     = fs.String("config", "", "YAML file with any of these settings (keys are the flag names)")
		listen         = fs.String("listen", server.DefaultListen, "address to listen on")
		data           = fs.String("data", server.DefaultDataDir, "data directory (bbolt file, its instance.key, admin token)")
		store          = fs.String("store", "bolt", storeUsage)
		secretKeyFile  = fs.String("secret-key-file", "", "file holding the base64 secrets key, the same on every node (instead of SWITCHYARD_SECRET_KEY)")
		retention      = fs.Duration("retention", server.DefaultRetention, "purge messages and outbound deliveries older than this")
		auditRetention = fs.Duration("audit-retention", server.DefaultAuditRetention, "purge audit log entries older than this (0: keep them all)")
		maxBody        = fs.String("max-body", "5MiB", "largest accepted request body (e.g. 512KiB, 5MiB)")
		maxBodies      = fs.Int("max-concurrent-bodies", server.DefaultMaxConcurrentBodies, "webhook bodies received at once; past it a webhook waits up to 2s, then gets 503 with Retry-After")
		rateLimit      = fs.Float64("rate-limit", 0, "webhooks a second one client address may send (0: no limit); past it, 429 with Retry-After")
		rateBurst      = fs.Int("rate-limit-burst", 0, "webhooks one client address may send at once (0: the rate limit, rounded up)")
		unmatched      = fs.String("unmatched", server.UnmatchedKeep, "what is kept of a message that matches nothing: keep, metadata (no payload, no headers) or drop")
		retentionUnm   = fs.Duration("retention-unmatched", server.DefaultRetentionUnmatched, "purge messages that matched nothing older than this")
		maxStore       = fs.String("max-store-bytes", "0", "past this store size (e.g. 10GiB), webhooks get 507 until purges free space (0: no limit)")
		allowPrivate   = fs.Bool("allow-private-targets", false, "let outbound HTTP reach loopback, private and link-local addresses")
		trustedProxies = fs.String("trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
		lease          = fs.Duration("lease", server.DefaultLease, "how long a node's claims on work outlive its last heartbeat; a dead node's work is taken over after it")
		advertise      = fs.String("advertise", "", "address this node is reached at, as the cluster lists it (default: the listen address)")
		workers        = fs.Int("workers", 0, "messages processed at once (0: 64, or 8 per core if more); only two scripts per core run JavaScript at a time")
	)
	if err := fs.Parse(args); err != nil {
		return server.Options{}, err
	}
	if fs.NArg() > 0 {
		return server.Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := fillFlags(fs, configFile, getenv); err != nil {
		return server.Options{}, err
	}
	secretKey, err := secretKeyEnv(getenv)
	if err != nil {
		return server.Options{}, err
	}

	opts := server.Options{
		Listen:              *listen,
		DataDir:             *data,
		Store:               *store,
		Retention:           *retention,
		AllowPrivateTargets: *allowPrivate,
		Workers:             *workers,
		Lease:               *lease,
		Advertise:           *advertise,
		MaxConcurrentBodies: *maxBodies,
		RateLimit:           *rateLimit,
		RateLimitBurst:      *rateBurst,
		Unmatched:           *unmatched,
		RetentionUnmatched:  *retentionUnm,
		AdminToken:          getenv("SWITCHYARD_ADMIN_TOKEN"),
		SecretKey:           secretKey,
		SecretKeyFile:       *secretKeyFile,
	}
	if opts.MaxConcurrentBodies <= 0 {
		return opts, errors.New("max-concurrent-bodies must be positive")
	}
	if opts.Retention <= 0 {
		return opts, errors.New("retention must be positive")
	}
	if opts.Lease < server.MinLease {
		return opts, fmt.Errorf("lease must be at least %s", server.MinLease)
	}
	switch {
	case *auditRetention < 0:
		return opts, errors.New("audit-retention must not be negative (0 keeps every entry)")
	case *auditRetention == 0:
		opts.AuditRetention = server.KeepForever
	default:
		opts.AuditRetention = *auditRetention
	}
	if opts.MaxBody, err = parseSize(*maxBody); err != nil {
		return opts, fmt.Errorf("max-body: %w", err)
	}
	if opts.MaxStoreBytes, err = parseStoreSize(*maxStore); err != nil {
		return opts, fmt.Errorf("max-store-bytes: %w", err)
	}
	if opts.RetentionUnmatched <= 0 {
		return opts, errors.New("retention-unmatched must be positive")
	}
	switch opts.Unmatched {
	case server.UnmatchedKeep, server.UnmatchedMetadata, server.UnmatchedDrop:
	default:
		return opts, fmt.Errorf("unmatched must be keep, metadata or drop, not %q", opts.Unmatched)
	}
	if opts.RateLimit < 0 || opts.RateLimitBurst < 0 {
		return opts, errors.New("rate-limit and rate-limit-burst must not be negative (0: no limit)")
	}
	if opts.TrustedProxies, err = parsePrefixes(*trustedProxies); err != nil {
		return opts, fmt.Errorf("trusted-proxies: %w", err)
	}
	return opts, nil
}

const storeUsage = "store: bolt (<data>/switchyard.db), bolt:<file>, or postgres://user:pass@host:5432/db?sslmode=..."

// fillFlags sets every flag of fs not given on the command line from
// SWITCHYARD_<NAME>, then from the YAML file that configFile names (the
// --config flag, or SWITCHYARD_CONFIG). Keys of the file that name no
// flag of fs are left alone.
func fillFlags(fs *flag.FlagSet, configFile *string, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["config"] {
		if v := getenv(envName("config")); v != "" {
			*configFile = v
		}
	}
	fileValues, err := readConfig(*configFile)
	if err != nil {
		return err
	}
	var setErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == "config" || setErr != nil {
			return
		}
		source, v := envName(f.Name), getenv(envName(f.Name))
		if v == "" {
			fv, ok := fileValues[f.Name]
			if !ok {
				return
			}
			source, v = *configFile+": "+f.Name, fv
		}
		if err := fs.Set(f.Name, v); err != nil {
			setErr = fmt.Errorf("%s: %w", source, err)
		}
	})
	return setErr
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

// readConfig reads a flat YAML map of flag names to values.
func readConfig(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	out := make(map[string]string, len(doc))
	for k, v := range doc {
		switch v := v.(type) {
		case []any: // trusted-proxies as a YAML list
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			out[k] = strings.Join(parts, ",")
		case map[string]any:
			return nil, fmt.Errorf("config %s: %q must be a single value", path, k)
		case nil:
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// parseSize reads 5MiB, 512KiB, 1MB, 1048576...
func parseSize(s string) (int64, error) { return parseSizeUpTo(s, 1<<40) }

// parseStoreSize is parseSize for --max-store-bytes, where 0 is no limit
// and a store may be larger than a body could ever be.
func parseStoreSize(s string) (int64, error) {
	if strings.TrimSpace(s) == "0" {
		return 0, nil
	}
	return parseSizeUpTo(s, 1<<60)
}

// parseSizeUpTo reads a positive size of at most limit bytes.
func parseSizeUpTo(s string, limit int64) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
		{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size such as 5MiB", s)
	}
	if n > limit/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
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
