package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Route is how requests reach their targets when the Client's defaults
// do not do: through a proxy, with TLS settings of their own.
type Route struct {
	// Proxy is an http:// or https:// proxy; nil: straight to the target.
	// Its user info, if any, is sent as Basic proxy authorization. An
	// https target is reached through a CONNECT tunnel, an http one by
	// handing the proxy the request.
	Proxy *url.URL
	// TLS configures the connections to https targets (the tunnel's, when
	// proxied); nil: the Client's defaults.
	TLS *tls.Config
	// ProxyRoots verify an https proxy's certificate; nil: the system's.
	ProxyRoots *x509.CertPool
}

// Routed returns an *http.Client that sends through the guard as
// HTTPClient's does (redirect policy, response cap, default User-Agent),
// reaching its targets by r, with a connection pool of its own: call its
// CloseIdleConnections when it is no longer used.
//
// Behind a proxy the guard checks two things: the proxy's address, when
// it is dialled, as any address; and the target's, before each request,
// by resolving the target's host here: a request whose host is, or
// resolves to, an address the guard refuses (any of its addresses), or
// does not resolve here, is refused. What the proxy itself resolves the
// name to, it decides: a proxy that resolves it differently (split DNS,
// DNS rebinding between the two look-ups) is beyond the guard, and an
// egress proxy with its own access rules is the place to stop that.
func (c *Client) Routed(r Route) *http.Client {
	t := c.transport.Clone()
	if r.TLS != nil {
		t.TLSClientConfig = r.TLS.Clone()
		if t.TLSClientConfig.MinVersion < tls.VersionTLS12 {
			t.TLSClientConfig.MinVersion = tls.VersionTLS12
		}
	}
	var rt http.RoundTripper = t
	if p := r.Proxy; p != nil {
		proxy := *p
		if proxy.Scheme == "https" {
			// The transport would make the proxy's TLS with the target's
			// settings (its roots, its client certificate, its server
			// name); the dialer makes it instead, with the proxy's own,
			// and the transport sees a plain http proxy.
			proxy.Scheme = "http"
			if proxy.Port() == "" {
				proxy.Host = net.JoinHostPort(proxy.Hostname(), "443")
			}
			t.DialContext = c.tlsDial(p.Hostname(), r.ProxyRoots)
		}
		t.Proxy = http.ProxyURL(&proxy)
		rt = &targetGuard{c: c, base: t}
	}
	return &http.Client{
		Transport:     &capTransport{base: rt, max: c.max, userAgent: c.userAgent, closer: t},
		CheckRedirect: checkRedirect,
	}
}

// tlsDial dials through the guard and makes a TLS connection to an https
// proxy named host.
func (c *Client) tlsDial(host string, roots *x509.CertPool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	cfg := &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := c.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(conn, cfg)
		hctx, cancel := context.WithTimeout(ctx, tlsTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS with the proxy: %w", err)
		}
		return tc, nil
	}
}

// targetGuard checks a proxied request's target before the proxy gets
// it: the proxy dials the target, not the guard's dialer.
type targetGuard struct {
	c    *Client
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (g *targetGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.c.checkTarget(req.Context(), req.URL); err != nil {
		closeBody(req)
		return nil, err
	}
	return g.base.RoundTrip(req)
}

// checkTarget refuses a target the guard would refuse were it dialled
// here: an address refused, a name with any address refused, or a name
// that does not resolve.
func (c *Client) checkTarget(ctx context.Context, u *url.URL) error {
	if c.guard.allowPrivate {
		return nil
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if why := c.guard.refuse(a); why != "" {
			return &RefusedError{Addr: net.JoinHostPort(a.String(), port), Reason: why + " (the target, behind the proxy)"}
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return &RefusedError{Addr: net.JoinHostPort(host, port),
			Reason: "the target's name does not resolve here, so the guard cannot check it before the proxy dials it"}
	}
	for _, a := range addrs {
		if why := c.guard.refuse(a); why != "" {
			return &RefusedError{Addr: net.JoinHostPort(a.String(), port), Reason: why + " (the target " + host + ", behind the proxy)"}
		}
	}
	return nil
}

// closeBody closes a request's body, as a RoundTripper must even when it
// fails.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
