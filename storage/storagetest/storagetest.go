// Package storagetest is the conformance suite every storage backend runs:
// the same test bodies against bolt and postgres.
//
// The suite is cut by the parts of the store that its consumers use, so
// that a new backend can pass it one part at a time: RunFunctions,
// RunDedupe, RunNotify, RunAccess, RunAudit and RunLifecycle each take a
// constructor of only the interface they test, and Run runs them all on
// a whole storage.Store. RunNode and RunCluster check storage.Cluster:
// what one node can check alone, and what takes several nodes on one
// database.
//
// A part's interface is what its consumers declare (functions.Store and
// functions.CatalogueStore, scripting.Deduper, notify.Store,
// access.Store), imported from their packages so that the suite tests
// exactly what they take, and what the server alone uses of that part
// (the admin API's reads and edits, the retention purges, the audit
// log), which is listed here: the server holds the whole store, and
// storagetest cannot import it (server imports storage/bolt, whose tests
// import storagetest). As storagetest imports the consumers, their own
// tests import it from external test packages (package functions_test),
// never from inside the package (an import cycle).
package storagetest

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// Opener opens a fresh, empty store for one test; the suite closes it.
type Opener func(t *testing.T) storage.Store

// Run runs the whole suite, every part, against the backend that open
// returns.
func Run(t *testing.T, open Opener) {
	RunFunctions(t, func(t *testing.T) Functions { return open(t) })
	RunDedupe(t, func(t *testing.T) Dedupe { return open(t) })
	RunNotify(t, func(t *testing.T) Notify { return open(t) })
	RunAccess(t, func(t *testing.T) access.Store { return open(t) })
	RunAudit(t, func(t *testing.T) Audit { return open(t) })
	RunLifecycle(t, func(t *testing.T) Lifecycle { return open(t) })
	RunLimits(t, open)
}

// RunLimits runs the tests of the store's bounds (PurgeUnmatched,
// StoreSize) against the backend that open returns.
func RunLimits(t *testing.T, open Opener) {
	type store = interface {
		Functions
		Limits
	}
	run(t, func(t *testing.T) store { return open(t) }, []test[store]{
		{"PurgeUnmatched", testPurgeUnmatched},
		{"StoreSize", testStoreSize},
	})
}

// Lifecycle is what the server alone uses of the store as a whole:
// whether it answers (readiness), the values a node sets once at start
// (the secrets key's check value), and closing it.
type Lifecycle interface {
	Ping(ctx context.Context) error
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
	io.Closer
}

// RunLifecycle runs the tests of Ping and Close against the backend that
// open returns.
func RunLifecycle(t *testing.T, open func(t *testing.T) Lifecycle) {
	run(t, open, []test[Lifecycle]{
		{"Ping", testPing},
		{"InitSetting", testInitSetting},
	})
}

// testPing: an open store answers, a closed one says so, and closing
// twice is harmless.
func testPing(t *testing.T, s Lifecycle) {
	check(s.Ping(ctx(t)))
	check(s.Close())
	wantErr(t, "Ping after Close", s.Ping(ctx(t)), storage.ErrClosed)
	check(s.Close())
}

// testInitSetting: the first value kept is the one every later call,
// and every call racing it, gets back.
func testInitSetting(t *testing.T, s Lifecycle) {
	if got := must(s.InitSetting(ctx(t), "check", []byte("first"))); string(got) != "first" {
		t.Fatalf("first InitSetting kept %q", got)
	}
	if got := must(s.InitSetting(ctx(t), "check", []byte("second"))); string(got) != "first" {
		t.Fatalf("InitSetting over a set name returned %q, want the first value", got)
	}
	if got := must(s.InitSetting(ctx(t), "empty", nil)); got == nil || len(got) != 0 {
		t.Fatalf("InitSetting of nothing returned %#v, want an empty, non-nil value", got)
	}
	_, err := s.InitSetting(ctx(t), "", []byte("x"))
	wantErr(t, "InitSetting with no name", err, storage.ErrInvalid)

	// Racing callers all get one value, one of theirs.
	const n = 8
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := s.InitSetting(context.Background(), "race", []byte{byte('a' + i)})
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = string(v)
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || len(got[0]) != 1 || got[0][0] < 'a' || got[0][0] >= 'a'+n {
			t.Fatalf("racing InitSetting calls got %q", got)
		}
	}
}

// The parts together are the whole store: every method of storage.Store
// is in the interface of one part or another (storage.Cluster's are
// checked by RunNode and RunCluster).
var _ storage.Store = (interface {
	Functions
	Dedupe
	Notify
	access.Store
	Audit
	Lifecycle
	Limits
	storage.Cluster
})(nil)

// test is one test of a part, run on a store of the part's interface S.
type test[S any] struct {
	name string
	fn   func(t *testing.T, s S)
}

// run runs each test in parallel on a fresh store from open, and closes
// the store afterwards if it has a Close method.
func run[S any](t *testing.T, open func(t *testing.T) S, tests []test[S]) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if c, ok := any(s).(io.Closer); ok {
				t.Cleanup(func() { c.Close() })
			}
			defer failed(t)
			tc.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// failure carries an unexpected error from must/check to the test's
// recover in run, which fails the test with it.
type failure struct{ err error }

// failed, deferred by a test, fails it with the error of a failure that
// must or check raised; other panics go on.
func failed(t *testing.T) {
	if r := recover(); r != nil {
		f, ok := r.(failure)
		if !ok {
			panic(r)
		}
		t.Fatalf("unexpected error: %v", f.err)
	}
}

func must[T any](v T, err error) T {
	check(err)
	return v
}

func check(err error) {
	if err != nil {
		panic(failure{err})
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: want %v, got %v", what, want, err)
	}
}
