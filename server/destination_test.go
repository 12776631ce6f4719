package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/testcert"
)

// credSink is a receiver that keeps each request's headers.
type credSink struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newCredSink(t *testing.T) *credSink {
	s := &credSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Clone())
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *credSink) requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.seen...)
}

// An edit that points an endpoint at another origin must send every
// stored credential again: an editor, who cannot read them, must not be
// able to have them sent to a host of their choosing, by the test route
// or by the next delivery. The signing secret may stay, and a new path on
// the same origin keeps them all.
func TestNewDestinationNeedsTheSecretsAgain(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	home, other := newCredSink(t), newCredSink(t)
	e := in.endpoint(map[string]any{"name": "billing", "url": home.URL + "/in", "event_types": []string{"*"},
		"auth":           map[string]any{"type": "basic", "username": "u", "password": "hunter2"},
		"headers":        map[string]string{"X-Api-Key": "k-123", "X-Team": "ops"},
		"secret_headers": []string{"X-Api-Key"},
		"cookies":        map[string]string{"session": "s-456"},
		"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})

	// To another host, keeping them: refused, naming each; nothing changed.
	code, body, _ := in.do("PUT", "/api/v1/endpoints/"+e.ID,
		jsonBody(t, map[string]any{"url": other.URL + "/in", "headers": map[string]string{"X-Api-Key": "[secret]", "X-Team": "ops"}}),
		http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}})
	want := "url: the destination changed from " + strings.ToLower(home.URL) + " to " + strings.ToLower(other.URL) +
		"; send auth.password, headers.X-Api-Key and cookies.session again (stored secrets are not sent to a new destination)"
	if code != http.StatusBadRequest || !strings.Contains(string(body), want) {
		t.Fatalf("PUT url only: %d %s, want 400 with %q", code, body, want)
	}
	// Sending some again is not enough.
	code, body, _ = in.do("PUT", "/api/v1/endpoints/"+e.ID,
		jsonBody(t, map[string]any{"url": other.URL + "/in", "auth": map[string]any{"type": "basic", "username": "u", "password": "p2"}}),
		http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "send headers.X-Api-Key and cookies.session again") {
		t.Fatalf("PUT with the password only: %d %s", code, body)
	}
	var got endpoint
	in.api("GET", "/endpoints/"+e.ID, nil, http.StatusOK, &got)
	if got.URL != home.URL+"/in" {
		t.Fatalf("url after refused edits: %s", got.URL)
	}
	// The test route sends the stored endpoint: a body naming another
	// url changes nothing.
	in.api("POST", "/endpoints/"+e.ID+"/test", map[string]any{"url": other.URL + "/in"}, http.StatusOK, nil)
	if n := len(other.requests()); n != 0 {
		t.Fatalf("the other host got %d requests", n)
	}
	if reqs := home.requests(); len(reqs) != 1 || reqs[0].Get("X-Api-Key") != "k-123" {
		t.Fatalf("home got %v", reqs)
	}

	// Another path on the same origin keeps them.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": home.URL + "/v2"}, http.StatusOK, nil)

	// With every credential sent again (the signing secret may stay),
	// the move is saved and the new host gets the new values.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": other.URL + "/in",
		"auth":    map[string]any{"type": "basic", "username": "u", "password": "p2"},
		"headers": map[string]string{"X-Api-Key": "k-new", "X-Team": "ops"},
		"cookies": map[string]string{"session": "s-new"}}, http.StatusOK, nil)
	in.api("POST", "/endpoints/"+e.ID+"/test", nil, http.StatusOK, nil)
	reqs := other.requests()
	if len(reqs) != 1 || reqs[0].Get("X-Api-Key") != "k-new" || !strings.Contains(reqs[0].Get("Cookie"), "session=s-new") ||
		reqs[0].Get("Authorization") == "" || reqs[0].Get("Webhook-Signature") == "" {
		t.Fatalf("the new host got %v", reqs)
	}

	// Dropping the credentials is a move too, with nothing to send again.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": home.URL + "/in",
		"auth": map[string]any{"type": "none"}, "headers": map[string]string{}, "cookies": map[string]string{}}, http.StatusOK, nil)
}

// refused PUTs change to endpoint id and wants a 400 that says want.
func refused(t *testing.T, in *instance, id string, change map[string]any, want string) {
	t.Helper()
	body := in.api("PUT", "/endpoints/"+id, change, http.StatusBadRequest, nil)
	if !strings.Contains(string(body), want) {
		t.Fatalf("PUT %v: %s, want %q", change, body, want)
	}
}

