package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
)

// Node is a store as one node of a cluster has it: the whole store and
// its cluster primitives.
type Node interface {
	storage.Store
	storage.Cluster
}

// RunNode runs the tests of the cluster primitives that one node can
// check alone (every backend, bolt included: it is a cluster of one),
// against the backend that open returns. RunCluster has those that need
// several nodes.
func RunNode(t *testing.T, open func(t *testing.T) Node) {
	run(t, open, []test[Node]{
		{"Heartbeat", testHeartbeat},
		{"ClaimPending", testClaimPending},
		{"ClaimDueConcurrency", testClaimDueConcurrency},
		{"ClaimDueRateLimit", testClaimDueRateLimit},
		{"ClaimDueLanes", testClaimDueLanes},
		{"Changes", testChanges},
		{"TryLock", testTryLock},
	})
}

// leaseLong is a lease that outlasts any test.
const leaseLong = 10 * time.Minute

// live makes s's node live for the rest of the test.
func live(t *testing.T, s Node) storage.Node {
	t.Helper()
	n, err := s.Heartbeat(ctx(t), storage.Node{Address: "10.0.0.1:8080", Version: "test"}, leaseLong)
	if err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	return n
}

// eventually polls cond every 20 ms until it holds, failing the test after
// within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nodeIDs are the ids of ns.
func nodeIDs(ns []storage.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func testHeartbeat(t *testing.T, s Node) {
	id := s.NodeID()
	if u, err := uuid.Parse(id); err != nil || u.Version() != 7 {
		t.Fatalf("node id %q is not a UUIDv7", id)
	}
	_, err := s.Heartbeat(ctx(t), storage.Node{ID: uuid.NewString()}, time.Minute)
	wantErr(t, "another node's heartbeat", err, storage.ErrInvalid)
	_, err = s.Heartbeat(ctx(t), storage.Node{}, 0)
	wantErr(t, "a heartbeat without a lease", err, storage.ErrInvalid)
	if ns := must(s.Nodes(ctx(t))); len(ns) != 0 {
		t.Fatalf("nodes before any heartbeat: %+v", ns)
	}

	started := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	n := must(s.Heartbeat(ctx(t), storage.Node{ID: id, Address: "10.0.0.1:8080", Version: "v1.2.3", StartedAt: started}, time.Minute))
	if n.ID != id || n.Address != "10.0.0.1:8080" || n.Version != "v1.2.3" || !n.StartedAt.Equal(started) {
		t.Fatalf("heartbeat answered %+v", n)
	}
	if n.LastSeen.IsZero() || n.LeaseUntil.Sub(n.LastSeen) != time.Minute {
		t.Fatalf("heartbeat: last seen %v, lease until %v: want a lease of a minute", n.LastSeen, n.LeaseUntil)
	}
	ns := must(s.Nodes(ctx(t)))
	if len(ns) != 1 || ns[0].ID != id || ns[0].Address != n.Address || !ns[0].LastSeen.Equal(n.LastSeen) || !ns[0].StartedAt.Equal(started) {
		t.Fatalf("nodes: %+v, want %+v", ns, n)
	}
	// A heartbeat renews the lease and keeps the node's row up to date.
	again := must(s.Heartbeat(ctx(t), storage.Node{Address: "10.0.0.2:8080", Version: "v1.2.4", StartedAt: started}, 2*time.Minute))
	if again.ID != id || again.Address != "10.0.0.2:8080" || again.LastSeen.Before(n.LastSeen) || again.LeaseUntil.Sub(again.LastSeen) != 2*time.Minute {
		t.Fatalf("second heartbeat: %+v", again)
	}
	if ns := must(s.Nodes(ctx(t))); len(ns) != 1 || ns[0].Version != "v1.2.4" {
		t.Fatalf("nodes after the second heartbeat: %+v", ns)
	}

	check(s.ForgetNode(ctx(t)))
	if ns := must(s.Nodes(ctx(t))); len(ns) != 0 {
		t.Fatalf("nodes after ForgetNode: %+v", ns)
	}
	// A short lease ends by itself; the node is then not listed, and a
	// purge of nodes dead for an hour leaves it, one of nodes dead at all
	// takes it.
	must(s.Heartbeat(ctx(t), storage.Node{}, 50*time.Millisecond))
	eventually(t, 10*time.Second, "the node's 50 ms lease ends", func() bool { return len(must(s.Nodes(ctx(t)))) == 0 })
	if n := must(s.PurgeNodes(ctx(t), time.Hour)); n != 0 {
		t.Fatalf("purged %d nodes dead for an hour, want 0", n)
	}
	if n := must(s.PurgeNodes(ctx(t), 0)); n != 1 {
		t.Fatalf("purged %d dead nodes, want 1", n)
	}
}

func testClaimPending(t *testing.T, s Node) {
	live(t, s)
	first := pagesOfPending(t, s, s.ClaimPending)
	if first[0].Headers["x-test"] != "1" || first[0].Query.Get("a") != "1" || first[0].Status != storage.StatusPending {
		t.Fatalf("a claimed message comes whole: %+v", first[0])
	}
	// The node's own claims are its own again (the dispatcher knows
	// which of them it has in hand).
	if again := must(s.ClaimPending(ctx(t), "", 10)); len(again) != 4 {
		t.Fatalf("claimed again by the same node: %d messages, want 4", len(again))
	}
	if none := must(s.ClaimPending(ctx(t), "", 0)); len(none) != 0 {
		t.Fatalf("a claim of 0: %v", none)
	}
}

// endpointWith creates an enabled endpoint with the given limits.
func endpointWith(t *testing.T, s Node, concurrency int, rateLimit float64) storage.Endpoint {
	return must(s.CreateEndpoint(ctx(t), storage.Endpoint{
		Name: "limited", URL: "https://example.com/hook", Method: "POST",
		EndpointHealth: storage.EndpointHealth{Enabled: true}, Concurrency: concurrency, RateLimit: rateLimit,
	}))
}

// dueNow publishes n deliveries due at once in lane (of endpoint
// endpointID, or a callback's when it is ""), the earliest first.
func dueNow(t *testing.T, s Node, n int, endpointID, lane string) []storage.Delivery {
	start := time.Now().Add(-time.Hour).UTC()
	ds := make([]storage.Delivery, n)
	for i := range ds {
		ds[i] = newDelivery(t, start.Add(time.Duration(i)*time.Millisecond), endpointID, lane)
	}
	publish(t, s, start, ds...)
	return ds
}

// claimAll claims every due delivery that s may take now.
func claimAll(t *testing.T, s Node) []storage.Delivery {
	t.Helper()
	return must(s.ClaimDue(ctx(t), time.Now(), func(string) int { return 1000 }))
}

func succeed(t *testing.T, s Node, id string) {
	t.Helper()
	must(s.RecordAttempt(ctx(t), id, storage.Attempt{At: time.Now(), Status: 200}, storage.DeliveryUpdate{Status: storage.DeliverySuccess}))
}

func testClaimDueConcurrency(t *testing.T, s Node) {
	live(t, s)
	ep := endpointWith(t, s, 2, 0)
	ds := dueNow(t, s, 5, ep.ID, "")
	got := claimAll(t, s)
	if !sameIDs(got, ds[0].ID, ds[1].ID) {
		t.Fatalf("concurrency 2: claimed %v, want the two earliest", ids(got))
	}
	if got[0].Status != storage.DeliveryPending || got[0].EndpointID != ep.ID || got[0].Lane != ep.ID {
		t.Fatalf("claimed delivery: %+v", got[0])
	}
	if got := claimAll(t, s); len(got) != 0 {
		t.Fatalf("a full lane gave %v", ids(got))
	}
	// An attempt ends the claim, whatever its outcome: a retry due now is
	// claimable again, in its turn.
	past := time.Now().Add(-2 * time.Hour)
	must(s.RecordAttempt(ctx(t), ds[0].ID, storage.Attempt{At: time.Now(), Status: 503}, storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &past}))
	if got := claimAll(t, s); !sameIDs(got, ds[0].ID) {
		t.Fatalf("after a retry is recorded: claimed %v, want it again", ids(got))
	}
	succeed(t, s, ds[0].ID)
	if got := claimAll(t, s); !sameIDs(got, ds[2].ID) {
		t.Fatalf("after a success: claimed %v, want the next", ids(got))
	}
	// Released claims are free again; take bounds what is claimed.
	check(s.ReleaseDeliveries(ctx(t), []string{ds[1].ID, ds[2].ID, uuid.NewString(), "not an id"}))
	var asked []string
	got = must(s.ClaimDue(ctx(t), time.Now(), func(lane string) int { asked = append(asked, lane); return 1 }))
	if !sameIDs(got, ds[1].ID) || !slices.Equal(asked, []string{ep.ID}) {
		t.Fatalf("take 1 after a release: claimed %v (asked %v), want %s", ids(got), asked, ds[1].ID)
	}
	if got := must(s.ClaimDue(ctx(t), time.Now(), func(string) int { return 0 })); len(got) != 0 {
		t.Fatalf("take 0 claimed %v", ids(got))
	}
	// Not due yet: nothing.
	if got := must(s.ClaimDue(ctx(t), time.Now().Add(-3*time.Hour), func(string) int { return 10 })); len(got) != 0 {
		t.Fatalf("claimed %v before they were due", ids(got))
	}
	// A new limit applies to the next claim (bbolt keeps the limits it
	// decoded while the endpoint's record stays the same).
	ep.Concurrency = 4
	must(s.UpdateEndpoint(ctx(t), ep))
	if got := claimAll(t, s); !sameIDs(got, ds[2].ID, ds[3].ID, ds[4].ID) {
		t.Fatalf("concurrency raised to 4 with one held: claimed %v, want the other three", ids(got))
	}
}

