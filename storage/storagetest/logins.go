package storagetest

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// LoginsOpener prepares an empty database for one test and returns how
// to open stores on it: each call opens another one on that same
// database, as another node would, closed when the test ends.
type LoginsOpener func(t *testing.T) (open func() storage.LoginLimits)

// RunLogins runs the tests of the shared sign-in limits
// (storage.LoginLimits) against a backend that offers them.
func RunLogins(t *testing.T, open LoginsOpener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open func() storage.LoginLimits)
	}{
		{"LoginBuckets", testLoginBuckets},
		{"LoginKnownAddresses", testLoginKnownAddresses},
		{"PurgeLoginBuckets", testPurgeLoginBuckets},
		{"ConcurrentLoginFailures", testConcurrentLoginFailures},
		{"LoginsAcrossNodes", testLoginsAcrossNodes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opener := open(t)
			defer failed(t)
			tc.fn(t, opener)
		})
	}
}

// loginEvery is the refill period the tests give: an attempt per 6 s.
const loginEvery = 6 * time.Second

// leftOf answers what each bucket has left at now.
func leftOf(t *testing.T, s storage.LoginLimits, now time.Time, buckets ...storage.LoginBucket) []float64 {
	t.Helper()
	left, _, err := s.LoginFailures(ctx(t), now, loginEvery, buckets, "name", "addr")
	check(err)
	return left
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// testLoginBuckets: a bucket starts full, loses one attempt per failure
// and no more than twice its burst, refills one attempt per period (not
// when the clock goes back), and is answered in the order asked.
func testLoginBuckets(t *testing.T, open func() storage.LoginLimits) {
	s := open()
	now := time.Unix(1_900_000_000, 0)
	small, big := storage.LoginBucket{Key: "a\x00small", Burst: 3}, storage.LoginBucket{Key: "n\x00big", Burst: 30}
	if left := leftOf(t, s, now, big, small); len(left) != 2 || left[0] != 30 || left[1] != 3 {
		t.Fatalf("new buckets: %v, want [30 3]", left)
	}
	for range 2 {
		check(s.RecordLoginFailure(ctx(t), now, loginEvery, []storage.LoginBucket{small, big}))
	}
	if left := leftOf(t, s, now, small, big); left[0] != 1 || left[1] != 28 {
		t.Fatalf("after two failures: %v, want [1 28]", left)
	}
	for range 10 {
		check(s.RecordLoginFailure(ctx(t), now, loginEvery, []storage.LoginBucket{small}))
	}
	if left := leftOf(t, s, now, small); left[0] != -3 {
		t.Fatalf("after twelve failures: %v, want -3 (minus the burst)", left)
	}
	if left := leftOf(t, s, now.Add(-time.Hour), small); left[0] != -3 {
		t.Fatalf("an earlier clock: %v, want -3 (no refill)", left)
	}
	if left := leftOf(t, s, now.Add(9*time.Second), small); !near(left[0], -1.5) {
		t.Fatalf("9 s later: %v, want -1.5", left)
	}
	if left := leftOf(t, s, now.Add(time.Hour), small, big); left[0] != 3 || left[1] != 30 {
		t.Fatalf("an hour later: %v, want full [3 30]", left)
	}
	// A failure 9 s later spends from the refilled bucket.
	check(s.RecordLoginFailure(ctx(t), now.Add(9*time.Second), loginEvery, []storage.LoginBucket{small}))
	if left := leftOf(t, s, now.Add(9*time.Second), small); !near(left[0], -2.5) {
		t.Fatalf("a failure 9 s later: %v, want -2.5", left)
	}
}

// testLoginKnownAddresses: a name is known at the addresses it signed in
// from, the keep latest of them.
func testLoginKnownAddresses(t *testing.T, open func() storage.LoginLimits) {
	s := open()
	now := time.Unix(1_900_000_000, 0)
	known := func(name, addr string) bool {
		_, k, err := s.LoginFailures(ctx(t), now, loginEvery, nil, name, addr)
		check(err)
		return k
	}
	if known("dora", "192.0.2.1") {
		t.Fatal("an address no one signed in from is known")
	}
	const keep = 3
	for i := range keep {
		check(s.RecordLoginSuccess(ctx(t), now.Add(time.Duration(i)*time.Second), "dora", fmt.Sprint("192.0.2.", i), keep))
	}
	// The oldest signs in again: it is the newest now.
	check(s.RecordLoginSuccess(ctx(t), now.Add(10*time.Second), "dora", "192.0.2.0", keep))
	check(s.RecordLoginSuccess(ctx(t), now.Add(11*time.Second), "dora", "192.0.2.9", keep))
	for addr, want := range map[string]bool{"192.0.2.0": true, "192.0.2.1": false, "192.0.2.2": true, "192.0.2.9": true} {
		if got := known("dora", addr); got != want {
			t.Errorf("dora known at %s: %v, want %v", addr, got, want)
		}
	}
	if known("erin", "192.0.2.0") {
		t.Error("an address is known for another name")
	}
}

// testPurgeLoginBuckets: the purge forgets the buckets full again, and
// only those.
func testPurgeLoginBuckets(t *testing.T, open func() storage.LoginLimits) {
	s := open()
	now := time.Unix(1_900_000_000, 0)
	one, locked := storage.LoginBucket{Key: "one", Burst: 10}, storage.LoginBucket{Key: "locked", Burst: 10}
	check(s.RecordLoginFailure(ctx(t), now, loginEvery, []storage.LoginBucket{one}))
	for range 10 {
		check(s.RecordLoginFailure(ctx(t), now, loginEvery, []storage.LoginBucket{locked}))
	}
	// 7 s later, one is full again; locked has one attempt back.
	later := now.Add(7 * time.Second)
	if n := must(s.PurgeLoginBuckets(ctx(t), later, 100)); n != 1 {
		t.Fatalf("purged %d buckets, want 1", n)
	}
	if left := leftOf(t, s, later, one, locked); left[0] != 10 || !near(left[1], 7.0/6) {
		t.Fatalf("after the purge: %v, want [10 1.1667]", left)
	}
	if n := must(s.PurgeLoginBuckets(ctx(t), now.Add(time.Hour), 100)); n != 1 {
		t.Fatalf("an hour later, purged %d buckets, want 1", n)
	}
}

// testConcurrentLoginFailures: failures recorded at once all count.
func testConcurrentLoginFailures(t *testing.T, open func() storage.LoginLimits) {
	s := open()
	now := time.Unix(1_900_000_000, 0)
	b := []storage.LoginBucket{{Key: "addr", Burst: 100}, {Key: "name", Burst: 100}}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { check(s.RecordLoginFailure(ctx(t), now, loginEvery, b)) })
	}
	wg.Wait()
	if left := leftOf(t, s, now, b...); left[0] != 68 || left[1] != 68 {
		t.Fatalf("after 32 concurrent failures: %v, want [68 68]", left)
	}
}

// testLoginsAcrossNodes: what one node records, another node reads.
func testLoginsAcrossNodes(t *testing.T, open func() storage.LoginLimits) {
	a, b := open(), open()
	now := time.Unix(1_900_000_000, 0)
	bucket := storage.LoginBucket{Key: "addr", Burst: 10}
	for range 5 {
		check(a.RecordLoginFailure(ctx(t), now, loginEvery, []storage.LoginBucket{bucket}))
		check(b.RecordLoginFailure(ctx(t), now, loginEvery, []storage.LoginBucket{bucket}))
	}
	check(a.RecordLoginSuccess(ctx(t), now, "dora", "192.0.2.1", 8))
	left, known, err := b.LoginFailures(ctx(t), now, loginEvery, []storage.LoginBucket{bucket}, "dora", "192.0.2.1")
	check(err)
	if left[0] != 0 || !known {
		t.Fatalf("on the other node: %v known %v, want [0] and known", left, known)
	}
}
