package notify_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testcert"
	"github.com/switchyard-dev/switchyard/internal/testproxy"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// attempts returns a delivery's attempts.
func (e *env) attempts(t *testing.T, id string) []storage.Attempt {
	t.Helper()
	d, err := e.store.GetDelivery(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Attempts
}

func TestDeliverThroughProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	proxy := testproxy.New(t)
	rc := newReceiver(t, nil)
	proxyURL := strings.Replace(proxy.URL, "http://", "http://squid:pr0xy-pass@", 1)
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL + "/hook", Proxy: proxyURL})
	if ep.Proxy != strings.Replace(proxy.URL, "http://", "http://squid@", 1) || ep.ProxyPassword != "pr0xy-pass" {
		t.Fatalf("the proxy's password is not kept apart: %q %q", ep.Proxy, ep.ProxyPassword)
	}
	e.publish(t, storage.Event{Type: "build.done"})
	e.publish(t, storage.Event{Type: "build.done"})
	for _, d := range e.settled(t, ep.ID, 2) {
		if d.Status != storage.DeliverySuccess {
			t.Fatalf("delivery %s: %s %s", d.ID, d.Status, d.LastError)
		}
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("squid:pr0xy-pass"))
	seen := proxy.Seen()
	if len(seen) != 2 || seen[0].Method != "POST" || seen[0].Target != rc.URL+"/hook" || seen[0].Auth != wantAuth {
		t.Fatalf("the proxy saw %+v, want two POSTs to %s with %q", seen, rc.URL+"/hook", wantAuth)
	}
	if got := rc.requests(); len(got) != 2 || got[0].Header.Get("Proxy-Authorization") != "" {
		t.Fatalf("receiver got %d requests, or the proxy's credentials: %+v", len(got), got)
	}
	if n := notify.RoutedClients(e.eng); n != 1 {
		t.Fatalf("%d endpoint clients, want 1 (made once, kept)", n)
	}

	// An https receiver is reached through a CONNECT tunnel, its
	// certificate checked against tls.ca_pem.
	certs := testcert.New(t)
	tlsRC := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsRC.TLS = certs.ServerTLS(t, false)
	tlsRC.StartTLS()
	t.Cleanup(tlsRC.Close)
	ep2 := e.endpoint(t, storage.Endpoint{Name: "tunnel", URL: tlsRC.URL + "/hook", Proxy: proxy.URL, TLS: storage.TLS{CAPEM: certs.CAPEM}})
	e.publish(t, storage.Event{Type: "build.done"})
	if d := e.settled(t, ep2.ID, 1)[0]; d.Status != storage.DeliverySuccess {
		t.Fatalf("through the tunnel: %s %s", d.Status, d.LastError)
	}
	host := strings.TrimPrefix(tlsRC.URL, "https://")
	var connects int
	for _, s := range proxy.Seen() {
		if s.Method == http.MethodConnect && s.Target == host && s.Auth == "" {
			connects++
		}
	}
	if connects != 1 {
		t.Fatalf("want one CONNECT %s, the proxy saw %+v", host, proxy.Seen())
	}

	// Another proxy: a new client (the old one closed), and the new proxy
	// carries the next delivery.
	proxy2 := testproxy.New(t)
	if _, err := e.eng.UpdateEndpoint(t.Context(), ep.ID, notify.EndpointChange{Proxy: &proxy2.URL}); err != nil {
		t.Fatal(err)
	}
	e.publish(t, storage.Event{Type: "build.done"})
	e.settled(t, ep.ID, 4) // two, one published for the tunnel, this one
	if seen := proxy2.Seen(); len(seen) != 1 || seen[0].Auth != "" {
		t.Fatalf("the new proxy saw %+v", seen)
	}
	if n := notify.RoutedClients(e.eng); n != 2 {
		t.Fatalf("%d endpoint clients, want 2", n)
	}

	// Removing the endpoints drops their clients.
	for _, id := range []string{ep.ID, ep2.ID} {
		if err := e.eng.DeleteEndpoint(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if n := notify.RoutedClients(e.eng); n != 0 {
		t.Fatalf("%d endpoint clients left after the endpoints were deleted", n)
	}
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	certs := testcert.New(t)
	var gotCN atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCN.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = certs.ServerTLS(t, true)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	base := storage.Endpoint{Name: "mtls", URL: srv.URL + "/hook", EventTypes: []string{"*"}}
	full := base
	full.TLS = storage.TLS{CAPEM: certs.CAPEM, ClientCertPEM: certs.ClientCertPEM, ClientKeyPEM: certs.ClientKeyPEM, ServerName: testcert.ServerName}
	noCert := base
	noCert.TLS = storage.TLS{CAPEM: certs.CAPEM}
	wrongName := full
	wrongName.TLS.ServerName = "other.test"
	for name, c := range map[string]struct {
		ep      storage.Endpoint
		wantErr string
	}{
		"client certificate":    {full, ""},
		"no client certificate": {noCert, "certificate required"},
		"no ca_pem":             {base, "certificate signed by unknown authority"},
		"wrong server_name":     {wrongName, "other.test"},
	} {
		ep := c.ep
		if err := notify.Normalize(&ep); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a, err := e.eng.Test(t.Context(), ep)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch {
		case c.wantErr == "" && (a.Status != 200 || a.Error != ""):
			t.Errorf("%s: want 200, got %d %q", name, a.Status, a.Error)
		case c.wantErr != "" && (a.Status != 0 || !strings.Contains(a.Error, c.wantErr)):
			t.Errorf("%s: want an error with %q, got %d %q", name, c.wantErr, a.Status, a.Error)
		}
	}
	if cn, _ := gotCN.Load().(string); cn != "switchyard-client" {
		t.Fatalf("the server saw client certificate %q", cn)
	}

	// The same through the delivery queue, with a stored endpoint.
	ep := e.endpoint(t, full)
	e.publish(t, storage.Event{Type: "x"})
	if d := e.settled(t, ep.ID, 1)[0]; d.Status != storage.DeliverySuccess {
		t.Fatalf("delivery: %s %s", d.Status, d.LastError)
	}
}

// tokenServer is a local OAuth 2.0 token endpoint that counts fetches and
// hands out "tok-N".
type tokenServer struct {
	*httptest.Server
	fetches atomic.Int32
	fail    atomic.Bool // answer 400 invalid_client
	mu      sync.Mutex
	forms   []string
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		_ = r.ParseForm()
		ts.mu.Lock()
		ts.forms = append(ts.forms, r.PostForm.Encode())
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok || id != "switchyard" || secret != "cl1ent-secret" || ts.fail.Load() || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": "invalid_client", "error_description": "unknown client"}`)
			return
		}
		n := ts.fetches.Add(1)
		fmt.Fprintf(w, `{"access_token": "tok-%d", "token_type": "Bearer", "expires_in": %d}`, n, expiresIn)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// clock is a test's clock for token expiry.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestOAuth2ClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	clk := &clock{}
	clk.ns.Store(time.Now().UnixNano())
	notify.SetClock(e.eng, clk.now)
	ts := newTokenServer(t, 3600)
	// The receiver takes the newest token only, and refuses one token
	// once when told to (as if it were revoked).
	var revoke atomic.Bool
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		want := fmt.Sprintf("Bearer tok-%d", ts.fetches.Load())
		if r.Header.Get("Authorization") != want || revoke.CompareAndSwap(true, false) {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	ep := e.endpoint(t, storage.Endpoint{URL: rc.URL, Concurrency: 8, Auth: storage.Auth{Type: "oauth2", TokenURL: ts.URL + "/token",
		ClientID: "switchyard", ClientSecret: "cl1ent-secret", Scopes: []string{"hooks.write", "hooks.read"}}})

	// Deliveries at once share one fetch, and later ones the cached token.
	for range 5 {
		e.publish(t, storage.Event{Type: "x"})
	}
	e.settled(t, ep.ID, 5)
	e.publish(t, storage.Event{Type: "x"})
	ds := e.settled(t, ep.ID, 6)
	for _, d := range ds {
		if d.Status != storage.DeliverySuccess {
			t.Fatalf("delivery %s: %s %s", d.ID, d.Status, d.LastError)
		}
	}
	if n := ts.fetches.Load(); n != 1 {
		t.Fatalf("%d token fetches for 6 deliveries, want 1", n)
	}
	ts.mu.Lock()
	form := ts.forms[0]
	ts.mu.Unlock()
	if form != "grant_type=client_credentials&scope=hooks.write+hooks.read" {
		t.Fatalf("token request form %q", form)
	}

	// Past its expiry, a new token.
	clk.advance(time.Hour)
	e.publish(t, storage.Event{Type: "x"})
	e.settled(t, ep.ID, 7)
	if n := ts.fetches.Load(); n != 2 {
		t.Fatalf("%d token fetches after the token expired, want 2", n)
	}

	// A 401: a new token and one more request, in the same attempt.
	revoke.Store(true)
	ev, _ := e.publish(t, storage.Event{Type: "x"})
	ds = e.settled(t, ep.ID, 8)
	if n := ts.fetches.Load(); n != 3 {
		t.Fatalf("%d token fetches after a 401, want 3", n)
	}
	for _, d := range ds {
		if d.EventID != ev.ID {
			continue
		}
		if a := e.attempts(t, d.ID); d.Status != storage.DeliverySuccess || len(a) != 1 || a[0].Status != 200 {
			t.Fatalf("after a 401: %s, attempts %+v", d.Status, a)
		}
	}

	// A token endpoint that refuses: the attempt says so, and not the
	// secret.
	ts.fail.Store(true)
	clk.advance(2 * time.Hour)
	ev, _ = e.publish(t, storage.Event{Type: "x"})
	var failed storage.Attempt
	eventually(t, func() bool {
		for _, d := range e.deliveries(t, ep.ID) {
			if a := e.attempts(t, d.ID); d.EventID == ev.ID && len(a) > 0 {
				failed = a[0]
				return true
			}
		}
		return false
	}, "the attempt with a failing token endpoint")
	if want := "OAuth 2.0 token: the token endpoint answered 400: invalid_client (unknown client)"; failed.Error != want || failed.Status != 0 {
		t.Fatalf("attempt error %q (status %d), want %q", failed.Error, failed.Status, want)
	}
}

// The egress guard applies to the token endpoint: a loopback one is
// refused without --allow-private-targets, and the receiver is never
// asked.
func TestOAuth2TokenEndpointIsGuarded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ts := newTokenServer(t, 60)
	ep := storage.Endpoint{Name: "guarded", URL: "https://receiver.invalid/hook", EventTypes: []string{"*"},
		Auth: storage.Auth{Type: "oauth2", TokenURL: ts.URL + "/token", ClientID: "switchyard", ClientSecret: "cl1ent-secret"}}
	if err := notify.Normalize(&ep); err != nil {
		t.Fatal(err)
	}
	a, err := e.eng.Test(t.Context(), ep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Error, "OAuth 2.0 token: the token endpoint: egress: refused 127.0.0.1:") || a.Status != 0 || ts.fetches.Load() != 0 {
		t.Fatalf("attempt %+v, %d fetches", a, ts.fetches.Load())
	}
	if strings.Contains(a.Error, "cl1ent-secret") {
		t.Fatalf("the error shows the secret: %q", a.Error)
	}
}

