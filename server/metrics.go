package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchyard-dev/switchyard/internal/buildinfo"
	"github.com/switchyard-dev/switchyard/storage"
)

// metrics are the instance's Prometheus series, on its own registry so that
// several instances can live in one process (tests).
type metrics struct {
	received  prometheus.Counter
	processed *prometheus.CounterVec
	// latency is switchyard_message_processing_seconds; oldLatency its
	// deprecated name, fed the same observations.
	latency    prometheus.Histogram
	oldLatency prometheus.Histogram
	purged     prometheus.Counter
	ingestFail prometheus.Counter
	// rejected counts refused webhooks by reason (rejectReasons).
	rejected *prometheus.CounterVec
	// storeBytes is the store's size as last measured (--max-store-bytes).
	storeBytes prometheus.Gauge
	// bodiesReading: webhook bodies being received, each in a slot.
	bodiesReading prometheus.Gauge
	attempts      *prometheus.CounterVec
	attemptDur    prometheus.Histogram
	// backlog is the outbound deliveries waiting, as last counted
	// (watchBacklog).
	backlog prometheus.Gauge
}

// deprecated is the start of a deprecated alias's HELP; the old names are
// listed in CHANGELOG.md and go in the next release.
const deprecated = "Deprecated: use "

// processedStatuses are the final statuses of a message, as
// switchyard_messages_processed_total labels them (lower case).
var processedStatuses = []string{"success", "failed", "unmatched"}

// attemptOutcomes are the outcomes of an outbound attempt
// (notify.Observer).
var attemptOutcomes = []string{"success", "retry", "failed"}

// processingBuckets: 100µs .. 26s.
var processingBuckets = prometheus.ExponentialBuckets(0.0001, 4, 10)

// processingHelp says what switchyard_message_processing_seconds measures.
const processingHelp = "Time from a worker taking up a message to its outcome being recorded in the store: " +
	"provider matching, the functions' runs and the write of the outcome (a handshake: its script and the write). " +
	"Time spent waiting in the queue is not included."

func newMetrics(reg *prometheus.Registry, measureStore bool) *metrics {
	m := &metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_messages_received_total",
			Help: "Webhook messages received and recorded.",
		}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_messages_processed_total",
			Help: "Messages whose outcome was recorded, by final status: success, failed, unmatched.",
		}, []string{"status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchyard_message_processing_seconds",
			Help:    processingHelp,
			Buckets: processingBuckets,
		}),
		oldLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchyard_processing_seconds",
			Help:    deprecated + "switchyard_message_processing_seconds (same values). " + processingHelp,
			Buckets: processingBuckets,
		}),
		purged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_messages_purged_total",
			Help: "Messages deleted because they were older than the retention.",
		}),
		ingestFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_messages_rejected_total",
			Help: "Webhook requests answered with an error before being recorded (too large, store failure).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_inbound_rejected_total",
			Help: "Webhook requests refused before being recorded, by reason.",
		}, []string{"reason"}),
		storeBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_store_bytes",
			Help: "The store's size as --max-store-bytes counts it, as last measured (exported only when --max-store-bytes is set).",
		}),
		bodiesReading: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_webhook_bodies_reading",
			Help: "Webhook bodies being received (at most --max-concurrent-bodies).",
		}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_delivery_attempts_total",
			Help: "Outbound delivery attempts, by outcome: success, retry (will be tried again), failed (no attempts left).",
		}, []string{"outcome"}),
		attemptDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchyard_delivery_attempt_seconds",
			Help:    "Time from sending an outbound request to reading its answer (for a broker endpoint: from publishing to the broker's confirm).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. 65s
		}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_outbound_backlog_deliveries",
			Help: fmt.Sprintf("Outbound deliveries waiting: PENDING in the store (due now, or waiting for a retry), not yet succeeded or failed for good. "+
				"Counted in the store every %s, up to %d; every node of a cluster counts the whole store.", backlogEvery, backlogLimit),
		}),
	}
	// Every labelled series exists from the start, at 0, so that rate()
	// and alerts work before the first event.
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(r)
	}
	for _, st := range processedStatuses {
		m.processed.WithLabelValues(st)
	}
	for _, o := range attemptOutcomes {
		m.attempts.WithLabelValues(o)
	}
	reg.MustRegister(m.received, m.processed, m.latency, m.oldLatency, m.purged, m.ingestFail, m.rejected, m.bodiesReading, m.attempts, m.attemptDur, m.backlog,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The store's size is measured only under --max-store-bytes: without
	// it the gauge would say 0, which is no size.
	if measureStore {
		reg.MustRegister(m.storeBytes)
	}
	return m
}

