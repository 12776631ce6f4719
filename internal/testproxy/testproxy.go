// Package testproxy is an HTTP forward proxy for tests: it hands plain
// requests on (absolute-form) and tunnels CONNECT, and records what it
// was asked.
package testproxy

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is what the proxy was asked: the method (CONNECT or the
// request's), the target ("host:port" for CONNECT, the absolute URL
// otherwise) and the Proxy-Authorization header.
type Request struct {
	Method, Target, Auth string
}

// Proxy is a running proxy.
type Proxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []Request
}

// New starts a proxy on loopback, closed when the test ends.
func New(t testing.TB) *Proxy {
	p := &Proxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// NewTLS starts an https proxy (clients speak TLS to it) with cfg.
func NewTLS(t testing.TB, cfg *tls.Config) *Proxy {
	p := &Proxy{}
	p.Server = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.Server.TLS = cfg
	p.Server.StartTLS()
	t.Cleanup(p.Close)
	return p
}

// Seen returns the requests the proxy was asked so far.
func (p *Proxy) Seen() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.seen...)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if r.Method != http.MethodConnect {
		target = r.URL.String()
	}
	p.mu.Lock()
	p.seen = append(p.seen, Request{Method: r.Method, Target: target, Auth: r.Header.Get("Proxy-Authorization")})
	p.mu.Unlock()
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	dst, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		dst.Close()
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	src, buf, err := hj.Hijack()
	if err != nil {
		dst.Close()
		return
	}
	if _, err := src.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		src.Close()
		dst.Close()
		return
	}
	if n := buf.Reader.Buffered(); n > 0 {
		b, _ := buf.Reader.Peek(n)
		_, _ = dst.Write(b)
	}
	done := make(chan struct{}, 2)
	cp := func(a, b net.Conn) {
		_, _ = io.Copy(a, b)
		if tc, ok := a.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(dst, src)
	go cp(src, dst)
	<-done
	<-done
	src.Close()
	dst.Close()
}