// The proxy's password is sent to the proxy: a new proxy host, port or
// scheme must come with it again; the url and the proxy's user are
// another matter.
func TestNewProxyNeedsItsPasswordAgain(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	e := in.endpoint(map[string]any{"name": "proxied", "url": "https://hooks.example.com/x", "event_types": []string{"*"},
		"proxy": "http://squid:pr0xy-s3cret@proxy-a.example.com:3128"})
	want := func(to string) string {
		return "proxy: the destination changed from http://proxy-a.example.com:3128 to " + to +
			"; send proxy_password (in the proxy url, http://user:password@host:port) again (stored secrets are not sent to a new destination)"
	}
	refused(t, in, e.ID, map[string]any{"proxy": "http://squid@proxy-b.example.com:3128"}, want("http://proxy-b.example.com:3128"))
	refused(t, in, e.ID, map[string]any{"proxy": "http://squid@proxy-a.example.com:8080"}, want("http://proxy-a.example.com:8080"))
	refused(t, in, e.ID, map[string]any{"proxy": "https://squid@proxy-a.example.com:3128"}, want("https://proxy-a.example.com:3128"))
	// The password goes to the proxy, not to the url: a new url keeps it.
	var got struct {
		Proxy            string `json:"proxy"`
		ProxyPasswordSet bool   `json:"proxy_password_set"`
	}
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": "https://other.example.net/x"}, http.StatusOK, &got)
	if got.Proxy != "http://squid@proxy-a.example.com:3128" || !got.ProxyPasswordSet {
		t.Fatalf("after a new url: %+v", got)
	}
	// With the password, the move is saved.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"proxy": "http://squid:n3w@proxy-b.example.com:3128"}, http.StatusOK, &got)
	if got.Proxy != "http://squid@proxy-b.example.com:3128" || !got.ProxyPasswordSet {
		t.Fatalf("after the move: %+v", got)
	}
}

// A proxy reads the requests of an http url, and those of an https one
// whose trust is the endpoint's own: the url's secrets are then bound to
// the proxy too, and, while there is a proxy, to the certificates
// trusted.
func TestAProxyThatCanReadNeedsTheSecretsAgain(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	certs := testcert.New(t)
	plain := in.endpoint(map[string]any{"name": "plain", "url": "http://hooks.example.com/x", "event_types": []string{"*"},
		"auth": map[string]any{"type": "basic", "username": "u", "password": "hunter2"}})
	// A proxy added to an http url.
	refused(t, in, plain.ID, map[string]any{"proxy": "http://proxy.example.com:3128"},
		"proxy: the destination changed from none to http://proxy.example.com:3128; send auth.password again (stored secrets are not sent to a new destination)")
	in.api("PUT", "/endpoints/"+plain.ID, map[string]any{"proxy": "http://proxy.example.com:3128",
		"auth": map[string]any{"type": "basic", "username": "u", "password": "p2"}}, http.StatusOK, nil)
	// Another one, with a password of its own.
	in.api("PUT", "/endpoints/"+plain.ID, map[string]any{"proxy": "http://sq:pw@proxy.example.com:3128"}, http.StatusOK, nil)
	refused(t, in, plain.ID, map[string]any{"proxy": "http://sq@proxy2.example.com:3128"},
		"send auth.password and proxy_password (in the proxy url, http://user:password@host:port) again")
	// Removing the proxy needs nothing.
	in.api("PUT", "/endpoints/"+plain.ID, map[string]any{"proxy": ""}, http.StatusOK, nil)

	// An https url through a proxy: the proxy sees only a tunnel, until
	// the endpoint trusts certificates of its own choosing.
	tunnel := in.endpoint(map[string]any{"name": "tunnel", "url": "https://hooks.example.com/x", "event_types": []string{"*"},
		"proxy": "http://proxy.example.com:3128", "headers": map[string]string{"X-Api-Key": "k-123"}})
	in.api("PUT", "/endpoints/"+tunnel.ID, map[string]any{"proxy": "http://proxy2.example.com:3128"}, http.StatusOK, nil)
	refused(t, in, tunnel.ID, map[string]any{"tls": map[string]any{"ca_pem": certs.CAPEM}},
		"tls: the certificates trusted (ca_pem, server_name) changed while a proxy carries the requests, which it could then read; send headers.X-Api-Key again")
	refused(t, in, tunnel.ID, map[string]any{"tls": map[string]any{"server_name": "hooks.internal"}}, "send headers.X-Api-Key again")
	in.api("PUT", "/endpoints/"+tunnel.ID, map[string]any{"tls": map[string]any{"ca_pem": certs.CAPEM},
		"headers": map[string]string{"X-Api-Key": "k-new"}}, http.StatusOK, nil)
	// Now the proxy could read: a new proxy needs them too.
	refused(t, in, tunnel.ID, map[string]any{"proxy": "http://proxy3.example.com:3128"},
		"proxy: the destination changed from http://proxy2.example.com:3128 to http://proxy3.example.com:3128; send headers.X-Api-Key again")
}

