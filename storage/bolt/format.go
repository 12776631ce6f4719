package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
)

// Every record the store writes (not the payloads, which carry their own
// tag, nor the settings, which are the caller's bytes, nor the DEDUPE
// expiries and index entries, fixed binary layouts) is one format-version
// byte followed by its JSON body, encoded from the disk record types of
// records.go, never from the storage types the API serialises: renaming
// an API field does not change the bytes on disk.
//
// Records written before the version byte existed begin with '{'; they
// are version 0 and their body is the same JSON as version 1's, so both
// decode alike. A later version that changes a body's shape keeps
// decoding the earlier ones (recordBody says which it is). Versions count
// up from 1 and never reach '{' (0x7B).
const formatVersion byte = 1

// formatLegacy is the first byte of a version 0 record: its JSON's.
const formatLegacy byte = '{'

// ErrUnknownFormat is returned for a record this build cannot read: one
// written by a newer Switchyard (after a downgrade), or a damaged one.
var ErrUnknownFormat = errors.New("record in an unknown format")

// recordBody returns the format version of a stored record and its body.
func recordBody(raw []byte) (version byte, body []byte, err error) {
	if len(raw) == 0 {
		return 0, nil, fmt.Errorf("%w: empty record", ErrUnknownFormat)
	}
	switch v := raw[0]; {
	case v == formatLegacy:
		return 0, raw, nil
	case v >= 1 && v <= formatVersion:
		return v, raw[1:], nil
	default:
		return 0, nil, fmt.Errorf("%w: version %d (this build reads up to %d; was the store written by a newer Switchyard?)", ErrUnknownFormat, v, formatVersion)
	}
}

// newRecord starts a record at the current format version, for the hand
// encoders of encode.go to append its body to.
func newRecord(capacity int) []byte {
	b := make([]byte, 1, capacity)
	b[0] = formatVersion
	return b
}

// encodeRecord encodes v, a disk record type, at the current format
// version. An Encoder writes the body straight after the version byte,
// where json.Marshal's result would have to be copied; it ends the body
// with a newline, which is cut.
func encodeRecord(v any) ([]byte, error) {
	buf := bytes.NewBuffer(newRecord(512))
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil
}

// decodeRecord decodes a stored record into v, a disk record type.
func decodeRecord(raw []byte, v any) error {
	_, body, err := recordBody(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

// getRecord decodes the record at k into v; storage.ErrNotFound if there
// is none.
func getRecord(b *bolt.Bucket, k []byte, v any) error {
	raw := b.Get(k)
	if raw == nil {
		return storage.ErrNotFound
	}
	return decodeRecord(raw, v)
}

// putRecord stores v, a disk record type, at k.
func putRecord(b *bolt.Bucket, k []byte, v any) error {
	raw, err := encodeRecord(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}
