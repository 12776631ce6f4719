package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/testcert"
)

// TestEndpointConnectionOverAPI: proxy, tls and oauth2 through the API:
// their secrets never come back, edits that leave them out keep them,
// and an endpoint with them is tested, saved or not.
func TestEndpointConnectionOverAPI(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	certs := testcert.New(t)
	var fetches atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, _ := r.BasicAuth(); id != "switchyard" || secret != "cl1ent-s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "invalid_client"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token": "tok-%d", "token_type": "bearer", "expires_in": 300}`, fetches.Add(1))
	}))
	t.Cleanup(tokens.Close)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(recv.Close)
	oauth := map[string]any{"type": "oauth2", "token_url": tokens.URL + "/token", "client_id": "switchyard",
		"client_secret": "cl1ent-s3cret", "scopes": []string{"hooks"}}
	body := map[string]any{"name": "receiver", "url": recv.URL + "/hook", "event_types": []string{"*"}, "auth": oauth}

	// Tested before it is saved.
	var a struct {
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	in.api("POST", "/endpoints/test", body, http.StatusOK, &a)
	if a.Status != 200 || fetches.Load() != 1 {
		t.Fatalf("unsaved test: %+v after %d token fetches", a, fetches.Load())
	}

	// Saved with a proxy and TLS settings too (on an https url, so that
	// tls applies; it is not sent to).
	full := map[string]any{"name": "full", "url": "https://hooks.example.com/x", "event_types": []string{"*"}, "auth": oauth,
		"proxy": "http://squid:pr0xy-s3cret@proxy.example.com:3128",
		"tls": map[string]any{"ca_pem": certs.CAPEM, "client_cert_pem": certs.ClientCertPEM, "client_key_pem": certs.ClientKeyPEM,
			"server_name": "hooks.internal"}}
	e := in.endpoint(full)
	keyBody := strings.Split(certs.ClientKeyPEM, "\n")[1]
	for _, secret := range []string{"cl1ent-s3cret", "pr0xy-s3cret", keyBody} {
		if strings.Contains(string(e.Raw), secret) {
			t.Fatalf("a secret came back: %s", e.Raw)
		}
	}
	var got struct {
		Proxy            string         `json:"proxy"`
		ProxyPasswordSet bool           `json:"proxy_password_set"`
		TLS              map[string]any `json:"tls"`
		Auth             map[string]any `json:"auth"`
	}
	check := func(raw []byte, proxySet, keySet bool) {
		t.Helper()
		if err := jsonUnmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if got.Proxy != "http://squid@proxy.example.com:3128" || got.ProxyPasswordSet != proxySet || (got.TLS["client_key_set"] == true) != keySet ||
			got.Auth["client_secret_set"] != true || got.Auth["token_url"] != tokens.URL+"/token" || got.Auth["client_id"] != "switchyard" {
			t.Fatalf("endpoint: %s", raw)
		}
	}
	check(e.Raw, true, true)
	if got.TLS["ca_pem"] != certs.CAPEM || got.TLS["server_name"] != "hooks.internal" || got.TLS["client_key_pem"] != nil {
		t.Fatalf("tls: %v", got.TLS)
	}
	check(in.api("GET", "/endpoints/"+e.ID, nil, http.StatusOK, nil), true, true)

	// Edits that leave the secrets out keep them: the proxy shown back,
	// the auth without its secret, tls without the key.
	raw := in.api("PUT", "/endpoints/"+e.ID, map[string]any{"name": "full 2", "proxy": got.Proxy,
		"auth": map[string]any{"type": "oauth2", "token_url": tokens.URL + "/token", "client_id": "switchyard"},
		"tls":  map[string]any{"server_name": "hooks.internal"}}, http.StatusOK, nil)
	check(raw, true, true)
	// Clearing the client certificate takes its key; another proxy user
	// drops the password.
	raw = in.api("PUT", "/endpoints/"+e.ID, map[string]any{"proxy": "http://other@proxy.example.com:3128",
		"tls": map[string]any{"client_cert_pem": ""}}, http.StatusOK, nil)
	if strings.Contains(string(raw), "proxy_password_set") || strings.Contains(string(raw), "client_key_set") {
		t.Fatalf("after clearing: %s", raw)
	}

	// A saved oauth2 endpoint edited without its secret still gets tokens.
	saved := in.endpoint(body)
	in.api("PUT", "/endpoints/"+saved.ID, map[string]any{"auth": map[string]any{"type": "oauth2", "token_url": tokens.URL + "/token",
		"client_id": "switchyard"}}, http.StatusOK, nil)
	in.api("POST", "/endpoints/"+saved.ID+"/test", nil, http.StatusOK, &a)
	if a.Status != 200 {
		t.Fatalf("test of the saved endpoint: %+v", a)
	}

	// Viewers see the proxy's host only.
	if v := viewerProxy(t, in, e.ID); v != "http://proxy.example.com:3128" {
		t.Fatalf("a viewer sees proxy %q", v)
	}
}

func TestEndpointConnectionValidation(t *testing.T) {
	t.Parallel()
	in := start(t)
	certs, other := testcert.New(t), testcert.New(t)
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "x", "url": "https://example.com/h", "event_types": []string{"*"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{base(map[string]any{"proxy": "ftp://p.example.com"}), "proxy must start with http:// or https://"},
		{base(map[string]any{"proxy": "http://"}), "proxy has no host"},
		{base(map[string]any{"tls": map[string]any{"ca_pem": "nope"}}), "tls.ca_pem: no PEM certificate"},
		{base(map[string]any{"tls": map[string]any{"client_cert_pem": certs.ClientCertPEM, "client_key_pem": other.ClientKeyPEM}}),
			"tls.client_key_pem: tls: private key does not match public key"},
		{base(map[string]any{"tls": map[string]any{"client_cert_pem": certs.ClientCertPEM}}), "tls.client_cert_pem needs tls.client_key_pem"},
		{base(map[string]any{"url": "http://example.com/h", "tls": map[string]any{"server_name": "a"}}), "tls applies to an https url"},
		{base(map[string]any{"auth": map[string]any{"type": "oauth2", "client_id": "c", "client_secret": "s"}}), "auth.token_url is required for oauth2"},
		{base(map[string]any{"auth": map[string]any{"type": "oauth2", "token_url": "https://a.example.com/t", "client_secret": "s"}}), "auth.client_id is required"},
		{base(map[string]any{"auth": map[string]any{"type": "oauth2", "token_url": "https://a.example.com/t", "client_id": "c"}}), "auth.client_secret is required"},
	} {
		var got struct{ Error string }
		in.api("POST", "/endpoints", c.body, http.StatusBadRequest, &got)
		if !strings.Contains(got.Error, c.want) {
			t.Errorf("%v: %q, want it to say %q", c.body, got.Error, c.want)
		}
	}
}

// viewerProxy is the proxy a viewer sees on endpoint id.
func viewerProxy(t *testing.T, in *instance, id string) string {
	t.Helper()
	_, tok := in.user("viewer-user", "viewer")
	code, b := in.as(tok, "GET", "/endpoints/"+id, nil, nil)
	var v struct {
		Proxy string `json:"proxy"`
	}
	if code != http.StatusOK || jsonUnmarshal(b, &v) != nil {
		t.Fatalf("viewer: %d %s", code, b)
	}
	return v.Proxy
}

// A proxy or token endpoint the guard will refuse, and an expired client
// certificate, are saved with warnings naming them.
func TestEndpointConnectionWarnings(t *testing.T) {
	t.Parallel()
	in := start(t)
	var s struct {
		Warnings []string `json:"warnings"`
	}
	in.api("POST", "/endpoints", map[string]any{"name": "w", "url": "https://93.184.215.14/hook", "event_types": []string{"*"},
		"proxy": "http://10.0.0.8:3128",
		"auth":  map[string]any{"type": "oauth2", "token_url": "http://127.0.0.1:9/token", "client_id": "c", "client_secret": "s"}}, 201, &s)
	if len(s.Warnings) != 2 || !strings.HasPrefix(s.Warnings[0], "proxy: connections to 10.0.0.8 will be refused (private address)") ||
		!strings.HasPrefix(s.Warnings[1], "auth.token_url: connections to 127.0.0.1 will be refused (loopback address)") {
		t.Fatalf("warnings %q", s.Warnings)
	}
}
