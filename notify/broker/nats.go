package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsPublisher publishes with JetStream: a message counts once a stream
// that captures the subject has stored it (its PubAck). The client
// reconnects by itself; a publish while it does waits for its ack until
// the attempt's deadline.
type natsPublisher struct {
	d  Destination
	nc *nats.Conn
	js jetstream.JetStream
}

// natsDialer hands the client's dials to a Dialer.
type natsDialer struct {
	dial func(network, addr string) (net.Conn, error)
}

func (n natsDialer) Dial(network, addr string) (net.Conn, error) { return n.dial(network, addr) }

func openNATS(ctx context.Context, d Destination, c Credentials, dial Dialer) (Publisher, error) {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	opts := []nats.Option{
		nats.SetCustomDialer(natsDialer{dial: ctxDial(ctx, dial)}),
		nats.Timeout(timeout),
		nats.Name("switchyard"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		// Errors are seen by the publishes; the client must not log.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	}
	if c.Username != "" || c.Password != "" {
		opts = append(opts, nats.UserInfo(c.Username, c.Password))
	}
	nc, err := nats.Connect("nats://"+d.Addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connecting: %w", err)
	}
	return &natsPublisher{d: d, nc: nc, js: js}, nil
}

func (p *natsPublisher) Publish(ctx context.Context, m Message) (string, error) {
	msg := nats.NewMsg(p.d.Subject)
	msg.Data = m.Body
	for _, h := range m.Headers {
		msg.Header[h[0]] = []string{h[1]} // as given: lower case, not canonicalised
	}
	if m.ContentType != "" {
		msg.Header["content-type"] = []string{m.ContentType}
	}
	ack, err := p.js.PublishMsg(ctx, msg)
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return "", fmt.Errorf("no stream captures subject %q (add one whose subjects include it)", p.d.Subject)
	case err != nil:
		return "", fmt.Errorf("publishing: %w", err)
	}
	return fmt.Sprintf("stream %s sequence %d", ack.Stream, ack.Sequence), nil
}

func (p *natsPublisher) Broken() bool { return p.nc.IsClosed() }

func (p *natsPublisher) Close() error {
	p.nc.Close()
	return nil
}
