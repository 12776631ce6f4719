package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
)

// The cluster tests run three real `switchyard serve` processes (this
// test binary, see TestMain) on one PostgreSQL schema, each with its own
// data directory, and hold them to the contract's cluster promises.

// clusterLease is the nodes' --lease: short, so that a dead node's work
// is taken over within seconds, yet three heartbeats long (each given a
// second) so that a live node on a busy machine does not lose it.
const clusterLease = 3 * time.Second

// startCluster starts n nodes sharing a fresh schema, with one secrets
// key and one admin token, allowed to reach the tests' loopback
// receivers.
func startCluster(t *testing.T, n int) []*child {
	t.Helper()
	return startClusterOn(t, pgtest.FreshSchema(t), n)
}

// startClusterOn is startCluster on a given schema.
func startClusterOn(t *testing.T, schema string, n int) []*child {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster tests run real processes")
	}
	store := pgtest.SchemaURL(t, schema)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env := []string{"SWITCHYARD_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key), "SWITCHYARD_ALLOW_PRIVATE_TARGETS=true"}
	nodes := make([]*child, n)
	for i := range nodes {
		nodes[i] = startServe(t, env, "--data", t.TempDir(), "--store", store, "--lease", clusterLease.String())
	}
	return nodes
}

// nodeID is the id the node registered under.
func (c *child) nodeID(t *testing.T) string {
	t.Helper()
	return c.cluster(t).Self
}

type clusterAnswer struct {
	Self  string `json:"self"`
	Nodes []struct {
		ID string `json:"id"`
	} `json:"nodes"`
}

// cluster is GET /api/v1/cluster.
func (c *child) cluster(t *testing.T) clusterAnswer {
	t.Helper()
	code, body := c.api(t, "GET", "/cluster", "")
	if code != http.StatusOK {
		t.Fatalf("GET /cluster: %d %s", code, body)
	}
	var a clusterAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// lists reports whether the node's view of the cluster lists id.
func (a clusterAnswer) lists(id string) bool {
	return slices.ContainsFunc(a.Nodes, func(n struct {
		ID string `json:"id"`
	}) bool {
		return n.ID == id
	})
}

// syncWebhook posts body to uri with flex-sync-webhook: true and returns
// the status and the message's id.
func (c *child) syncWebhook(t *testing.T, uri, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", c.url+"/webhooks/v1/"+uri, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("flex-sync-webhook", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ ID string }
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &a)
	return resp.StatusCode, a.ID
}

// summary is the message's LOG.setMessage text, read through c.
func (c *child) summary(t *testing.T, id string) string {
	t.Helper()
	code, body := c.api(t, "GET", "/messages/"+id, "")
	if code != http.StatusOK {
		t.Fatalf("message %s: %d %s", id, code, body)
	}
	var m struct{ Message string }
	json.Unmarshal(body, &m)
	return m.Message
}

