package notify

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Credential is a stored secret that an endpoint sends to its
// destination.
type Credential struct {
	// Field names it as the API does: auth.password, headers.X-Token,
	// cookies.session.
	Field string
	Value string
	// set replaces the value in an endpoint (a copy of the one listed:
	// it clones any map it writes to).
	set func(ep *storage.Endpoint, v string)
}

// Credentials lists the stored secrets that ep sends to whatever its url
// names, those with a value only. It is the one list of them: a new kind
// of credential (a proxy password, an OAuth2 client secret, a TLS client
// key, a broker's password) is added here, and an edit that moves the
// endpoint to another origin must then carry it again
// (checkDestination). The signing secret is not one: a receiver learns
// only signatures made with it.
func Credentials(ep *storage.Endpoint) []Credential {
	var out []Credential
	add := func(field, v string, set func(*storage.Endpoint, string)) {
		if v != "" {
			out = append(out, Credential{Field: field, Value: v, set: set})
		}
	}
	add("auth.password", ep.Auth.Password, func(ep *storage.Endpoint, v string) { ep.Auth.Password = v })
	add("auth.token", ep.Auth.Token, func(ep *storage.Endpoint, v string) { ep.Auth.Token = v })
	for _, name := range SecretHeaders(ep.Headers, ep.SecretHeaders) {
		add("headers."+name, ep.Headers[name], func(ep *storage.Endpoint, v string) {
			ep.Headers = maps.Clone(ep.Headers)
			ep.Headers[name] = v
		})
	}
	for _, name := range slices.Sorted(maps.Keys(ep.Cookies)) {
		add("cookies."+name, ep.Cookies[name], func(ep *storage.Endpoint, v string) {
			ep.Cookies = maps.Clone(ep.Cookies)
			ep.Cookies[name] = v
		})
	}
	return out
}

// storedMark stands for a stored credential while checkDestination
// applies a change: a value still holding it was kept, not sent again.
const storedMark = "\x00switchyard:stored\x00"

// checkDestination refuses a change that moves a stored endpoint to
// another origin (scheme, host or port of its url) while keeping any of
// its stored credentials: an editor cannot read them, and must not be
// able to have them sent to a host of their choosing. Every credential
// the endpoint will send there must come in the same change.
func (ch *EndpointChange) checkDestination(stored storage.Endpoint, now time.Time) error {
	if ch.URL == nil {
		return nil
	}
	from, to := origin(stored.URL), origin(*ch.URL)
	if from == to {
		return nil
	}
	probe := stored
	for _, c := range Credentials(&stored) {
		c.set(&probe, storedMark)
	}
	if err := ch.apply(&probe, now); err != nil {
		return nil // the save reports it
	}
	var kept []string
	for _, c := range Credentials(&probe) {
		if strings.Contains(c.Value, storedMark) {
			kept = append(kept, c.Field)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return invalid("url: the destination changed from %s to %s; send %s again (stored secrets are not sent to a new destination)",
		from, to, joinAnd(kept))
}

// origin is scheme://host[:port] of a URL, lower case, without a default
// port (and without user info or path); the URL itself if it has no host.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
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

// joinAnd joins names as "a", "a and b", "a, b and c".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
