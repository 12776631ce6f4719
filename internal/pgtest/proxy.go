package pgtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a loopback TCP proxy in front of PostgreSQL, for tests of what
// a node does when the database goes away: the shared server cannot be
// restarted under other tests, but a node that reaches it through a Proxy
// sees what a restart or a partition looks like from where it stands.
//
//   - Cut: every open connection is reset, and new ones are refused, as
//     while PostgreSQL restarts.
//   - Blackhole: open connections and new ones stay up but nothing passes
//     either way, as in a network partition: only deadlines end the wait.
//   - Restore: connections pass again; those held by a Blackhole are
//     reset, as the server ended their sessions meanwhile.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]bool // every connection open on either side
	wg    sync.WaitGroup
}

type proxyMode int

const (
	proxyOpen proxyMode = iota
	proxyCut
	proxyBlackhole
)

// NewProxy listens on a loopback port and forwards each connection to the
// host and port of targetURL (a postgres:// URL). It returns the proxy and
// targetURL pointed at it; the proxy closes when the test ends.
func NewProxy(t testing.TB, targetURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(targetURL)
	if err != nil {
		t.Fatalf("proxy target: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, ln: ln, target: u.Host, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

// Cut resets every open connection and refuses new ones until Restore.
func (p *Proxy) Cut() { p.set(proxyCut) }

// Blackhole stops every byte, both ways, on open connections and on new
// ones, until Restore.
func (p *Proxy) Blackhole() { p.set(proxyBlackhole) }

// Restore lets connections pass again.
func (p *Proxy) Restore() { p.set(proxyOpen) }

// set changes the mode. Leaving Open resets or freezes every connection
// (both modes drop them: a frozen one waits to be reset by Restore);
// Restore resets the connections a Blackhole held.
func (p *Proxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == m {
		return
	}
	was := p.mode
	p.mode = m
	if m == proxyBlackhole && was == proxyOpen {
		// The frozen connections keep their client side open: the
		// pipes stop forwarding, and close when Restore resets them.
		return
	}
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

// accept serves connections until the listener closes.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode != proxyCut {
			p.conns[c] = true
		}
		p.mu.Unlock()
		switch mode {
		case proxyCut:
			reset(c)
		case proxyBlackhole:
			p.wg.Add(1)
			go p.hold(c)
		default:
			p.wg.Add(1)
			go p.pipe(c)
		}
	}
}

// hold reads and drops what the client sends until the connection is
// reset (by Restore or the end of the test).
func (p *Proxy) hold(c net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(io.Discard, c)
	p.forget(c)
}

// pipe forwards c to the target and back until either side ends, or the
// mode changes.
func (p *Proxy) pipe(c net.Conn) {
	defer p.wg.Done()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		reset(c)
		p.forget(c)
		return
	}
	p.mu.Lock()
	mode, tracked := p.mode, p.conns[c]
	if mode != proxyOpen || !tracked {
		p.mu.Unlock()
		up.Close()
		if mode == proxyBlackhole && tracked {
			_, _ = io.Copy(io.Discard, c) // until Restore resets it
		}
		reset(c)
		p.forget(c)
		return
	}
	p.conns[up] = true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.copy(up, c); done <- struct{}{} }()
	go func() { p.copy(c, up); done <- struct{}{} }()
	<-done
	// One side ended: end both, unless a Blackhole froze them (then the
	// client's side waits for Restore).
	p.mu.Lock()
	frozen := p.mode == proxyBlackhole && p.conns[c]
	p.mu.Unlock()
	up.Close()
	p.forget(up)
	if !frozen {
		c.Close()
		p.forget(c)
	}
	<-done
}

// copy forwards src to dst while the proxy is open; a Blackhole stops it
// (the bytes read then are dropped) and closes the upstream side.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		open := p.mode == proxyOpen
		p.mu.Unlock()
		if !open {
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// reset closes c with a TCP RST, as a restarted server's host answers.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// close stops the proxy and every connection through it.
func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
