// Command notify benchmarks Switchyard's outbound engine (package notify)
// against a plain Go HTTP client, in one process, on one machine, in the
// same run, and reports ratios:
//
//   - throughput: signed deliveries per second to a local sink, each
//     recorded SUCCESS in a real bbolt store, over the requests per second
//     a plain http.Client posts of the same body to the same sink with the
//     same concurrency (8 per endpoint). Plain and engine runs alternate
//     (plain, engine, plain, engine, ...) and the median ratio is the
//     figure, because a shared machine is noisy.
//   - isolation: the latency from Publish to the sink's receipt of the
//     healthy endpoints' deliveries at a fixed event rate, with every
//     endpoint healthy and then with half of them pointing at a black hole
//     (a listener that accepts and never answers), and the ratio of the two
//     p99s.
//
// It prints a Markdown report and writes it to bench/out/notify-<date>.md.
// See bench/README.md, "Outbound: go run ./bench/notify".
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// options are the command's flags.
type options struct {
	events      int
	endpoints   int
	rounds      int
	publishers  int
	distinct    bool
	duration    time.Duration
	warmup      time.Duration
	latEps      int
	latRounds   int
	rate        float64
	control     bool
	drain       time.Duration
	out         string
	profile     bool
	filter      bool
	catalogue   bool
	concurrency int    // per endpoint: the engine's default
	broker      string // broker mode: amqp, nats, redis or all (broker.go)
}

func main() { os.Exit(run()) }

func run() int {
	var o options
	flag.IntVar(&o.events, "events", 3000, "events per engine throughput run; each makes one delivery per endpoint, and the plain client posts as many requests")
	flag.IntVar(&o.endpoints, "endpoints", 4, "endpoints in the throughput runs")
	flag.IntVar(&o.rounds, "rounds", 2, "plain/engine pairs of throughput runs; the median ratio is reported")
	flag.IntVar(&o.publishers, "publishers", 0, "goroutines calling Publish in the throughput runs (default: as many as the plain client's requests in flight, 8 per endpoint)")
	flag.BoolVar(&o.distinct, "distinct-hosts", false, "give each endpoint its own loopback address (127.0.0.N) instead of one host:port for all")
	flag.DurationVar(&o.duration, "duration", 6*time.Second, "length of each latency phase")
	flag.IntVar(&o.latRounds, "latency-rounds", 2, "rounds of latency phases; the median of the rounds' p99 ratios is reported")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "start of each latency phase left out of the percentiles")
	flag.IntVar(&o.latEps, "latency-endpoints", 8, "endpoints in the latency phases (half of them black-holed in the second)")
	flag.Float64Var(&o.rate, "rate", 200, "events per second published in the latency phases")
	flag.BoolVar(&o.control, "control", true, "also measure the healthy half alone (same load on the healthy endpoints, no black hole)")
	flag.DurationVar(&o.drain, "drain-timeout", 60*time.Second, "how long to wait for a run's deliveries to complete")
	flag.StringVar(&o.out, "out", "bench/out", "directory of the report (and profiles)")
	flag.BoolVar(&o.filter, "filter", true, "give every engine endpoint a filter that each event matches (three conditions, one a regex), so the engine's runs pay for filtering")
	flag.BoolVar(&o.catalogue, "catalogue", false, "declare the event's type in the catalogue with a small JSON Schema that each event satisfies, so every Publish checks its data; compare a run with it to one without")
	flag.BoolVar(&o.profile, "cpuprofile", false, "write a CPU profile of each run to <out>/notify-<date>-<run>.pprof")
	flag.StringVar(&o.broker, "broker", "", "broker mode instead of HTTP: amqp, nats, redis or all (a comma-separated list too); each broker destination's deliveries/s against a plain client of that broker publishing with confirms (see broker.go)")
	flag.Parse()
	o.concurrency = notify.DefaultConcurrency
	if o.publishers == 0 {
		o.publishers = o.endpoints * o.concurrency
	}
	if o.endpoints < 1 || o.events < 1 || o.rounds < 1 || o.publishers < 1 || o.latEps < 2 || o.rate <= 0 || o.latRounds < 1 {
		fmt.Fprintln(os.Stderr, "notify bench: -endpoints, -events, -rounds, -publishers must be >= 1, -latency-endpoints >= 2, -rate > 0")
		return 2
	}
	// Switchyard's own default (cmd/switchyard); it applies to the plain
	// client too, so the ratio does not credit the engine for it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	b, err := newBench(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notify bench:", err)
		return 1
	}
	defer b.close()
	run, name := b.run, "notify-"
	if o.broker != "" {
		run, name = b.brokerMode, "notify-broker-"
	}
	rep, err := run()
	if rep != "" {
		fmt.Print(rep)
		if werr := os.MkdirAll(o.out, 0o755); werr == nil {
			path := filepath.Join(o.out, name+b.stamp+".md")
			if werr = os.WriteFile(path, []byte(rep), 0o644); werr == nil {
				fmt.Fprintln(os.Stderr, "report written to", path)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "notify bench:", err)
		return 1
	}
	return 0
}