// watchQueue exports the dispatcher's queue depth as a gauge, under its
// name and its deprecated one.
func (m *metrics) watchQueue(reg *prometheus.Registry, depth func() int) {
	const help = "Accepted webhook messages waiting for a worker: in the in-memory queue, or left in the store when the queue was full. " +
		"Messages being processed are not counted."
	value := func() float64 { return float64(depth()) }
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_inbound_queue_messages", Help: help}, value),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_queue_depth", Help: deprecated + "switchyard_inbound_queue_messages (same value). " + help}, value),
	)
}

// buildInfo exports switchyard_build_info{version,commit,goversion} 1.
func (m *metrics) buildInfo(reg *prometheus.Registry, version string, in buildinfo.Info) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "switchyard_build_info",
		Help:        "The build this node runs: its version, commit (\"+dirty\" when built from a modified checkout) and Go version (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "commit": in.Commit, "goversion": in.GoVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}

// watchOutbound exports the delivery attempts in flight as a gauge.
func (m *metrics) watchOutbound(reg *prometheus.Registry, inFlight func() int) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "switchyard_delivery_attempts_in_flight",
		Help: "Outbound delivery attempts waiting for an answer.",
	}, func() float64 { return float64(inFlight()) }))
}

// nodeInfo exports this node's id as switchyard_node_info{node="<id>"} 1,
// so that the series of several nodes can be told apart and joined.
func (m *metrics) nodeInfo(reg *prometheus.Registry, id string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "switchyard_node_info",
		Help:        "This node, by id (always 1).",
		ConstLabels: prometheus.Labels{"node": id},
	})
	g.Set(1)
	reg.MustRegister(g)
}

// Attempted implements notify.Observer.
func (m *metrics) Attempted(outcome string, latency time.Duration) {
	m.attempts.WithLabelValues(outcome).Inc()
	m.attemptDur.Observe(latency.Seconds())
}

// watchStore exports the store's group-commit counters.
func (m *metrics) watchStore(reg *prometheus.Registry, stats func() storage.WriterStats) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchyard_store_commits_total",
			Help: "Store transactions committed, each durable before it returns and carrying every write queued meanwhile.",
		}, func() float64 { return float64(stats().Commits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchyard_store_writes_total",
			Help: "Writes carried by the store's commits.",
		}, func() float64 { return float64(stats().Writes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchyard_store_commit_seconds_total",
			Help: "Time spent committing (bbolt: fsync included; PostgreSQL: the round trip and its commit).",
		}, func() float64 { return stats().CommitSeconds }),
	)
}

// watchRoundTrips exports the requests a database-backed store sent
// (PostgreSQL); bench/ divides it by messages. A store in a file has none.
func (m *metrics) watchRoundTrips(reg *prometheus.Registry, roundTrips func() uint64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "switchyard_store_round_trips_total",
		Help: "Requests (statements, batches) the store sent to its database server, each one round trip.",
	}, func() float64 { return float64(roundTrips()) }))
}

// Processed implements functions.Observer. The status is counted in
// lower case, as every label value is.
func (m *metrics) Processed(status string, elapsed time.Duration) {
	m.processed.WithLabelValues(strings.ToLower(status)).Inc()
	m.latency.Observe(elapsed.Seconds())
	m.oldLatency.Observe(elapsed.Seconds())
}
