package server_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/server"
)

// testKey is a secrets key made of byte b, as SWITCHYARD_SECRET_KEY
// holds it.
func testKey(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
}

// onPostgres puts an instance's store in a fresh schema of the test
// database, with a secrets key; the returned edit starts more instances
// on the same schema.
func onPostgres(t *testing.T) func(*server.Options) {
	t.Helper()
	storeURL := pgtest.SchemaURL(t, pgtest.FreshSchema(t))
	return func(o *server.Options) {
		o.Store = storeURL
		o.SecretKey = testKey('k')
	}
}

// A whole Switchyard on PostgreSQL: a provider (with a secret) and a
// function saved, webhooks processed end to end (async and sync), an
// event delivered to an endpoint; after a restart on the same schema,
// from another data directory, everything is still there and works.
func TestPostgresWholeSwitchyard(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	s := newSink(t)
	in := start(t, pg, allowPrivate)
	p := in.provider("github", `return HTTP_HEADERS['x-github-event'] !== undefined && PROPERTIES.token === 'pg-secret-value'`,
		map[string]any{"secrets": map[string]string{"token": "pg-secret-value"}})
	f := in.function(p.ID, "build", "ci/push", `
		LOG.setMessage('built ' + PAYLOAD.ref);
		NOTIFY.send('build.done', {title: 'Build ' + PAYLOAD.ref});
		return {ref: PAYLOAD.ref}`)
	e := in.endpoint(map[string]any{"name": "ops", "url": s.URL + "/in", "event_types": []string{"build.*"}})
	gh := http.Header{"X-Github-Event": {"push"}}

	code, async := in.send("ci/push", []byte(`{"ref": "main"}`), false, gh)
	if code != http.StatusAccepted || async.ID == "" {
		t.Fatalf("async webhook: %d %+v", code, async)
	}
	if d := in.waitDone(async.ID); d.Status != "SUCCESS" || d.ProviderName != "github" || d.Message != "built main" || len(d.Executions) != 1 {
		t.Fatalf("async message: %+v", d)
	}
	code, sync := in.send("ci/push", []byte(`{"ref": "dev"}`), true, gh)
	if code != http.StatusOK || sync.Status != "SUCCESS" || len(sync.Functions) != 1 || sync.Functions[0].Status != "SUCCESS" {
		t.Fatalf("sync webhook: %d %+v", code, sync)
	}
	if ds := in.settled(e.ID, 2); ds[0].Status != "SUCCESS" || ds[1].Status != "SUCCESS" {
		t.Fatalf("deliveries: %+v", ds)
	}
	_, body, _ := in.do("GET", "/metrics", nil, nil)
	if !strings.Contains(string(body), "switchyard_store_commits_total") || strings.Contains(string(body), "switchyard_store_commits_total 0\n") {
		t.Fatalf("metrics lack the store's commits:\n%s", body)
	}
	if !strings.Contains(string(body), "switchyard_store_round_trips_total") || strings.Contains(string(body), "switchyard_store_round_trips_total 0\n") {
		t.Fatalf("metrics lack the store's round trips:\n%s", body)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}

	// Another node's data directory: nothing it needs lives there.
	again := start(t, pg, allowPrivate)
	var list struct {
		Items []provider `json:"items"`
	}
	again.api("GET", "/providers", nil, http.StatusOK, &list)
	if ps := list.Items; len(ps) != 1 || ps[0].ID != p.ID || len(ps[0].Secrets) != 1 {
		t.Fatalf("providers after restart: %+v", list.Items)
	}
	var fn function
	again.api("GET", "/functions/"+f.ID, nil, http.StatusOK, &fn)
	if fn.Name != "build" || fn.Version != 1 {
		t.Fatalf("function after restart: %+v", fn)
	}
	for _, id := range []string{async.ID, sync.ID} {
		if d := again.message(id); d.Status != "SUCCESS" {
			t.Fatalf("message %s after restart: %+v", id, d)
		}
	}
	if ds := again.deliveries("endpoint_id=" + e.ID); len(ds) != 2 {
		t.Fatalf("deliveries after restart: %+v", ds)
	}
	// The secret opens with the same key: the match script still sees it.
	code, sync = again.send("ci/push", []byte(`{"ref": "after"}`), true, gh)
	if code != http.StatusOK || sync.Status != "SUCCESS" {
		t.Fatalf("webhook after restart: %d %+v", code, sync)
	}
}

// A PostgreSQL store needs a secrets key given, and a node with another
// key than the one the store's secrets were sealed with refuses to start.
func TestPostgresSecretKey(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	_, err := newOn(t.TempDir(), func(o *server.Options) { pg(o); o.SecretKey = "" })
	if !errors.Is(err, server.ErrNoSecretKey) || !strings.Contains(err.Error(), "SWITCHYARD_SECRET_KEY") {
		t.Fatalf("no key: %v", err)
	}
	in := start(t, pg)
	in.provider("p", "return true", map[string]any{"secrets": map[string]string{"token": "t"}})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	_, err = newOn(t.TempDir(), func(o *server.Options) { pg(o); o.SecretKey = testKey('w') })
	if !errors.Is(err, server.ErrWrongSecretKey) || !strings.Contains(err.Error(), "every node needs the same SWITCHYARD_SECRET_KEY") {
		t.Fatalf("wrong key: %v", err)
	}
	// The right key, from a file this time.
	start(t, pg, func(o *server.Options) { o.SecretKey, o.SecretKeyFile = "", keyFile(t, testKey('k')) }).serving()
}