// bench holds what the runs share: the sink, the black hole, the body.
type bench struct {
	o        options
	stamp    string
	log      *slog.Logger
	logs     *logCounter
	sink     *sink
	hole     *blackHole
	body     []byte // the plain client's body: an engine default body
	problems []string
}

func newBench(o options) (*bench, error) {
	b := &bench{
		o:     o,
		stamp: time.Now().UTC().Format("2006-01-02T150405Z"),
		logs:  newLogCounter(),
	}
	b.log = slog.New(b.logs)
	hosts := []string{"127.0.0.1"}
	if o.distinct {
		for i := 2; i <= max(o.endpoints, o.latEps); i++ {
			hosts = append(hosts, fmt.Sprintf("127.0.0.%d", i))
		}
	}
	var err error
	if b.sink, err = newSink(hosts); err != nil {
		return nil, err
	}
	if b.hole, err = newBlackHole(); err != nil {
		b.sink.close()
		return nil, err
	}
	b.body, err = plainBody()
	if err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *bench) close() {
	b.sink.close()
	b.hole.close()
}

// ---------------------------------------------------------------- sink

// sink is the local receiver: it reads the body and answers 204, counting
// requests and connections. During an engine run it also keeps a tally
// (see tally) of the engine's requests.
type sink struct {
	srvs  []*http.Server
	urls  []string // one per host
	count atomic.Int64
	conns atomic.Int64 // connections accepted

	tally atomic.Pointer[tally] // nil during plain runs
}

// tally is what the sink learns of one engine run's requests: distinct
// webhook-ids (a second request with the same id is a duplicate
// delivery), requests without a signature, one signature in verifyEvery
// checked, and in the latency phases the publish time read back from the
// body of each first receipt.
type tally struct {
	keys map[string][]byte // path -> signing key

	mu       sync.Mutex
	ids      map[string]struct{}
	distinct atomic.Int64
	dups     atomic.Int64
	unsigned atomic.Int64
	badSig   atomic.Int64
	checked  atomic.Int64
	rec      *recorder // nil outside latency phases
}

func newTally(keys map[string][]byte, rec *recorder) *tally {
	return &tally{keys: keys, ids: map[string]struct{}{}, rec: rec}
}

const verifyEvery = 256

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func newSink(hosts []string) (*sink, error) {
	s := &sink{}
	h := http.HandlerFunc(s.serve)
	var port string
	for _, host := range hosts {
		addr := net.JoinHostPort(host, "0")
		if port != "" {
			addr = net.JoinHostPort(host, port)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sink: %w", err)
		}
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ConnState: func(_ net.Conn, cs http.ConnState) {
			if cs == http.StateNew {
				s.conns.Add(1)
			}
		}}
		go srv.Serve(ln)
		s.srvs = append(s.srvs, srv)
		s.urls = append(s.urls, "http://"+ln.Addr().String())
	}
	return s, nil
}

func (s *sink) close() {
	for _, srv := range s.srvs {
		srv.Close()
	}
}

// url is the sink's URL for endpoint i.
func (s *sink) url(i int) string { return s.urls[i%len(s.urls)] }

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(r.Body)
	s.count.Add(1)
	if t := s.tally.Load(); t != nil && err == nil {
		t.observe(r, buf.Bytes())
	}
	bufs.Put(buf)
	w.WriteHeader(http.StatusNoContent)
}

func (t *tally) observe(r *http.Request, body []byte) {
	id := r.Header.Get("webhook-id")
	sig := r.Header.Get("webhook-signature")
	if id == "" || sig == "" {
		t.unsigned.Add(1)
		return
	}
	t.mu.Lock()
	_, seen := t.ids[id]
	if !seen {
		t.ids[id] = struct{}{}
	}
	t.mu.Unlock()
	if seen {
		t.dups.Add(1)
		return
	}
	n := t.distinct.Add(1)
	if t.rec != nil {
		t.rec.observe(body)
	}
	if n%verifyEvery != 1 {
		return
	}
	key, ok := t.keys[r.URL.Path]
	if !ok {
		return
	}
	t.checked.Add(1)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + r.Header.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !slices.Contains(strings.Fields(sig), want) {
		t.badSig.Add(1)
	}
}

