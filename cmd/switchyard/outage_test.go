package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
)

// The outage test runs a real `switchyard serve` on PostgreSQL through a
// pgtest.Proxy, under async webhook load, and takes the database away
// twice: as a restart does (every connection reset, new ones refused,
// for longer than the node's lease) and as a network partition does
// (every byte dropped, nothing closed). Each time the node must say it
// is not ready, refuse webhooks with a 5xx rather than acknowledge what
// it did not commit, log one line per refused webhook, and come back by
// itself once the database does.

// Phases of the outage, as the load sees them: a request that starts and
// ends in phaseDown ran wholly while the database was away.
const (
	phaseUp int32 = iota
	phaseGoing
	phaseDown
	phaseComing
)

// outageResult is one webhook of the load.
type outageResult struct {
	from, to int32 // phase at the start and at the end
	code     int   // 0: no answer
	err      error
	id       string
	took     time.Duration
}

// outageLoad posts webhooks from workers clients until stop closes,
// noting the phase around each.
type outageLoad struct {
	mu      sync.Mutex
	results []outageResult
	phase   atomic.Int32
	acked   atomic.Int64
	wg      sync.WaitGroup
}

func (l *outageLoad) run(url string, workers int, stop <-chan struct{}) {
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := outageResult{from: l.phase.Load()}
				start := time.Now()
				resp, err := client.Post(url, "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, w*100000+i)))
				r.took, r.to, r.err = time.Since(start), l.phase.Load(), err
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					r.code = resp.StatusCode
					if r.code == http.StatusAccepted {
						var a struct{ ID string }
						json.Unmarshal(b, &a)
						r.id = a.ID
						l.acked.Add(1)
					}
				}
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
				if r.code != http.StatusAccepted {
					time.Sleep(20 * time.Millisecond) // a sender backs off
				}
			}
		})
	}
}

// downCount is how many webhooks ran wholly while the database was away.
func (l *outageLoad) downCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.results {
		if r.from == phaseDown && r.to == phaseDown {
			n++
		}
	}
	return n
}

