// Package brokertest finds the message brokers that tests publish to:
// RabbitMQ, NATS (with JetStream) and Redis on this machine. A test calls
// Need, which skips it, saying why, when the broker does not answer, or
// fails it instead when SWITCHYARD_REQUIRE_BROKERS=1 (CI starts them).
package brokertest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"
)

// The brokers' addresses, overridable with SWITCHYARD_TEST_AMQP,
// SWITCHYARD_TEST_NATS and SWITCHYARD_TEST_REDIS (host:port).
var (
	AMQP  = env("SWITCHYARD_TEST_AMQP", "127.0.0.1:5672")
	NATS  = env("SWITCHYARD_TEST_NATS", "127.0.0.1:4222")
	Redis = env("SWITCHYARD_TEST_REDIS", "127.0.0.1:6379")
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Need returns addr once a TCP connection to it opens; else it skips t
// (or fails it under SWITCHYARD_REQUIRE_BROKERS=1).
func Need(t testing.TB, name, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		return addr
	}
	msg := name + " is not reachable at " + addr + " (" + err.Error() + "); start it (see .ci/brokers) or set SWITCHYARD_REQUIRE_BROKERS=1 to make this a failure"
	if os.Getenv("SWITCHYARD_REQUIRE_BROKERS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Name returns a name no other test uses: prefix, "_" and random hex
// (a queue, a stream, a subject token).
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}
