package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/storage"
)

// Router makes HTTP clients that reach their targets by a route of their
// own (a proxy, TLS settings): *egress.Client is one.
type Router interface {
	Routed(egress.Route) *http.Client
}

// reach keeps what endpoints need beyond the engine's client: an HTTP
// client of their own, for an endpoint with a proxy or TLS settings (its
// own connection pool, kept while those settings stay the same), and the
// OAuth 2.0 token of an oauth2 endpoint. Both are keyed by endpoint id and
// dropped when the endpoint goes or its settings change (prune).
type reach struct {
	base   *http.Client
	router Router // nil: endpoints that need a route cannot send
	now    func() time.Time

	mu      sync.Mutex
	clients map[string]*routedClient
	tokens  map[string]*tokenSource
}

// routedClient is an endpoint's own client, made for the settings whose
// digest is key.
type routedClient struct {
	key   string
	hc    *http.Client // requests to the receiver
	token *http.Client // requests to the token endpoint: the proxy, not the tls
}

func newReach(base *http.Client, router Router) *reach {
	return &reach{base: base, router: router, now: time.Now,
		clients: map[string]*routedClient{}, tokens: map[string]*tokenSource{}}
}

// reachKeys are an endpoint's routeKey ("" when it needs no client of its
// own) and oauthKey ("" unless its auth is oauth2), digested once per
// change of the endpoint, not per request.
type reachKeys struct{ route, oauth string }

func newReachKeys(ep *storage.Endpoint) reachKeys {
	var k reachKeys
	if ep.Proxy != "" || ep.TLS != (storage.TLS{}) {
		k.route = routeKey(ep)
	}
	if ep.Auth.Type == "oauth2" {
		k.oauth = oauthKey(ep)
	}
	return k
}

// routeKey digests what an endpoint's client is made of.
func routeKey(ep *storage.Endpoint) string {
	h := sha256.New()
	for _, s := range []string{ep.Proxy, ep.ProxyPassword, ep.TLS.CAPEM, ep.TLS.ClientCertPEM, ep.TLS.ClientKeyPEM, ep.TLS.ServerName} {
		fmt.Fprintf(h, "%d:%s,", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// oauthKey digests an endpoint's OAuth 2.0 settings and route: a token
// is dropped when they change.
func oauthKey(ep *storage.Endpoint) string {
	h := sha256.New()
	for _, s := range []string{ep.Auth.TokenURL, ep.Auth.ClientID, ep.Auth.ClientSecret, strings.Join(ep.Auth.Scopes, " "), routeKey(ep)} {
		fmt.Fprintf(h, "%d:%s,", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// client returns the clients an endpoint sends with. An endpoint without
// an id (one being tested before it is saved) gets clients of its own,
// which done closes; for others done does nothing.
func (r *reach) client(t *target) (c *routedClient, done func(), err error) {
	ep, key := &t.ep, t.reachKeys.route
	if key == "" {
		return &routedClient{hc: r.base, token: r.base}, func() {}, nil
	}
	if r.router == nil {
		return nil, nil, fmt.Errorf("this engine cannot reach endpoints through a proxy or with TLS settings")
	}
	if ep.ID == "" {
		rt, err := route(ep)
		if err != nil {
			return nil, nil, err
		}
		c := r.make(rt, key)
		return c, c.close, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c = r.clients[ep.ID]
	if c == nil || c.key != key {
		// Made once per change of the endpoint's proxy or tls: the PEMs
		// are parsed here, not per request.
		rt, err := route(ep)
		if err != nil {
			return nil, nil, err
		}
		if c != nil {
			c.close()
		}
		c = r.make(rt, key)
		r.clients[ep.ID] = c
	}
	return c, func() {}, nil
}

func (r *reach) make(rt egress.Route, key string) *routedClient {
	c := &routedClient{key: key, hc: noRedirects(r.router.Routed(rt))}
	c.token = c.hc
	if rt.TLS != nil {
		c.token = noRedirects(r.router.Routed(egress.Route{Proxy: rt.Proxy}))
	}
	return c
}

func (c *routedClient) close() {
	c.hc.CloseIdleConnections()
	if c.token != c.hc {
		c.token.CloseIdleConnections()
	}
}

// noRedirects makes hc return redirects as answers, as the engine's
// client does.
func noRedirects(hc *http.Client) *http.Client {
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// prune drops the clients and tokens of endpoints that are gone or whose
// settings changed, closing the clients' idle connections.
func (r *reach) prune(targets map[string]*target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, c := range r.clients {
		t, ok := targets[id]
		if !ok || t.reachKeys.route != c.key {
			c.close()
			delete(r.clients, id)
		}
	}
	for id, s := range r.tokens {
		t, ok := targets[id]
		if !ok || t.reachKeys.oauth != s.key {
			delete(r.tokens, id)
		}
	}
}

// tokenSource returns an oauth2 endpoint's token source (a new one for
// an endpoint not saved yet).
func (r *reach) tokenSource(t *target) *tokenSource {
	ep, key := &t.ep, t.reachKeys.oauth
	if ep.ID == "" {
		return &tokenSource{key: key}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.tokens[ep.ID]
	if s == nil || s.key != key {
		s = &tokenSource{key: key}
		r.tokens[ep.ID] = s
	}
	return s
}

// send makes one attempt at o to t's receiver: through its own client if
// it has one, with its OAuth 2.0 token if it uses one. A receiver that
// answers 401 to a token is given a new one, once, within the attempt.
func (r *reach) send(ctx context.Context, t *target, o *outgoing, start time.Time) result {
	c, done, err := r.client(t)
	if err != nil {
		return result{attempt: storage.Attempt{At: start.UTC(), Error: "connection settings: " + err.Error()}}
	}
	defer done()
	if t.ep.Auth.Type != "oauth2" {
		return send(ctx, c.hc, o, start)
	}
	src := r.tokenSource(t)
	ctx, cancel := context.WithTimeout(ctx, o.timeout) // the token's fetch counts in the attempt's time
	defer cancel()
	for try := 0; ; try++ {
		tok, err := src.get(ctx, r.now, func(ctx context.Context) (token, error) {
			return fetchToken(ctx, c.token, &t.ep.Auth, r.now())
		})
		if err != nil {
			a := storage.Attempt{At: start.UTC(), LatencyMS: ms(time.Since(start)), Error: "OAuth 2.0 token: " + err.Error()}
			if ctx.Err() != nil {
				a.Error = fmt.Sprintf("OAuth 2.0 token: timed out after %s", o.timeout)
			}
			return result{attempt: a}
		}
		o.header["Authorization"] = []string{"Bearer " + tok}
		res := send(ctx, c.hc, o, start)
		if res.attempt.Status != http.StatusUnauthorized || try > 0 {
			return res
		}
		src.drop(tok)
	}
}
