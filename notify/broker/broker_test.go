package broker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard-dev/switchyard/internal/brokertest"
	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/notify/egress"
)

func TestParse(t *testing.T) {
	good := map[string]broker.Destination{
		"amqp://h/?routing_key=q":                     {Kind: "amqp", Addr: "h:5672", VHost: "/", RoutingKey: "q"},
		"amqp://h:5673/v1?exchange=e&routing_key=k.1": {Kind: "amqp", Addr: "h:5673", VHost: "v1", Exchange: "e", RoutingKey: "k.1"},
		"amqp://h/%2f?exchange=fan":                   {Kind: "amqp", Addr: "h:5672", VHost: "/", Exchange: "fan"},
		"nats://h/orders.created":                     {Kind: "nats", Addr: "h:4222", Subject: "orders.created"},
		"NATS://[::1]:4333/a":                         {Kind: "nats", Addr: "[::1]:4333", Subject: "a"},
		"redis://h?stream=s":                          {Kind: "redis", Addr: "h:6379", Stream: "s"},
		"redis://h:1/3?stream=s&maxlen=100":           {Kind: "redis", Addr: "h:1", DB: 3, Stream: "s", MaxLen: 100},
	}
	for raw, want := range good {
		got, err := broker.Parse(raw)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	bad := map[string]string{
		"http://h/":                                      "is not an amqp",
		"amqp://h/v":                                     "needs routing_key",
		"amqp://h/?routing_key=q&x=1":                    `unknown parameter "x"`,
		"amqp://h/?routing_key=q&routing_key=r":          "more than once",
		"amqp://u@h/?routing_key=q":                      "credentials",
		"amqp:///?routing_key=q":                         "has no host",
		"amqp://h/?routing_key={{type}}":                 "not a template",
		"nats://h":                                       "needs a subject",
		"nats://h/a.*":                                   "wildcards",
		"nats://h/a.>":                                   "wildcards",
		"nats://h/a..b":                                  "empty token",
		"nats://h/a?x=1":                                 "takes no query",
		"redis://h/0":                                    "needs stream",
		"redis://h/x?stream=s":                           `database "x"`,
		"redis://h/256?stream=s":                         `database "256"`,
		"redis://h/01?stream=s":                          `database "01"`,
		"redis://h/0?stream=s&maxlen=0":                  `maxlen "0"`,
		"redis://h/0?stream=s&maxlen=-3":                 `maxlen "-3"`,
		"redis://h/0?stream=s&maxlen=1e3":                `maxlen "1e3"`,
		"redis://h/0?stream=" + strings.Repeat("s", 256): "longer than 255",
		"redis://h/0?stream=a%0Ab":                       "control character",
	}
	for raw, want := range bad {
		_, err := broker.Parse(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", raw, err, want)
		}
	}
}

func TestSplitCredentials(t *testing.T) {
	clean, c, ok := broker.SplitCredentials("amqp://guest:s%40cret@h:5672/v?routing_key=q")
	if !ok || clean != "amqp://h:5672/v?routing_key=q" || c != (broker.Credentials{Username: "guest", Password: "s@cret"}) {
		t.Errorf("got %q %+v %v", clean, c, ok)
	}
	if _, _, ok := broker.SplitCredentials("nats://h/s"); ok {
		t.Error("found credentials in a url without any")
	}
}

// message is what the tests publish.
func message(id string) broker.Message {
	return broker.Message{
		Body:        []byte(`{"id":"` + id + `"}`),
		ContentType: "application/json",
		Headers: [][2]string{
			{broker.HeaderID, id}, {broker.HeaderTimestamp, "1700000000"},
			{broker.HeaderEvent, "order.created"}, {broker.HeaderSignature, "v1,abc"},
		},
	}
}

// publish publishes m through a new pool that keeps one key, closed when
// the test ends.
func newPool(t *testing.T, spec broker.Spec, dial broker.Dialer) *broker.Pool {
	t.Helper()
	p := broker.NewPool(dial)
	p.Retain(map[string]broker.Spec{"ep": spec})
	t.Cleanup(p.Close)
	return p
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// amqpQueue declares a queue of its own, deleted when the test ends.
func amqpQueue(t *testing.T) (*amqp.Channel, string) {
	t.Helper()
	addr := brokertest.Need(t, "RabbitMQ", brokertest.AMQP)
	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q := brokertest.Name("sy_test")
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ch.QueueDelete(q, false, false, false) })
	return ch, q
}