// The OAuth 2.0 client secret is sent to the token endpoint, and the
// token it earns to the url: a new origin for either must come with the
// client secret again.
func TestNewTokenURLNeedsTheClientSecretAgain(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	oauth := func(tokenURL string, secret ...string) map[string]any {
		a := map[string]any{"type": "oauth2", "token_url": tokenURL, "client_id": "switchyard", "scopes": []string{"hooks"}}
		if len(secret) > 0 {
			a["client_secret"] = secret[0]
		}
		return a
	}
	e := in.endpoint(map[string]any{"name": "oauth", "url": "https://hooks.example.com/x", "event_types": []string{"*"},
		"auth": oauth("https://auth-a.example.com/token", "cl1ent-s3cret")})
	refused(t, in, e.ID, map[string]any{"auth": oauth("https://auth-b.example.com/token")},
		"auth.token_url: the destination changed from https://auth-a.example.com to https://auth-b.example.com; send auth.client_secret again (stored secrets are not sent to a new destination)")
	refused(t, in, e.ID, map[string]any{"auth": oauth("https://auth-a.example.com:8443/token")},
		"auth.token_url: the destination changed from https://auth-a.example.com to https://auth-a.example.com:8443; send auth.client_secret again")
	refused(t, in, e.ID, map[string]any{"url": "https://other.example.net/x"},
		"url: the destination changed from https://hooks.example.com to https://other.example.net; send auth.client_secret again")
	// Another path on the same origin keeps it.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"auth": oauth("https://auth-a.example.com:443/v2/token")}, http.StatusOK, nil)
	var got struct {
		Auth map[string]any `json:"auth"`
	}
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"auth": oauth("https://auth-b.example.com/token", "n3w-s3cret")}, http.StatusOK, &got)
	if got.Auth["token_url"] != "https://auth-b.example.com/token" || got.Auth["client_secret_set"] != true {
		t.Fatalf("after the move: %v", got.Auth)
	}
}

// A broker url's password (stored as auth.password) is sent to the
// broker: a new broker host must come with it again, in the url or in
// auth; the default port is the same origin as none.
func TestNewBrokerHostNeedsThePasswordAgain(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	e := in.endpoint(map[string]any{"name": "rabbit", "url": "amqp://sy:br0ker-s3cret@broker-a.example.com/?routing_key=q",
		"event_types": []string{"*"}, "enabled": false})
	want := "url: the destination changed from amqp://broker-a.example.com to amqp://broker-b.example.com; send auth.password again (stored secrets are not sent to a new destination)"
	refused(t, in, e.ID, map[string]any{"url": "amqp://sy@broker-b.example.com/?routing_key=q"}, want)
	refused(t, in, e.ID, map[string]any{"url": "amqp://broker-b.example.com/?routing_key=q"}, want)
	refused(t, in, e.ID, map[string]any{"url": "nats://sy@broker-a.example.com/orders"},
		"url: the destination changed from amqp://broker-a.example.com to nats://broker-a.example.com; send auth.password again")
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": "amqp://broker-a.example.com:5672/?routing_key=other"}, http.StatusOK, nil)
	var got endpoint
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": "amqp://sy:n3w@broker-b.example.com/?routing_key=q"}, http.StatusOK, &got)
	if got.URL != "amqp://broker-b.example.com/?routing_key=q" || got.Auth["password_set"] != true {
		t.Fatalf("after the move: %s %v", got.URL, got.Auth)
	}
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": "amqp://broker-c.example.com/?routing_key=q",
		"auth": map[string]any{"type": "basic", "username": "sy", "password": "n3w-2"}}, http.StatusOK, nil)
}

// A broker takes none of HTTP's connection settings: a proxy, tls, or a
// bearer or OAuth 2.0 auth is a 400 naming the field.
func TestBrokerRefusesConnectionSettings(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "b", "url": "nats://broker.example.com/orders", "event_types": []string{"*"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{base(map[string]any{"proxy": "http://proxy.example.com:3128"}), "proxy: a nats destination is reached directly"},
		{base(map[string]any{"proxy": "http://u:pw@proxy.example.com:3128"}), "proxy: a nats destination is reached directly"},
		{base(map[string]any{"tls": map[string]any{"server_name": "broker.internal"}}), "tls: a nats destination takes no tls settings"},
		{base(map[string]any{"auth": map[string]any{"type": "bearer", "token": "t"}}), "auth: a nats url logs in with a user and password"},
		{base(map[string]any{"auth": map[string]any{"type": "oauth2", "token_url": "https://auth.example.com/t", "client_id": "c", "client_secret": "s"}}),
			"not auth type oauth2"},
	} {
		body := in.api("POST", "/endpoints", c.body, http.StatusBadRequest, nil)
		if !strings.Contains(string(body), c.want) {
			t.Errorf("%v: %s, want %q", c.body, body, c.want)
		}
	}
	// An endpoint moved to a broker must drop them too.
	e := in.endpoint(map[string]any{"name": "h", "url": "https://hooks.example.com/x", "event_types": []string{"*"}, "enabled": false,
		"proxy": "http://proxy.example.com:3128"})
	refused(t, in, e.ID, map[string]any{"url": "nats://broker.example.com/orders"}, "proxy: a nats destination is reached directly")
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": "nats://broker.example.com/orders", "proxy": ""}, http.StatusOK, nil)
}
