package server

import (
	"context"
	"errors"
	"fmt"
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
	ErrWrongSecretKey = errors.New("the secrets key does not open this store's secrets: every node needs the same SWITCHYARD_SECRET_KEY")
)

// secretKey returns the key that seals secrets and where it came from:
// SecretKey, SecretKeyFile, or (bbolt only) <DataDir>/instance.key,
// created on first start.
func (o Options) secretKey(backend string) (key []byte, source string, err error) {
	switch {
	case o.SecretKey != "":
		source = "SWITCHYARD_SECRET_KEY"
		key, err = seal.ParseKey(o.SecretKey)
	case o.SecretKeyFile != "":
		source = "--secret-key-file " + o.SecretKeyFile
		key, err = seal.ReadKeyFile(o.SecretKeyFile)
	case backend == BackendPostgres:
		return nil, "", ErrNoSecretKey
	default:
		source = filepath.Join(o.DataDir, seal.KeyFile)
		key, err = seal.LoadKey(o.DataDir, "")
	}
	if err != nil {
		return nil, "", fmt.Errorf("secrets key (%s): %w", source, err)
	}
	return key, source, nil
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
