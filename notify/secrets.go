package notify

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/storage"
)

// Secret is one of an endpoint's stored secrets: where the API names it,
// its value, and where it is sent.
type Secret struct {
	// Field names it as the API does: auth.password, headers.X-Token,
	// cookies.session, proxy_password.
	Field string
	Value string
	// To names the endpoint's fields whose origin receives the secret:
	// "url" (its receiver, or its broker), "proxy", "auth.token_url";
	// "tls" binds it to the certificates trusted (see Secrets). None
	// for a secret sent to no one: the signing secrets (a receiver
	// learns only signatures made with them) and the TLS client key
	// (the TLS handshake proves that Switchyard holds it; the key
	// itself never leaves).
	To []string
	// set replaces the value in an endpoint (a copy of the one listed:
	// it clones any map or slice it writes to).
	set func(ep *storage.Endpoint, v string)
}

// Destinations a secret may be sent to, the fields whose origin is its
// destination, in the order checkDestination reports them.
var destinations = []string{"url", "proxy", "auth.token_url", "tls"}

// destination is where ep sends what is bound to to: the origin of the
// URL that to names; for "tls", the certificates trusted.
func destination(ep *storage.Endpoint, to string) string {
	switch to {
	case "url":
		return origin(ep.URL)
	case "proxy":
		return origin(ep.Proxy)
	case "auth.token_url":
		return origin(ep.Auth.TokenURL)
	default:
		return ep.TLS.CAPEM + "\x00" + ep.TLS.ServerName
	}
}

// proxyReads reports whether ep's proxy can read the requests it
// carries: those of an http:// url, and those of an https:// one whose
// server is checked against the endpoint's own trust (tls.ca_pem or
// tls.server_name), which may accept a certificate the proxy presents.
// Through a CONNECT tunnel, to a server checked against the system's
// roots under its own name, it sees only encrypted bytes.
func proxyReads(ep *storage.Endpoint) bool {
	return ep.Proxy != "" && (strings.HasPrefix(strings.ToLower(ep.URL), "http://") || ep.TLS.CAPEM != "" || ep.TLS.ServerName != "")
}

// Secrets lists ep's stored secrets that have a value, each with where
// it is sent. It is the one list of them: a new kind of secret is added
// here (TestSecretsListsEverySecret fails until it is), with its
// destinations, and an edit that moves one of those destinations to
// another origin must then carry it again (checkDestination).
//
//   - auth.password, auth.token, secret headers and cookies go to the
//     url's origin; a broker url's password is stored as auth.password
//     and goes to the broker the url names;
//   - proxy_password goes to the proxy;
//   - auth.client_secret goes to auth.token_url, and the access token
//     it earns goes to the url: it is bound to both;
//   - what goes to the url and the token endpoint passes the proxy, if
//     there is one: it is bound to the proxy too when the proxy can
//     read it (proxyReads), and, while there is a proxy, to the
//     certificates trusted (a new tls.ca_pem or tls.server_name could
//     let the proxy read it);
//   - signing_secret, the rotated-out signing secrets and
//     tls.client_key_pem are sent to no one.
func Secrets(ep *storage.Endpoint) []Secret {
	var out []Secret
	add := func(field, v string, to []string, set func(*storage.Endpoint, string)) {
		if v != "" {
			out = append(out, Secret{Field: field, Value: v, To: to, set: set})
		}
	}
	var route []string
	if ep.Proxy != "" {
		route = append(route, "tls")
		if proxyReads(ep) {
			route = append(route, "proxy")
		}
	}
	toURL := append([]string{"url"}, route...)
	toTokenAndURL := append([]string{"auth.token_url", "url"}, route...)
	toProxy := []string{"proxy"}
	add("auth.password", ep.Auth.Password, toURL, func(ep *storage.Endpoint, v string) { ep.Auth.Password = v })
	add("auth.token", ep.Auth.Token, toURL, func(ep *storage.Endpoint, v string) { ep.Auth.Token = v })
	add("auth.client_secret", ep.Auth.ClientSecret, toTokenAndURL, func(ep *storage.Endpoint, v string) { ep.Auth.ClientSecret = v })
	for _, name := range SecretHeaders(ep.Headers, ep.SecretHeaders) {
		add("headers."+name, ep.Headers[name], toURL, func(ep *storage.Endpoint, v string) {
			ep.Headers = maps.Clone(ep.Headers)
			ep.Headers[name] = v
		})
	}
	for _, name := range slices.Sorted(maps.Keys(ep.Cookies)) {
		add("cookies."+name, ep.Cookies[name], toURL, func(ep *storage.Endpoint, v string) {
			ep.Cookies = maps.Clone(ep.Cookies)
			ep.Cookies[name] = v
		})
	}
	add("proxy_password", ep.ProxyPassword, toProxy, func(ep *storage.Endpoint, v string) { ep.ProxyPassword = v })
	add("tls.client_key_pem", ep.TLS.ClientKeyPEM, nil, func(ep *storage.Endpoint, v string) { ep.TLS.ClientKeyPEM = v })
	add("signing_secret", ep.SigningSecret, nil, func(ep *storage.Endpoint, v string) { ep.SigningSecret = v })
	for i, old := range ep.PreviousSecrets {
		add(fmt.Sprintf("previous signing secret %d", i+1), old.Secret, nil, func(ep *storage.Endpoint, v string) {
			ep.PreviousSecrets = slices.Clone(ep.PreviousSecrets)
			ep.PreviousSecrets[i].Secret = v
		})
	}
	return out
}