func amqpSpec(routingKey, exchange string) broker.Spec {
	return broker.Spec{
		Destination: broker.Destination{Kind: broker.AMQP, Addr: brokertest.AMQP, VHost: "/", Exchange: exchange, RoutingKey: routingKey},
		Credentials: broker.Credentials{Username: "guest", Password: "guest"},
		Concurrency: 4,
	}
}

// get waits for a message on q.
func get(t *testing.T, ch *amqp.Channel, q string) amqp.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		d, ok, err := ch.Get(q, true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return d
		}
		runtime.Gosched()
	}
	t.Fatalf("no message on %s", q)
	return amqp.Delivery{}
}

func TestAMQPConfirmed(t *testing.T) {
	ch, q := amqpQueue(t)
	p := newPool(t, amqpSpec(q, ""), nil)
	for i := range 3 {
		id := fmt.Sprintf("msg_%d", i)
		receipt, err := p.Publish(ctx(t), "ep", amqpSpec(q, ""), message(id))
		if err != nil || receipt != fmt.Sprintf("delivery tag %d", i+1) {
			t.Fatalf("publish %d: %q, %v", i, receipt, err)
		}
		d := get(t, ch, q)
		if string(d.Body) != `{"id":"`+id+`"}` || d.ContentType != "application/json" || d.MessageId != id {
			t.Errorf("got body %s, content type %q, message id %q", d.Body, d.ContentType, d.MessageId)
		}
		if d.Headers["webhook-id"] != id || d.Headers["x-switchyard-event"] != "order.created" || d.Headers["webhook-signature"] != "v1,abc" || d.Headers["webhook-timestamp"] != "1700000000" {
			t.Errorf("headers %v", d.Headers)
		}
	}
}

func TestAMQPConcurrent(t *testing.T) {
	ch, q := amqpQueue(t)
	p := newPool(t, amqpSpec(q, ""), nil)
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			_, err := p.Publish(ctx(t), "ep", amqpSpec(q, ""), message(fmt.Sprint("msg_", i)))
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	qi, err := ch.QueueDeclarePassive(q, false, true, false, false, nil)
	if err != nil || qi.Messages != 20 {
		t.Fatalf("queue holds %d messages (%v), want 20", qi.Messages, err)
	}
}

func TestAMQPUnroutableFails(t *testing.T) {
	_, q := amqpQueue(t)
	spec := amqpSpec(q+"_nobody", "")
	p := newPool(t, spec, nil)
	_, err := p.Publish(ctx(t), "ep", spec, message("msg_1"))
	if err == nil || !strings.Contains(err.Error(), "returned unroutable") {
		t.Fatalf("got %v, want the message returned unroutable", err)
	}
	// The connection stays: the next publish to a bound key... is the same
	// publisher, and still fails for the same reason, not a broken one.
	_, err = p.Publish(ctx(t), "ep", spec, message("msg_2"))
	if err == nil || !strings.Contains(err.Error(), "returned unroutable") {
		t.Fatalf("second publish: %v", err)
	}
}

func TestAMQPMissingExchangeReconnects(t *testing.T) {
	_, q := amqpQueue(t)
	spec := amqpSpec(q, q+"_no_exchange")
	p := newPool(t, spec, nil)
	_, err := p.Publish(ctx(t), "ep", spec, message("msg_1"))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("got %v, want the broker's 404", err)
	}
	// The channel is gone: the next publish waits out a backoff, then
	// connects again (and fails the same way).
	deadline := time.Now().Add(10 * time.Second)
	sawBackoff := false
	for {
		_, err = p.Publish(ctx(t), "ep", spec, message("msg_2"))
		if err != nil && strings.Contains(err.Error(), "reconnecting in") {
			sawBackoff = true
		}
		if sawBackoff && err != nil && !strings.Contains(err.Error(), "reconnecting in") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never reconnected; last %v", err)
		}
		runtime.Gosched()
	}
	if !strings.Contains(err.Error(), "404") {
		t.Fatalf("after reconnecting: %v", err)
	}
}

