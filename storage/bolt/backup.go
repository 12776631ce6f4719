package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Backups. A bbolt read transaction sees the file as of one commit, and
// Tx.WriteTo writes that view out as a whole bbolt file, while writes go
// on beside it. Only one process can open the file at a time (bbolt locks
// it), so a store being served is backed up through its server (Backup);
// one that is not, straight from its file (BackupFile).
//
// While a backup runs, the pages its transaction sees stay in the file,
// which grows by what is written meanwhile; and should the file outgrow
// its memory map (1 GiB, then doubling), writes wait for the backup to end.

// ErrInUse: another process (a running switchyard serve) holds the file.
var ErrInUse = errors.New("the bbolt file is in use by another process")

// Backup calls fn with a consistent snapshot of the store: its size in
// bytes, and a WriterTo that writes exactly that many (a bbolt file). The
// snapshot lives until fn returns; writes go on meanwhile.
func (s *Store) Backup(ctx context.Context, fn func(size int64, snapshot io.WriterTo) error) error {
	return s.view(ctx, func(tx *bolt.Tx) error { return fn(tx.Size(), tx) })
}

// BackupFile is Backup for a file no process serves: it opens it read
// only, which fails with ErrInUse (after a second) while one does.
func BackupFile(path string, fn func(size int64, snapshot io.WriterTo) error) error {
	db, err := openReadOnly(path)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error { return fn(tx.Size(), tx) })
}

// CheckFile checks that the bbolt file at path opens and that its pages
// are consistent (bbolt's Tx.Check), and that it holds a store's buckets.
func CheckFile(path string) error {
	db, err := openReadOnly(path)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var damage error
		for err := range tx.Check() { // read to the end: the check runs until then
			if damage == nil {
				damage = fmt.Errorf("bolt: %s is damaged: %w", path, err)
			}
		}
		if damage != nil {
			return damage
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil && !slices.ContainsFunc(laterBuckets, func(b []byte) bool { return bytes.Equal(b, name) }) {
				return fmt.Errorf("bolt: %s is not a Switchyard store: it has no %s bucket", path, name)
			}
		}
		return nil
	})
}

func openReadOnly(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

// openError says why the file at path could not be opened: ErrInUse when
// bbolt timed out waiting for another process's lock on it.
func openError(path string, err error) error {
	if errors.Is(err, berrors.ErrTimeout) {
		err = ErrInUse
	}
	return fmt.Errorf("bolt: open %s: %w", path, err)
}
