package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// flakyNodes is a nodeStore whose heartbeats fail while down is set.
type flakyNodes struct {
	mu        sync.Mutex
	down      bool
	beats     int
	forgotten bool
}

func (f *flakyNodes) Heartbeat(_ context.Context, n storage.Node, _ time.Duration) (storage.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return storage.Node{}, errors.New("connection refused")
	}
	f.beats++
	n.ID = "node-1"
	return n, nil
}

func (f *flakyNodes) ForgetNode(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = true
	return nil
}

func (f *flakyNodes) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// A node whose heartbeats fail keeps its lease until the lease ends,
// then is not live; it is live again after the next heartbeat that
// succeeds. One that cannot register does not start.
func TestNodeLease(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := &flakyNodes{down: true}
	if _, err := registerNode(context.Background(), st, storage.Node{}, time.Second, log); err == nil {
		t.Fatal("registered without a heartbeat")
	}
	st.setDown(false)
	const lease = 300 * time.Millisecond
	n, err := registerNode(context.Background(), st, storage.Node{Address: "10.0.0.1:8080"}, lease, log)
	if err != nil || n.ID() != "node-1" || n.self.Address != "10.0.0.1:8080" || !n.live() {
		t.Fatalf("register: %v %+v live=%v", err, n, n != nil && n.live())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.run(ctx) }()
	defer func() { cancel(); <-done }()

	st.setDown(true)
	time.Sleep(lease / 2)
	if !n.live() {
		t.Fatal("lost the lease before it ended")
	}
	waitFor(t, "the lease to be lost", func() bool { return !n.live() })
	st.setDown(false)
	waitFor(t, "the lease to come back", n.live)
	n.forget(context.Background())
	if !st.forgotten {
		t.Fatal("not forgotten")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
