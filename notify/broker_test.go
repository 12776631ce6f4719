package notify_test

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/switchyard-dev/switchyard/internal/brokertest"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// rabbitQueue declares a queue of the test's own on the local RabbitMQ,
// deleted when the test ends, and returns a channel to read it with.
func rabbitQueue(t *testing.T) (*amqp.Channel, string) {
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
	q := brokertest.Name("sy_notify")
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ch.QueueDelete(q, false, false, false) })
	return ch, q
}

// lastResponse is the response recorded by a delivery's last attempt.
func lastResponse(t *testing.T, st notify.Store, id string) string {
	t.Helper()
	d, err := st.GetDelivery(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Attempts[len(d.Attempts)-1].Response
}

// TestBrokerConnectionLifecycle: an AMQP endpoint's deliveries share one
// channel (the delivery tags count up), a change to the endpoint opens a
// new one, and once the engine is stopped no goroutine of it is left.
// Not parallel: it counts goroutines.
func TestBrokerConnectionLifecycle(t *testing.T) {
	ch, q := rabbitQueue(t)
	e := newEnv(t, true)
	// Connections open on the first delivery: none is open yet.
	before := runtime.NumGoroutine()
	ep := e.endpoint(t, storage.Endpoint{URL: "amqp://guest:guest@" + brokertest.AMQP + "/?routing_key=" + q, SigningSecret: testSecret})
	if ep.URL != "amqp://"+brokertest.AMQP+"/?routing_key="+q || !reflect.DeepEqual(ep.Auth, storage.Auth{Type: "basic", Username: "guest", Password: "guest"}) {
		t.Fatalf("the credentials did not move from the url to auth: %q %+v", ep.URL, ep.Auth)
	}
	for i, want := range []string{"confirmed: delivery tag 1", "confirmed: delivery tag 2"} {
		e.publish(t, storage.Event{Type: "order.created", Title: "t"})
		ds := e.settled(t, ep.ID, i+1)
		if ds[0].Status != storage.DeliverySuccess {
			t.Fatalf("delivery: %+v", ds[0])
		}
		if got := lastResponse(t, e.store, ds[0].ID); got != want {
			t.Fatalf("attempt %d recorded %q, want %q", i+1, got, want)
		}
		m, ok, err := ch.Get(q, true)
		if err != nil || !ok {
			t.Fatalf("the queue has no message: %v", err)
		}
		if m.Headers["webhook-id"] != ds[0].ID || m.Headers["x-switchyard-event"] != "order.created" || !strings.HasPrefix(m.Headers["webhook-signature"].(string), "v1,") {
			t.Fatalf("message headers %v", m.Headers)
		}
		verify(t, testSecret, received{Body: m.Body, Header: map[string][]string{
			"Webhook-Id": {ds[0].ID}, "Webhook-Timestamp": {m.Headers["webhook-timestamp"].(string)}, "Webhook-Signature": {m.Headers["webhook-signature"].(string)}}})
	}
	conc := 3
	if _, err := e.eng.UpdateEndpoint(t.Context(), ep.ID, notify.EndpointChange{Concurrency: &conc}); err != nil {
		t.Fatal(err)
	}
	e.publish(t, storage.Event{Type: "order.created"})
	ds := e.settled(t, ep.ID, 3)
	if got := lastResponse(t, e.store, ds[0].ID); got != "confirmed: delivery tag 1" {
		t.Fatalf("after a change the endpoint kept its old channel: %q", got)
	}
	// Disabled, its connection closes; enabled again, it opens anew.
	off, on := false, true
	for _, enabled := range []*bool{&off, &on} {
		if _, err := e.eng.UpdateEndpoint(t.Context(), ep.ID, notify.EndpointChange{Enabled: enabled}); err != nil {
			t.Fatal(err)
		}
	}
	e.publish(t, storage.Event{Type: "order.created"})
	ds = e.settled(t, ep.ID, 4)
	if got := lastResponse(t, e.store, ds[0].ID); got != "confirmed: delivery tag 1" {
		t.Fatalf("after a disable and an enable the endpoint kept its old channel: %q", got)
	}
	if err := e.eng.DeleteEndpoint(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.eng.Close(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before the first delivery:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBrokerUnroutableIsRetried: a message that no queue takes fails
// (returned, not confirmed) and is retried on the endpoint's schedule.
func TestBrokerUnroutableIsRetried(t *testing.T) {
	t.Parallel()
	_, q := rabbitQueue(t)
	e := newEnv(t, true)
	ep := e.endpoint(t, storage.Endpoint{URL: "amqp://" + brokertest.AMQP + "/?routing_key=" + q + "_nobody",
		Retry: storage.RetryPolicy{MaxAttempts: 2, Backoff: "fixed", IntervalMS: 100}})
	e.publish(t, storage.Event{Type: "x"})
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliveryFailed || ds[0].AttemptCount != 2 || !strings.Contains(ds[0].LastError, "amqp: returned unroutable") {
		t.Fatalf("delivery: %+v", ds[0])
	}
}

// TestBrokerEgressGuard: without allow-private-targets a broker on
// loopback is refused like an HTTP receiver.
func TestBrokerEgressGuard(t *testing.T) {
	t.Parallel()
	_, q := rabbitQueue(t)
	e := newEnv(t, false)
	ep := e.endpoint(t, storage.Endpoint{URL: "amqp://" + brokertest.AMQP + "/?routing_key=" + q, Retry: storage.RetryPolicy{MaxAttempts: 1}})
	e.publish(t, storage.Event{Type: "x"})
	ds := e.settled(t, ep.ID, 1)
	if ds[0].Status != storage.DeliveryFailed || !strings.Contains(ds[0].LastError, "egress: refused "+brokertest.AMQP+": loopback address") {
		t.Fatalf("delivery to a loopback broker without --allow-private-targets: %+v", ds[0])
	}
}

// TestBrokerTestAndValidate: the endpoint test and validate_on_create
// publish to the broker and succeed on its confirm.
func TestBrokerTestAndValidate(t *testing.T) {
	t.Parallel()
	ch, q := rabbitQueue(t)
	e := newEnv(t, true)
	ep := storage.Endpoint{Name: "b", URL: "amqp://" + brokertest.AMQP + "/?routing_key=" + q, EventTypes: []string{"*"}}
	if err := notify.Normalize(&ep); err != nil {
		t.Fatal(err)
	}
	a, err := e.eng.Test(t.Context(), ep)
	if err != nil || a.Error != "" || a.Response != "confirmed: delivery tag 1" {
		t.Fatalf("test: %+v %v", a, err)
	}
	if err := e.eng.Validate(t.Context(), ep); err != nil {
		t.Fatal(err)
	}
	qi, err := ch.QueueDeclarePassive(q, false, true, false, false, nil)
	if err != nil || qi.Messages != 2 {
		t.Fatalf("the queue holds %d messages (%v), want 2", qi.Messages, err)
	}
	ep.URL += "_nobody"
	if err := e.eng.Validate(t.Context(), ep); err == nil || !strings.Contains(err.Error(), "unroutable") {
		t.Fatalf("validate to an unbound routing key: %v", err)
	}
}

// TestNormalizeBroker: what a broker endpoint may and may not have.
func TestNormalizeBroker(t *testing.T) {
	t.Parallel()
	base := func(url string) storage.Endpoint {
		return storage.Endpoint{Name: "b", URL: url, EventTypes: []string{"*"}}
	}
	bad := []struct {
		ep   storage.Endpoint
		want string
	}{
		{base("amqp://h/vh"), "url needs routing_key"},
		{base("nats://h/a.*"), "wildcards"},
		{base("redis://h/0"), "url needs stream"},
		{base("redis://h/99999?stream=s"), `database "99999"`},
		{base("redis://h/0?stream=s&maxlen=x"), `maxlen "x"`},
		{base("amqp://h/?routing_key={{type}}"), "not a template"},
		{func() storage.Endpoint { e := base("nats://h/s"); e.Headers = map[string]string{"X-A": "1"}; return e }(), "headers: a nats destination carries no HTTP headers"},
		{func() storage.Endpoint { e := base("nats://h/s"); e.Cookies = map[string]string{"a": "1"}; return e }(), "cookies"},
		{func() storage.Endpoint {
			e := base("nats://h/s")
			e.Verify = storage.Verify{Type: "status", Value: "200"}
			return e
		}(), "verify: a nats destination succeeds when the broker confirms"},
		{func() storage.Endpoint {
			e := base("redis://h/0?stream=s")
			e.Auth = storage.Auth{Type: "bearer", Token: "x"}
			return e
		}(), "not auth type bearer"},
		{func() storage.Endpoint {
			e := base("amqp://h/?routing_key=q")
			e.Auth = storage.Auth{Type: "oauth2", TokenURL: "https://auth.example.com/t", ClientID: "c", ClientSecret: "s"}
			return e
		}(), "auth: a amqp url logs in with a user and password (auth type basic, or user:password@ in the url), not auth type oauth2"},
		{func() storage.Endpoint { e := base("nats://h/s"); e.Proxy = "http://proxy.example.com:3128"; return e }(), "proxy: a nats destination is reached directly"},
		{func() storage.Endpoint { e := base("nats://h/s"); e.ProxyPassword = "pw"; return e }(), "proxy: a nats destination is reached directly"},
		{func() storage.Endpoint {
			e := base("redis://h/0?stream=s")
			e.TLS.ServerName = "r.example.com"
			return e
		}(), "tls: a redis destination takes no tls settings"},
		{base("ftp://h/"), "amqp://, nats:// or redis://"},
	}
	for _, c := range bad {
		err := notify.Normalize(&c.ep)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.ep.URL, err, c.want)
		}
	}
	// The password moves to auth; the method is ignored; a url given back
	// with the user only keeps the stored password.
	ep := base("redis://:pw-1@h:6379/2?stream=s")
	ep.Method = "GET"
	if err := notify.Normalize(&ep); err != nil {
		t.Fatal(err)
	}
	if ep.URL != "redis://h:6379/2?stream=s" || ep.Method != "POST" || !reflect.DeepEqual(ep.Auth, storage.Auth{Type: "basic", Username: "default", Password: "pw-1"}) {
		t.Fatalf("got %q %q %+v", ep.URL, ep.Method, ep.Auth)
	}
	ep.URL = "redis://default@h:6379/2?stream=s"
	if err := notify.Normalize(&ep); err != nil || ep.Auth.Password != "pw-1" || ep.URL != "redis://h:6379/2?stream=s" {
		t.Fatalf("given back with the user only: %v %q %+v", err, ep.URL, ep.Auth)
	}
}
