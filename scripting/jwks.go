package scripting

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// JWKS cache bounds.
const (
	// jwksTTL is how long fetched keys are used before they are fetched
	// again.
	jwksTTL = 10 * time.Minute
	// jwksRetry is the least time between two fetches of one URL: a token
	// with a kid the set lacks makes a fetch (the issuer may have rotated
	// its keys), but tokens made up with random kids cannot make Switchyard
	// hammer the issuer; a failed fetch is not retried sooner either.
	jwksRetry    = 30 * time.Second
	maxJWKSBytes = 256 << 10 // bytes of a key set
	maxJWKSKeys  = 100       // keys in a set
	maxJWKSURLs  = 64        // URLs cached; the least recently fetched goes first
)

// jwksCache holds the key sets JWT.verify fetched, per URL. One engine
// has one, shared by its runs.
type jwksCache struct {
	mu      sync.Mutex
	entries map[string]*jwksEntry
}

type jwksEntry struct {
	keys    []jwtKey      // nil until a fetch succeeds
	fetched time.Time     // when keys were fetched
	tried   time.Time     // the last fetch started
	err     error         // of the last fetch
	busy    chan struct{} // closed when the fetch under way ends; nil when none is
}

// get returns url's keys. It fetches them when there are none, they are
// older than jwksTTL, or want refuses them (no key has the token's kid);
// at most one fetch at a time and one per jwksRetry per URL. Waiting for
// another run's fetch ends with ctx.
func (c *jwksCache) get(ctx context.Context, url string, want func([]jwtKey) bool, fetch func() ([]jwtKey, error)) ([]jwtKey, error) {
	for {
		c.mu.Lock()
		e := c.entry(url)
		t := now()
		fresh := e.keys != nil && t.Sub(e.fetched) < jwksTTL
		if fresh && want(e.keys) {
			c.mu.Unlock()
			return e.keys, nil
		}
		if busy := e.busy; busy != nil {
			c.mu.Unlock()
			select {
			case <-busy:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if !e.tried.IsZero() && t.Sub(e.tried) < jwksRetry {
			keys, err := e.keys, e.err
			c.mu.Unlock()
			if fresh {
				return keys, nil // the kid is still unknown
			}
			return nil, fmt.Errorf("fetching it failed less than %s ago: %w", jwksRetry, err)
		}
		e.busy, e.tried = make(chan struct{}), t
		c.mu.Unlock()

		keys, err := fetch()
		c.mu.Lock()
		if err == nil {
			e.keys, e.fetched = keys, now()
		}
		e.err = err
		close(e.busy)
		e.busy = nil
		keys = e.keys
		c.mu.Unlock()
		if err != nil && !fresh {
			return nil, err
		}
		return keys, nil
	}
}

// entry returns url's entry, made when missing; c.mu is held.
func (c *jwksCache) entry(url string) *jwksEntry {
	if e := c.entries[url]; e != nil {
		return e
	}
	if c.entries == nil {
		c.entries = map[string]*jwksEntry{}
	}
	if len(c.entries) >= maxJWKSURLs {
		c.evict()
	}
	e := &jwksEntry{}
	c.entries[url] = e
	return e
}

// evict drops the entry tried least recently among those not being
// fetched; c.mu is held.
func (c *jwksCache) evict() {
	var oldest string
	for u, e := range c.entries {
		if e.busy == nil && (oldest == "" || e.tried.Before(c.entries[oldest].tried)) {
			oldest = u
		}
	}
	delete(c.entries, oldest)
}

// jwksKeys returns the keys of the JWKS at u, fetched through the run's
// HTTP effect (the egress guard), or why they cannot be had.
func (r *run) jwksKeys(fn string, u *url.URL, kid string) ([]jwtKey, string) {
	client := r.effects().HTTP
	if client == nil {
		panic(r.newError("Error", fn+": outbound HTTP is not available here, so the jwksUrl cannot be fetched"))
	}
	hasKid := func(keys []jwtKey) bool {
		for _, k := range keys {
			if kid == "" || k.kid == kid {
				return true
			}
		}
		return false
	}
	keys, err := r.jwks.get(r.ctx, u.String(), hasKid, func() ([]jwtKey, error) {
		return r.fetchJWKS(client, u)
	})
	if err != nil {
		r.checkStopped()
		return nil, "the JWKS at " + logURL(u) + " cannot be had: " + err.Error()
	}
	return keys, ""
}

// fetchJWKS fetches and parses a key set, writing one log line.
func (r *run) fetchJWKS(client HTTPClient, u *url.URL) ([]jwtKey, error) {
	resp, err := client.Do(r.ctx, &HTTPRequest{URL: u.String(), Method: "GET", Headers: map[string]string{"Accept": "application/json"}})
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may carry credentials
		}
		if r.ctx.Err() != nil {
			err = errors.New("the script ran out of time")
		}
		r.logText(LevelWarning, "JWT.verify: GET "+logURL(u)+" failed: "+err.Error())
		return nil, err
	}
	keys, err := parseJWKS(resp)
	if err != nil {
		r.logText(LevelWarning, "JWT.verify: GET "+logURL(u)+": "+err.Error())
		return nil, err
	}
	r.logText(LevelInfo, "JWT.verify: GET "+logURL(u)+" -> "+strconv.Itoa(len(keys))+" keys")
	return keys, nil
}

