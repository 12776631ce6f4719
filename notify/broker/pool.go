package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Reconnection backoff: after a failed connect, or a publish that found
// the connection gone, the next connect waits at least this long,
// doubling up to the most.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// ErrChanged is returned by Pool.Publish for a Spec that is no longer the
// one kept under its key: the endpoint changed during the attempt.
var ErrChanged = errors.New("the endpoint changed or was disabled during the attempt")

// Spec is what a Pool connects with: a destination, its credentials and
// how many publishes may run at once.
type Spec struct {
	Destination Destination
	Credentials Credentials
	Concurrency int
}

// Pool keeps one Publisher per key (an endpoint's id), opened on the
// first publish and kept until Retain drops the key or its Spec changes,
// or Close. A broken connection is opened again on a later publish, after
// a backoff. It is safe for concurrent use.
type Pool struct {
	dial Dialer
	wg   sync.WaitGroup // closes under way

	mu    sync.Mutex
	conns map[string]*conn
}

// conn is one key's connection.
type conn struct {
	spec Spec
	wg   *sync.WaitGroup // the pool's

	mu      sync.Mutex // held while connecting
	pub     Publisher  // nil until connected, and after a failure
	lastErr error      // why the last connect or publish failed
	backoff time.Duration
	waitTil time.Time // no connect before this
	closed  bool
}

// NewPool returns a pool that dials with dial.
func NewPool(dial Dialer) *Pool {
	return &Pool{dial: dial, conns: map[string]*conn{}}
}

// Retain keeps the connections of the keys in specs, with the same Spec,
// and closes every other (in the background: closing waits for the
// broker; Close waits for it). A key of specs without a connection gets one on its first
// publish.
func (p *Pool) Retain(specs map[string]Spec) {
	p.mu.Lock()
	var drop []*conn
	for k, c := range p.conns {
		if s, ok := specs[k]; !ok || s != c.spec {
			drop = append(drop, c)
			delete(p.conns, k)
		}
	}
	for k, s := range specs {
		if _, ok := p.conns[k]; !ok {
			p.conns[k] = &conn{spec: s, wg: &p.wg}
		}
	}
	p.mu.Unlock()
	for _, c := range drop {
		p.wg.Go(c.close)
	}
}

// Close closes every connection and waits for them to end; publishes
// after it fail with ErrChanged until a Retain names their keys again.
// No publish may be under way.
func (p *Pool) Close() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[string]*conn{}
	p.mu.Unlock()
	for _, c := range conns {
		p.wg.Go(c.close)
	}
	p.wg.Wait()
}

// Publish publishes m with the connection kept under key, which must have
// been retained with spec (else ErrChanged), connecting first if needed.
func (p *Pool) Publish(ctx context.Context, key string, spec Spec, m Message) (string, error) {
	p.mu.Lock()
	c, ok := p.conns[key]
	p.mu.Unlock()
	if !ok || c.spec != spec {
		return "", ErrChanged
	}
	pub, err := c.get(ctx, p.dial)
	if err != nil {
		return "", err
	}
	receipt, err := pub.Publish(ctx, m)
	if err != nil && pub.Broken() {
		c.failed(pub, err)
	}
	return receipt, err
}

// get returns the connection, connecting when there is none and the
// backoff allows.
func (c *conn) get(ctx context.Context, dial Dialer) (Publisher, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrChanged
	}
	if c.pub != nil && !c.pub.Broken() {
		return c.pub, nil
	}
	if c.pub != nil { // broken since
		c.closeLater(c.pub)
		c.pub = nil
	}
	if wait := time.Until(c.waitTil); wait > 0 {
		return nil, fmt.Errorf("not connected (reconnecting in %s): %w", wait.Round(time.Millisecond), c.lastErr)
	}
	pub, err := Open(ctx, c.spec.Destination, c.spec.Credentials, dial, c.spec.Concurrency)
	if err != nil {
		c.setBackoff(err)
		return nil, err
	}
	c.pub, c.backoff, c.lastErr = pub, 0, nil
	return pub, nil
}

// failed drops pub, which broke during a publish, unless it was already
// replaced.
func (c *conn) failed(pub Publisher, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pub != pub {
		return
	}
	c.pub = nil
	c.setBackoff(err)
	c.closeLater(pub)
}

// closeLater closes pub in the background; the pool's Close waits for it.
func (c *conn) closeLater(pub Publisher) {
	c.wg.Go(func() { _ = pub.Close() })
}

func (c *conn) setBackoff(err error) {
	c.backoff = min(max(2*c.backoff, minBackoff), maxBackoff)
	c.waitTil, c.lastErr = time.Now().Add(c.backoff), err
}

// close closes the connection for good and waits for it.
func (c *conn) close() {
	c.mu.Lock()
	pub := c.pub
	c.pub, c.closed = nil, true
	c.mu.Unlock()
	if pub != nil {
		pub.Close()
	}
}