func TestEndpointConnectionChecks(t *testing.T) {
	t.Parallel()
	certs := testcert.New(t)
	other := testcert.New(t)
	oauth := storage.Auth{Type: "oauth2", TokenURL: "https://auth.example.com/token", ClientID: "c", ClientSecret: "s"}
	for name, c := range map[string]struct {
		mod  func(*storage.Endpoint)
		want string
	}{
		"proxy scheme":     {func(e *storage.Endpoint) { e.Proxy = "socks5://p.example.com:1080" }, "proxy must start with http:// or https://"},
		"proxy path":       {func(e *storage.Endpoint) { e.Proxy = "http://p.example.com/x" }, "proxy must be a scheme, a host and a port only"},
		"proxy port":       {func(e *storage.Endpoint) { e.Proxy = "http://p.example.com:99999" }, "proxy: the port must be from 1 to 65535"},
		"proxy no user":    {func(e *storage.Endpoint) { e.Proxy, e.ProxyPassword = "http://p.example.com", "pw" }, "proxy: a password needs a user name"},
		"bad ca":           {func(e *storage.Endpoint) { e.TLS.CAPEM = "not pem" }, "tls.ca_pem: no PEM certificate"},
		"key without cert": {func(e *storage.Endpoint) { e.TLS.ClientKeyPEM = certs.ClientKeyPEM }, "tls.client_key_pem needs tls.client_cert_pem"},
		"cert without key": {func(e *storage.Endpoint) { e.TLS.ClientCertPEM = certs.ClientCertPEM }, "tls.client_cert_pem needs tls.client_key_pem"},
		"key mismatch": {func(e *storage.Endpoint) {
			e.TLS.ClientCertPEM, e.TLS.ClientKeyPEM = certs.ClientCertPEM, other.ClientKeyPEM
		}, "tls.client_key_pem: tls: private key does not match public key"},
		"key not pem":       {func(e *storage.Endpoint) { e.TLS.ClientCertPEM, e.TLS.ClientKeyPEM = certs.ClientCertPEM, "x" }, "tls.client_key_pem: not a PEM private key"},
		"ca too large":      {func(e *storage.Endpoint) { e.TLS.CAPEM = strings.Repeat(certs.CAPEM, 200) }, "tls.ca_pem must be at most 65536 bytes"},
		"server name":       {func(e *storage.Endpoint) { e.TLS.ServerName = "a b" }, "tls.server_name \"a b\" is not a host name"},
		"tls on http":       {func(e *storage.Endpoint) { e.URL, e.TLS.ServerName = "http://r.example.com", "r" }, "tls applies to an https url"},
		"no token_url":      {func(e *storage.Endpoint) { e.Auth = oauth; e.Auth.TokenURL = "" }, "auth.token_url is required for oauth2"},
		"http token_url":    {func(e *storage.Endpoint) { e.Auth = oauth; e.Auth.TokenURL = "http://auth.example.com/t" }, "auth.token_url must start with https://"},
		"no client_id":      {func(e *storage.Endpoint) { e.Auth = oauth; e.Auth.ClientID = "" }, "auth.client_id is required for oauth2"},
		"no client_secret":  {func(e *storage.Endpoint) { e.Auth = oauth; e.Auth.ClientSecret = "" }, "auth.client_secret is required for oauth2"},
		"scope with space":  {func(e *storage.Endpoint) { e.Auth = oauth; e.Auth.Scopes = []string{"a b"} }, "auth.scopes[0]"},
		"unknown auth type": {func(e *storage.Endpoint) { e.Auth.Type = "digest" }, "not one of none, basic, bearer, oauth2"},
	} {
		ep := storage.Endpoint{Name: "n", URL: "https://r.example.com/hook", EventTypes: []string{"*"}}
		c.mod(&ep)
		err := notify.Normalize(&ep)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	// Loopback http token endpoints are taken (a local sidecar, a test).
	ep := storage.Endpoint{Name: "n", URL: "https://r.example.com/hook", EventTypes: []string{"*"}, Auth: oauth}
	ep.Auth.TokenURL = "http://127.0.0.1:8080/token"
	if err := notify.Normalize(&ep); err != nil {
		t.Fatal(err)
	}
}

// TestSecretsListsEverySecret: every string field that the JSON of an
// endpoint leaves out (json:"-"), a secret, is in notify.Secrets, the one
// list that rules about secrets are written against; so are secret
// header and cookie values. Each is listed once, with where it is sent.
func TestSecretsListsEverySecret(t *testing.T) {
	t.Parallel()
	ep := storage.Endpoint{
		Headers:         map[string]string{"X-Token": "secret:headers.X-Token", "X-Team": "ops"},
		SecretHeaders:   []string{"X-Token"},
		Cookies:         map[string]string{"session": "secret:cookies.session"},
		PreviousSecrets: []storage.OldSecret{{}},
	}
	var secrets []string
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				return
			}
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if f.Type.Kind() == reflect.String && f.Tag.Get("json") == "-" {
					v.Field(i).SetString("secret:" + path + f.Name)
					secrets = append(secrets, "secret:"+path+f.Name)
					continue
				}
				walk(v.Field(i), path+f.Name+".")
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s%d.", path, i))
			}
		}
	}
	walk(reflect.ValueOf(&ep).Elem(), "")
	secrets = append(secrets, "secret:headers.X-Token", "secret:cookies.session")
	if len(secrets) != 9 {
		t.Fatalf("found %d secret fields: %v", len(secrets), secrets)
	}
	listed := map[string]notify.Secret{}
	for _, s := range notify.Secrets(&ep) {
		if _, dup := listed[s.Value]; dup {
			t.Errorf("%s is listed twice", s.Value)
		}
		listed[s.Value] = s
	}
	for _, v := range secrets {
		if _, ok := listed[v]; !ok {
			t.Errorf("%s is a secret that notify.Secrets does not list", strings.TrimPrefix(v, "secret:"))
		}
	}
	if len(listed) != len(secrets) {
		t.Errorf("notify.Secrets lists %d values, want %d", len(listed), len(secrets))
	}
	// Where each is sent.
	want := map[string]string{
		"auth.password": "url", "auth.token": "url", "headers.X-Token": "url", "cookies.session": "url",
		"auth.client_secret": "auth.token_url url", "proxy_password": "proxy",
		"tls.client_key_pem": "", "signing_secret": "", "previous signing secret 1": "",
	}
	for _, s := range listed {
		if to, ok := want[s.Field]; !ok || strings.Join(s.To, " ") != to {
			t.Errorf("%s is sent to %q, want %q", s.Field, s.To, to)
		}
	}
	// Through a proxy, what goes to the url is bound to the certificates
	// trusted, and to the proxy when it can read it (an http url, or
	// trust of the endpoint's own).
	for _, c := range []struct {
		url, serverName, want string
	}{
		{"https://r.example.com", "", "url tls"},
		{"https://r.example.com", "r.internal", "url tls proxy"},
		{"http://r.example.com", "", "url tls proxy"},
	} {
		ep := storage.Endpoint{URL: c.url, Proxy: "http://p.example.com:3128", TLS: storage.TLS{ServerName: c.serverName},
			Auth: storage.Auth{Password: "pw", ClientSecret: "cs"}}
		for _, s := range notify.Secrets(&ep) {
			want := c.want
			if s.Field == "auth.client_secret" {
				want = "auth.token_url " + want
			}
			if got := strings.Join(s.To, " "); got != want {
				t.Errorf("%s, server name %q: %s is sent to %q, want %q", c.url, c.serverName, s.Field, got, want)
			}
		}
	}
}