// TestClusterScriptSavedOnOneNodeRunsOnTheOthers: a provider and a
// function created on one node serve synchronous webhooks on the two
// others, and a script edit saved on one node runs on another within
// 1 s of the save's answer (the contract's "changes everywhere within
// 1 s"), measured on several edits.
func TestClusterScriptSavedOnOneNodeRunsOnTheOthers(t *testing.T) {
	nodes := startCluster(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	fn := a.route(t, "cluster", "LOG.setMessage('v1 ' + PAYLOAD.n); return 1")
	created := time.Now()
	seq := 0
	// runs posts synchronous webhooks to node until one runs a script
	// whose summary starts with want, and returns how long after since
	// that webhook's answer came.
	runs := func(node *child, want string, since time.Time) time.Duration {
		t.Helper()
		deadline := since.Add(10 * time.Second)
		for {
			seq++
			code, id := node.syncWebhook(t, "cluster", fmt.Sprintf(`{"n": %d}`, seq))
			answered := time.Since(since)
			if code == http.StatusOK && node.summary(t, id) == fmt.Sprintf("%s %d", want, seq) {
				// The shared store shows every node's messages.
				if got := a.summary(t, id); got != fmt.Sprintf("%s %d", want, seq) {
					t.Fatalf("message %s read on the first node: summary %q", id, got)
				}
				return answered
			}
			if code != http.StatusOK && code != http.StatusNotFound {
				t.Fatalf("sync webhook: %d", code)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no webhook ran %q within 10s (last answer %d)", want, code)
			}
		}
	}
	for _, n := range []*child{b, c} {
		d := runs(n, "v1", created)
		t.Logf("a function created on one node served webhooks on another after %v", d)
		if d >= time.Second {
			t.Errorf("a function created on one node served webhooks on another %v after its creation, want < 1s", d)
		}
	}

	var lags []time.Duration
	for v := 2; v <= 6; v++ {
		script, _ := json.Marshal(map[string]string{"script": fmt.Sprintf("LOG.setMessage('v%d ' + PAYLOAD.n); return %d", v, v)})
		code, body := b.api(t, "PUT", "/functions/"+fn, string(script))
		saved := time.Now()
		if code != http.StatusOK {
			t.Fatalf("save script: %d %s", code, body)
		}
		lags = append(lags, runs(c, fmt.Sprintf("v%d", v), saved))
	}
	t.Logf("an edit saved on one node ran on another after %v", lags)
	if worst := slices.Max(lags); worst >= time.Second {
		t.Errorf("an edit ran on another node %v after its save, want < 1s (all: %v)", worst, lags)
	}
}

// sideEffects is a receiver that the function under load calls with its
// message's number and the node the message was posted to: it counts
// the runs of each message. It holds one request from the messages
// posted to the node to be killed (the first after holdAfter requests)
// until release, so that at least one message is running on that node
// when it dies.
type sideEffects struct {
	mu       sync.Mutex
	runs     map[int]int
	requests int
	held     int // the message whose run is held; -1 until one is
	// dying is set just before the kill; early are the messages that ran
	// again before it, while every node was live.
	dying bool
	early []int

	holding chan struct{} // closed when a request is held
	release chan struct{}
	once    sync.Once
}

func newSideEffects(t *testing.T, victim, holdAfter int) (*sideEffects, *httptest.Server) {
	s := &sideEffects{runs: map[int]int{}, held: -1, holding: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err1 := strconv.Atoi(r.URL.Query().Get("n"))
		node, err2 := strconv.Atoi(r.URL.Query().Get("node"))
		if err1 != nil || err2 != nil {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		if n < 0 {
			return // waitRoute's probe
		}
		s.mu.Lock()
		s.runs[n]++
		s.requests++
		if s.runs[n] > 1 && !s.dying {
			s.early = append(s.early, n)
		}
		hold := s.held < 0 && node == victim && s.requests > holdAfter
		if hold {
			s.held = n
		}
		s.mu.Unlock()
		if hold {
			close(s.holding)
			<-s.release
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(s.releaseHeld) // runs before srv.Close, which waits for handlers
	return s, srv
}

func (s *sideEffects) releaseHeld() { s.once.Do(func() { close(s.release) }) }

// killing notes that from now on a node may die: a message that runs
// again from then on may be one the dying node held.
func (s *sideEffects) killing() {
	s.mu.Lock()
	s.dying = true
	s.mu.Unlock()
}

// snapshot copies the runs counted so far.
func (s *sideEffects) snapshot() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.runs))
	for n, k := range s.runs {
		out[n] = k
	}
	return out
}

// posting is one webhook of the cluster load: its number, the node it
// was posted to, and its id when acknowledged.
type posting struct {
	n, node int
	id      string
}

// clusterLoad posts webhooks {"n": N, "node": I} to uri from workers
// clients, round robin over the nodes, skipping a node once down says
// so, until stop is closed; it calls posted with every webhook answered
// or not (id set when acknowledged with 202). Wait on the group it
// returns.
func clusterLoad(nodes []*child, uri string, workers int, down func(node int) bool, stop <-chan struct{}, posted func(p posting)) *sync.WaitGroup {
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 20 * time.Second}
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := posting{n: w*100000 + i, node: (w + i) % len(nodes)}
				if down(p.node) {
					continue
				}
				resp, err := client.Post(nodes[p.node].url+"/webhooks/v1/"+uri, "application/json",
					strings.NewReader(fmt.Sprintf(`{"n": %d, "node": %d}`, p.n, p.node)))
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var a struct{ ID string }
					if resp.StatusCode == http.StatusAccepted && json.Unmarshal(b, &a) == nil {
						p.id = a.ID
					}
				}
				posted(p)
			}
		})
	}
	return &wg
}

