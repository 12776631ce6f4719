package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// login signs in from a client address (the instance trusts loopback as a
// proxy) and returns the status.
func (in *instance) loginFrom(addr, name, password string) int {
	in.t.Helper()
	code, _, _ := in.do("POST", "/api/v1/login", jsonBody(in.t, map[string]string{"name": name, "password": password}),
		http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {addr}})
	return code
}

// TestLoginLimiterSurvivesAFlood: a flood of junk names from many
// addresses does not reset the lock on a name: the right password is
// still refused until the name's minute is over.
func TestLoginLimiterSurvivesAFlood(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") })
	clock := &fakeClock{now: time.Now()}
	const capacity = 16
	server.SetLoginLimiter(in.srv, capacity, clock.Now)
	in.user("dora", "operator")
	in.user("erin", "operator")

	for i := range 10 {
		if code := in.loginFrom("203.0.113.1", "dora", fmt.Sprint("wrong password ", i)); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, code)
		}
	}
	if code := in.loginFrom("203.0.113.1", "dora", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("right password once dora is locked: %d, want 429", code)
	}
	// The flood: many more junk names, each from its own address, than
	// the limiter holds.
	for i := range 4 * capacity {
		code := in.loginFrom(fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("junk-%d", i), "wrong password")
		if code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Fatalf("junk sign-in %d: %d", i, code)
		}
	}
	for _, addr := range []string{"198.51.100.1", "198.51.100.2", "192.0.2.99"} {
		if code := in.loginFrom(addr, "dora", testPassword); code != http.StatusTooManyRequests {
			t.Fatalf("right password for locked dora after the flood, from %s: %d, want 429", addr, code)
		}
	}
	// A minute later the lock is over, and the flood's keys, full again,
	// make room for new ones.
	clock.Add(time.Minute)
	if code := in.loginFrom("192.0.2.99", "dora", testPassword); code != http.StatusOK {
		t.Fatalf("right password a minute later: %d, want 200", code)
	}
	if code := in.loginFrom("192.0.2.100", "erin", testPassword); code != http.StatusOK {
		t.Fatalf("a name and an address new to the limiter, a minute later: %d, want 200", code)
	}
}

// TestLoginLimiterKeysIPv6By64: the addresses of one IPv6 /64 share one
// allowance; another /64 and IPv4 addresses have their own.
func TestLoginLimiterKeysIPv6By64(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") })
	clock := &fakeClock{now: time.Now()}
	server.SetLoginLimiter(in.srv, 0, clock.Now)
	for i := range 10 {
		addr := fmt.Sprintf("2001:db8:1:2:%x::%x", i*0x1111, i+1)
		if code := in.loginFrom(addr, fmt.Sprint("nobody-", i), "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d from %s: %d", i, addr, code)
		}
	}
	if code := in.loginFrom("2001:db8:1:2:ffff:ffff:ffff:ffff", "nobody-10", "wrong password"); code != http.StatusTooManyRequests {
		t.Fatalf("an 11th attempt from the same /64: %d, want 429", code)
	}
	for _, addr := range []string{"2001:db8:1:3::1", "192.0.2.1"} {
		if code := in.loginFrom(addr, "nobody-11", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("an attempt from %s: %d, want 401", addr, code)
		}
	}
}