func TestAMQPWrongPassword(t *testing.T) {
	brokertest.Need(t, "RabbitMQ", brokertest.AMQP)
	spec := amqpSpec("q", "")
	spec.Credentials.Password = "wrong-password-xyz"
	p := newPool(t, spec, nil)
	_, err := p.Publish(ctx(t), "ep", spec, message("msg_1"))
	if err == nil || strings.Contains(err.Error(), "wrong-password-xyz") {
		t.Fatalf("got %v, want a login failure without the password", err)
	}
}

func natsStream(t *testing.T) (jetstream.Stream, string) {
	t.Helper()
	addr := brokertest.Need(t, "NATS", brokertest.NATS)
	nc, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	name := brokertest.Name("sy_test")
	s, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatalf("creating a stream (is JetStream on? nats-server -js): %v", err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	return s, name
}

func natsSpec(subject string) broker.Spec {
	return broker.Spec{Destination: broker.Destination{Kind: broker.NATS, Addr: brokertest.NATS, Subject: subject}, Concurrency: 4}
}

func TestNATSAcked(t *testing.T) {
	s, name := natsStream(t)
	spec := natsSpec(name + ".orders")
	p := newPool(t, spec, nil)
	receipt, err := p.Publish(ctx(t), "ep", spec, message("msg_1"))
	if err != nil || receipt != "stream "+name+" sequence 1" {
		t.Fatalf("got %q, %v", receipt, err)
	}
	m, err := s.GetMsg(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != `{"id":"msg_1"}` || m.Subject != name+".orders" {
		t.Errorf("got %s on %s", m.Data, m.Subject)
	}
	if m.Header["webhook-id"][0] != "msg_1" || m.Header["x-switchyard-event"][0] != "order.created" || m.Header["webhook-signature"][0] != "v1,abc" {
		t.Errorf("headers %v", m.Header)
	}
}

func TestNATSNoStream(t *testing.T) {
	_, name := natsStream(t)
	spec := natsSpec(name + "_elsewhere.orders")
	p := newPool(t, spec, nil)
	_, err := p.Publish(ctx(t), "ep", spec, message("msg_1"))
	if err == nil || !strings.Contains(err.Error(), `no stream captures subject "`+name+`_elsewhere.orders"`) {
		t.Fatalf("got %v", err)
	}
}

func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	addr := brokertest.Need(t, "Redis", brokertest.Redis)
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: 2, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { rc.Close() })
	return rc
}

func TestRedisXADD(t *testing.T) {
	rc := redisClient(t)
	stream := brokertest.Name("sy_test")
	t.Cleanup(func() { rc.Del(context.Background(), stream) })
	spec := broker.Spec{Destination: broker.Destination{Kind: broker.Redis, Addr: brokertest.Redis, DB: 2, Stream: stream, MaxLen: 1}, Concurrency: 2}
	p := newPool(t, spec, nil)
	var receipt string
	var err error
	for i := range 300 {
		receipt, err = p.Publish(ctx(t), "ep", spec, message(fmt.Sprint("msg_", i)))
		if err != nil || !strings.HasPrefix(receipt, "stream id ") {
			t.Fatalf("got %q, %v", receipt, err)
		}
	}
	entries, err := rc.XRevRangeN(ctx(t), stream, "+", "-", 1).Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("%v %v", entries, err)
	}
	v := entries[0].Values
	if "stream id "+entries[0].ID != receipt || v["body"] != `{"id":"msg_299"}` || v["webhook-id"] != "msg_299" || v["x-switchyard-event"] != "order.created" || v["webhook-signature"] != "v1,abc" {
		t.Errorf("entry %s %v (receipt %q)", entries[0].ID, v, receipt)
	}
	// maxlen trims (about: whole nodes go at once), so the stream stays
	// well under the 300 added.
	if n := rc.XLen(ctx(t), stream).Val(); n >= 300 {
		t.Errorf("stream holds %d entries, want it trimmed", n)
	}
}