// TestClusterKill9UnderLoadLosesNothingAndRepeatsOnlyTheDeadNodesWork
// spreads asynchronous webhooks over three nodes and kills one with
// SIGKILL while it is running a message. Every acknowledged message
// must end SUCCESS (read through a survivor: the dead node's claims are
// taken over after its lease), and a side effect counted by a local
// receiver must show each acknowledged message ran. What is provable
// about repeats: a node that receives a webhook claims its message at
// once and holds it while it lives, so the messages posted to the
// survivors run exactly once; only those posted to the dead node may run
// again, none before the kill, and the one it was running at the kill
// must.
func TestClusterKill9UnderLoadLosesNothingAndRepeatsOnlyTheDeadNodesWork(t *testing.T) {
	nodes := startCluster(t, 3)
	const victim = 1
	effects, rcv := newSideEffects(t, victim, 150)
	script := `var r = HTTP.request({url: "` + rcv.URL + `/ran?n=" + PAYLOAD.n + "&node=" + PAYLOAD.node, method: "POST", timeout: 20000});
if (r.status !== 200) throw new Error("receiver answered " + r.status);
LOG.setMessage("n=" + PAYLOAD.n);`
	nodes[0].route(t, "load", script)
	for _, n := range nodes { // the route has reached every node
		waitRoute(t, n, "load")
	}

	var (
		mu        sync.Mutex
		posts     []posting
		dead      atomic.Bool
		afterKill int // acknowledged by survivors after the kill
	)
	stop := make(chan struct{})
	wg := clusterLoad(nodes, "load", 12, func(node int) bool { return node == victim && dead.Load() }, stop, func(p posting) {
		mu.Lock()
		defer mu.Unlock()
		if dead.Load() && p.node != victim && p.id != "" {
			afterKill++
		}
		posts = append(posts, p)
	})
	defer func() { // stop the load however the test ends
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	select {
	case <-effects.holding:
	case <-time.After(30 * time.Second):
		t.Fatalf("the receiver held no run of the victim's messages within 30s:\n%s", nodes[victim].log())
	}
	dead.Store(true)
	effects.killing()
	if err := nodes[victim].cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
		t.Fatal(err)
	}
	nodes[victim].cmd.Wait()
	killed := time.Now()
	effects.releaseHeld()

	// Keep the load on the survivors until they have acknowledged 100
	// more, some of them while the dead node's claims are taken over.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := afterKill
		mu.Unlock()
		if n >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the survivors acknowledged only %d webhooks in 30s after the kill", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	survivors := []*child{nodes[0], nodes[2]}
	var acked []posting
	for _, p := range posts {
		if p.id != "" {
			acked = append(acked, p)
		}
	}
	for i, p := range acked {
		if got := survivors[i%2].waitSuccess(t, p.id); got != fmt.Sprintf("n=%d", p.n) {
			t.Fatalf("message %s summary %q, want n=%d", p.id, got, p.n)
		}
	}
	settled := time.Since(killed)

	// A SUCCESS run called the receiver first: every acknowledged
	// message's side effect is counted by now.
	runs := effects.snapshot()
	sentTo := map[int]int{} // n -> node, of every webhook posted
	for _, p := range posts {
		sentTo[p.n] = p.node
	}
	repeats := 0
	for _, p := range acked {
		if runs[p.n] == 0 {
			t.Errorf("acknowledged message %s (n=%d, node %d) is SUCCESS but its side effect never happened", p.id, p.n, p.node)
		}
	}
	for n, k := range runs {
		node, ok := sentTo[n]
		switch {
		case !ok:
			t.Errorf("the receiver counted n=%d, which was never posted", n)
		case k > 1 && node != victim:
			// Only a survivor that lost its own lease lets its claims go.
			t.Errorf("n=%d, posted to surviving node %d, ran %d times; want once (its heartbeat failed: %v)",
				n, node, k, strings.Contains(nodes[node].log(), "heartbeat failed"))
		case k > 1:
			repeats++
		}
	}
	effects.mu.Lock()
	held, early := effects.held, effects.early
	effects.mu.Unlock()
	if len(early) > 0 {
		t.Errorf("messages ran again while every node was live (once per message while nodes live): n=%v", early)
	}
	if runs[held] < 2 {
		t.Errorf("n=%d, running on the killed node at the kill, ran %d times; want it taken over and run again", held, runs[held])
	}
	t.Logf("%d webhooks posted, %d acknowledged (%d by survivors after the kill), %d side effects, %d messages of the killed node ran twice; every acknowledged message SUCCESS %v after the kill",
		len(posts), len(acked), afterKill, len(runs), repeats, settled.Round(time.Millisecond))
}