// waitFor polls cond every 20 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, c *child, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s\n%s", what, within, c.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// readyz is the status of the node's /readyz (0: no answer in 10 s).
func (c *child) readyz() int {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(c.url + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestPostgresOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real process")
	}
	proxy, storeURL := pgtest.NewProxy(t, pgtest.SchemaURL(t, pgtest.FreshSchema(t)))
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	const lease = 3 * time.Second
	c := startServe(t, []string{"SWITCHYARD_SECRET_KEY=" + key},
		"--data", t.TempDir(), "--store", storeURL, "--lease", lease.String())
	c.route(t, "outage", "return PAYLOAD.n")

	load := &outageLoad{}
	stop := make(chan struct{})
	load.run(c.url+"/webhooks/v1/outage", 8, stop)
	defer func() {
		close(stop)
		load.wg.Wait()
	}()

	outages := []struct {
		name     string
		cut      func()
		downFor  time.Duration // at least, once the node says it is not ready
		downSeen int           // and at least this many webhooks refused meanwhile
	}{
		// Longer than the lease: the node loses it, and must get it back.
		{"restart", proxy.Cut, lease + time.Second, 20},
		{"partition", proxy.Blackhole, 0, 8},
	}
	for _, o := range outages {
		before := load.acked.Load()
		waitFor(t, c, 20*time.Second, o.name+": acknowledgements before the outage", func() bool { return load.acked.Load() >= before+100 })
		load.phase.Store(phaseGoing)
		o.cut()
		took := waitFor(t, c, 10*time.Second, o.name+": /readyz answers 503", func() bool { return c.readyz() == http.StatusServiceUnavailable })
		t.Logf("%s: not ready %s after the cut", o.name, took.Round(time.Millisecond))
		if o.name == "restart" {
			// The admin API says what is wrong, as webhooks do: 503, not 500.
			if code, body := c.api(t, "GET", "/providers", ""); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "the store cannot be reached") {
				t.Errorf("%s: GET /providers answered %d %s, want 503 saying the store cannot be reached", o.name, code, body)
			}
		}
		load.phase.Store(phaseDown)
		down := time.Now()
		seen := load.downCount()
		waitFor(t, c, 30*time.Second, o.name+": webhooks answered while the database is away", func() bool {
			return time.Since(down) >= o.downFor && load.downCount() >= seen+o.downSeen
		})
		load.phase.Store(phaseComing)
		proxy.Restore()
		took = waitFor(t, c, 15*time.Second, o.name+": /readyz answers 200 again", func() bool { return c.readyz() == http.StatusOK })
		t.Logf("%s: ready %s after the database came back", o.name, took.Round(time.Millisecond))
		load.phase.Store(phaseUp)
	}
	after := load.acked.Load()
	waitFor(t, c, 20*time.Second, "acknowledgements after the outages", func() bool { return load.acked.Load() >= after+100 })
	close(stop)
	load.wg.Wait()
	stop = make(chan struct{})

	refused := 0
	for _, r := range load.results {
		if r.err != nil && r.from == phaseUp && r.to == phaseUp {
			t.Errorf("webhook with the database up: %v", r.err)
		}
		if r.from != phaseDown || r.to != phaseDown {
			continue
		}
		switch {
		case r.err != nil:
			t.Errorf("webhook while the database was away: no answer after %s: %v", r.took, r.err)
		case r.code == http.StatusAccepted:
			t.Errorf("webhook acknowledged (202, message %s) while the database was away", r.id)
		case r.code < 500:
			t.Errorf("webhook while the database was away: %d, want a 5xx", r.code)
		default:
			refused++
		}
	}
	for _, r := range load.results {
		if r.id != "" {
			c.waitSuccess(t, r.id)
		}
	}
	unavailable := 0
	for _, r := range load.results {
		if r.code == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	t.Logf("%d webhooks, %d acknowledged, %d refused while the database was away, %d in all", len(load.results), load.acked.Load(), refused, unavailable)
	checkOutageLog(t, c.log(), len(outages), unavailable)
}

// checkOutageLog checks what the node said: one line per webhook refused
// with 503, readiness lost and regained once per outage, and no flood of
// other complaints (each failing part of the node says so once per
// change, not once per attempt).
func checkOutageLog(t *testing.T, log string, outages, unavailable int) {
	t.Helper()
	count := func(s string) int { return strings.Count(log, s) }
	if n := count(`msg="could not record a webhook; answered 503`); n != unavailable {
		t.Errorf("%d lines say a webhook could not be recorded, for %d webhooks answered 503", n, unavailable)
	}
	if n := count(`msg="not ready: the store cannot be reached"`); n != outages {
		t.Errorf("readiness lost logged %d times over %d outages", n, outages)
	}
	if n := count(`msg="ready again: the store answers"`); n != outages {
		t.Errorf("readiness regained logged %d times over %d outages", n, outages)
	}
	if lost, back := count(`msg="this node lost its lease`), count(`msg="this node holds a lease again: ready`); lost != outages || back != outages {
		t.Errorf("lease lost %d times and regained %d times over %d outages longer than the lease", lost, back, outages)
	}
	// Every other complaint once per change: at most once as the
	// database goes and once as it comes back, per outage. An outcome
	// that could not be recorded is one line per message, which runs
	// again.
	re := regexp.MustCompile(`level=(?:ERROR|WARN) msg="([^"]*)"`)
	said := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		if !strings.HasPrefix(m[1], "could not record a webhook") && !strings.HasPrefix(m[1], "could not record an outcome") {
			said[m[1]]++
		}
	}
	for msg, n := range said {
		if n > 2*outages {
			t.Errorf("%q logged %d times over %d outages: once per change, not once per attempt", msg, n, outages)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}
