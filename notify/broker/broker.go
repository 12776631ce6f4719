// Package broker delivers an endpoint's messages to a message broker
// instead of an HTTP receiver: RabbitMQ (AMQP 0-9-1, publisher confirms),
// NATS JetStream (a publish acked by a stream) and Redis Streams (XADD).
//
// An endpoint names its broker by its url (Parse): the scheme picks the
// broker, the rest says where the message goes. A Publisher holds one
// connection to one broker and publishes a Message, returning only once
// the broker has confirmed it; a Pool keeps one Publisher per endpoint,
// reconnecting with a backoff after a failure. Every connection is dialed
// through the Dialer it is given: the server gives the egress guard's, so
// that a broker on a private address is refused like an HTTP receiver.
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Kinds of broker, as the url's scheme names them.
const (
	AMQP  = "amqp"
	NATS  = "nats"
	Redis = "redis"
)

// Limits on a destination's parts.
const (
	MaxName  = 255  // an exchange, routing key, subject or stream name
	MaxDB    = 255  // the highest Redis database number
	MaxLen   = 1e9  // the highest maxlen
	maxVHost = 255  // an AMQP virtual host
	maxQuery = 1024 // the query part of a url
)

// Default ports.
var defaultPort = map[string]string{AMQP: "5672", NATS: "4222", Redis: "6379"}

// IsBroker reports whether raw is a broker url: it starts with amqp://,
// nats:// or redis:// (in any case).
func IsBroker(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return false
	}
	_, ok = defaultPort[strings.ToLower(scheme)]
	return ok
}

// Destination is where a broker url sends a message.
type Destination struct {
	Kind string // AMQP, NATS or Redis
	Addr string // host:port

	VHost      string // AMQP: the virtual host ("/" by default)
	Exchange   string // AMQP: "" is the default exchange
	RoutingKey string // AMQP

	Subject string // NATS

	DB     int    // Redis: the database number
	Stream string // Redis: the stream's key
	MaxLen int64  // Redis: trim the stream to about this many entries (0: never)
}

// Credentials log in to a broker; empty ones log in as the broker's
// default (RabbitMQ's guest, no authentication on NATS and Redis).
type Credentials struct {
	Username string
	Password string
}

// SplitCredentials takes the user and password out of a broker url. It
// returns the url without them, and whether it held any; the url is
// otherwise unchanged. A url that does not parse is returned as it is
// (Parse says why).
func SplitCredentials(raw string) (clean string, c Credentials, found bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, Credentials{}, false
	}
	c.Username = u.User.Username()
	c.Password, _ = u.User.Password()
	u.User = nil
	return u.String(), c, true
}

// Parse reads a broker url without credentials (see SplitCredentials):
//
//	amqp://host:5672/vhost?exchange=E&routing_key=K
//	nats://host:4222/SUBJECT
//	redis://host:6379/DB?stream=NAME&maxlen=N
//
// Its errors say what is wrong in words meant for whoever wrote the url.
func Parse(raw string) (Destination, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Destination{}, errors.New("does not parse as a URL")
	}
	d := Destination{Kind: strings.ToLower(u.Scheme)}
	port, ok := defaultPort[d.Kind]
	if !ok {
		return d, errors.New("is not an amqp://, nats:// or redis:// URL")
	}
	if u.User != nil {
		return d, errors.New("must not carry credentials here")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return d, fmt.Errorf("has no host (write %s://host:%s/...)", d.Kind, port)
	}
	if strings.ContainsAny(raw, "{}") {
		return d, errors.New("is not a template for a broker: write it without {{ }}")
	}
	if u.Fragment != "" {
		return d, errors.New("must not have a #fragment")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	d.Addr = net.JoinHostPort(u.Hostname(), port)
	if len(u.RawQuery) > maxQuery {
		return d, fmt.Errorf("has a query longer than %d characters", maxQuery)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return d, errors.New("has a query that does not parse")
	}
	for k, v := range q {
		if len(v) > 1 {
			return d, fmt.Errorf("gives %s more than once", k)
		}
	}
	switch d.Kind {
	case AMQP:
		return d, parseAMQP(u, q, &d)
	case NATS:
		return d, parseNATS(u, q, &d)
	default:
		return d, parseRedis(u, q, &d)
	}
}

