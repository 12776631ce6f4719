package server

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"time"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/internal/buildinfo"
)

// Options configure a Switchyard instance. The zero value of every field
// takes the default documented beside it (and in docs/configuration.md).
type Options struct {
	// Listen is the address of the one HTTP port (default 127.0.0.1:8080;
	// ":0" or "127.0.0.1:0" picks a free port, see Server.Addr).
	Listen string
	// DataDir holds the bbolt file, its secrets key (instance.key) and
	// the admin token (default ./data).
	DataDir string
	// Store is the store URL: "bolt" (the default: <DataDir>/switchyard.db),
	// "bolt:<file>", or "postgres://user:pass@host:5432/db?sslmode=..."
	// (see ParseStore). A PostgreSQL database is migrated at start.
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
	// RateLimit is how many webhooks a second one client address may send
	// (0, the default: no limit); past it a webhook gets 429 with
	// Retry-After and nothing is recorded. RateLimitBurst is how many it
	// may send at once (default: RateLimit rounded up). The limit is kept
	// per node.
	RateLimit      float64
	RateLimitBurst int
	// Unmatched is what is kept of a message that ends UNMATCHED:
	// UnmatchedKeep (the default) everything, UnmatchedMetadata all but
	// its payload and headers, UnmatchedDrop nothing.
	Unmatched string
	// RetentionUnmatched: UNMATCHED messages older than this are purged
	// (default 24h; never later than Retention).
	RetentionUnmatched time.Duration
	// MaxStoreBytes: when the store holds more than this (see
	// storage.Store's StoreSize), webhooks get 507 until purges free
	// space (default 0: no limit).
	MaxStoreBytes int64
	// AllowPrivateTargets lets outbound HTTP reach private addresses.
	AllowPrivateTargets bool
	// TrustedProxies: only peers inside these may set the client address
	// with X-Forwarded-For (default none).
	TrustedProxies []netip.Prefix
	// AdminToken is an admin API token (SWITCHYARD_ADMIN_TOKEN). When
	// empty, the token in <DataDir>/admin-token is used, created on first
	// start.
	AdminToken string
	// SecretKey is the base64 of the 32-byte key that seals secrets at
	// rest (SWITCHYARD_SECRET_KEY); SecretKeyFile names a file holding
	// it (--secret-key-file). At most one of the two. Every node of a
	// cluster needs the same key. With neither, a bbolt store uses
	// <DataDir>/instance.key, created on first start, and a PostgreSQL
	// store refuses to start (ErrNoSecretKey): a key made in one node's
	// data directory would differ from the next node's. The store keeps a
	// value sealed with the key, and a key that cannot open it is refused
	// (ErrWrongSecretKey).
	SecretKey     string
	SecretKeyFile string
	// Workers is how many messages are processed at once (default
	// functions.DefaultWorkers: 64, or 8 per core if more).
	Workers int
	// ScriptMaxHeap is the memory limit of the script watchdog: past it
	// (live heap of the whole process), running scripts are stopped, the
	// longest-running first (default scripting.DefaultMaxHeap, 2 GiB).
	ScriptMaxHeap uint64
	// Lease is how long this node's claims on messages and deliveries
	// stay its own after a heartbeat (default DefaultLease). The node
	// heartbeats every Lease/3; one that could not for a whole Lease
	// reports not ready and stops claiming until a heartbeat succeeds.
	// Another node takes over a dead node's claims once its lease ends.
	Lease time.Duration
	// Advertise is the address other nodes and operators reach this node
	// at, as GET /api/v1/cluster lists it (default the listen address).
	Advertise string
	// Version is the version this node runs, as GET /api/v1/cluster,
	// the start log line and switchyard_build_info show it (default: the
	// build's own, internal/buildinfo).
	Version string
	// PurgeInterval is how often old messages are purged (default 1m).
	PurgeInterval time.Duration
	// IdempotencyWindow is how long POST /events remembers an
	// idempotency key (default 24h; no flag: for tests and embedders).
	IdempotencyWindow time.Duration
	// ShutdownTimeout bounds a graceful stop (default 30s).
	ShutdownTimeout time.Duration
	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger

	// storeSizeEvery is how often the store's size is measured when
	// MaxStoreBytes is set (default storeSizeEvery; tests shorten it).
	storeSizeEvery time.Duration
	// backlogEvery is how often the outbound backlog is counted (default
	// backlogEvery; tests shorten it).
	backlogEvery time.Duration
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
	DefaultRetentionUnmatched                = 24 * time.Hour
	DefaultLease                             = 30 * time.Second
	// MinLease: a shorter lease would need heartbeats faster than a
	// store reliably answers.
	MinLease               = time.Second
	DefaultShutdownTimeout = 30 * time.Second
)

// What is kept of an UNMATCHED message (Options.Unmatched).
const (
	UnmatchedKeep     = "keep"
	UnmatchedMetadata = "metadata"
	UnmatchedDrop     = "drop"
)

// unmatchedKeep is what the dispatcher keeps of an UNMATCHED message
// under each Options.Unmatched.
var unmatchedKeep = map[string]functions.Keep{
	UnmatchedKeep:     functions.KeepAll,
	UnmatchedMetadata: functions.KeepMetadata,
	UnmatchedDrop:     functions.KeepNothing,
}

// withDefaults returns o with defaults filled in, or an error naming the
// first bad field.
func (o Options) withDefaults() (Options, error) {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if _, err := ParseStore(o.Store, o.DataDir); err != nil {
		return o, err
	}
	if o.SecretKey != "" && o.SecretKeyFile != "" {
		return o, errors.New("secrets key: give SWITCHYARD_SECRET_KEY or --secret-key-file, not both")
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < 0 {
		return o, errors.New("retention must be positive")
	}
	if err := o.limitDefaults(); err != nil {
		return o, err
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
	if o.Version == "" {
		o.Version = buildinfo.Read("").Version
	}
	if o.Lease == 0 {
		o.Lease = DefaultLease
	}
	if o.Lease < MinLease {
		return o, fmt.Errorf("lease must be at least %s", MinLease)
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

// limitDefaults fills and checks the inbound limits.
func (o *Options) limitDefaults() error {
	switch {
	case o.RateLimit < 0 || math.IsNaN(o.RateLimit) || math.IsInf(o.RateLimit, 0):
		return errors.New("rate-limit must be a positive number of requests a second (0: no limit)")
	case o.RateLimitBurst < 0:
		return errors.New("rate-limit-burst must not be negative")
	case o.RateLimitBurst == 0:
		o.RateLimitBurst = max(1, int(math.Ceil(o.RateLimit)))
	}
	switch o.Unmatched {
	case "":
		o.Unmatched = UnmatchedKeep
	case UnmatchedKeep, UnmatchedMetadata, UnmatchedDrop:
	default:
		return fmt.Errorf("unmatched must be %s, %s or %s, not %q", UnmatchedKeep, UnmatchedMetadata, UnmatchedDrop, o.Unmatched)
	}
	if o.RetentionUnmatched < 0 {
		return errors.New("retention-unmatched must be positive")
	}
	if o.RetentionUnmatched == 0 {
		o.RetentionUnmatched = DefaultRetentionUnmatched
	}
	o.RetentionUnmatched = min(o.RetentionUnmatched, o.Retention)
	if o.MaxStoreBytes < 0 {
		return errors.New("max-store-bytes must not be negative (0: no limit)")
	}
	if o.storeSizeEvery <= 0 {
		o.storeSizeEvery = storeSizeEvery
	}
	if o.backlogEvery <= 0 {
		o.backlogEvery = backlogEvery
	}
	return nil
}
