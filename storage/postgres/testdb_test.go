package postgres

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// The tests run against a real PostgreSQL (internal/pgtest): each test
// in a schema of its own; skipped when the server cannot be reached,
// failed instead under SWITCHYARD_REQUIRE_PG=1 (CI).

func testURL() string { return pgtest.URL() }

// stores bounds the stores open at once across parallel tests, so that
// their pools stay within the server's max_connections.
var stores = make(chan struct{}, 8)

// clusterStores is how many stores a test of the cluster's suite opens
// at most.
const clusterStores = 3

// acquiring makes tests that take several of stores take them one test
// at a time, so that two cannot each hold some and wait for the rest.
var acquiring sync.Mutex

// acquireStores counts n stores among those open until the test ends.
func acquireStores(t testing.TB, n int) {
	acquiring.Lock()
	for range n {
		stores <- struct{}{}
	}
	acquiring.Unlock()
	t.Cleanup(func() {
		for range n {
			<-stores
		}
	})
}

// freshSchema makes an empty schema for one test and drops it after; the
// option puts a store in it.
func freshSchema(t testing.TB) (string, Option) {
	t.Helper()
	name := pgtest.FreshSchema(t)
	return name, WithSchema(name)
}

func testSealer(t testing.TB, b byte) *seal.Sealer {
	s, err := seal.New(bytes.Repeat([]byte{b}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openIn opens a store in the schema opt names, sealing with key byte b.
// It counts among the stores open at once until the test ends.
func openIn(t testing.TB, opt Option, b byte) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.PoolURL(t), testSealer(t, b), opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openTest opens a store in a fresh schema; it is closed when the test
// ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	acquireStores(t, 1)
	_, opt := freshSchema(t)
	s := openIn(t, opt, 7)
	t.Cleanup(func() { s.Close() })
	return s
}