// TestLoginTakesOnlySameOriginJSON: a cross-site form cannot sign a
// browser in (login CSRF): other content types get 415, a foreign Origin
// 403, and neither sets a cookie. The same origin and API clients that
// send no Origin sign in as before.
func TestLoginTakesOnlySameOriginJSON(t *testing.T) {
	t.Parallel()
	in := start(t)
	in.user("lin", "viewer")
	creds := jsonBody(t, map[string]string{"name": "lin", "password": testPassword})
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"text/plain", http.Header{"Content-Type": {"text/plain"}}, http.StatusUnsupportedMediaType},
		{"form", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, http.StatusUnsupportedMediaType},
		{"multipart", http.Header{"Content-Type": {"multipart/form-data; boundary=x"}}, http.StatusUnsupportedMediaType},
		{"no content type", http.Header{}, http.StatusUnsupportedMediaType},
		{"foreign origin", http.Header{"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"null origin", http.Header{"Content-Type": {"application/json"}, "Origin": {"null"}}, http.StatusForbidden},
		{"same origin", http.Header{"Content-Type": {"application/json"}, "Origin": {in.url}}, http.StatusOK},
		{"no origin", http.Header{"Content-Type": {"application/json; charset=utf-8"}}, http.StatusOK},
	} {
		code, body, h := in.do("POST", "/api/v1/login", creds, tc.header)
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
		if cookie := h.Get("Set-Cookie"); (code == http.StatusOK) != (cookie != "") {
			t.Errorf("%s: status %d with Set-Cookie %q", tc.name, code, cookie)
		}
		if code == http.StatusUnsupportedMediaType && !strings.Contains(string(body), "application/json") {
			t.Errorf("%s: the error does not say what to send: %s", tc.name, body)
		}
	}
}