// storedMark stands for a stored secret while checkDestination applies
// a change: a value still holding it was kept, not sent again.
const storedMark = "\x00switchyard:stored\x00"

// checkDestination refuses a change that moves one of a stored
// endpoint's destinations (its url, its proxy, its OAuth 2.0 token
// endpoint) to another origin (scheme, host or port) while keeping a
// stored secret that is sent there (Secrets): an editor cannot read the
// secrets, and must not be able to have them sent to a host of their
// choosing. Every secret the endpoint will send to a moved destination
// must come in the same change.
func (ch *EndpointChange) checkDestination(stored storage.Endpoint, now time.Time) error {
	probe := stored
	for _, s := range Secrets(&stored) {
		s.set(&probe, storedMark)
	}
	if err := ch.apply(&probe, now); err != nil {
		return nil // the save reports it
	}
	if broker.IsBroker(probe.URL) {
		takeBrokerCredentials(&probe)
	}
	kept := Secrets(&probe)
	for _, to := range destinations {
		from, dest := destination(&stored, to), destination(&probe, to)
		if from == dest {
			continue
		}
		var again []string
		for _, s := range kept {
			if slices.Contains(s.To, to) && strings.Contains(s.Value, storedMark) {
				name := s.Field
				if name == "proxy_password" {
					// The API takes it in the proxy's url.
					name += " (in the proxy url, http://user:password@host:port)"
				}
				again = append(again, name)
			}
		}
		if len(again) == 0 {
			continue
		}
		if to == "tls" {
			return invalid("tls: the certificates trusted (ca_pem, server_name) changed while a proxy carries the requests, which it could then read; send %s again (stored secrets are not sent to a new destination)",
				joinAnd(again))
		}
		return invalid("%s: the destination changed from %s to %s; send %s again (stored secrets are not sent to a new destination)",
			to, shownOrigin(from), shownOrigin(dest), joinAnd(again))
	}
	return nil
}

// defaultPorts are the ports a url of each scheme has without one.
var defaultPorts = map[string]string{"http": "80", "https": "443",
	broker.AMQP: "5672", broker.NATS: "4222", broker.Redis: "6379"}

// origin is scheme://host[:port] of a URL, lower case, without a default
// port (and without user info or path); the URL itself if it has no host.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if port == defaultPorts[scheme] {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// shownOrigin is an origin as a message shows it: "none" for none.
func shownOrigin(o string) string {
	if o == "" {
		return "none"
	}
	return o
}

// joinAnd joins names as "a", "a and b", "a, b and c".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
