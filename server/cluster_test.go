package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
)

// within polls cond every 20 ms and fails unless it holds within d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two nodes on one PostgreSQL schema: what is saved through one node's
// API takes effect on the other within a second (the change feed):
// a provider and its function, an endpoint created, then disabled, the
// outbound pause, and a declared event type's schema.
func TestClusterChangesReachTheOtherNode(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	a := start(t, pg, allowPrivate)
	b := start(t, pg, allowPrivate)

	p := a.provider("ci", `return true`)
	a.function(p.ID, "build", "cluster/push", `return {ok: true}`)
	within(t, time.Second, "a function saved on A runs for a webhook sent to B", func() bool {
		code, ans := b.send("cluster/push", []byte(`{}`), true, nil)
		return code == http.StatusOK && ans.Status == "SUCCESS" && len(ans.Functions) == 1 && ans.Functions[0].Status == "SUCCESS"
	})

	s := newSink(t)
	e := a.endpoint(map[string]any{"name": "ops", "url": s.URL, "event_types": []string{"cluster.*"}})
	publishOnB := func() int {
		var pub struct {
			Deliveries int `json:"deliveries"`
		}
		b.api("POST", "/events", map[string]any{"type": "cluster.ping"}, http.StatusAccepted, &pub)
		return pub.Deliveries
	}
	within(t, time.Second, "an endpoint created on A receives B's events", func() bool { return publishOnB() == 1 })
	a.api("PUT", "/endpoints/"+e.ID, map[string]any{"enabled": false}, http.StatusOK, nil)
	within(t, time.Second, "an endpoint disabled on A receives none of B's events", func() bool { return publishOnB() == 0 })

	var st struct {
		Paused bool `json:"paused"`
	}
	a.api("PUT", "/outbound", map[string]any{"paused": true}, http.StatusOK, nil)
	within(t, time.Second, "outbound paused on A is paused on B", func() bool {
		b.api("GET", "/outbound", nil, http.StatusOK, &st)
		return st.Paused
	})
	a.api("PUT", "/outbound", map[string]any{"paused": false}, http.StatusOK, nil)
	within(t, time.Second, "outbound resumed on A is resumed on B", func() bool {
		b.api("GET", "/outbound", nil, http.StatusOK, &st)
		return !st.Paused
	})

	// A type declared on A: B enforces its schema, and forgets it when
	// A deletes it.
	a.api("PUT", "/event-types/cluster.alarm", map[string]any{"kind": "alarm", "schema": map[string]any{"required": []string{"host"}}}, http.StatusCreated, nil)
	publishAlarmOnB := func() int {
		code, _ := b.as(testToken, "POST", "/events", []byte(`{"type": "cluster.alarm", "data": {}}`), nil)
		return code
	}
	within(t, time.Second, "a schema declared on A is enforced on B", func() bool { return publishAlarmOnB() == http.StatusBadRequest })
	a.api("DELETE", "/event-types/cluster.alarm", nil, http.StatusNoContent, nil)
	within(t, time.Second, "a type deleted on A is not enforced on B", func() bool { return publishAlarmOnB() == http.StatusAccepted })
}

// A periodic job runs on one node at a time: while another holds its
// lock, this node skips it; once released, it runs.
func TestPeriodicJobsRunUnderTheirLock(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) {
		o.Retention = 100 * time.Millisecond
		o.PurgeInterval = 50 * time.Millisecond
	})
	// The purge may hold its lock at this moment (it runs every 50 ms):
	// take the lock once it is free.
	var unlock func()
	eventually(t, "the purge's lock taken", func() bool {
		u, ok, err := server.HoldJob(in.srv, server.JobPurgeMessages)
		if err != nil {
			t.Fatalf("lock: %v", err)
		}
		unlock = u
		return ok
	})
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "p", "return 1")
	_, old := in.send("p", []byte(`{}`), true, nil)
	time.Sleep(500 * time.Millisecond)
	if code, _, _ := in.do("GET", "/api/v1/messages/"+old.ID, nil, http.Header{"Authorization": {"Bearer " + testToken}}); code != http.StatusOK {
		t.Fatalf("purged while another node ran the purge: %d", code)
	}
	unlock()
	eventually(t, "the old message purged once the lock is free", func() bool {
		code, _, _ := in.do("GET", "/api/v1/messages/"+old.ID, nil, http.Header{"Authorization": {"Bearer " + testToken}})
		return code == http.StatusNotFound
	})
}

type clusterView struct {
	Nodes []storage.Node `json:"nodes"`
	Self  string         `json:"self"`
}

// GET /cluster on bbolt lists the one node, the one that answers, with
// its address, version and times; /metrics names it.
func TestClusterOfOne(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.Version = "1.2.3" })
	var v clusterView
	in.api("GET", "/cluster", nil, http.StatusOK, &v)
	if len(v.Nodes) != 1 || v.Self == "" || v.Nodes[0].ID != v.Self {
		t.Fatalf("cluster: %+v", v)
	}
	n := v.Nodes[0]
	if n.Address != in.srv.Addr().String() || n.Version != "1.2.3" || n.StartedAt.IsZero() || n.LastSeen.Before(n.StartedAt) {
		t.Fatalf("node: %+v", n)
	}
	_, body, _ := in.do("GET", "/metrics", nil, nil)
	if !strings.Contains(string(body), `switchyard_node_info{node="`+v.Self+`"} 1`) {
		t.Fatalf("metrics lack the node:\n%s", body)
	}
}

// Two nodes on PostgreSQL each list both, the advertised address as
// given; a node stopped leaves the list at once (it forgets itself).
func TestClusterListsTheLiveNodes(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	a := start(t, pg, func(o *server.Options) { o.Advertise = "node-a.internal:8080" })
	b := start(t, pg)
	var va, vb clusterView
	a.api("GET", "/cluster", nil, http.StatusOK, &va)
	b.api("GET", "/cluster", nil, http.StatusOK, &vb)
	if len(va.Nodes) != 2 || len(vb.Nodes) != 2 || va.Self == vb.Self {
		t.Fatalf("A sees %+v, B sees %+v", va, vb)
	}
	for _, n := range va.Nodes {
		if n.ID == va.Self && n.Address != "node-a.internal:8080" {
			t.Fatalf("A's address: %+v", n)
		}
	}
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	a.api("GET", "/cluster", nil, http.StatusOK, &va)
	if len(va.Nodes) != 1 || va.Nodes[0].ID != va.Self {
		t.Fatalf("after B stopped: %+v", va)
	}
}