// problems describes what went wrong in a run, if anything.
func (t *tally) problems(run string) []string {
	var out []string
	if n := t.dups.Load(); n > 0 {
		out = append(out, fmt.Sprintf("%s: the sink got %d duplicate deliveries (same webhook-id twice) of %d", run, n, t.distinct.Load()))
	}
	if u, bad := t.unsigned.Load(), t.badSig.Load(); u+bad > 0 {
		out = append(out, fmt.Sprintf("%s: the sink got %d unsigned requests and %d bad signatures (of %d checked)", run, u, bad, t.checked.Load()))
	}
	if t.checked.Load() == 0 {
		out = append(out, fmt.Sprintf("%s: no signature was checked", run))
	}
	return out
}

// recorder keeps the latencies of one latency phase: now minus the "sent"
// time (Unix nanoseconds, a string) in the event's data.
type recorder struct {
	from int64 // sent before this (the warm-up) is not kept
	mu   sync.Mutex
	lat  []time.Duration
	late int // received without a readable stamp
}

var sentMark = []byte(`"sent":"`)

func (rc *recorder) observe(body []byte) {
	now := time.Now().UnixNano()
	i := bytes.Index(body, sentMark)
	var sent int64
	if i >= 0 {
		rest := body[i+len(sentMark):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			sent, _ = strconv.ParseInt(string(rest[:j]), 10, 64)
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch {
	case sent == 0:
		rc.late++
	case sent >= rc.from:
		rc.lat = append(rc.lat, time.Duration(now-sent))
	}
}

// ---------------------------------------------------------------- logs

// logCounter is the engine's slog handler: it prints the first record of
// each message at Warn and above to stderr and counts them all, so that a
// message repeated per attempt neither floods the terminal nor goes
// unnoticed.
type logCounter struct {
	text   slog.Handler
	mu     *sync.Mutex
	counts map[string]int
	order  *[]string
}

func newLogCounter() *logCounter {
	return &logCounter{
		text:   slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
		mu:     &sync.Mutex{},
		counts: map[string]int{},
		order:  &[]string{},
	}
}

func (h *logCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *logCounter) Handle(ctx context.Context, r slog.Record) error {
	key := r.Level.String() + " " + r.Message
	h.mu.Lock()
	h.counts[key]++
	first := h.counts[key] == 1
	if first {
		*h.order = append(*h.order, key)
	}
	h.mu.Unlock()
	if first {
		return h.text.Handle(ctx, r)
	}
	return nil
}

func (h *logCounter) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.text = h.text.WithAttrs(as)
	return &c
}

func (h *logCounter) WithGroup(name string) slog.Handler {
	c := *h
	c.text = h.text.WithGroup(name)
	return &c
}

// take returns the counts since the last call, in order of first
// appearance, and resets them.
func (h *logCounter) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, k := range *h.order {
		out = append(out, fmt.Sprintf("engine log %q x %d", k, h.counts[k]))
	}
	clear(h.counts)
	*h.order = (*h.order)[:0]
	return out
}

// ---------------------------------------------------------------- black hole

// blackHole accepts TCP connections and never reads or answers.
type blackHole struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	n     atomic.Int64
}

func newBlackHole() (*blackHole, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("black hole: %w", err)
	}
	h := &blackHole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.n.Add(1)
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
		}
	}()
	return h, nil
}

func (h *blackHole) url() string { return "http://" + h.ln.Addr().String() }

func (h *blackHole) close() {
	h.ln.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
}

// ---------------------------------------------------------------- events

const eventType = "bench.disk_full"

// event is the benchmark's event: a few hundred bytes of default body.
func event(seq int64, sent time.Time) storage.Event {
	return storage.Event{
		Type:    eventType,
		Title:   "Disk almost full",
		Message: "/var on web-1 is 93% full (18.6 of 20 GB); the threshold is 90%.",
		Source:  "api",
		Data: map[string]any{
			"host": "web-1", "mount": "/var", "used_pct": 93, "seq": seq,
			"sent": strconv.FormatInt(sent.UnixNano(), 10),
		},
	}
}

// benchDeclaration declares eventType with a schema every event of
// event() satisfies: the kind of schema a monitoring source declares.
var benchDeclaration = notify.EventTypeChange{
	Kind: storage.KindAlarm, Description: "A disk is almost full",
	Schema: json.RawMessage(`{"type": "object", "required": ["host", "mount", "used_pct", "seq", "sent"],
		"properties": {"host": {"type": "string", "pattern": "^[a-z]+-[0-9]+$"}, "mount": {"type": "string", "minLength": 1},
			"used_pct": {"type": "number", "minimum": 0, "maximum": 100}, "seq": {"type": "integer", "minimum": 0},
			"sent": {"type": "string", "maxLength": 32}}}`),
}

// benchFilter matches every event of event().
var benchFilter = map[string]any{
	"data.host":     map[string]any{"$regex": "^web-"},
	"data.used_pct": map[string]any{"$gte": 90.0},
	"source":        map[string]any{"$in": []any{"api", "script"}},
}

