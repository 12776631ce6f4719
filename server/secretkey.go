package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchyard-dev/switchyard/storage/seal"
)

var (
	// ErrNoSecretKey: a PostgreSQL store was given no secrets key. A
	// cluster's nodes must share one, so none is made up.
	ErrNoSecretKey = errors.New("a PostgreSQL store needs the secrets key that every node shares: " +
		"set SWITCHYARD_SECRET_KEY to its base64, or pass --secret-key-file with a file holding it; " +
		"for a store other nodes already use, or one copied from bbolt, that is their key (the bbolt node's instance.key), " +
		"and only for a new cluster a new one (`openssl rand -base64 32`); the same on every node")
	// ErrWrongSecretKey: the secrets key cannot open the check value the
	// store was sealed with, so it could open none of its secrets.
	// The error says more: for PostgreSQL that every node needs the same
	// key, for bbolt to put back the instance.key the store was made with.
	ErrWrongSecretKey = errors.New("the secrets key does not open this store's secrets")
)

// secretKey returns the key that seals secrets and where it came from:
// SecretKey, SecretKeyFile, or (bbolt only) <DataDir>/instance.key,
// created on first start; made is that file's path when this call
// created it.
func (o Options) secretKey(backend string) (key []byte, source, made string, err error) {
	switch {
	case o.SecretKey != "":
		source = "SWITCHYARD_SECRET_KEY"
		key, err = seal.ParseKey(o.SecretKey)
	case o.SecretKeyFile != "":
		source = "--secret-key-file " + o.SecretKeyFile
		key, err = seal.ReadKeyFile(o.SecretKeyFile)
	case backend == BackendPostgres:
		return nil, "", "", ErrNoSecretKey
	default:
		source = filepath.Join(o.DataDir, seal.KeyFile)
		if _, serr := os.Stat(source); errors.Is(serr, os.ErrNotExist) {
			made = source
		}
		key, err = seal.LoadKey(o.DataDir, "")
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("secrets key (%s): %w", source, err)
	}
	return key, source, made, nil
}

// wrongKey says what to do about a key that does not open the store at
// loc (err is ErrWrongSecretKey): a cluster's nodes share one key; a
// bbolt store, restored without its instance.key, needs that file back.
// A key file made by this very start (made) is removed again, so that
// the next start does not take the wrong key for the store's.
func wrongKey(err error, loc StoreLocation, dataDir, source, made string) error {
	if loc.Backend != BackendBolt {
		return fmt.Errorf("%w: every node needs the same SWITCHYARD_SECRET_KEY (this node's key comes from %s)", err, source)
	}
	hint := fmt.Sprintf("this store's secrets were sealed with another key: put the %s it was made with beside %s, in %s (or give SWITCHYARD_SECRET_KEY / --secret-key-file)",
		seal.KeyFile, filepath.Base(loc.Target), dataDir)
	if made == "" {
		return fmt.Errorf("%w: %s (this node's key comes from %s)", err, hint, source)
	}
	if rerr := os.Remove(made); rerr != nil {
		return fmt.Errorf("%w: %s (the key made now, %s, could not be removed: %v)", err, hint, made, rerr)
	}
	return fmt.Errorf("%w: %s (the new key this start made was removed again)", err, hint)
}

// The check value: a known text sealed with the secrets key, kept in the
// store's settings.
const (
	secretsCheckSetting = "secrets_check"
	secretsCheckText    = "switchyard secrets key check"
)

var secretsCheckAAD = []byte(secretsCheckSetting)

// settings is the part of the store the check value lives in.
type settings interface {
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
}

// checkSecretKey makes sure that sealer's key is the one the store's
// secrets were sealed with. A store that has no check value yet (new, or
// made before there was one) gets one now and is never refused. The
// value is kept in one step: of two nodes opening a new store at once
// with different keys, one keeps its value and the other is refused.
func checkSecretKey(ctx context.Context, st settings, sealer *seal.Sealer) error {
	v, err := st.InitSetting(ctx, secretsCheckSetting, sealer.Seal([]byte(secretsCheckText), secretsCheckAAD))
	if err != nil {
		return fmt.Errorf("record the secrets key's check value: %w", err)
	}
	if got, err := sealer.Open(v, secretsCheckAAD); err != nil || string(got) != secretsCheckText {
		return ErrWrongSecretKey
	}
	return nil
}
