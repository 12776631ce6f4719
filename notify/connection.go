package notify

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/storage"
)

// How an endpoint reaches its receiver, beyond its URL: a proxy, TLS
// settings of its own (connection.go), an OAuth 2.0 token (oauth2.go).
// reach.go keeps the clients and tokens they need.

// Limits of the connection settings.
const (
	// MaxPEM bounds each of tls.ca_pem, tls.client_cert_pem and
	// tls.client_key_pem, in bytes.
	MaxPEM    = 64 << 10
	maxScopes = 50
	maxScope  = 200
)

// SplitProxy parts a proxy URL into the URL without its password and the
// password ("" when it has none; a URL that does not parse is returned
// as it is, for the check to refuse).
func SplitProxy(raw string) (string, string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, ""
	}
	pw, ok := u.User.Password()
	if !ok {
		return raw, ""
	}
	// "user:@host" has an empty password: the URL loses the colon.
	u.User = url.User(u.User.Username())
	return u.String(), pw
}

// checkConnection checks the proxy, tls and, for oauth2, the auth's token
// endpoint of an endpoint whose url is checked.
func checkConnection(e *storage.Endpoint) error {
	if e.Proxy != "" {
		// A password given in the URL is the proxy's secret.
		if plain, pw := SplitProxy(e.Proxy); plain != e.Proxy {
			e.Proxy, e.ProxyPassword = plain, pw
		}
	}
	proxy, err := checkProxy(e.Proxy, e.ProxyPassword)
	if err != nil {
		return err
	}
	if proxy == nil {
		e.ProxyPassword = ""
	}
	if e.TLS == (storage.TLS{}) {
		return nil
	}
	target, _ := url.Parse(e.URL) // checked
	if target.Scheme != "https" && (proxy == nil || proxy.Scheme != "https") {
		return invalid("tls applies to an https url (or an https proxy); this url is %s", target.Scheme)
	}
	_, err = tlsConfig(e.TLS)
	return err
}

