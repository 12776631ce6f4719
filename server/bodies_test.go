package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// liveHeap is the heap left after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// slowBody opens a connection that announces a body of size bytes and
// sends only its first byte. It is closed at cleanup.
func (in *instance) slowBody(uri string, size int) net.Conn {
	in.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(in.url, "http://"))
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { c.Close() })
	if _, err := fmt.Fprintf(c, "POST /webhooks/v1/%s HTTP/1.1\r\nHost: hooks\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", uri, size); err != nil {
		in.t.Fatal(err)
	}
	return c
}

// bodiesReading is the gauge of webhook bodies being read.
func (in *instance) bodiesReading() int {
	in.t.Helper()
	_, b, _ := in.do("GET", "/metrics", nil, nil)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "switchyard_webhook_bodies_reading "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				in.t.Fatalf("metric %q: %v", line, err)
			}
			return int(n)
		}
	}
	in.t.Fatal("no switchyard_webhook_bodies_reading in /metrics")
	return 0
}

// A sender that announces large bodies and sends a byte of each costs
// the server about what it sent, not what it announced, and scripts
// running meanwhile are not stopped by the memory watchdog. Not
// parallel: it measures the process heap.
func TestSlowBodiesDoNotFillTheHeap(t *testing.T) {
	const conns, announced = 64, 8 << 20 // 512 MiB announced, 64 bytes sent
	limit := uint64(liveHeap()) + 256<<20
	in := start(t, func(o *server.Options) { o.MaxBody = announced; o.ScriptMaxHeap = limit })
	p := in.provider("any", "return true")
	// Long enough for the watchdog to look at the heap while it runs.
	in.function(p.ID, "f", "ok", `var s = 0; for (var i = 0; i < 5e4; i++) s += i; return s`)
	before := liveHeap()

	for range conns {
		in.slowBody("slow", announced)
	}
	eventually(t, "every body being read", func() bool { return in.bodiesReading() == conns })
	for range 5 {
		code, a := in.send("ok", []byte(`{}`), true, nil)
		if code != http.StatusOK || a.Status != "SUCCESS" {
			t.Fatalf("a webhook during the attack: %d %+v", code, a)
		}
	}
	grown := liveHeap() - before
	t.Logf("heap grew by %d KiB for %d bodies announcing %d MiB each", grown>>10, conns, announced>>20)
	if grown > 64<<20 {
		t.Fatalf("heap grew by %d MiB for %d bytes sent (%d MiB announced)", grown>>20, conns, conns*announced>>20)
	}
}

// Past --max-concurrent-bodies, a webhook waits a little for a slot, then
// gets 503 with Retry-After and is not recorded; once the slow bodies are
// gone, webhooks are accepted again.
func TestConcurrentBodiesAreCapped(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.MaxConcurrentBodies = 2 })
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "capped", `return 1`)
	slow := []net.Conn{in.slowBody("capped", 1000), in.slowBody("capped", 1000)}
	eventually(t, "both slow bodies being read", func() bool { return in.bodiesReading() == 2 })

	code, resp, h := in.do("POST", "/webhooks/v1/capped", []byte(`{"a":1}`), http.Header{"Content-Type": {"application/json"}})
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(string(resp), "too many") {
		t.Fatalf("past the cap: %d %q Retry-After %q", code, resp, h.Get("Retry-After"))
	}
	// A slow sender past the cap gets its answer without sending the rest.
	third := in.slowBody("capped", 1000)
	third.SetReadDeadline(time.Now().Add(time.Minute)) // a hang, not a timing: the server's read timeout is 2 min
	if resp, err := http.ReadResponse(bufio.NewReader(third), nil); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a slow body past the cap: %v %v", resp, err)
	}
	// A webhook without a body needs no slot.
	if code, _, _ := in.do("POST", "/webhooks/v1/capped", nil, nil); code != http.StatusAccepted {
		t.Fatalf("an empty webhook past the cap: %d", code)
	}

	for _, c := range slow {
		c.Close()
	}
	eventually(t, "the slots freed", func() bool { return in.bodiesReading() == 0 })
	if code, _ := in.send("capped", []byte(`{"a":2}`), false, nil); code != http.StatusAccepted {
		t.Fatalf("after the slow bodies left: %d", code)
	}
	var msgs struct{ Items []messageDetail }
	in.api("GET", "/messages", nil, http.StatusOK, &msgs)
	if len(msgs.Items) != 2 {
		t.Fatalf("%d messages recorded, want the empty one and the one after", len(msgs.Items))
	}
}

// A body that does not arrive in time gets 408 and is not recorded.
func TestSlowBodyGets408(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { server.SetBodyTimeout(o, time.Second) })
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "late", `return 1`)
	c := in.slowBody("late", 1000)
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a hang, not a timing
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "did not arrive") {
		t.Fatalf("slow body: %d %s", resp.StatusCode, b)
	}
	var msgs struct{ Items []messageDetail }
	in.api("GET", "/messages", nil, http.StatusOK, &msgs)
	if len(msgs.Items) != 0 {
		t.Fatalf("%d messages recorded from a body that never arrived", len(msgs.Items))
	}
}

// An admin API request whose body does not arrive gets a 408 that says so,
// not Go's "i/o timeout".
func TestSlowAdminBodyGets408(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { server.SetBodyTimeout(o, time.Second) })
	c, err := net.Dial("tcp", strings.TrimPrefix(in.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "POST /api/v1/providers HTTP/1.1\r\nHost: hooks\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", testToken); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a hang, not a timing
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "did not arrive in time") || strings.Contains(string(b), "i/o timeout") {
		t.Fatalf("slow admin body: %d %s", resp.StatusCode, b)
	}
}