func testClaimDueRateLimit(t *testing.T, s Node) {
	live(t, s)
	// A burst of 3, then 3 a second: the first claim gets the burst,
	// whatever the time it takes.
	fast := endpointWith(t, s, 10, 3)
	dueNow(t, s, 5, fast.ID, "")
	// One token every 1000 s: after the first, no token in this test.
	slow := endpointWith(t, s, 10, 0.001)
	sd := dueNow(t, s, 3, slow.ID, "")
	got := claimAll(t, s)
	byLane := map[string]int{}
	for _, d := range got {
		byLane[d.Lane]++
	}
	if byLane[fast.ID] != 3 || byLane[slow.ID] != 1 {
		t.Fatalf("claimed %v by lane, want 3 (burst of a rate of 3) and 1 (a rate of 0.001)", byLane)
	}
	succeed(t, s, sd[0].ID)
	for _, d := range claimAll(t, s) {
		if d.Lane == slow.ID {
			t.Fatalf("claimed %s with no token left", d.ID)
		}
	}
}

func testClaimDueLanes(t *testing.T, s Node) {
	live(t, s)
	// A callback's lane and a deleted endpoint's have no limits but take;
	// a full endpoint lane does not hold the others back.
	full := endpointWith(t, s, 1, 0)
	fd := dueNow(t, s, 2, full.ID, "")
	if got := claimAll(t, s); !sameIDs(got, fd[0].ID) {
		t.Fatalf("concurrency 1: %v", ids(got))
	}
	cb := dueNow(t, s, 3, "", "callback:example.com")
	gone := endpointWith(t, s, 1, 0.001)
	gd := dueNow(t, s, 3, gone.ID, "")
	check(s.DeleteEndpoint(ctx(t), gone.ID))
	got := claimAll(t, s)
	want := map[string]bool{}
	for _, d := range append(cb, gd...) {
		want[d.ID] = true
	}
	if len(got) != len(want) {
		t.Fatalf("claimed %v, want every callback and deleted endpoint's delivery", ids(got))
	}
	for i, d := range got {
		if !want[d.ID] {
			t.Fatalf("claimed %s of lane %s", d.ID, d.Lane)
		}
		if i > 0 && got[i-1].Lane > d.Lane {
			t.Fatalf("lanes out of order: %v", ids(got))
		}
	}
	if got[0].Callback != nil {
		t.Fatalf("a callback delivery's lane sorts after an endpoint id's: %+v", got[0])
	}
	// Nothing held is handed out again.
	if got := claimAll(t, s); len(got) != 0 {
		t.Fatalf("claimed again: %v", ids(got))
	}
}