// plainBody is what the engine sends for one event with the default body
// (notify's defaultBody: the event as JSON and its text under msg_key),
// built once for the plain client.
func plainBody() ([]byte, error) {
	ev := event(1, time.Now())
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	ev.ID, ev.Time = id.String(), time.Now().UTC()
	ev.Data["seq"] = 1000 // a typical width
	return json.Marshal(map[string]any{
		"id": ev.ID, "type": ev.Type, "time": ev.Time.Format(time.RFC3339Nano),
		"title": ev.Title, "sub_title": ev.SubTitle, "message": ev.Message,
		"logo": ev.Logo, "image": ev.Image, "data": ev.Data,
		notify.DefaultMsgKey: ev.Title + "\n" + ev.Message,
	})
}

// ---------------------------------------------------------------- engine

// observer counts attempts by outcome; done is closed when want successes
// (recorded in the store: the engine reports after RecordAttempt) are in.
type observer struct {
	success, retry, failed atomic.Int64
	want                   int64
	done                   chan struct{}
}

func (ob *observer) Attempted(outcome string, _ time.Duration) {
	switch outcome {
	case "success":
		if ob.success.Add(1) == ob.want {
			close(ob.done)
		}
	case "retry":
		ob.retry.Add(1)
	default:
		ob.failed.Add(1)
	}
}

// engineEnv is one engine on a fresh store in a temporary directory.
type engineEnv struct {
	dir   string
	store *bolt.Store
	eg    *egress.Client
	eng   *notify.Engine
	obs   *observer
	eps   []storage.Endpoint
	keys  map[string][]byte // the healthy endpoints' signing keys, by URL path
}

// target is one endpoint to create: its URL and whether the sink checks
// its signature.
type target struct {
	url     string
	healthy bool
}

func (b *bench) openEngine(ctx context.Context, run string, targets []target, want int64) (*engineEnv, error) {
	dir, err := os.MkdirTemp("", "switchyard-notify-bench-")
	if err != nil {
		return nil, err
	}
	e := &engineEnv{dir: dir, obs: &observer{want: want, done: make(chan struct{})}}
	if err := e.open(ctx, b, run, targets); err != nil {
		e.close(ctx)
		return nil, err
	}
	return e, nil
}

func (e *engineEnv) open(ctx context.Context, b *bench, run string, targets []target) error {
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	sealer, err := seal.New(key)
	if err != nil {
		return err
	}
	if e.store, err = bolt.Open(filepath.Join(e.dir, "switchyard.db"), sealer); err != nil {
		return err
	}
	if e.eg, err = egress.New(egress.Options{AllowPrivate: true}); err != nil {
		return err
	}
	if e.eng, err = notify.New(notify.Options{Store: e.store, Client: e.eg.HTTPClient(), Dial: e.eg.DialContext, Logger: b.log, Observer: e.obs}); err != nil {
		return err
	}
	if b.o.catalogue {
		if _, _, err := e.eng.DeclareEventType(ctx, eventType, benchDeclaration, true); err != nil {
			return err
		}
	}
	e.keys = map[string][]byte{}
	for i, t := range targets {
		secret := make([]byte, 32)
		rand.Read(secret)
		path := fmt.Sprintf("/%s/ep%d", run, i)
		url := t.url + path
		if broker.IsBroker(t.url) {
			url = t.url // where the broker mode's messages go
		}
		ep := storage.Endpoint{
			Name: fmt.Sprintf("bench %s %d", run, i), URL: url,
			EventTypes:    []string{"bench.*"},
			SigningSecret: "whsec_" + base64.StdEncoding.EncodeToString(secret),
		}
		if b.o.filter {
			ep.Filter = benchFilter
		}
		ep.Enabled = true
		if err := notify.Normalize(&ep); err != nil {
			return err
		}
		if ep, err = e.store.CreateEndpoint(ctx, ep); err != nil {
			return err
		}
		e.eps = append(e.eps, ep)
		if t.healthy {
			e.keys[path] = secret
		}
	}
	return e.eng.Start(ctx)
}

// close stops the engine (attempts still running after a second, the
// black-holed ones, are cut off) and removes the store.
func (e *engineEnv) close(ctx context.Context) {
	if e.eng != nil {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_ = e.eng.Close(cctx)
		cancel()
	}
	if e.store != nil {
		e.store.Close()
	}
	if e.eg != nil {
		e.eg.CloseIdleConnections()
	}
	os.RemoveAll(e.dir)
}

