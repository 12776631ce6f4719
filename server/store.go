package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/postgres"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// The backends a store URL can name.
const (
	BackendBolt     = "bolt"
	BackendPostgres = "postgres"
)

// boltFile is the bbolt file's name in the data directory.
const boltFile = "switchyard.db"

// StoreLocation is where a store URL (--store) points.
type StoreLocation struct {
	Backend string // BackendBolt or BackendPostgres
	// Target is the bbolt file, or the PostgreSQL URL as given (password
	// included: print the StoreLocation, never Target).
	Target string
}

// String is the location with any password hidden, for logs and errors.
func (l StoreLocation) String() string {
	if l.Backend == BackendBolt {
		return "bolt:" + l.Target
	}
	return redactURL(l.Target)
}

// shared says whether other nodes may share the store (PostgreSQL): a
// bbolt file belongs to one process.
func (l StoreLocation) shared() bool { return l.Backend == BackendPostgres }

// ParseStore reads a store URL:
//
//	"" or "bolt"                   <dataDir>/switchyard.db
//	"bolt:<file>"                  that bbolt file (a directory: its switchyard.db)
//	"postgres://..." (or postgresql://)  that PostgreSQL database
//
// Anything else is an error, which never shows a password.
func ParseStore(store, dataDir string) (StoreLocation, error) {
	switch {
	case store == "" || store == BackendBolt:
		return StoreLocation{BackendBolt, filepath.Join(dataDir, boltFile)}, nil
	case strings.HasPrefix(store, "bolt:"):
		path := strings.TrimPrefix(store, "bolt:")
		if path == "" {
			return StoreLocation{}, errors.New("store: bolt: needs a file path (bolt:<file>), or say bolt for <data>/switchyard.db")
		}
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			path = filepath.Join(path, boltFile)
		}
		return StoreLocation{BackendBolt, path}, nil
	case strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://"):
		if _, err := url.Parse(store); err != nil {
			return StoreLocation{}, fmt.Errorf("store %s: not a URL (want postgres://user:pass@host:5432/db?sslmode=...; in the user and password, write @ : / ? # %% and spaces percent-encoded, e.g. %%40 for @)", redactURL(store))
		}
		return StoreLocation{BackendPostgres, store}, nil
	}
	return StoreLocation{}, fmt.Errorf("store %q: want bolt, bolt:<file> or postgres://user:pass@host:5432/db", redactURL(store))
}

// backend is what the server needs of the store it opens: the whole
// store, what lets nodes share it, and its commit counters for /metrics.
type backend interface {
	storage.Store
	storage.Cluster
	WriterStats() storage.WriterStats
}

// storeOpenTimeout bounds connecting to PostgreSQL and migrating its
// schema at start (nodes starting together migrate one at a time).
const storeOpenTimeout = time.Minute

// openStore opens the store at loc, sealing secrets with sealer; a
// PostgreSQL database is migrated first.
func openStore(loc StoreLocation, sealer *seal.Sealer) (backend, error) {
	if loc.Backend == BackendPostgres {
		ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
		defer cancel()
		st, err := postgres.Open(ctx, loc.Target, sealer)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", loc, err)
		}
		return st, nil
	}
	st, err := bolt.Open(loc.Target, sealer)
	if errors.Is(err, bolt.ErrInUse) {
		return nil, storeInUse(loc.Target)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// open opens the store the options name, as every node opens it: the
// secrets key from SecretKey, SecretKeyFile or the data directory (see
// secretKey), a PostgreSQL database migrated, and the key checked
// against the one the store's secrets were sealed with.
func (o Options) open() (backend, StoreLocation, error) {
	loc, err := ParseStore(o.Store, o.DataDir)
	if err != nil {
		return nil, loc, err
	}
	key, keySource, madeKey, err := o.secretKey(loc.Backend)
	if err != nil {
		return nil, loc, err
	}
	sealer, err := seal.New(key)
	if err != nil {
		return nil, loc, err
	}
	st, err := openStore(loc, sealer)
	if err != nil {
		return nil, loc, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
	defer cancel()
	err = checkSecretKey(ctx, st, sealer)
	if errors.Is(err, ErrWrongSecretKey) {
		err = wrongKey(err, loc, o.DataDir, keySource, madeKey)
	} else if err != nil {
		err = fmt.Errorf("store %s: %w", loc, err)
	}
	if err != nil {
		st.Close()
		return nil, loc, err
	}
	return st, loc, nil
}

// OpenStore opens the store that opts' Store, DataDir, SecretKey and
// SecretKeyFile name, exactly as New does, for a command that works on
// the store with no server (switchyard user create). A bbolt file that
// a running server holds is refused with bolt.ErrInUse; a PostgreSQL
// store may be opened while its nodes run. The caller closes it.
func OpenStore(opts Options) (storage.Store, StoreLocation, error) {
	if opts.DataDir == "" {
		opts.DataDir = DefaultDataDir
	}
	if opts.SecretKey != "" && opts.SecretKeyFile != "" {
		return nil, StoreLocation{}, errors.New("secrets key: give SWITCHYARD_SECRET_KEY or --secret-key-file, not both")
	}
	loc, err := ParseStore(opts.Store, opts.DataDir)
	if err != nil {
		return nil, loc, err
	}
	if loc.Backend == BackendBolt {
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return nil, loc, fmt.Errorf("data directory: %w", err)
		}
	}
	st, loc, err := opts.open()
	if err != nil {
		return nil, loc, err
	}
	return st, loc, nil
}

// passwordParam finds a password given as a parameter (?password=... in
// a URL's query, password=... in a connection string).
var passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s]*`)

// redactURL hides the passwords in a store URL (in its user info and in
// its parameters) before it reaches a log or an error.
func redactURL(s string) string {
	s = passwordParam.ReplaceAllString(s, "${1}xxxxx")
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

// storeInUse is the error of a bbolt file another process holds: it says
// so, and is still bolt.ErrInUse for callers that say more
// (switchyard user create).
type storeInUse string

func (e storeInUse) Error() string {
	return "another switchyard process holds " + string(e) + "; stop it or use another --data"
}

func (storeInUse) Unwrap() error { return bolt.ErrInUse }
