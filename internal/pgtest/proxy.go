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
//   - Failover: new connections pass again, but those held by a
//     Blackhole stay silent for good, as when the database moved to
//     another host and the old one vanished without a word.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]bool // the clients' connections; true: frozen by a Blackhole
	ups   map[net.Conn]bool // the connections to the target
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
	p := &Proxy{t: t, ln: ln, target: u.Host, conns: map[net.Conn]bool{}, ups: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

// Cut resets every open connection and refuses new ones until Restore.
func (p *Proxy) Cut() { p.set(proxyCut) }

// Blackhole stops every byte, both ways, on open connections and on new
// ones, until Restore. The target sees its connections closed.
func (p *Proxy) Blackhole() { p.set(proxyBlackhole) }

// Restore lets connections pass again.
func (p *Proxy) Restore() { p.set(proxyOpen) }

// Failover lets new connections pass again and leaves those a Blackhole
// froze silent until the test ends.
func (p *Proxy) Failover() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = proxyOpen
}

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
	for up := range p.ups {
		up.Close()
		delete(p.ups, up)
	}
	if m == proxyBlackhole && was == proxyOpen {
		// The clients' side stays open and silent: the pipes leave
		// it so, until Restore resets it.
		for c := range p.conns {
			p.conns[c] = true
		}
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
			p.conns[c] = mode == proxyBlackhole
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
	mode := p.mode
	_, tracked := p.conns[c]
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
	p.ups[up] = true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.copy(up, c); done <- struct{}{} }()
	go func() { p.copy(c, up); done <- struct{}{} }()
	<-done
	// One side ended: end both, unless a Blackhole froze them (then the
	// client's side stays silent until Restore, or the end of the test).
	p.mu.Lock()
	frozen := p.conns[c]
	p.mu.Unlock()
	up.Close()
	p.mu.Lock()
	delete(p.ups, up)
	p.mu.Unlock()
	if !frozen {
		c.Close()
		p.forget(c)
	}
	<-done
}

// copy forwards src to dst while the proxy is open; what it reads after
// that is dropped.
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
	for up := range p.ups {
		up.Close()
		delete(p.ups, up)
	}
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