// waitRoute waits until node serves uri (a synchronous webhook answers
// 200), the catalogue saved on another node having reached it.
func waitRoute(t *testing.T, node *child, uri string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := node.syncWebhook(t, uri, `{"n": -1, "node": -1}`)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s does not serve %s within 10s: %d", node.url, uri, code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slowReceiver is an outbound endpoint's receiver that takes 20 ms to
// answer, counts the requests of each event and the most it ever had in
// flight at once. When holdAt > 0 it holds its holdAt-th request until
// releaseHeld, so that a delivery is in flight for as long as a test
// needs.
type slowReceiver struct {
	inFlight, most atomic.Int32
	holdAt         int

	mu       sync.Mutex
	received map[string]int // event id -> requests
	requests int
	held     string        // the event of the held request
	holding  chan struct{} // closed when the request is held
	release  chan struct{}
	once     sync.Once
}

func newSlowReceiver(t *testing.T, holdAt int) (*slowReceiver, *httptest.Server) {
	s := &slowReceiver{holdAt: holdAt, received: map[string]int{}, holding: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for m := s.most.Load(); now > m && !s.most.CompareAndSwap(m, now); m = s.most.Load() {
		}
		var ev struct{ ID string }
		json.NewDecoder(r.Body).Decode(&ev)
		s.mu.Lock()
		s.received[ev.ID]++
		s.requests++
		hold := s.requests == s.holdAt
		if hold {
			s.held = ev.ID
		}
		s.mu.Unlock()
		if hold {
			close(s.holding)
			<-s.release
			return
		}
		time.Sleep(20 * time.Millisecond) // slow: a second request would overlap
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(s.releaseHeld) // runs before srv.Close, which waits for handlers
	return s, srv
}

func (s *slowReceiver) releaseHeld() { s.once.Do(func() { close(s.release) }) }

// times is how many requests of the event the receiver got.
func (s *slowReceiver) times(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[id]
}

// publishOnEveryNode creates an endpoint with concurrency 1 for url on
// the first node, waits until every node makes deliveries for it, then
// publishes 24 events from 6 clients spread over the nodes, and returns
// the ids of every event published with a delivery.
func publishOnEveryNode(t *testing.T, nodes []*child, url string) []string {
	t.Helper()
	ep, _ := json.Marshal(map[string]any{
		"name": "slow", "url": url, "event_types": []string{"load.*"},
		"concurrency": 1, "timeout_ms": 10000,
		"retry": map[string]any{"backoff": "fixed", "interval_ms": 200, "max_attempts": 20},
	})
	if code, body := nodes[0].api(t, "POST", "/endpoints", string(ep)); code != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", code, body)
	}
	var (
		mu  sync.Mutex
		ids []string
	)
	// publish publishes one event to a node and says whether a delivery
	// was made for it (the endpoint has reached that node).
	publish := func(node *child, i int) bool {
		code, body := node.api(t, "POST", "/events", fmt.Sprintf(`{"type": "load.test", "title": "event %d"}`, i))
		if code != http.StatusAccepted {
			t.Errorf("publish: %d %s", code, body)
			return false
		}
		var a struct {
			ID         string
			Deliveries int
		}
		json.Unmarshal(body, &a)
		if a.Deliveries != 1 {
			return false
		}
		mu.Lock()
		ids = append(ids, a.ID)
		mu.Unlock()
		return true
	}
	for _, n := range nodes {
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; !publish(n, -i); i++ {
			if time.Now().After(deadline) {
				t.Fatalf("node %s makes no delivery for the endpoint within 10s", n.url)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 4 {
				if !publish(nodes[w%len(nodes)], w*100+i) {
					t.Errorf("an event published after the endpoint reached node %d has no delivery", w%len(nodes))
				}
			}
		})
	}
	wg.Wait()
	return ids
}

// waitDelivered waits until no delivery is PENDING (read through node),
// then checks that none FAILED, that there is a SUCCESS delivery for
// every event and that each reached the receiver.
func waitDelivered(t *testing.T, node *child, rcv *slowReceiver, events []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending := listDeliveries(t, node, "PENDING")
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still PENDING after 30s, e.g. %+v", len(pending), pending[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if failed := listDeliveries(t, node, "FAILED"); len(failed) > 0 {
		t.Errorf("%d deliveries FAILED, e.g. %+v", len(failed), failed[0])
	}
	success := map[string]bool{}
	for _, d := range listDeliveries(t, node, "SUCCESS") {
		success[d.EventID] = true
	}
	for _, id := range events {
		if !success[id] || rcv.times(id) == 0 {
			t.Errorf("event %s: SUCCESS %v, received %d times", id, success[id], rcv.times(id))
		}
	}
	if len(success) != len(events) {
		t.Errorf("%d events with a SUCCESS delivery, %d published", len(success), len(events))
	}
}