// TestEgressGuard: a broker on loopback is refused through a guard that
// does not allow private targets, for each broker.
func TestEgressGuard(t *testing.T) {
	eg, err := egress.New(egress.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []broker.Destination{
		{Kind: broker.AMQP, Addr: "127.0.0.1:5672", VHost: "/", RoutingKey: "q"},
		{Kind: broker.NATS, Addr: "127.0.0.1:4222", Subject: "s"},
		{Kind: broker.Redis, Addr: "127.0.0.1:6379", Stream: "s"},
	} {
		spec := broker.Spec{Destination: d, Concurrency: 1}
		p := newPool(t, spec, eg.DialContext)
		_, err := p.Publish(ctx(t), "ep", spec, message("msg_1"))
		if !errors.Is(err, egress.ErrRefused) && (err == nil || !strings.Contains(err.Error(), "egress: refused 127.0.0.1")) {
			t.Errorf("%s: got %v, want the egress guard's refusal", d.Kind, err)
		}
	}
}

// TestPoolRetain: a dropped or changed key's connection closes, and its
// publishes fail with ErrChanged; Close leaves no goroutine behind.
func TestPoolRetain(t *testing.T) {
	_, q := amqpQueue(t)
	before := runtime.NumGoroutine()
	spec := amqpSpec(q, "")
	p := broker.NewPool(nil)
	p.Retain(map[string]broker.Spec{"ep": spec})
	if _, err := p.Publish(ctx(t), "ep", spec, message("msg_1")); err != nil {
		t.Fatal(err)
	}
	changed := spec
	changed.Concurrency = 5
	p.Retain(map[string]broker.Spec{"ep": changed})
	if _, err := p.Publish(ctx(t), "ep", spec, message("msg_2")); !errors.Is(err, broker.ErrChanged) {
		t.Fatalf("publish with the old spec: %v", err)
	}
	if _, err := p.Publish(ctx(t), "ep", changed, message("msg_3")); err != nil {
		t.Fatal(err)
	}
	p.Retain(nil)
	if _, err := p.Publish(ctx(t), "ep", changed, message("msg_4")); !errors.Is(err, broker.ErrChanged) {
		t.Fatalf("publish after the key was dropped: %v", err)
	}
	p.Close()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// FuzzParse: no url makes Parse panic, and what it accepts is a
// destination of a known kind with an address, and for each kind what it
// needs.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"amqp://h/?routing_key=q", "amqp://h:5673/v1?exchange=e&routing_key=k", "amqp://h/%2f?exchange=fan",
		"nats://h/orders.created", "NATS://[::1]:4333/a", "redis://h?stream=s", "redis://h:1/3?stream=s&maxlen=100",
		"amqp://u:p@h/", "nats://h/a.*", "redis://h/01?stream=s", "amqp://[::1%25lo]:1/?routing_key=q", "redis://h/0?stream=%00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := broker.Parse(raw)
		if err != nil {
			return
		}
		ok := d.Addr != ""
		switch d.Kind {
		case broker.AMQP:
			ok = ok && (d.RoutingKey != "" || d.Exchange != "") && d.VHost != ""
		case broker.NATS:
			ok = ok && d.Subject != "" && !strings.ContainsAny(d.Subject, "*> ")
		case broker.Redis:
			ok = ok && d.Stream != "" && d.DB >= 0 && d.DB <= broker.MaxDB && d.MaxLen >= 0
		default:
			ok = false
		}
		if !ok {
			t.Fatalf("Parse(%q) accepted %+v", raw, d)
		}
	})
}

// TestSilentBrokerLeavesNothing: a server that accepts and never speaks
// fails the connect within its context, and the socket is closed (the
// server reads EOF) and the client's goroutines end.
func TestSilentBrokerLeavesNothing(t *testing.T) {
	for _, scheme := range []string{"amqp://%s/?routing_key=q", "nats://%s/subject", "redis://%s?stream=s"} {
		t.Run(strings.SplitN(scheme, ":", 2)[0], func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			accepted := make(chan net.Conn, 16)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			before := runtime.NumGoroutine()
			d, err := broker.Parse(fmt.Sprintf(scheme, ln.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				p, err := broker.Open(c, d, broker.Credentials{}, nil, 1)
				cancel()
				if err == nil {
					p.Close()
					t.Fatal("a silent server: connected")
				}
				var conn net.Conn
				select {
				case conn = <-accepted:
				case <-time.After(10 * time.Second):
					t.Fatal("no connection reached the server")
				}
				// The client's socket is closed: the server reads to EOF,
				// long before its own deadline.
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err = io.Copy(io.Discard, conn)
				conn.Close()
				if err != nil {
					t.Fatalf("the client kept its socket open: %v", err)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				runtime.Gosched()
				time.Sleep(10 * time.Millisecond) // polling, not synchronising
			}
			if n := runtime.NumGoroutine(); n > before {
				t.Errorf("%d goroutines before, %d after", before, n)
			}
		})
	}
}