// only refuses query parameters other than allowed.
func only(q url.Values, kind string, allowed ...string) error {
	for k := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			if len(allowed) == 0 {
				return fmt.Errorf("takes no query parameters for %s (got %q)", kind, k)
			}
			return fmt.Errorf("has an unknown parameter %q for %s (known: %s)", k, kind, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func checkName(what, s string) error {
	if len(s) > MaxName {
		return fmt.Errorf("has a %s longer than %d characters", what, MaxName)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("has a control character in its %s", what)
		}
	}
	return nil
}

func parseAMQP(u *url.URL, q url.Values, d *Destination) error {
	if err := only(q, "amqp", "exchange", "routing_key"); err != nil {
		return err
	}
	// As amqp091 reads it: no path or "/" is the vhost "/", "/v" is "v"
	// and "/%2f" is "/".
	d.VHost = "/"
	if p := u.Path; p != "" && p != "/" {
		d.VHost = strings.TrimPrefix(p, "/")
	}
	if len(d.VHost) > maxVHost {
		return fmt.Errorf("has a virtual host longer than %d characters", maxVHost)
	}
	d.Exchange, d.RoutingKey = q.Get("exchange"), q.Get("routing_key")
	if d.RoutingKey == "" && d.Exchange == "" {
		return errors.New("needs routing_key (the queue's name on the default exchange) or exchange: amqp://host:5672/vhost?exchange=E&routing_key=K")
	}
	if err := checkName("exchange", d.Exchange); err != nil {
		return err
	}
	return checkName("routing_key", d.RoutingKey)
}

func parseNATS(u *url.URL, q url.Values, d *Destination) error {
	if err := only(q, "nats"); err != nil {
		return err
	}
	d.Subject = strings.TrimPrefix(u.Path, "/")
	if d.Subject == "" {
		return errors.New("needs a subject: nats://host:4222/SUBJECT")
	}
	if err := checkName("subject", d.Subject); err != nil {
		return err
	}
	if strings.ContainsAny(d.Subject, " \t*>/") {
		return fmt.Errorf("has subject %q: a subject to publish to has no spaces, slashes or wildcards (* >)", d.Subject)
	}
	for _, tok := range strings.Split(d.Subject, ".") {
		if tok == "" {
			return fmt.Errorf("has subject %q with an empty token (two dots, or a dot at an end)", d.Subject)
		}
	}
	return nil
}

func parseRedis(u *url.URL, q url.Values, d *Destination) error {
	if err := only(q, "redis", "stream", "maxlen"); err != nil {
		return err
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > MaxDB || strconv.Itoa(n) != p {
			return fmt.Errorf("has database %q: write a number from 0 to %d (redis://host:6379/0?stream=NAME)", p, MaxDB)
		}
		d.DB = n
	}
	d.Stream = q.Get("stream")
	if d.Stream == "" {
		return errors.New("needs stream: redis://host:6379/0?stream=NAME")
	}
	if err := checkName("stream", d.Stream); err != nil {
		return err
	}
	if m := q.Get("maxlen"); m != "" {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil || n < 1 || n > MaxLen {
			return fmt.Errorf("has maxlen %q: write a whole number from 1 to %d", m, int64(MaxLen))
		}
		d.MaxLen = n
	}
	return nil
}

// Header names that a message carries beside its body (as AMQP headers,
// NATS headers, or Redis stream fields), lower case.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	HeaderEvent     = "x-switchyard-event"
	// FieldBody is the Redis stream field that holds the body.
	FieldBody = "body"
)

// Message is one message to publish.
type Message struct {
	Body        []byte
	ContentType string // AMQP's content-type property; "" for none
	// Headers are the message's headers, in order (HeaderID first); their
	// names are lower case.
	Headers [][2]string
}

// header returns the value of the header named name, "" without one.
func (m Message) header(name string) string {
	for _, h := range m.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// Publisher publishes to one broker over one connection. Publish may be
// called from several goroutines at once; it returns once the broker has
// confirmed the message, with the broker's receipt (e.g. "stream orders
// sequence 12"), or an error. Close ends the connection; a Publish after
// Close fails.
type Publisher interface {
	Publish(ctx context.Context, m Message) (receipt string, err error)
	Close() error
	// Broken reports whether the connection is gone for good (it must be
	// opened again).
	Broken() bool
}

// Dialer opens a TCP connection (the egress guard's, in the server).
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Open connects to d's broker, dialing with dial, and returns its
// Publisher; ctx bounds the connection's setup. concurrency is how many
// messages may be published at once (Redis keeps that many connections).
func Open(ctx context.Context, d Destination, c Credentials, dial Dialer, concurrency int) (Publisher, error) {
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	switch d.Kind {
	case AMQP:
		return openAMQP(ctx, d, c, dial)
	case NATS:
		return openNATS(ctx, d, c, dial)
	case Redis:
		return openRedis(ctx, d, c, dial, concurrency)
	}
	return nil, fmt.Errorf("broker: unknown kind %q", d.Kind)
}

// ctxDial turns dial into a dial without a context, bounded by ctx's
// deadline (for clients whose dial hook takes none).
func ctxDial(ctx context.Context, dial Dialer) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		return dial(context.WithoutCancel(ctx), network, addr)
	}
}
