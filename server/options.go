package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Options configure a Switchyard instance. The zero value of every field
// takes the default documented beside it (and in docs/configuration.md).
type Options struct {
	// Listen is the address of the one HTTP port (default 127.0.0.1:8080;
	// ":0" or "127.0.0.1:0" picks a free port, see Server.Addr).
	Listen string
	// DataDir holds the bbolt file and the instance key (default ./data).
	DataDir string
	// Store is the store URL (default bolt:<DataDir>/switchyard.db).
	Store string
	// Retention: messages, deliveries and events older than this are
	// purged (default 168h).
	Retention time.Duration
	// AuditRetention: audit log entries older than this are purged
	// (default DefaultAuditRetention, a year; KeepForever keeps them).
	AuditRetention time.Duration
	// MaxBody is the largest accepted request body in bytes (default 5 MiB).
	MaxBody int64
	// MaxConcurrentBodies is how many webhook bodies are read at once
	// (default DefaultMaxConcurrentBodies). A webhook that finds no free
	// slot within a short wait gets 503 with Retry-After.
	MaxConcurrentBodies int
	// AllowPrivateTargets lets outbound HTTP reach private addresses.
	AllowPrivateTargets bool
	// TrustedProxies: only peers inside these may set the client address
	// with X-Forwarded-For (default none).
	TrustedProxies []netip.Prefix
	// AdminToken is an admin API token (SWITCHYARD_ADMIN_TOKEN). When
	// empty, the token in <DataDir>/admin-token is used, created on first
	// start.
	AdminToken string
	// InstanceKey is the base64 key that seals secrets at rest
	// (SWITCHYARD_INSTANCE_KEY). When empty, <DataDir>/instance.key is used,
	// created on first start.
	InstanceKey string
	// Workers is how many messages are processed at once (default
	// functions.DefaultWorkers: 64, or 8 per core if more).
	Workers int
	// ScriptMaxHeap is the memory limit of the script watchdog: past it
	// (live heap of the whole process), running scripts are stopped, the
	// longest-running first (default scripting.DefaultMaxHeap, 2 GiB).
	ScriptMaxHeap uint64
	// PurgeInterval is how often old messages are purged (default 1m).
	PurgeInterval time.Duration
	// ShutdownTimeout bounds a graceful stop (default 30s).
	ShutdownTimeout time.Duration
	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger

	// bodyTimeout is how long a webhook body may take to arrive once a
	// slot is free (default bodyTimeout; tests shorten it).
	bodyTimeout time.Duration
}

// Defaults.
const (
	DefaultListen         = "127.0.0.1:8080"
	DefaultDataDir        = "./data"
	DefaultRetention      = 168 * time.Hour
	DefaultAuditRetention = 365 * 24 * time.Hour
	// KeepForever as AuditRetention keeps every audit entry.
	KeepForever                time.Duration = -1
	DefaultMaxBody                           = 5 << 20
	DefaultMaxConcurrentBodies               = 256
	DefaultPurgeInterval                     = time.Minute
	DefaultShutdownTimeout                   = 30 * time.Second
)

// withDefaults returns o with defaults filled in, or an error naming the
// first bad field.
func (o Options) withDefaults() (Options, error) {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Store == "" {
		o.Store = "bolt:" + filepath.Join(o.DataDir, "switchyard.db")
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < 0 {
		return o, errors.New("retention must be positive")
	}
	if o.AuditRetention == 0 {
		o.AuditRetention = DefaultAuditRetention
	}
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxBody < 0 {
		return o, errors.New("max-body must be positive")
	}
	if o.MaxConcurrentBodies == 0 {
		o.MaxConcurrentBodies = DefaultMaxConcurrentBodies
	}
	if o.MaxConcurrentBodies < 0 {
		return o, errors.New("max-concurrent-bodies must be positive")
	}
	if o.bodyTimeout <= 0 {
		o.bodyTimeout = bodyTimeout
	}
	if o.Workers < 0 {
		return o, errors.New("workers must be positive")
	}
	if o.PurgeInterval <= 0 {
		o.PurgeInterval = DefaultPurgeInterval
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// boltPath returns the file of a "bolt:<path>" store URL.
func boltPath(store string) (string, error) {
	path, ok := strings.CutPrefix(store, "bolt:")
	if !ok {
		if strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://") {
			return "", fmt.Errorf("store %q: the PostgreSQL backend is not available yet; use bolt:<file>", redactURL(store))
		}
		return "", fmt.Errorf("store %q: want bolt:<file>", redactURL(store))
	}
	if path == "" {
		return "", errors.New("store: bolt: needs a file path")
	}
	return path, nil
}

// redactURL hides a password in a store URL before it reaches an error.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return s
	}
	userinfo := rest[:at]
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return s
}
