package storagetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// ClusterOpener prepares an empty database for one test and returns how
// to open nodes on it: each call opens another store on that same
// database, acting for a node of its own. The suite closes them.
type ClusterOpener func(t *testing.T) (open func() Node)

// RunCluster runs the tests that take several nodes sharing one database
// (RunNode has those of a single node) against the backend that open
// returns.
func RunCluster(t *testing.T, open ClusterOpener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open func() Node)
	}{
		{"NoLease", testNoLease},
		{"MessagesStayWithTheirNode", testMessagesStayWithTheirNode},
		{"ForgetNodeFreesClaims", testForgetNodeFreesClaims},
		{"ConcurrentClaimPending", testConcurrentClaimPending},
		{"ConcurrentClaimDue", testConcurrentClaimDue},
		{"DeliveriesOfADeadNode", testDeliveriesOfADeadNode},
		{"ConcurrencyAcrossNodes", testConcurrencyAcrossNodes},
		{"RateLimitAcrossNodes", testRateLimitAcrossNodes},
		{"ChangeFeed", testChangeFeed},
		{"TryLockAcrossNodes", testTryLockAcrossNodes},
		{"Nodes", testNodes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opener := open(t)
			nodes := func() Node {
				s := opener()
				t.Cleanup(func() { s.Close() })
				return s
			}
			defer failed(t)
			tc.fn(t, nodes)
		})
	}
}

// leaseShort is a lease that ends within a test, soon.
const leaseShort = time.Second

// leaseEnds waits until s's node is no longer live (after a heartbeat
// with leaseShort), as the other node sees it.
func leaseEnds(t *testing.T, s, other Node) {
	t.Helper()
	must(s.Heartbeat(ctx(t), storage.Node{}, leaseShort))
	eventually(t, 15*time.Second, "the node's lease ends", func() bool {
		return !slices.Contains(nodeIDs(must(other.Nodes(ctx(t)))), s.NodeID())
	})
}

func testNoLease(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	if a.NodeID() == b.NodeID() {
		t.Fatalf("two stores act for one node %s", a.NodeID())
	}
	check(a.AppendMessage(ctx(t), NewMessage(t, time.Now(), "u"), nil))
	dueNow(t, a, 1, "", "callback:example.com")
	// b never sent a heartbeat: it may claim nothing, though a's message
	// and the delivery are there.
	_, err := b.ClaimPending(ctx(t), "", 10)
	errNoLease(t, "claim pending without a heartbeat", err)
	_, err = b.ClaimDue(ctx(t), time.Now(), func(string) int { return 10 })
	errNoLease(t, "claim due without a heartbeat", err)
	// Once its lease ends, a node may claim nothing either, even its own.
	leaseEnds(t, a, b)
	_, err = a.ClaimPending(ctx(t), "", 10)
	errNoLease(t, "claim pending after the lease", err)
	_, err = a.ClaimDue(ctx(t), time.Now(), func(string) int { return 10 })
	errNoLease(t, "claim due after the lease", err)
	live(t, a)
	if got := must(a.ClaimPending(ctx(t), "", 10)); len(got) != 1 {
		t.Fatalf("live again, the node claims %d messages, want its 1", len(got))
	}
}

func testMessagesStayWithTheirNode(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	live(t, b)
	m1, m2 := NewMessage(t, time.Now(), "u"), NewMessage(t, time.Now().Add(time.Millisecond), "u")
	check(a.AppendMessage(ctx(t), m1, nil))
	check(a.AppendMessage(ctx(t), m2, nil))
	// The node that received them holds them while it lives.
	if got := must(b.ClaimPending(ctx(t), "", 10)); len(got) != 0 {
		t.Fatalf("another node claimed %d of a live node's messages", len(got))
	}
	if got := must(a.ClaimPending(ctx(t), "", 10)); len(got) != 2 || got[0].ID != m1.ID {
		t.Fatalf("the receiving node claims %v, want its two", got)
	}
	leaseEnds(t, a, b)
	got := must(b.ClaimPending(ctx(t), "", 10))
	if len(got) != 2 || got[0].ID != m1.ID || got[1].ID != m2.ID {
		t.Fatalf("after the lease ended, the other node claims %v, want both, oldest first", got)
	}
	// They are b's now: a, live again, does not get them back.
	live(t, a)
	if got := must(a.ClaimPending(ctx(t), "", 10)); len(got) != 0 {
		t.Fatalf("the first node took back %d messages the second holds", len(got))
	}
	// Completed, a message is nobody's work.
	check(b.CompleteMessage(ctx(t), m1.ID, storage.Outcome{Status: storage.StatusSuccess, CompletedAt: time.Now()}))
	if got := must(b.ClaimPending(ctx(t), "", 10)); len(got) != 1 || got[0].ID != m2.ID {
		t.Fatalf("after one is completed: %v", got)
	}
}