// TestClusterEndpointConcurrencyOneHoldsAcrossNodes publishes events to
// all three nodes for an endpoint with concurrency 1 whose receiver is
// slow: the receiver must never see two requests at once, and every
// delivery must end SUCCESS.
func TestClusterEndpointConcurrencyOneHoldsAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	rcv, srv := newSlowReceiver(t, 0)
	events := publishOnEveryNode(t, nodes, srv.URL+"/hook")
	published := time.Now()
	waitDelivered(t, nodes[1], rcv, events)
	if m := rcv.most.Load(); m != 1 {
		t.Errorf("the receiver saw %d requests at once; the endpoint's concurrency is 1", m)
	}
	t.Logf("%d events over 3 nodes delivered %v after the last publish, at most %d in flight",
		len(events), time.Since(published).Round(time.Millisecond), rcv.most.Load())
}

// TestClusterDeadNodesDeliveryIsTakenOverAfterItsLease kills, with
// SIGKILL, the node that is attempting a delivery to an endpoint with
// concurrency 1: while the dead node's claim lasts no other node sends
// to the endpoint, and after its lease the survivors make that delivery
// again and every other.
func TestClusterDeadNodesDeliveryIsTakenOverAfterItsLease(t *testing.T) {
	schema := pgtest.FreshSchema(t)
	nodes := startClusterOn(t, schema, 3)
	rcv, srv := newSlowReceiver(t, 10)
	events := publishOnEveryNode(t, nodes, srv.URL+"/hook")
	select {
	case <-rcv.holding:
	case <-time.After(30 * time.Second):
		t.Fatal("the receiver held no request within 30s")
	}

	// Which node is attempting the held delivery: the store says who
	// holds its claim.
	rcv.mu.Lock()
	held := rcv.held
	rcv.mu.Unlock()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var holder *string
	err = conn.QueryRow(ctx, `SELECT claimed_by FROM `+pgx.Identifier{schema, "deliveries"}.Sanitize()+` WHERE event_id = $1 AND status = 'PENDING'`, held).Scan(&holder)
	if err != nil || holder == nil {
		t.Fatalf("the claim of the delivery in flight: %v %v", holder, err)
	}
	victim := slices.IndexFunc(nodes, func(n *child) bool { return n.nodeID(t) == *holder })
	if victim < 0 {
		t.Fatalf("the delivery in flight is claimed by %s, no node of the cluster", *holder)
	}
	if err := nodes[victim].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	nodes[victim].cmd.Wait()
	killed := time.Now()
	rcv.releaseHeld()

	survivor := nodes[(victim+1)%3]
	waitDelivered(t, survivor, rcv, events)
	if n := rcv.times(held); n < 2 {
		t.Errorf("the delivery in flight on the killed node reached the receiver %d times; want it made again by a survivor", n)
	}
	if m := rcv.most.Load(); m != 1 {
		t.Errorf("the receiver saw %d requests at once; the endpoint's concurrency is 1", m)
	}
	t.Logf("%d events delivered %v after the kill of the node attempting one, at most %d in flight",
		len(events), time.Since(killed).Round(time.Millisecond), rcv.most.Load())
}

// TestClusterDeadNodeLeavesTheListAfterItsLease kills one of three nodes
// with SIGKILL: the survivors list it until its lease ends, then no
// more, and stay ready all along.
func TestClusterDeadNodeLeavesTheListAfterItsLease(t *testing.T) {
	nodes := startCluster(t, 3)
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.nodeID(t)
	}
	for _, n := range nodes { // every node lists every node
		view := n.cluster(t)
		for _, id := range ids {
			if !view.lists(id) {
				t.Fatalf("node %s does not list node %s: %+v", view.Self, id, view)
			}
		}
	}
	dead := nodes[2]
	if err := dead.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	dead.cmd.Wait()
	killed := time.Now()

	survivors := nodes[:2]
	gone := make([]bool, len(survivors))
	deadline := killed.Add(clusterLease + 10*time.Second)
	for !gone[0] || !gone[1] {
		for i, n := range survivors {
			if resp, err := http.Get(n.url + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("survivor %s not ready after a node died: %v %v", ids[i], resp, err)
			} else {
				resp.Body.Close()
			}
			view := n.cluster(t)
			if !view.lists(ids[1-i]) || !view.lists(ids[i]) {
				t.Fatalf("survivor %s does not list the live nodes: %+v", ids[i], view)
			}
			if !view.lists(ids[2]) && !gone[i] {
				gone[i] = true
				t.Logf("survivor %d stopped listing the dead node %v after the kill", i, time.Since(killed).Round(time.Millisecond))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead node is still listed %v after the kill (lease %v)", time.Since(killed), clusterLease)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