// parseJWKS reads a JWK Set (RFC 7517), keeping the signing keys
// JWT.verify can use and skipping the others.
func parseJWKS(resp *HTTPResponse) ([]jwtKey, error) {
	if resp == nil || resp.Status != 200 {
		status := 0
		if resp != nil {
			status = resp.Status
		}
		return nil, fmt.Errorf("answered %d, not 200", status)
	}
	if len(resp.Body) > maxJWKSBytes {
		return nil, fmt.Errorf("the key set is larger than %d KiB", maxJWKSBytes>>10)
	}
	m, ok := jsonMembers(resp.Body)
	var set []json.RawMessage
	if !ok || json.Unmarshal(m["keys"], &set) != nil {
		return nil, errors.New("the answer is not a JWK Set (JSON with keys)")
	}
	if len(set) > maxJWKSKeys {
		return nil, fmt.Errorf("the key set has more than %d keys", maxJWKSKeys)
	}
	keys := []jwtKey{}
	for _, raw := range set {
		if k, ok := parseJWK(raw); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set has no usable signing key")
	}
	return keys, nil
}

// parseJWK reads one public signing key; ok is false for a key of
// another use or type, or a malformed one.
func parseJWK(raw json.RawMessage) (jwtKey, bool) {
	m, ok := jsonMembers(raw)
	if !ok {
		return jwtKey{}, false
	}
	var j struct{ Kty, Kid, Use, Alg, Crv, N, E, X, Y string }
	for name, dst := range map[string]*string{"kty": &j.Kty, "kid": &j.Kid, "use": &j.Use, "alg": &j.Alg,
		"crv": &j.Crv, "n": &j.N, "e": &j.E, "x": &j.X, "y": &j.Y} {
		if *dst, ok = stringMember(m, name); !ok {
			return jwtKey{}, false
		}
	}
	if j.Use != "" && j.Use != "sig" {
		return jwtKey{}, false
	}
	var key any
	switch j.Kty {
	case "RSA":
		n, e := b64Int(j.N), b64Int(j.E)
		if n == nil || e == nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return jwtKey{}, false
		}
		key = &rsa.PublicKey{N: n, E: int(e.Int64())}
	case "EC":
		curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384()}[j.Crv]
		x, err1 := base64.RawURLEncoding.DecodeString(j.X)
		y, err2 := base64.RawURLEncoding.DecodeString(j.Y)
		if curve == nil || err1 != nil || err2 != nil {
			return jwtKey{}, false
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return jwtKey{}, false
		}
		k, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return jwtKey{}, false
		}
		key = k
	case "OKP":
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return jwtKey{}, false
		}
		key = ed25519.PublicKey(x)
	default:
		return jwtKey{}, false
	}
	return jwtKey{kid: j.Kid, alg: j.Alg, key: key}, true
}

// b64Int decodes a base64url unsigned big-endian integer; nil when it is
// malformed.
func b64Int(s string) *big.Int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || len(b) > 2048 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}