// TestStrangersCannotLockAUserOut: failed sign-ins lock a name for the
// address they come from; from everywhere, they lock it only for
// addresses the user has not signed in from; successful sign-ins are not
// counted at all.
func TestStrangersCannotLockAUserOut(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") })
	clock := &fakeClock{now: time.Now()}
	server.SetLoginLimiter(in.srv, 0, clock.Now)
	in.user("dora", "operator")
	const home = "192.0.2.10"

	// Signing in often is not an attack.
	for i := range 15 {
		if code := in.loginFrom(home, "dora", testPassword); code != http.StatusOK {
			t.Fatalf("sign-in %d from home: %d, want 200", i+1, code)
		}
	}

	// A stranger's ten failures lock dora for the stranger only.
	for i := range 10 {
		if code := in.loginFrom("203.0.113.1", "dora", fmt.Sprint("guess ", i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := in.loginFrom("203.0.113.1", "dora", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("the right password from the stranger's address: %d, want 429", code)
	}
	if code := in.loginFrom("198.51.100.7", "dora", testPassword); code != http.StatusOK {
		t.Fatalf("dora from another, new address: %d, want 200", code)
	}

	// Guesses from many addresses exhaust the name's own allowance: then
	// only addresses dora signed in from get through.
	for i := range 30 {
		code := in.loginFrom(fmt.Sprintf("203.0.113.%d", 100+i), "dora", "guess")
		if code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Fatalf("distributed guess %d: %d", i, code)
		}
	}
	if code := in.loginFrom("203.0.113.250", "dora", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("the right password from an unknown address while the name is locked: %d, want 429", code)
	}
	for _, addr := range []string{home, "198.51.100.7"} {
		if code := in.loginFrom(addr, "dora", testPassword); code != http.StatusOK {
			t.Fatalf("dora from %s, where she signed in before, while the name is locked: %d, want 200", addr, code)
		}
	}
	if code := in.loginFrom(home, "dora", "a wrong one"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password from home: %d, want 401 (a known address still gets checked)", code)
	}

	// Three minutes later the name has its allowance back.
	clock.Add(3 * time.Minute)
	if code := in.loginFrom("203.0.113.251", "dora", testPassword); code != http.StatusOK {
		t.Fatalf("a new address three minutes later: %d, want 200", code)
	}
}

// A failed sign-in's name is stored in the audit log cut to a user name's
// length: an anonymous caller cannot write 20,000 characters into it.
func TestFailedSignInNameIsCutInTheAuditLog(t *testing.T) {
	t.Parallel()
	in := start(t)
	long := strings.Repeat("eve\n2026-12-03 admin user.delete ", 600)
	if code := in.loginFrom("127.0.0.1", long, "x"); code != http.StatusUnauthorized {
		t.Fatalf("sign-in: %d", code)
	}
	var audit struct {
		Items []struct{ Actor, Action string }
	}
	in.api("GET", "/audit?action=user.login_failed", nil, 200, &audit)
	if len(audit.Items) != 1 || len([]rune(audit.Items[0].Actor)) > 65 || !strings.HasSuffix(audit.Items[0].Actor, "…") {
		t.Fatalf("audit: %+v", audit.Items)
	}
}

// A refused sign-in says how long to wait: one attempt comes back every
// 6 s, not a minute.
func TestLoginLimitSaysHowLongToWait(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") })
	clock := &fakeClock{now: time.Now()}
	server.SetLoginLimiter(in.srv, 0, clock.Now)
	for i := range 10 {
		in.loginFrom("203.0.113.9", "nobody", fmt.Sprint("guess ", i))
	}
	code, body, h := in.do("POST", "/api/v1/login", jsonBody(t, map[string]string{"name": "nobody", "password": "x"}),
		http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {"203.0.113.9"}})
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "6" || !strings.Contains(string(body), "try again in 6 s") {
		t.Fatalf("locked: %d %q %s", code, h.Get("Retry-After"), body)
	}
	clock.Add(6 * time.Second)
	if code := in.loginFrom("203.0.113.9", "nobody", "again"); code != http.StatusUnauthorized {
		t.Fatalf("6 s later: %d, want 401", code)
	}
}

// Two nodes on one PostgreSQL schema count failed sign-ins together:
// the 11th failure from one address, spread over both nodes, is refused
// as on one node; a name locked from many addresses through both nodes
// stays open, on either node, at the address its user signed in from on
// one of them.
func TestLoginLimitsHoldAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	trusted := func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") }
	a, b := start(t, pg, trusted), start(t, pg, trusted)
	clock := &fakeClock{now: time.Now()}
	server.SetLoginLimiter(a.srv, 0, clock.Now)
	server.SetLoginLimiter(b.srv, 0, clock.Now)
	nodes := []*instance{a, b}

	for i := range 10 {
		if code := nodes[i%2].loginFrom("203.0.113.9", fmt.Sprint("nobody-", i), "guess"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d, on node %d: %d, want 401", i+1, i%2, code)
		}
	}
	for i, in := range nodes {
		code, body, h := in.do("POST", "/api/v1/login", jsonBody(t, map[string]string{"name": "nobody-10", "password": "x"}),
			http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {"203.0.113.9"}})
		if code != http.StatusTooManyRequests || h.Get("Retry-After") != "6" || !strings.Contains(string(body), "too many failed sign-ins; try again in 6 s") {
			t.Fatalf("the 11th failure from one address, on node %d: %d %q %s", i, code, h.Get("Retry-After"), body)
		}
	}

	a.user("dora", "operator")
	const home = "192.0.2.10"
	if code := a.loginFrom(home, "dora", testPassword); code != http.StatusOK {
		t.Fatalf("dora from home, on node 0: %d, want 200", code)
	}
	for i := range 30 {
		code := nodes[i%2].loginFrom(fmt.Sprintf("198.51.100.%d", 100+i), "dora", "guess")
		if code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Fatalf("distributed guess %d: %d", i, code)
		}
	}
	for i, in := range nodes {
		if code := in.loginFrom("198.51.100.250", "dora", testPassword); code != http.StatusTooManyRequests {
			t.Fatalf("the right password from an unknown address while the name is locked, on node %d: %d, want 429", i, code)
		}
		if code := in.loginFrom(home, "dora", testPassword); code != http.StatusOK {
			t.Fatalf("dora from home while the name is locked, on node %d: %d, want 200", i, code)
		}
	}
	clock.Add(3 * time.Minute)
	if code := b.loginFrom("198.51.100.251", "dora", testPassword); code != http.StatusOK {
		t.Fatalf("a new address three minutes later: %d, want 200", code)
	}
}
