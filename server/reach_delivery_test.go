package server_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/testcert"
	"github.com/switchyard-dev/switchyard/internal/testproxy"
)

// TestEndpointReachedThroughProxyWithClientCertificate delivers through
// the server as it is wired, not the engine alone: a receiver that
// requires a client certificate, reached through a proxy that asks for
// its password, is answered 200; without the client key it is not.
func TestEndpointReachedThroughProxyWithClientCertificate(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	certs := testcert.New(t)
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	recv.TLS = certs.ServerTLS(t, true)
	recv.StartTLS()
	t.Cleanup(recv.Close)
	proxy := testproxy.New(t)
	proxyURL := strings.Replace(proxy.URL, "http://", "http://squid:pr0xy-s3cret@", 1)

	type answer struct {
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	tlsSet := map[string]any{"ca_pem": certs.CAPEM, "client_cert_pem": certs.ClientCertPEM, "client_key_pem": certs.ClientKeyPEM}
	e := in.endpoint(map[string]any{"name": "mtls", "url": recv.URL + "/hook", "event_types": []string{"*"}, "proxy": proxyURL, "tls": tlsSet})
	var a answer
	in.api("POST", "/endpoints/"+e.ID+"/test", nil, http.StatusOK, &a)
	if a.Status != 200 || a.Error != "" {
		t.Fatalf("through the proxy with the client certificate: %+v", a)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("squid:pr0xy-s3cret"))
	seen := proxy.Seen()
	if len(seen) != 1 || seen[0].Method != "CONNECT" || seen[0].Target != strings.TrimPrefix(recv.URL, "https://") || seen[0].Auth != want {
		t.Fatalf("the proxy was asked %+v, want one CONNECT to the receiver with %q", seen, want)
	}

	// The same receiver, trusted but without a client certificate.
	bare := in.endpoint(map[string]any{"name": "no key", "url": recv.URL + "/hook", "event_types": []string{"*"}, "proxy": proxyURL,
		"tls": map[string]any{"ca_pem": certs.CAPEM}})
	var b answer
	in.api("POST", "/endpoints/"+bare.ID+"/test", nil, http.StatusOK, &b)
	if b.Status == 200 || !strings.Contains(b.Error, "certificate required") {
		t.Fatalf("without a client certificate the receiver answered: %+v", b)
	}
}