// statuses counts an endpoint's deliveries by status, from the store.
func (e *engineEnv) statuses(ctx context.Context, endpointID string) (map[string]int, error) {
	out := map[string]int{}
	cursor := ""
	for {
		ds, next, err := e.store.ListDeliveries(ctx, storage.DeliveryFilter{EndpointID: endpointID, Cursor: cursor, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out[d.Status]++
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// ---------------------------------------------------------------- throughput

// usage is the process's CPU time.
func usage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tput is one throughput run's figures.
type tput struct {
	n       int64
	wall    time.Duration
	cpu     time.Duration
	publish time.Duration // engine: time to publish every event
	commits uint64
	writes  uint64
	commitT time.Duration // time spent committing, fsync included
	connsIn int64         // connections the sink accepted
	dups    int64         // deliveries the sink got twice
}

func (t tput) rate() float64 { return float64(t.n) / t.wall.Seconds() }

// plainRun posts n copies of the body to the sink from conc goroutines.
func (b *bench) plainRun(ctx context.Context, n int64, conc int) (tput, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = conc, conc
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var next, bad atomic.Int64
	var firstErr atomic.Value
	b.sink.tally.Store(nil)
	urls := make([]string, b.o.endpoints)
	for i := range urls {
		urls[i] = b.sink.url(i) + "/plain"
	}
	var wg sync.WaitGroup
	k0 := b.sink.conns.Load()
	c0, t0 := usage(), time.Now()
	for g := range conc {
		wg.Go(func() {
			url := urls[g%len(urls)]
			for next.Add(1) <= n {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					bad.Add(1)
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					bad.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t := tput{n: n, wall: time.Since(t0), cpu: usage() - c0, connsIn: b.sink.conns.Load() - k0}
	if bad.Load() > 0 {
		return t, fmt.Errorf("plain client: %d requests failed (first error: %v)", bad.Load(), firstErr.Load())
	}
	return t, nil
}

// engineRun publishes events from b.o.publishers goroutines to
// b.o.endpoints endpoints and waits for every delivery to be recorded
// SUCCESS; then it checks the store.
func (b *bench) engineRun(ctx context.Context, run string) (tput, error) {
	k := b.o.endpoints
	want := int64(b.o.events) * int64(k)
	targets := make([]target, k)
	for i := range targets {
		targets[i] = target{url: b.sink.url(i), healthy: true}
	}
	e, err := b.openEngine(ctx, run, targets, want)
	if err != nil {
		return tput{}, err
	}
	defer e.close(ctx)
	tl := newTally(e.keys, nil)
	b.sink.tally.Store(tl)
	defer b.sink.tally.Store(nil)
	var next atomic.Int64
	var perr atomic.Value
	var wg sync.WaitGroup
	s0 := e.store.WriterStats()
	k0 := b.sink.conns.Load()
	c0, t0 := usage(), time.Now()
	for range b.o.publishers {
		wg.Go(func() {
			for {
				seq := next.Add(1)
				if seq > int64(b.o.events) {
					return
				}
				_, n, err := e.eng.Publish(ctx, event(seq, time.Now()))
				if err == nil && n != k {
					err = fmt.Errorf("publish made %d deliveries, want %d", n, k)
				}
				if err != nil {
					perr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	published := time.Since(t0)
	if err, _ := perr.Load().(error); err != nil {
		return tput{}, err
	}
	select {
	case <-e.obs.done:
	case <-time.After(b.o.drain):
		return tput{}, fmt.Errorf("engine run %s: %d of %d deliveries recorded SUCCESS after %s (%d retries, %d failed)",
			run, e.obs.success.Load(), want, b.o.drain, e.obs.retry.Load(), e.obs.failed.Load())
	}
	// The CPU time stops with the clock: reading every delivery back
	// from the store is the benchmark's check, not the engine's work.
	end, cpu := time.Now(), usage()-c0
	// The observer also counts a duplicate attempt whose record failed
	// (the delivery was already SUCCESS), so confirm in the store: every
	// delivery SUCCESS. If the first look finds some still PENDING, the
	// run ends when a later look finds none.
	for {
		ok, err := e.allSuccess(ctx, b.o.events)
		if err != nil {
			return tput{}, fmt.Errorf("engine run %s: %w", run, err)
		}
		if ok {
			break
		}
		if time.Since(t0) > b.o.drain {
			return tput{}, fmt.Errorf("engine run %s: not every delivery is SUCCESS in the store after %s", run, b.o.drain)
		}
		time.Sleep(10 * time.Millisecond)
		end, cpu = time.Now(), usage()-c0
	}
	t := tput{n: want, wall: end.Sub(t0), cpu: cpu, publish: published, connsIn: b.sink.conns.Load() - k0, dups: tl.dups.Load()}
	s1 := e.store.WriterStats()
	t.commits, t.writes = s1.Commits-s0.Commits, s1.Writes-s0.Writes
	t.commitT = time.Duration((s1.CommitSeconds - s0.CommitSeconds) * float64(time.Second))
	if n := tl.distinct.Load(); n != want {
		return t, fmt.Errorf("engine run %s: the sink got %d distinct deliveries, want %d", run, n, want)
	}
	b.problems = append(b.problems, tl.problems("engine run "+run)...)
	for _, m := range b.logs.take() {
		b.problems = append(b.problems, "engine run "+run+": "+m)
	}
	if r, f := e.obs.retry.Load(), e.obs.failed.Load(); r+f > 0 {
		b.problems = append(b.problems, fmt.Sprintf("engine run %s: %d attempts to retry, %d failed", run, r, f))
	}
	return t, nil
}

// allSuccess reports whether every endpoint has n deliveries, all SUCCESS,
// in the store.
func (e *engineEnv) allSuccess(ctx context.Context, n int) (bool, error) {
	for _, ep := range e.eps {
		st, err := e.statuses(ctx, ep.ID)
		if err != nil {
			return false, err
		}
		if st[storage.DeliverySuccess]+st[storage.DeliveryPending] != n || st[storage.DeliveryFailed] > 0 {
			return false, fmt.Errorf("endpoint %s has %v in the store, want %d SUCCESS", ep.ID, st, n)
		}
		if st[storage.DeliveryPending] > 0 {
			return false, nil
		}
	}
	return true, nil
}

// ---------------------------------------------------------------- latency

// latency is one latency phase's figures.
type latency struct {
	name            string
	healthy, holes  int
	published       int64
	pubErrs         int64
	received        int64 // healthy deliveries received
	samples         []time.Duration
	backlog         int64 // healthy deliveries still missing after the drain wait
	holeConns       int64
	retries, failed int64
	publishP99      time.Duration
	achievedRate    float64
	dups            int64
	round           int
	phase           string
}

func (l latency) pct(p float64) time.Duration {
	if len(l.samples) == 0 {
		return 0
	}
	return l.samples[min(len(l.samples)-1, int(p*float64(len(l.samples))))]
}

// latencyRun publishes at b.o.rate for b.o.duration to healthy endpoints
// on the sink and holes endpoints on the black hole.
func (b *bench) latencyRun(ctx context.Context, name string, healthy, holes int) (latency, error) {
	targets := make([]target, 0, healthy+holes)
	// Alternate healthy and black-holed endpoints.
	for i, nh, nb := 0, 0, 0; nh+nb < healthy+holes; i++ {
		if (i%2 == 1 || nh == healthy) && nb < holes {
			targets = append(targets, target{url: b.hole.url()})
			nb++
		} else {
			targets = append(targets, target{url: b.sink.url(i), healthy: true})
			nh++
		}
	}
	e, err := b.openEngine(ctx, name, targets, 0)
	if err != nil {
		return latency{}, err
	}
	defer e.close(ctx)
	l := latency{name: name, healthy: healthy, holes: holes}
	h0 := b.hole.n.Load()
	start := time.Now()
	rec := &recorder{from: start.Add(b.o.warmup).UnixNano()}
	tl := newTally(e.keys, rec)
	b.sink.tally.Store(tl)
	defer b.sink.tally.Store(nil)

	interval := time.Duration(float64(time.Second) / b.o.rate)
	var wg sync.WaitGroup
	var pubErrs atomic.Int64
	var pmu sync.Mutex
	var pubLat []time.Duration
	var i int64
	for {
		elapsed := time.Since(start)
		if elapsed >= b.o.duration {
			break
		}
		for due := int64(elapsed / interval); i <= due; i++ {
			// Open loop: the stamp is the scheduled time, so a stall of
			// the publisher counts against the engine.
			sent := start.Add(time.Duration(i) * interval)
			wg.Go(func() {
				_, _, err := e.eng.Publish(ctx, event(i, sent))
				if err != nil {
					pubErrs.Add(1)
					return
				}
				d := time.Since(sent)
				pmu.Lock()
				pubLat = append(pubLat, d)
				pmu.Unlock()
			})
		}
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	pubEnd := time.Now()
	l.published, l.pubErrs = i, pubErrs.Load()
	l.achievedRate = float64(i) / pubEnd.Sub(start).Seconds()
	slices.Sort(pubLat)
	if len(pubLat) > 0 {
		l.publishP99 = pubLat[min(len(pubLat)-1, len(pubLat)*99/100)]
	}
	want := (l.published - l.pubErrs) * int64(healthy)
	deadline := time.Now().Add(b.o.drain)
	for tl.distinct.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	l.received = tl.distinct.Load()
	l.dups = tl.dups.Load()
	b.problems = append(b.problems, tl.problems(name)...)
	for _, m := range b.logs.take() {
		b.problems = append(b.problems, name+": "+m)
	}
	l.backlog = max(0, want-l.received)
	l.holeConns = b.hole.n.Load() - h0
	l.retries, l.failed = e.obs.retry.Load(), e.obs.failed.Load()
	rec.mu.Lock()
	l.samples = slices.Clone(rec.lat)
	late := rec.late
	rec.mu.Unlock()
	slices.Sort(l.samples)
	if late > 0 {
		b.problems = append(b.problems, fmt.Sprintf("%s: %d deliveries without a readable publish time", name, late))
	}
	if l.pubErrs > 0 {
		b.problems = append(b.problems, fmt.Sprintf("%s: %d publishes failed", name, l.pubErrs))
	}
	if l.backlog > 0 {
		b.problems = append(b.problems, fmt.Sprintf("%s: %d healthy deliveries not received %s after publishing ended", name, l.backlog, b.o.drain))
	}
	return l, nil
}

// ---------------------------------------------------------------- driver

// profiled runs fn under a CPU profile when -cpuprofile is set.
func (b *bench) profiled(name string, fn func() error) error {
	if !b.o.profile {
		return fn()
	}
	if err := os.MkdirAll(b.o.out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(b.o.out, fmt.Sprintf("notify-%s-%s.pprof", b.stamp, name))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	err = fn()
	pprof.StopCPUProfile()
	fmt.Fprintln(os.Stderr, "cpu profile written to", path)
	// The allocations since the start, beside it (go tool pprof
	// -sample_index=alloc_space).
	heap := strings.TrimSuffix(path, ".pprof") + ".heap.pprof"
	if hf, herr := os.Create(heap); herr == nil {
		_ = pprof.Lookup("allocs").WriteTo(hf, 0)
		hf.Close()
	}
	return err
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) run() (string, error) {
	ctx := context.Background()
	conc := b.o.endpoints * b.o.concurrency
	n := int64(b.o.events) * int64(b.o.endpoints)
	var plain, eng []tput
	var runErr error
	for r := 1; r <= b.o.rounds && runErr == nil; r++ {
		var t tput
		err := b.profiled(fmt.Sprintf("plain-%d", r), func() (err error) {
			b.progress("round %d: plain client, %d requests, %d in flight", r, n, conc)
			t, err = b.plainRun(ctx, n, conc)
			return err
		})
		if err != nil {
			runErr = err
			break
		}
		plain = append(plain, t)
		b.progress("  %.0f req/s", t.rate())
		err = b.profiled(fmt.Sprintf("engine-%d", r), func() (err error) {
			b.progress("round %d: engine, %d events x %d endpoints", r, b.o.events, b.o.endpoints)
			t, err = b.engineRun(ctx, fmt.Sprintf("t%d", r))
			return err
		})
		if err != nil {
			runErr = err
			break
		}
		eng = append(eng, t)
		b.progress("  %.0f deliveries/s, ratio %.2f", t.rate(), t.rate()/plain[len(plain)-1].rate())
	}

	var lats []latency
	half := b.o.latEps / 2
	phases := []struct {
		name           string
		healthy, holes int
	}{
		{"all-healthy", b.o.latEps, 0},
		{"half-black-holed", b.o.latEps - half, half},
	}
	if b.o.control {
		phases = append(phases, struct {
			name           string
			healthy, holes int
		}{"healthy-half-alone", b.o.latEps - half, 0})
	}
	for r := 1; r <= b.o.latRounds && runErr == nil; r++ {
		for _, p := range phases {
			var l latency
			name := fmt.Sprintf("%s-%d", p.name, r)
			err := b.profiled(name, func() (err error) {
				b.progress("latency round %d: %s, %d healthy + %d black-holed endpoints, %.0f events/s for %s", r, p.name, p.healthy, p.holes, b.o.rate, b.o.duration)
				l, err = b.latencyRun(ctx, name, p.healthy, p.holes)
				return err
			})
			if err != nil {
				runErr = err
				break
			}
			l.round, l.phase = r, p.name
			lats = append(lats, l)
			b.progress("  p50 %s p99 %s (%d samples)", ms(l.pct(0.5)), ms(l.pct(0.99)), len(l.samples))
		}
	}
	if len(plain) == 0 {
		return "", runErr
	}
	return b.report(plain, eng, lats), runErr
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (b *bench) report(plain, eng []tput, lats []latency) string {
	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	p("### Outbound benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	p("- machine: %d cores (GOMAXPROCS %d), %s, %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		gogc = "200 (Switchyard's default)"
	}
	p("- GOGC %s; store in %s; sink %s\n", gogc, os.TempDir(), strings.Join(b.sink.urls, ", "))
	p("- engine endpoints filtered: %v; event type declared with a schema (-catalogue): %v\n", b.o.filter, b.o.catalogue)
	hosts := "one host:port for all endpoints"
	if b.o.distinct {
		hosts = "one loopback address per endpoint"
	}
	p("- throughput: %d events x %d endpoints = %d signed deliveries per engine run, %d publishers; the plain client posts as many requests, %d in flight (%d per endpoint); %s; body %d bytes\n\n",
		b.o.events, b.o.endpoints, int64(b.o.events)*int64(b.o.endpoints), b.o.publishers,
		b.o.endpoints*b.o.concurrency, b.o.concurrency, hosts, len(b.body))

	p("| round | plain req/s | engine deliveries/s | ratio | CPU per request, plain / engine | cores used, plain / engine | engine: publishing took | store commits (writes each, ms each) | sink connections, plain / engine | duplicates |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var ratios, rates []float64
	for _, e := range eng {
		rates = append(rates, e.rate())
	}
	capacity := median(rates)
	for i := range eng {
		a, e := plain[i], eng[i]
		ratios = append(ratios, e.rate()/a.rate())
		p("| %d | %.0f | %.0f | %.2f | %.0f / %.0f µs | %.2f / %.2f | %.2f s | %d (%.1f, %.1f) | %d / %d | %d |\n", i+1, a.rate(), e.rate(), e.rate()/a.rate(),
			float64(a.cpu.Microseconds())/float64(a.n), float64(e.cpu.Microseconds())/float64(e.n),
			a.cpu.Seconds()/a.wall.Seconds(), e.cpu.Seconds()/e.wall.Seconds(), e.publish.Seconds(),
			e.commits, float64(e.writes)/float64(max(e.commits, 1)), float64(e.commitT.Microseconds())/1000/float64(max(e.commits, 1)), a.connsIn, e.connsIn, e.dups)
	}
	if len(ratios) > 0 {
		m := median(ratios)
		p("\n**Throughput ratio (median of %d): %.2f** (target >= 0.5, %s)\n\n", len(ratios), m, verdict(m >= 0.5))
	}

	if len(lats) > 0 {
		p("- latency: publish (scheduled time, open loop) to the sink's receipt, healthy endpoints only, %.0f events/s for %s, the first %s left out; endpoint timeout %s, default retries\n\n",
			b.o.rate, b.o.duration, b.o.warmup, notify.DefaultTimeout)
		p("| round | phase | endpoints healthy + black-holed | events/s | healthy deliveries/s (share of engine throughput) | p50 | p90 | p99 | max | Publish p99 | black-hole connections | attempts to retry | duplicates |\n")
		p("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, l := range lats {
			load := l.achievedRate * float64(l.healthy)
			share := ""
			if capacity > 0 {
				share = fmt.Sprintf(" (%.0f %%)", 100*load/capacity)
			}
			p("| %d | %s | %d + %d | %.0f | %.0f%s | %s | %s | %s | %s | %s | %d | %d | %d |\n", l.round, l.phase, l.healthy, l.holes, l.achievedRate, load, share,
				ms(l.pct(0.5)), ms(l.pct(0.9)), ms(l.pct(0.99)), ms(l.pct(1)), ms(l.publishP99), l.holeConns, l.retries, l.dups)
		}
		// Ratios within each round, then their median.
		p99 := map[string]float64{}
		for _, l := range lats {
			p99[fmt.Sprint(l.round, l.phase)] = float64(l.pct(0.99))
		}
		var vsAll, vsAlone []string
		var rAll, rAlone []float64
		for r := 1; r <= b.o.latRounds; r++ {
			hole, all, alone := p99[fmt.Sprint(r, "half-black-holed")], p99[fmt.Sprint(r, "all-healthy")], p99[fmt.Sprint(r, "healthy-half-alone")]
			if hole > 0 && all > 0 {
				rAll = append(rAll, hole/all)
				vsAll = append(vsAll, fmt.Sprintf("%.2f", hole/all))
			}
			if hole > 0 && alone > 0 {
				rAlone = append(rAlone, hole/alone)
				vsAlone = append(vsAlone, fmt.Sprintf("%.2f", hole/alone))
			}
		}
		if len(rAll) > 0 {
			m := median(rAll)
			p("\n**p99 ratio, half black-holed / all healthy (median of %d rounds: %s): %.2f** (target <= 2, %s)\n", len(rAll), strings.Join(vsAll, ", "), m, verdict(m <= 2))
		}
		if len(rAlone) > 0 {
			p("\np99 ratio, half black-holed / the healthy half alone, the same load on the healthy endpoints (median of %s): %.2f\n", strings.Join(vsAlone, ", "), median(rAlone))
		}
	}
	if len(b.problems) > 0 {
		p("\nProblems (the figures above may measure something else than the happy path):\n\n")
		for _, s := range b.problems {
			p("- %s\n", s)
		}
	}
	p("\n")
	return sb.String()
}