// checkProxy checks a proxy URL (without its password) and returns it
// parsed with the password put back, nil for none.
func checkProxy(raw, password string) (*url.URL, error) {
	if raw == "" {
		if password != "" {
			return nil, invalid("proxy: a password without a proxy")
		}
		return nil, nil
	}
	if err := field.Line("proxy", raw, field.MaxURI); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid("proxy does not parse as a URL: %v", cleanURLError(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, invalid("proxy must start with http:// or https://")
	case u.Hostname() == "":
		return nil, invalid("proxy has no host")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return nil, invalid("proxy must be a scheme, a host and a port only, like http://proxy.example.com:3128")
	}
	if err := checkHost(u); err != nil {
		var fe *field.Error
		if errors.As(err, &fe) {
			return nil, invalid("proxy: %s", strings.TrimPrefix(fe.Reason, "url: "))
		}
		return nil, err
	}
	if password != "" {
		if u.User == nil || u.User.Username() == "" {
			return nil, invalid("proxy: a password needs a user name (http://user:password@host:port)")
		}
		if err := field.Line("proxy password", password, field.MaxLine); err != nil {
			return nil, err
		}
		u.User = url.UserPassword(u.User.Username(), password)
	}
	if u.User != nil {
		if err := field.Line("proxy user name", u.User.Username(), field.MaxName); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// tlsConfig checks an endpoint's TLS settings and makes them a config:
// ca_pem, when given, is the only roots; the client certificate must
// come with its key, and the key must match it.
func tlsConfig(t storage.TLS) (*tls.Config, error) {
	for _, f := range []struct{ name, v string }{{"tls.ca_pem", t.CAPEM}, {"tls.client_cert_pem", t.ClientCertPEM}, {"tls.client_key_pem", t.ClientKeyPEM}} {
		if len(f.v) > MaxPEM {
			return nil, invalid("%s must be at most %d bytes, got %d", f.name, MaxPEM, len(f.v))
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAPEM != "" {
		pool, err := certPool(t.CAPEM)
		if err != nil {
			return nil, invalid("tls.ca_pem: %v", err)
		}
		cfg.RootCAs = pool
	}
	switch {
	case t.ClientCertPEM == "" && t.ClientKeyPEM != "":
		return nil, invalid("tls.client_key_pem needs tls.client_cert_pem")
	case t.ClientCertPEM != "" && t.ClientKeyPEM == "":
		return nil, invalid("tls.client_cert_pem needs tls.client_key_pem")
	case t.ClientCertPEM != "":
		if _, err := certPool(t.ClientCertPEM); err != nil {
			return nil, invalid("tls.client_cert_pem: %v", err)
		}
		if b, _ := pem.Decode([]byte(t.ClientKeyPEM)); b == nil || !strings.Contains(b.Type, "PRIVATE KEY") {
			return nil, invalid("tls.client_key_pem: not a PEM private key")
		}
		cert, err := tls.X509KeyPair([]byte(t.ClientCertPEM), []byte(t.ClientKeyPEM))
		if err != nil {
			// The error names no part of the key.
			return nil, invalid("tls.client_key_pem: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if t.ServerName != "" {
		if err := field.Line("tls.server_name", t.ServerName, 253); err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(t.ServerName); err != nil && !validHostName(t.ServerName) {
			return nil, invalid("tls.server_name %s is not a host name", field.Quote(t.ServerName))
		}
		cfg.ServerName = t.ServerName
	}
	return cfg, nil
}

// certPool parses PEM certificates: at least one, and nothing else.
func certPool(s string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	rest, n := []byte(s), 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a %q block; only CERTIFICATE blocks are taken", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("no PEM certificate (-----BEGIN CERTIFICATE-----) in it")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("text after the last certificate is not PEM")
	}
	return pool, nil
}

// validHostName reports whether s is a DNS name: labels of letters,
// digits, hyphens and underscores, of 1 to 63 characters.
func validHostName(s string) bool {
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// route is how an endpoint's requests reach it.
func route(ep *storage.Endpoint) (egress.Route, error) {
	var r egress.Route
	proxy, err := checkProxy(ep.Proxy, ep.ProxyPassword)
	if err != nil {
		return r, err
	}
	r.Proxy = proxy
	if ep.TLS != (storage.TLS{}) {
		if r.TLS, err = tlsConfig(ep.TLS); err != nil {
			return r, err
		}
		if ep.TLS.CAPEM != "" && proxy != nil && proxy.Scheme == "https" {
			// An https proxy is verified against the system's roots and
			// the endpoint's CA (a company's proxy often has the
			// company's certificate).
			if r.ProxyRoots, err = x509.SystemCertPool(); err != nil || r.ProxyRoots == nil {
				r.ProxyRoots = x509.NewCertPool()
			}
			r.ProxyRoots.AppendCertsFromPEM([]byte(ep.TLS.CAPEM))
		}
	}
	return r, nil
}

// checkOAuth2 checks an oauth2 auth: the token endpoint (https, or http
// to a loopback host), the client and the scopes.
func checkOAuth2(a *storage.Auth) error {
	a.Username, a.Password, a.Token = "", "", ""
	if a.TokenURL == "" {
		return invalid("auth.token_url is required for oauth2")
	}
	if err := field.Line("auth.token_url", a.TokenURL, field.MaxURI); err != nil {
		return err
	}
	u, err := url.Parse(a.TokenURL)
	switch {
	case err != nil:
		return invalid("auth.token_url does not parse: %v", cleanURLError(err))
	case u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())):
		return invalid("auth.token_url must start with https:// (http:// only for a loopback host)")
	case u.Hostname() == "":
		return invalid("auth.token_url has no host")
	case u.User != nil:
		return invalid("auth.token_url must not carry credentials; use client_id and client_secret")
	case u.Fragment != "":
		return invalid("auth.token_url must not have a fragment")
	}
	if a.ClientID == "" {
		return invalid("auth.client_id is required for oauth2")
	}
	if err := field.Line("auth.client_id", a.ClientID, field.MaxLine); err != nil {
		return err
	}
	if a.ClientSecret == "" {
		return invalid("auth.client_secret is required for oauth2")
	}
	if err := field.Line("auth.client_secret", a.ClientSecret, field.MaxLine); err != nil {
		return err
	}
	if len(a.Scopes) > maxScopes {
		return invalid("auth.scopes may have %d entries, got %d", maxScopes, len(a.Scopes))
	}
	for i, s := range a.Scopes {
		if s == "" || len(s) > maxScope || strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r == '"' || r == '\\' || r >= 0x7f }) {
			return invalid("auth.scopes[%d] %s must be 1 to %d printable ASCII characters, without spaces, quotes or backslashes (RFC 6749 §3.3)", i, field.Quote(s), maxScope)
		}
	}
	if len(a.Scopes) == 0 {
		a.Scopes = nil
	}
	return nil
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// ClientCertExpiry returns when t's client certificate expires, if it has
// one that parses.
func ClientCertExpiry(t storage.TLS) (time.Time, bool) {
	b, _ := pem.Decode([]byte(t.ClientCertPEM))
	if b == nil {
		return time.Time{}, false
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return time.Time{}, false
	}
	return c.NotAfter, true
}
