package notify_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/postgres"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// bolt starts the deliveries just published from memory: it must hold
// them, so that its claims neither hand them out again nor leave them
// out of their lanes' counts.
var _ interface {
	HoldDeliveries(ds []storage.Delivery)
} = (*bolt.Store)(nil)

// openNodes opens n stores on one fresh PostgreSQL schema, each a node of
// its own, closed when the test ends.
func openNodes(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	schema := pgtest.FreshSchema(t)
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	stores := make([]*postgres.Store, n)
	for i := range stores {
		st, err := postgres.Open(t.Context(), pgtest.PoolURL(t), sealer, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() }) // after the engines' and the heartbeats'
		stores[i] = st
	}
	return stores
}

// heartbeat has each store's node heartbeat, with a lease of 10 s every
// 100 ms as the server does (at a third of its lease), until the test
// ends. The first heartbeats are sent before it returns.
func heartbeat(t *testing.T, stores ...*postgres.Store) {
	t.Helper()
	beat := func(st *postgres.Store) {
		if _, err := st.Heartbeat(context.Background(), storage.Node{Address: "test", Version: "test"}, 10*time.Second); err != nil {
			t.Errorf("heartbeat of node %s: %v", st.NodeID(), err)
		}
	}
	stop := make(chan struct{})
	var beats sync.WaitGroup
	for _, st := range stores {
		beat(st)
		beats.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					beat(st)
				}
			}
		})
	}
	t.Cleanup(func() { close(stop); beats.Wait() })
}

// createEndpoint stores ep, enabled and subscribed to every event, through
// st.
func createEndpoint(t *testing.T, st notify.Store, ep storage.Endpoint) storage.Endpoint {
	t.Helper()
	ep.Name, ep.Enabled, ep.EventTypes = "test", true, []string{"*"}
	if err := notify.Normalize(&ep); err != nil {
		t.Fatal(err)
	}
	ep, err := st.CreateEndpoint(t.Context(), ep)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// clusterNodes opens n nodes on one database, heartbeating, and starts an
// engine on each. ep is created (through the first store) before the
// engines start, so every engine knows it.
func clusterNodes(t *testing.T, n int, ep storage.Endpoint) ([]*postgres.Store, []*notify.Engine, storage.Endpoint) {
	t.Helper()
	stores := openNodes(t, n)
	heartbeat(t, stores...)
	ep = createEndpoint(t, stores[0], ep)
	engines := make([]*notify.Engine, n)
	for i, st := range stores {
		engines[i] = startEngine(t, st, true)
	}
	return stores, engines, ep
}

// publishOnEach publishes n events, in turn on each engine.
func publishOnEach(t *testing.T, engines []*notify.Engine, n int) {
	t.Helper()
	for i := range n {
		if _, _, err := engines[i%len(engines)].Publish(t.Context(), storage.Event{Type: "x"}); err != nil {
			t.Fatal(err)
		}
	}
}

// settledOn waits until the endpoint has n deliveries, all SUCCESS, as
// st reads them.
func settledOn(t *testing.T, st notify.Store, endpointID string, n int) {
	t.Helper()
	var ds []storage.Delivery
	eventually(t, func() bool {
		var err error
		ds, _, err = st.ListDeliveries(t.Context(), storage.DeliveryFilter{EndpointID: endpointID, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.Status != storage.DeliverySuccess {
				return false
			}
		}
		return true
	}, "every delivery to succeed")
}

// Two nodes on one database, each with its engine, send to one slow
// receiver whose endpoint has a concurrency of 1: the receiver never has
// two requests at once, and every delivery arrives, once.
func TestClusterConcurrencyHoldsAcrossNodes(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int32
	rc := newReceiver(t, func(_ int, _ http.ResponseWriter, _ *http.Request) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(30 * time.Millisecond)
		inFlight.Add(-1)
	})
	stores, engines, ep := clusterNodes(t, 2, storage.Endpoint{URL: rc.URL, Concurrency: 1, SigningSecret: testSecret})
	const events = 16
	publishOnEach(t, engines, events)
	settledOn(t, stores[1], ep.ID, events)
	if m := most.Load(); m != 1 {
		t.Fatalf("concurrency 1 on two nodes: the receiver had %d requests at once", m)
	}
	var ids []string
	for _, r := range rc.requests() {
		ids = append(ids, r.Header.Get("webhook-id"))
	}
	slices.Sort(ids)
	if distinct := slices.Compact(slices.Clone(ids)); len(ids) != events || len(distinct) != events {
		t.Fatalf("%d requests for %d distinct deliveries, want %d of each", len(ids), len(distinct), events)
	}
}

// Two nodes send to an endpoint limited to 5 requests a second: the rate
// holds for both together (a burst of 5, then 5 a second), where each
// node's own limiter alone would let through twice as many.
func TestClusterRateLimitHoldsAcrossNodes(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	const rate, events = 5, 20
	stores, engines, ep := clusterNodes(t, 2, storage.Endpoint{URL: rc.URL, Concurrency: 10, RateLimit: rate})
	publishOnEach(t, engines, events)
	settledOn(t, stores[0], ep.ID, events)
	got := rc.requests()
	if len(got) != events {
		t.Fatalf("%d requests, want %d", len(got), events)
	}
	at := make([]time.Time, len(got))
	for i, r := range got {
		at[i] = r.At
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	// After the burst, 15 more at 5 a second take 3 s; two nodes with a
	// bucket each would take 1 s. Generous bounds, on the receiver's
	// own timestamps.
	if took := at[len(at)-1].Sub(at[0]); took < 2400*time.Millisecond {
		t.Fatalf("%d requests at %d/s across two nodes took %v", events, rate, took)
	}
	// No second holds more than the burst and a second's tokens (and one
	// for the clocks' slack).
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
			n++
		}
		if n > 2*rate+1 {
			t.Fatalf("%d requests within a second from %v, at %d/s", n, at[i].Sub(at[0]), rate)
		}
	}
}

// A node without a lease claims nothing: its engine delivers once its
// heartbeat gives it one.
func TestClusterNoLeaseClaimsNothing(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	stores := openNodes(t, 1)
	ep := createEndpoint(t, stores[0], storage.Endpoint{URL: rc.URL})
	eng := startEngine(t, stores[0], true)
	if _, _, err := eng.Publish(t.Context(), storage.Event{Type: "x"}); err != nil {
		t.Fatal(err)
	}
	rounds := notify.Rounds(eng)
	eventually(t, func() bool { return notify.Rounds(eng) > rounds+5 }, "the loop to run a few rounds")
	if got := len(rc.requests()); got != 0 {
		t.Fatalf("a node without a lease sent %d requests", got)
	}
	heartbeat(t, stores[0])
	settledOn(t, stores[0], ep.ID, 1)
}
