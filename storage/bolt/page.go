package bolt

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// newestFirst walks c's keys downward from just below upper (exclusive;
// nil: from the last key) to lower (inclusive; nil: to the first), the
// shape of every list page. take(k, v) decodes a record and says whether
// it joined the page; the walk stops when limit records joined or after
// maxScan keys, so that a selective filter never holds a read transaction
// for long. It returns the key to resume below (the last key looked at)
// when the walk stopped early, nil at the end.
func newestFirst(c *bolt.Cursor, upper, lower []byte, limit int, take func(k, v []byte) (bool, error)) ([]byte, error) {
	return newestFirstUntil(c, upper, lower, limit, func(scanned int) bool { return scanned == maxScan }, take)
}

// newestFirstUntil is newestFirst with its own bound: full(scanned) says
// whether the walk has read enough after scanned keys.
func newestFirstUntil(c *bolt.Cursor, upper, lower []byte, limit int, full func(scanned int) bool, take func(k, v []byte) (bool, error)) ([]byte, error) {
	var k, v []byte
	if upper == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(upper); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	var last []byte
	for scanned, taken := 0, 0; k != nil; k, v = c.Prev() {
		if lower != nil && bytes.Compare(k, lower) < 0 {
			return nil, nil
		}
		if taken == limit || full(scanned) {
			return last, nil
		}
		scanned++
		last = k
		ok, err := take(k, v)
		if err != nil {
			return nil, err
		}
		if ok {
			taken++
		}
	}
	return nil, nil
}
