package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqpPublisher publishes on one channel in confirm mode. Every message is
// mandatory: one that no queue takes comes back (basic.return) before its
// ack, and fails. One goroutine (watch) reads the returns and the
// confirms, in the order the connection's reader hands them over, so a
// return is always seen before the ack of its message.
type amqpPublisher struct {
	d    Destination
	conn *amqp.Connection
	ch   *amqp.Channel

	mu      sync.Mutex // orders publishes with their delivery tags
	pending map[uint64]*amqpWait
	byID    map[string]uint64 // webhook-id to delivery tag, for returns
	broken  error             // set once the channel is gone
	done    chan struct{}     // closed when watch ends
}

type amqpWait struct {
	id       string
	returned string // why the message came back, "" if it did not
	result   chan error
}

// amqpSetupTimeout bounds an AMQP connection's setup (TCP, handshake,
// channel, confirm mode) when the context has no deadline, as amqp091's
// own dial does.
const amqpSetupTimeout = 30 * time.Second

func openAMQP(ctx context.Context, d Destination, c Credentials, dial Dialer) (Publisher, error) {
	ctx, cancel := context.WithTimeout(ctx, amqpSetupTimeout)
	defer cancel()
	// The library dials through cfg.Dial, so its own handshake deadline
	// does not apply: the dial sets one (the library clears it once the
	// connection is open), and until the setup ends, ctx's end closes the
	// socket, which fails whatever call waits on a silent broker.
	var (
		mu        sync.Mutex
		raw       net.Conn
		abandoned bool
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		abandoned = true
		if raw != nil {
			raw.Close()
		}
		mu.Unlock()
	})
	u := url.URL{Scheme: "amqp", Host: d.Addr, Path: "/" + d.VHost}
	cfg := amqp.Config{
		Vhost:     d.VHost,
		Heartbeat: 10 * time.Second,
		Locale:    "en_US",
		Dial: func(network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			deadline, _ := ctx.Deadline()
			if err := conn.SetDeadline(deadline); err != nil {
				conn.Close()
				return nil, err
			}
			mu.Lock()
			raw = conn
			if abandoned {
				conn.Close()
			}
			mu.Unlock()
			return conn, nil
		},
	}
	if c.Username != "" || c.Password != "" {
		cfg.SASL = []amqp.Authentication{&amqp.PlainAuth{Username: c.Username, Password: c.Password}}
	}
	// failed names why a step failed: the context's end when it closed
	// the socket, else the step's own error.
	failed := func(doing string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", doing, ctx.Err())
		}
		return amqpError(doing, err)
	}
	conn, err := amqp.DialConfig(u.String(), cfg)
	if err != nil {
		stop()
		mu.Lock()
		if raw != nil {
			raw.Close()
		}
		mu.Unlock()
		return nil, failed("connecting", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		stop()
		closeAMQP(conn)
		return nil, failed("opening a channel", err)
	}
	if err := ch.Confirm(false); err != nil {
		stop()
		closeAMQP(conn)
		return nil, failed("turning on publisher confirms", err)
	}
	if !stop() { // ctx ended as the setup did: the socket is closed
		closeAMQP(conn)
		return nil, fmt.Errorf("connecting: %w", ctx.Err())
	}
	p := &amqpPublisher{
		d: d, conn: conn, ch: ch,
		pending: map[uint64]*amqpWait{},
		byID:    map[string]uint64{},
		done:    make(chan struct{}),
	}
	// Unbuffered: watch takes each in turn, so the reader's order holds.
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation))
	returns := ch.NotifyReturn(make(chan amqp.Return))
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	go p.watch(confirms, returns, closed)
	return p, nil
}

// watch settles each pending publish from its return and confirm, until
// the channel closes; then it fails the rest.
func (p *amqpPublisher) watch(confirms <-chan amqp.Confirmation, returns <-chan amqp.Return, closed <-chan *amqp.Error) {
	defer close(p.done)
	var why error
	for why == nil {
		select {
		case r := <-returns:
			p.mu.Lock()
			if tag, ok := p.byID[r.MessageId]; ok {
				p.pending[tag].returned = fmt.Sprintf("returned unroutable: no queue is bound to exchange %q with routing key %q (%d %s)", r.Exchange, r.RoutingKey, r.ReplyCode, r.ReplyText)
			}
			p.mu.Unlock()
		case c, ok := <-confirms:
			if !ok {
				why = errors.New("the channel closed")
				break
			}
			p.mu.Lock()
			w := p.pending[c.DeliveryTag]
			delete(p.pending, c.DeliveryTag)
			if w != nil && p.byID[w.id] == c.DeliveryTag {
				delete(p.byID, w.id)
			}
			p.mu.Unlock()
			switch {
			case w == nil:
			case !c.Ack:
				w.result <- errors.New("the broker refused the message (nack)")
			case w.returned != "":
				w.result <- errors.New(w.returned)
			default:
				w.result <- nil
			}
		case e := <-closed:
			why = errors.New("the channel closed")
			if e != nil {
				why = amqpError("the broker closed the channel", e)
			}
		}
	}
	// Drain what the library may still hand over, then fail the rest.
	go func() {
		for range confirms {
		}
	}()
	go func() {
		for range returns {
		}
	}()
	p.mu.Lock()
	p.broken = why
	for tag, w := range p.pending {
		w.result <- why
		delete(p.pending, tag)
	}
	p.mu.Unlock()
}

func (p *amqpPublisher) Publish(ctx context.Context, m Message) (string, error) {
	id := m.header(HeaderID)
	headers := make(amqp.Table, len(m.Headers))
	for _, h := range m.Headers {
		headers[h[0]] = h[1]
	}
	msg := amqp.Publishing{
		Headers:      headers,
		ContentType:  m.ContentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    id,
		Timestamp:    time.Now(),
		Body:         m.Body,
	}
	w := &amqpWait{id: id, result: make(chan error, 1)}
	p.mu.Lock()
	if p.broken != nil {
		p.mu.Unlock()
		return "", p.broken
	}
	tag := p.ch.GetNextPublishSeqNo()
	p.pending[tag] = w
	p.byID[id] = tag
	err := p.ch.PublishWithContext(ctx, p.d.Exchange, p.d.RoutingKey, true, false, msg)
	if err != nil {
		delete(p.pending, tag)
		delete(p.byID, id)
	}
	p.mu.Unlock()
	if err != nil {
		return "", amqpError("publishing", err)
	}
	select {
	case err := <-w.result:
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("delivery tag %d", tag), nil
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, tag)
		if p.byID[id] == tag {
			delete(p.byID, id)
		}
		p.mu.Unlock()
		return "", fmt.Errorf("no confirm from the broker: %w", ctx.Err())
	}
}

func (p *amqpPublisher) Broken() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken != nil || p.conn.IsClosed()
}

func (p *amqpPublisher) Close() error {
	err := closeAMQP(p.conn)
	<-p.done
	if errors.Is(err, amqp.ErrClosed) {
		return nil
	}
	return err
}

// amqpError describes err, which may be an *amqp.Error, without the url.
func amqpError(doing string, err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %d %s", doing, ae.Code, ae.Reason)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("%s: %w", doing, oe)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// closeAMQP closes conn, waiting at most amqpCloseTimeout for the
// broker's close-ok (a silent broker would keep amqp091 waiting until
// the heartbeats time out).
func closeAMQP(conn *amqp.Connection) error {
	return conn.CloseDeadline(time.Now().Add(amqpCloseTimeout))
}

const amqpCloseTimeout = 5 * time.Second
