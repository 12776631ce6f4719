package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard-dev/switchyard/internal/brokertest"
	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/server"
)

// brokerPassword is a broker password that must never show.
const brokerPassword = "nats-Pa55-never-shown-41"

// natsStream makes a memory stream of the test's own on the local NATS,
// capturing NAME.>, deleted when the test ends.
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
	name := brokertest.Name("sy_server")
	s, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatalf("creating a stream (is JetStream on? nats-server -js): %v", err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	return s, name
}

// A broker url's password is moved to the endpoint's sealed auth: no
// answer, log, or store file (bbolt, PostgreSQL) shows it, and the
// deliveries still log in with it. (The local NATS has no authorization,
// so it takes any password.)
func TestBrokerPasswordIsSealed(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"bolt", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			_, stream := natsStream(t)
			logs := &logBuffer{}
			schema := ""
			in := start(t, allowPrivate, func(o *server.Options) {
				o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				if backend == "postgres" {
					schema = pgtest.FreshSchema(t)
					o.Store, o.SecretKey = pgtest.SchemaURL(t, schema), testKey('k')
				}
			})
			e := in.endpoint(map[string]any{"name": "nats", "url": "nats://sy-user:" + brokerPassword + "@" + brokertest.NATS + "/" + stream + ".orders",
				"event_types": []string{"*"}})
			want := "nats://" + brokertest.NATS + "/" + stream + ".orders"
			if e.URL != want || e.Auth["type"] != "basic" || e.Auth["username"] != "sy-user" || e.Auth["password_set"] != true {
				t.Fatalf("POST answer: %s", e.Raw)
			}
			_, body := in.as(testToken, "GET", "/endpoints/"+e.ID, nil, nil)
			_, list := in.as(testToken, "GET", "/endpoints", nil, nil)
			// Given back as shown (the user in the url, no password): the
			// stored password stays.
			shown := "nats://sy-user@" + brokertest.NATS + "/" + stream + ".orders"
			put := in.api("PUT", "/endpoints/"+e.ID, map[string]any{"url": shown}, http.StatusOK, nil)
			in.api("POST", "/events", map[string]any{"type": "order.created", "title": "t"}, http.StatusAccepted, nil)
			ds := in.settled(e.ID, 1)
			if ds[0].Status != "SUCCESS" {
				t.Fatalf("delivery: %+v", ds[0])
			}
			var d delivery
			det := in.api("GET", "/deliveries/"+ds[0].ID, nil, http.StatusOK, &d)
			if d.Attempts[0].Response != "confirmed: stream "+stream+" sequence 1" {
				t.Fatalf("attempt: %s", det)
			}
			for what, b := range map[string][]byte{"POST": e.Raw, "GET": body, "list": list, "PUT": put, "delivery": det} {
				if strings.Contains(string(b), brokerPassword) {
					t.Errorf("%s shows the broker password: %s", what, b)
				}
			}
			if err := in.stop(); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(logs.String(), brokerPassword) {
				t.Errorf("the log shows the broker password:\n%s", logs)
			}
			switch backend {
			case "bolt":
				db, err := os.ReadFile(filepath.Join(in.opts.DataDir, "switchyard.db"))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(db), brokerPassword) {
					t.Error("switchyard.db holds the broker password in plain text")
				}
				if !strings.Contains(string(db), stream) {
					t.Error("switchyard.db does not hold the url either: the check looks in the wrong place")
				}
			case "postgres":
				dump := pgtest.Dump(t, schema)
				if pgtest.ContainsPlain(dump, brokerPassword) {
					t.Error("the PostgreSQL store holds the broker password in plain text")
				}
				if !strings.Contains(dump, stream) {
					t.Error("the dump does not hold the url either: the check looks in the wrong place")
				}
			}
		})
	}
}