// Nodes with different keys starting at once on a new database: the
// check value is kept in one step, so exactly one of them starts and the
// others are refused.
func TestPostgresSecretKeyRaceOnANewStore(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	const n = 4
	started := make([]*server.Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			started[i], errs[i] = newOn(t.TempDir(), func(o *server.Options) { pg(o); o.SecretKey = testKey(byte('a' + i)) })
		})
	}
	wg.Wait()
	ok := 0
	for i, srv := range started {
		switch {
		case errs[i] == nil:
			ok++
			serve(t, srv, server.Options{}).serving()
		case !errors.Is(errs[i], server.ErrWrongSecretKey):
			t.Errorf("node %d: %v", i, errs[i])
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d nodes with different keys started on one new store, want 1: %v", ok, n, errs)
	}
}

// /readyz answers 503 while PostgreSQL cannot be reached (here: the TCP
// proxy in front of it is closed, dropping every connection) and 200
// again once it can; /healthz stays 200 throughout.
func TestPostgresReadiness(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	var storeURL string
	{
		var o server.Options
		pg(&o)
		storeURL = o.Store
	}
	u, err := url.Parse(storeURL)
	if err != nil || u.Host == "" {
		t.Skipf("the test database's URL has no TCP host to put a proxy in front of: %v", err)
	}
	proxy := startProxy(t, "127.0.0.1:0", u.Host)
	u.Host = proxy.addr
	logs := &logBuffer{}
	in := start(t, pg, func(o *server.Options) { o.Store, o.Logger = u.String(), logs.logger() })

	ready := func() (int, map[string]string) {
		code, body, hdr := in.do("GET", "/readyz", nil, nil)
		if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Fatalf("readyz answers %q", hdr.Get("Content-Type"))
		}
		var answer map[string]string
		if err := json.Unmarshal(body, &answer); err != nil {
			t.Fatalf("readyz body %s: %v", body, err)
		}
		return code, answer
	}
	if code, answer := ready(); code != http.StatusOK || answer["status"] != "ok" {
		t.Fatalf("readyz with PostgreSQL up: %d %v", code, answer)
	}
	proxy.Close()
	code, answer := ready()
	if code != http.StatusServiceUnavailable || answer["reason"] == "" {
		t.Fatalf("readyz with PostgreSQL out of reach: %d %v", code, answer)
	}
	if code, _, _ := in.do("GET", "/healthz", nil, nil); code != http.StatusOK {
		t.Fatalf("healthz with PostgreSQL out of reach: %d", code)
	}
	ready() // still down: logged once, not once per check
	if n := strings.Count(logs.String(), "not ready"); n != 1 {
		t.Fatalf("%d not-ready log lines, want 1:\n%s", n, logs)
	}

	startProxy(t, proxy.addr, proxy.target)
	eventually(t, "readyz to answer 200 again", func() bool { code, _ := ready(); return code == http.StatusOK })
	if !strings.Contains(logs.String(), "ready again") {
		t.Fatalf("no ready-again log line:\n%s", logs)
	}
}

// A store URL's password reaches neither an error nor a log line.
func TestStoreURLPasswordStaysHidden(t *testing.T) {
	t.Parallel()
	const password = "pg-Pa55word-never-shown"
	// A port nothing listens on: the connection is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, store := range []string{
		"postgres://switchyard:" + password + "@" + closed + "/db?sslmode=disable",
		"postgresql://switchyard@" + closed + "/db?sslmode=disable&password=" + password,
		"mysql://switchyard:" + password + "@" + closed + "/db",
		"host=" + closed + " password=" + password,
	} {
		logs := &logBuffer{}
		_, err := server.New(server.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Store: store, SecretKey: testKey('k'), Logger: logs.logger()})
		if err == nil {
			t.Fatalf("%s: started", store)
		}
		if strings.Contains(err.Error(), password) || strings.Contains(logs.String(), password) {
			t.Errorf("the password shows: %v\n%s", err, logs)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// tcpProxy forwards the connections it accepts to target, until Close,
// which also drops every connection it carries.
type tcpProxy struct {
	addr, target string
	ln           net.Listener
	mu           sync.Mutex
	conns        []net.Conn
	closed       bool
}

// startProxy listens on addr (again, if a closed proxy had it) and
// forwards to target; it is closed when the test ends.
func startProxy(t *testing.T, addr, target string) *tcpProxy {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port of a proxy just closed may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{addr: ln.Addr().String(), target: target, ln: ln}
	t.Cleanup(p.Close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

// track keeps conns to drop at Close; false if it came first.
func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

func (p *tcpProxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}
