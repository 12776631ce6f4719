package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// versionKey is the owner's 16-byte key followed by the version, big
// endian, so one owner's versions are adjacent and in order.
func versionKey(owner []byte, version int) []byte {
	k := make([]byte, 20)
	copy(k, owner)
	binary.BigEndian.PutUint32(k[16:], uint32(version))
	return k
}

// putVersion records a saved script.
func putVersion(tx *bolt.Tx, owner []byte, version int, script string, at time.Time) error {
	return putRecord(tx.Bucket(bucketVersions), versionKey(owner, version),
		diskScriptVersion{Version: version, Script: script, SavedAt: at})
}

// deleteVersions removes every version of owner.
func deleteVersions(tx *bolt.Tx, owner []byte) error {
	c := tx.Bucket(bucketVersions).Cursor()
	for k, _ := c.Seek(owner); k != nil && bytes.HasPrefix(k, owner); k, _ = c.Seek(owner) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// ownerExists reports whether id is a provider or a function.
func ownerExists(tx *bolt.Tx, k []byte) bool {
	return tx.Bucket(bucketProviders).Get(k) != nil || tx.Bucket(bucketFunctions).Get(k) != nil
}

// readVersions decodes every saved version of owner, oldest first.
func readVersions(tx *bolt.Tx, owner []byte) ([]storage.ScriptVersion, error) {
	var out []storage.ScriptVersion
	c := tx.Bucket(bucketVersions).Cursor()
	for vk, v := c.Seek(owner); vk != nil && bytes.HasPrefix(vk, owner); vk, v = c.Next() {
		var sv diskScriptVersion
		if err := decodeRecord(v, &sv); err != nil {
			return nil, fmt.Errorf("version %s/%d: %w", idOf(owner), binary.BigEndian.Uint32(vk[16:]), err)
		}
		out = append(out, storage.ScriptVersion(sv))
	}
	return out, nil
}

// ScriptVersions lists the saved scripts of a provider or function, newest
// first.
func (s *Store) ScriptVersions(ctx context.Context, id string) ([]storage.ScriptVersion, error) {
	k, err := key(id)
	if err != nil {
		return nil, fmt.Errorf("script versions: %w", err)
	}
	var out []storage.ScriptVersion
	err = s.view(ctx, func(tx *bolt.Tx) (err error) {
		if !ownerExists(tx, k) {
			return storage.ErrNotFound
		}
		out, err = readVersions(tx, k)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("script versions of %s: %w", id, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// GetScriptVersion returns one saved version.
func (s *Store) GetScriptVersion(ctx context.Context, id string, version int) (storage.ScriptVersion, error) {
	k, err := key(id)
	if err != nil {
		return storage.ScriptVersion{}, fmt.Errorf("script version: %w", err)
	}
	var sv diskScriptVersion
	err = s.view(ctx, func(tx *bolt.Tx) error {
		if version < 1 {
			return storage.ErrNotFound
		}
		return getRecord(tx.Bucket(bucketVersions), versionKey(k, version), &sv)
	})
	if err != nil {
		return storage.ScriptVersion{}, fmt.Errorf("version %d of %s: %w", version, id, err)
	}
	return storage.ScriptVersion(sv), nil
}