// An event reaches a RabbitMQ queue as the body an HTTP endpoint would
// get, signed, with webhook-id and the type as headers; a delivery that
// no queue took fails, and a replay once the queue exists delivers it.
func TestBrokerAMQPDeliveryAndReplay(t *testing.T) {
	t.Parallel()
	addr := brokertest.Need(t, "RabbitMQ", brokertest.AMQP)
	in := start(t, allowPrivate)
	q := brokertest.Name("sy_server")
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	e := in.endpoint(map[string]any{"name": "rabbit", "url": "amqp://guest:guest@" + addr + "/?exchange=&routing_key=" + q,
		"event_types": []string{"order.*"}, "signing_secret": secret, "body_template": `{"order": "{{data.id}}", "text": "{{title}}"}`,
		"retry": map[string]any{"max_attempts": 1}, "auto_disable": map[string]any{"consecutive_failures": 0}})
	if strings.Contains(string(e.Raw), "guest@") || e.Auth["username"] != "guest" {
		t.Fatalf("POST answer: %s", e.Raw)
	}
	in.api("POST", "/events", map[string]any{"type": "order.created", "title": "new order", "data": map[string]any{"id": "o-1"}}, http.StatusAccepted, nil)
	ds := in.settled(e.ID, 1)
	if ds[0].Status != "FAILED" || !strings.Contains(ds[0].LastError, "amqp: returned unroutable: no queue is bound") {
		t.Fatalf("delivery with no queue: %+v", ds[0])
	}

	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ch.QueueDelete(q, false, false, false) })
	in.api("POST", "/endpoints/"+e.ID+"/replay", map[string]any{"since": time.Now().Add(-time.Hour)}, http.StatusAccepted, nil)
	eventually(t, "the replay to succeed", func() bool { return in.deliveries("endpoint_id=" + e.ID)[0].Status == "SUCCESS" })
	var d delivery
	in.api("GET", "/deliveries/"+ds[0].ID, nil, http.StatusOK, &d)
	if len(d.Attempts) != 2 || !strings.HasPrefix(d.Attempts[1].Response, "confirmed: delivery tag ") || d.Attempts[1].Status != 0 {
		t.Fatalf("attempts: %+v", d.Attempts)
	}
	m, ok, err := ch.Get(q, true)
	if err != nil || !ok {
		t.Fatalf("the queue has no message: %v", err)
	}
	var body map[string]string
	if err := json.Unmarshal(m.Body, &body); err != nil || body["order"] != "o-1" || body["text"] != "new order" {
		t.Fatalf("body %s (%v)", m.Body, err)
	}
	id, ts, sig := m.Headers["webhook-id"], m.Headers["webhook-timestamp"], m.Headers["webhook-signature"]
	if id != ds[0].ID || m.Headers["x-switchyard-event"] != "order.created" || m.ContentType != "application/json" {
		t.Fatalf("message: headers %v, content type %q", m.Headers, m.ContentType)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id.(string) + "." + ts.(string) + "." + string(m.Body)))
	if sig != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("signature %v does not verify", sig)
	}
}

// A Redis stream gets the body in the field "body" and the headers as
// fields of their own.
func TestBrokerRedisStream(t *testing.T) {
	t.Parallel()
	addr := brokertest.Need(t, "Redis", brokertest.Redis)
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: 3, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { rc.Close() })
	stream := brokertest.Name("sy_server")
	t.Cleanup(func() { rc.Del(context.Background(), stream) })
	in := start(t, allowPrivate)
	e := in.endpoint(map[string]any{"name": "redis", "url": "redis://" + addr + "/3?stream=" + stream + "&maxlen=1000", "event_types": []string{"*"}})
	in.api("POST", "/events", map[string]any{"type": "build.done", "title": "green"}, http.StatusAccepted, nil)
	ds := in.settled(e.ID, 1)
	var d delivery
	in.api("GET", "/deliveries/"+ds[0].ID, nil, http.StatusOK, &d)
	entries, err := rc.XRange(t.Context(), stream, "-", "+").Result()
	if err != nil || len(entries) != 1 || d.Status != "SUCCESS" || d.Attempts[0].Response != "confirmed: stream id "+entries[0].ID {
		t.Fatalf("entries %v (%v), delivery %+v", entries, err, d)
	}
	v := entries[0].Values
	var body map[string]any
	if err := json.Unmarshal([]byte(v["body"].(string)), &body); err != nil || body["title"] != "green" || v["webhook-id"] != ds[0].ID || v["x-switchyard-event"] != "build.done" {
		t.Fatalf("entry %v", v)
	}
}

// A broker url's mistakes are 400s that name the field.
func TestBrokerEndpointValidation(t *testing.T) {
	t.Parallel()
	in := start(t)
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"url": "amqp://h/"}, "url needs routing_key"},
		{map[string]any{"url": "nats://h/orders.*"}, "wildcards"},
		{map[string]any{"url": "redis://h/0"}, "url needs stream"},
		{map[string]any{"url": "redis://h/x?stream=s"}, `database \"x\"`},
		{map[string]any{"url": "redis://h/0?stream=s&maxlen=0"}, `maxlen \"0\"`},
		{map[string]any{"url": "nats://h/{{type}}"}, "not a template"},
		{map[string]any{"url": "nats://h/s", "headers": map[string]string{"X-A": "b"}}, "headers: a nats destination"},
		{map[string]any{"url": "nats://h/s", "verify": map[string]any{"type": "status", "value": "200"}}, "verify: a nats destination"},
	} {
		c.body["name"], c.body["event_types"] = "b", []string{"*"}
		body := in.api("POST", "/endpoints", c.body, http.StatusBadRequest, nil)
		if !strings.Contains(string(body), c.want) {
			t.Errorf("%v: %s, want %q", c.body["url"], body, c.want)
		}
	}
}