// kindWrites are writes, each with the kind of change it makes ("" for
// none).
type kindWrite struct {
	name, kind string
	write      func()
}

func testChanges(t *testing.T, s Node) {
	c := ctx(t)
	var p storage.Provider
	var f storage.Function
	var e storage.Endpoint
	var u storage.User
	var tok storage.APIToken
	sess := storage.Session{ID: NewSessionID(), CSRF: "x", ExpiresAt: time.Now().Add(time.Hour)}
	writes := []kindWrite{
		{"create provider", storage.ChangeCatalogue, func() { p = must(s.CreateProvider(c, storage.Provider{Name: "P", MatchScript: "true"})) }},
		{"update provider", storage.ChangeCatalogue, func() { p.MatchScript = "false"; p = must(s.UpdateProvider(c, p)) }},
		{"reorder providers", storage.ChangeCatalogue, func() { must(s.ReorderProviders(c, []string{p.ID})) }},
		{"create function", storage.ChangeCatalogue, func() { f = must(s.CreateFunction(c, storage.Function{Name: "F", ProviderID: p.ID, URI: "u"})) }},
		{"update function", storage.ChangeCatalogue, func() { f.Script = "x"; f = must(s.UpdateFunction(c, f)) }},
		{"delete function", storage.ChangeCatalogue, func() { check(s.DeleteFunction(c, f.ID)) }},
		{"delete provider", storage.ChangeCatalogue, func() { check(s.DeleteProvider(c, p.ID)) }},
		{"create endpoint", storage.ChangeEndpoints, func() { e = endpointWith(t, s, 1, 0) }},
		{"update endpoint", storage.ChangeEndpoints, func() { e.Name = "renamed"; e = must(s.UpdateEndpoint(c, e)) }},
		{"endpoint health", storage.ChangeEndpoints, func() { must(s.SetEndpointHealth(c, e.ID, storage.EndpointHealth{})) }},
		{"delete endpoint", storage.ChangeEndpoints, func() { check(s.DeleteEndpoint(c, e.ID)) }},
		{"put setting", storage.ChangeSettings, func() { check(s.PutSetting(c, "outbound.paused", []byte("true"))) }},
		{"create user", storage.ChangeAccess, func() { u = must(s.CreateUser(c, storage.User{Name: "ann", Role: storage.RoleAdmin})) }},
		{"update user", storage.ChangeAccess, func() { u.Role = storage.RoleViewer; u = must(s.UpdateUser(c, u)) }},
		{"sign-in time", "", func() { check(s.RecordLogin(c, u.ID, time.Now())) }},
		{"create token", storage.ChangeAccess, func() { tok = must(s.CreateToken(c, storage.APIToken{UserID: u.ID, Name: "ci", Hash: tokenHash("t")})) }},
		{"token use", "", func() { check(s.TouchToken(c, tok.ID, time.Now())) }},
		{"delete token", storage.ChangeAccess, func() { check(s.DeleteToken(c, tok.ID)) }},
		{"create session", storage.ChangeAccess, func() { sess.UserID = u.ID; check(s.CreateSession(c, sess)) }},
		{"delete session", storage.ChangeAccess, func() { check(s.DeleteSession(c, sess.ID)) }},
		{"delete sessions", storage.ChangeAccess, func() {
			check(s.CreateSession(c, storage.Session{ID: NewSessionID(), UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}))
			must(s.DeleteSessions(c, u.ID, ""))
		}},
		{"delete user", storage.ChangeAccess, func() { check(s.DeleteUser(c, u.ID)) }},
		{"append message", "", func() { check(s.AppendMessage(c, NewMessage(t, time.Now(), "u"), []byte("x"))) }},
		{"publish", "", func() { dueNow(t, s, 1, "", "callback:example.com") }},
	}
	before := must(s.Changes(c))
	for _, kind := range storage.ChangeKinds {
		if _, ok := before[kind]; !ok {
			t.Fatalf("changes have no version of %q: %v", kind, before)
		}
	}
	for _, w := range writes {
		w.write()
		after := must(s.Changes(c))
		for _, kind := range storage.ChangeKinds {
			moved := after[kind] > before[kind]
			if moved != (kind == w.kind) || after[kind] < before[kind] {
				t.Fatalf("%s: version of %q went from %d to %d", w.name, kind, before[kind], after[kind])
			}
		}
		before = after
	}
}