func testForgetNodeFreesClaims(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	live(t, b)
	m := NewMessage(t, time.Now(), "u")
	check(a.AppendMessage(ctx(t), m, nil))
	dueNow(t, a, 1, "", "callback:example.com")
	if got := claimAll(t, a); len(got) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(got))
	}
	if got := must(b.ClaimPending(ctx(t), "", 10)); len(got) != 0 {
		t.Fatalf("claimed a live node's message")
	}
	if got := claimAll(t, b); len(got) != 0 {
		t.Fatalf("claimed a live node's delivery")
	}
	// A node that stops frees its claims at once, without waiting for its
	// lease.
	check(a.ForgetNode(ctx(t)))
	if ns := nodeIDs(must(b.Nodes(ctx(t)))); !slices.Equal(ns, []string{b.NodeID()}) {
		t.Fatalf("nodes after a node is forgotten: %v", ns)
	}
	if got := must(b.ClaimPending(ctx(t), "", 10)); len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("after the node is forgotten: claimed %v", got)
	}
	if got := claimAll(t, b); len(got) != 1 {
		t.Fatalf("after the node is forgotten: claimed %d deliveries, want 1", len(got))
	}
}

// claimers runs fn for each of nodes in perNode goroutines and waits for
// them all; fn's errors fail the test.
func claimers(t *testing.T, nodes []Node, perNode int, fn func(n Node) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(nodes)*perNode)
	for _, n := range nodes {
		for range perNode {
			wg.Go(func() { errs <- fn(n) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func testConcurrentClaimPending(t *testing.T, open func() Node) {
	a, b, receiver := open(), open(), open()
	live(t, a)
	live(t, b)
	// The receiving node never sends a heartbeat: its messages are free
	// for the others from the start.
	const n = 300
	var all []storage.Message
	for i := range n {
		all = append(all, NewMessage(t, time.Now().Add(time.Duration(i)*time.Millisecond), "u"))
	}
	next := atomic.Int32{}
	claimers(t, []Node{receiver}, 8, func(s Node) error {
		for i := next.Add(1) - 1; i < n; i = next.Add(1) - 1 {
			if err := s.AppendMessage(context.Background(), all[i], nil); err != nil {
				return err
			}
		}
		return nil
	})
	var mu sync.Mutex
	claimedBy := map[string]map[string]bool{} // message id -> nodes
	claimers(t, []Node{a, b}, 4, func(s Node) error {
		after := ""
		for {
			page, err := s.ClaimPending(context.Background(), after, 16)
			if err != nil || len(page) == 0 {
				return err
			}
			mu.Lock()
			for _, m := range page {
				if claimedBy[m.ID] == nil {
					claimedBy[m.ID] = map[string]bool{}
				}
				claimedBy[m.ID][s.NodeID()] = true
			}
			mu.Unlock()
			after = page[len(page)-1].ID
		}
	})
	perNode := map[string]int{}
	for _, m := range all {
		by := claimedBy[m.ID]
		if len(by) != 1 {
			t.Fatalf("message %s was claimed by %d nodes, want 1", m.ID, len(by))
		}
		for node := range by {
			perNode[node]++
		}
	}
	t.Logf("claimed by node: %v", perNode)
}

func testConcurrentClaimDue(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	live(t, b)
	var all []storage.Delivery
	for i := range 4 {
		all = append(all, dueNow(t, a, 50, "", fmt.Sprint("callback:host-", i))...)
	}
	// Nothing is recorded: every delivery stays held by the node that
	// claimed it, so each is handed out once in all.
	var mu sync.Mutex
	got := map[string]int{}
	claimers(t, []Node{a, b}, 3, func(s Node) error {
		for {
			ds, err := s.ClaimDue(context.Background(), time.Now(), func(string) int { return 7 })
			if err != nil || len(ds) == 0 {
				return err
			}
			mu.Lock()
			for _, d := range ds {
				got[d.ID]++
			}
			mu.Unlock()
		}
	})
	for _, d := range all {
		if got[d.ID] != 1 {
			t.Fatalf("delivery %s was handed out %d times, want once", d.ID, got[d.ID])
		}
	}
}

func testDeliveriesOfADeadNode(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	live(t, b)
	ds := dueNow(t, a, 2, "", "callback:example.com")
	if got := must(a.ClaimDue(ctx(t), time.Now(), func(string) int { return 1 })); !sameIDs(got, ds[0].ID) {
		t.Fatalf("claimed %v", ids(got))
	}
	if got := claimAll(t, b); !sameIDs(got, ds[1].ID) {
		t.Fatalf("the other node claimed %v, want only the one not held", ids(got))
	}
	leaseEnds(t, a, b)
	// A dead node's claims are free; its attempt may have been made, so
	// this is at least once across a node's death.
	if got := claimAll(t, b); !sameIDs(got, ds[0].ID) {
		t.Fatalf("after the node's lease: claimed %v, want the dead node's", ids(got))
	}
}

func testConcurrencyAcrossNodes(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	live(t, b)
	ep := endpointWith(t, a, 1, 0)
	ds := dueNow(t, a, 2, ep.ID, "")
	if got := claimAll(t, a); !sameIDs(got, ds[0].ID) {
		t.Fatalf("claimed %v", ids(got))
	}
	if got := claimAll(t, b); len(got) != 0 {
		t.Fatalf("concurrency 1, one in flight on another node: claimed %v", ids(got))
	}
	succeed(t, a, ds[0].ID)
	if got := claimAll(t, b); !sameIDs(got, ds[1].ID) {
		t.Fatalf("once the first is recorded: claimed %v", ids(got))
	}
	succeed(t, b, ds[1].ID)

	// Both nodes at once, each in several goroutines: never two in
	// flight.
	const n = 12
	more := dueNow(t, a, n, ep.ID, "")
	var inFlight, most, done atomic.Int32
	got := make([]atomic.Int32, n)
	index := map[string]int{}
	for i, d := range more {
		index[d.ID] = i
	}
	deadline := time.Now().Add(60 * time.Second)
	claimers(t, []Node{a, b}, 2, func(s Node) error {
		for done.Load() < n {
			if time.Now().After(deadline) {
				return fmt.Errorf("%d of %d deliveries done in a minute", done.Load(), n)
			}
			claimed, err := s.ClaimDue(context.Background(), time.Now(), func(string) int { return 5 })
			if err != nil {
				return err
			}
			for _, d := range claimed {
				now := inFlight.Add(1)
				for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
				}
				got[index[d.ID]].Add(1)
				time.Sleep(2 * time.Millisecond) // the request
				inFlight.Add(-1)
				_, err := s.RecordAttempt(context.Background(), d.ID, storage.Attempt{At: time.Now(), Status: 200},
					storage.DeliveryUpdate{Status: storage.DeliverySuccess})
				if err != nil {
					return err
				}
				done.Add(1)
			}
		}
		return nil
	})
	if most.Load() != 1 {
		t.Fatalf("%d deliveries of an endpoint of concurrency 1 were in flight at once", most.Load())
	}
	for i := range got {
		if got[i].Load() != 1 {
			t.Fatalf("delivery %d was handed out %d times", i, got[i].Load())
		}
	}
}

func testRateLimitAcrossNodes(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	live(t, b)
	const rate, window = 5, 1500 * time.Millisecond
	ep := endpointWith(t, a, 100, rate)
	dueNow(t, a, 200, ep.ID, "")
	var claimed atomic.Int32
	start := time.Now()
	claimers(t, []Node{a, b}, 2, func(s Node) error {
		for time.Since(start) < window {
			ds, err := s.ClaimDue(context.Background(), time.Now(), func(string) int { return 50 })
			if err != nil {
				return err
			}
			claimed.Add(int32(len(ds)))
			for _, d := range ds {
				if _, err := s.RecordAttempt(context.Background(), d.ID, storage.Attempt{At: time.Now(), Status: 200},
					storage.DeliveryUpdate{Status: storage.DeliverySuccess}); err != nil {
					return err
				}
			}
			time.Sleep(10 * time.Millisecond) // the scheduler's next round
		}
		return nil
	})
	elapsed := time.Since(start).Seconds()
	// The bucket holds a burst of `rate` and gains `rate` a second, for
	// the whole cluster: a bucket per node would give twice as many.
	most := rate + rate*elapsed + 1
	if n := float64(claimed.Load()); n > most || n < rate {
		t.Fatalf("%v deliveries claimed in %.2fs at %d/s by two nodes, want from %d to %.1f", n, elapsed, rate, rate, most)
	}
}

func testChangeFeed(t *testing.T, open func() Node) {
	a, b := open(), open()
	heard := make(chan string, 100)
	watchCtx, stop := context.WithCancel(context.Background())
	watched := make(chan error, 1)
	go func() { watched <- b.Watch(watchCtx, func(kind string) { heard <- kind }) }()
	// Listening, the watch calls for every kind once (what changed before
	// is unknown).
	initial := map[string]bool{}
	timeout := time.After(15 * time.Second)
	for len(initial) < len(storage.ChangeKinds) {
		select {
		case kind := <-heard:
			initial[kind] = true
		case err := <-watched:
			t.Fatalf("watch returned at once: %v", err)
		case <-timeout:
			t.Fatalf("the watch called for %v only, want every kind", initial)
		}
	}
	before := must(b.Changes(ctx(t)))
	for _, w := range []struct {
		kind  string
		write func()
	}{
		{storage.ChangeCatalogue, func() { must(a.CreateProvider(ctx(t), storage.Provider{Name: "GitHub", MatchScript: "true"})) }},
		{storage.ChangeSettings, func() { check(a.PutSetting(ctx(t), "outbound.paused", []byte("true"))) }},
	} {
		w.write()
		saved := time.Now()
		select {
		case kind := <-heard:
			if kind != w.kind {
				t.Fatalf("heard %q, want %q", kind, w.kind)
			}
			// The contract: a change on one node is everywhere within 1 s.
			if d := time.Since(saved); d > time.Second {
				t.Fatalf("a %s change took %v to reach the other node", w.kind, d)
			}
		case <-time.After(time.Second):
			t.Fatalf("a %s change did not reach the other node within 1 s", w.kind)
		}
		after := must(b.Changes(ctx(t)))
		if after[w.kind] <= before[w.kind] {
			t.Fatalf("the version of %s did not move: %d then %d", w.kind, before[w.kind], after[w.kind])
		}
		before = after
	}
	stop()
	select {
	case err := <-watched:
		if err != nil {
			t.Fatalf("watch ended with %v, want nil when its context ends", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("watch did not return when its context ended")
	}
}

func testTryLockAcrossNodes(t *testing.T, open func() Node) {
	lockExcludes(t, open(), open())
}

func testNodes(t *testing.T, open func() Node) {
	a, b := open(), open()
	live(t, a)
	live(t, b)
	want := []string{a.NodeID(), b.NodeID()}
	slices.Sort(want)
	for _, s := range []Node{a, b} {
		if got := nodeIDs(must(s.Nodes(ctx(t)))); !slices.Equal(got, want) {
			t.Fatalf("nodes: %v, want %v", got, want)
		}
	}
	leaseEnds(t, a, b)
	if got := nodeIDs(must(a.Nodes(ctx(t)))); !slices.Equal(got, []string{b.NodeID()}) {
		t.Fatalf("nodes after a lease ended: %v, want only the live one", got)
	}
	if n := must(b.PurgeNodes(ctx(t), 0)); n != 1 {
		t.Fatalf("purged %d dead nodes, want 1", n)
	}
}