func testTryLock(t *testing.T, s Node) {
	lockExcludes(t, s, s)
}

// lockExcludes checks that while holder holds a lock, other cannot take
// it (but may take another), and can once holder lets go.
func lockExcludes(t *testing.T, holder, other Node) {
	t.Helper()
	unlock, ok, err := holder.TryLock(ctx(t), "retention")
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if _, ok, err := other.TryLock(ctx(t), "retention"); err != nil || ok {
		t.Fatalf("a lock held: got it (%v, %v)", ok, err)
	}
	another, ok, err := other.TryLock(ctx(t), "purge")
	if err != nil || !ok {
		t.Fatalf("another name: %v %v", ok, err)
	}
	another()
	unlock()
	unlock() // harmless
	lockFreed(t, other, "retention")
}

// lockFreed waits until s can take the lock name, then releases it.
func lockFreed(t *testing.T, s Node, name string) {
	t.Helper()
	eventually(t, 10*time.Second, "the lock "+name+" is free", func() bool {
		unlock, ok, err := s.TryLock(ctx(t), name)
		if err != nil {
			t.Fatalf("lock %s: %v", name, err)
		}
		if ok {
			unlock()
		}
		return ok
	})
}

// errNoLease checks that err is ErrNoLease.
func errNoLease(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNoLease) {
		t.Fatalf("%s: want ErrNoLease, got %v", what, err)
	}
}
