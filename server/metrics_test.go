package server_test

import (
	"bytes"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchyard-dev/switchyard/server"
)

// scrape reads /metrics into its families, by name.
func (in *instance) scrape() map[string]*dto.MetricFamily {
	in.t.Helper()
	code, body, _ := in.do("GET", "/metrics", nil, nil)
	if code != http.StatusOK {
		in.t.Fatalf("GET /metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		in.t.Fatalf("/metrics is not Prometheus text: %v\n%s", err, body)
	}
	return fams
}

// sample is the value of the series of name whose labels include want
// (a counter, a gauge, or a histogram's count); ok is false when there is
// none.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, ok bool) {
	mf := fams[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// Every series is named for what it measures and says so in its HELP;
// the renamed ones keep their old names as deprecated aliases; every
// labelled series exists from the start at 0, its label values in lower
// case; build_info names this build.
func TestMetricsNamesAndStartingSeries(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.Version = "v1.2.3-test" })
	fams := in.scrape()

	for name, says := range map[string]string{
		"switchyard_message_processing_seconds":  "to its outcome being recorded",
		"switchyard_inbound_queue_messages":      "waiting for a worker",
		"switchyard_outbound_backlog_deliveries": "not yet succeeded or failed for good",
		"switchyard_messages_processed_total":    "success, failed, unmatched",
		"switchyard_build_info":                  "version",
	} {
		mf := fams[name]
		if mf == nil {
			t.Errorf("no %s", name)
			continue
		}
		if !strings.Contains(mf.GetHelp(), says) || strings.HasPrefix(mf.GetHelp(), "Deprecated") {
			t.Errorf("%s HELP %q does not say %q", name, mf.GetHelp(), says)
		}
	}
	for old, renamed := range map[string]string{
		"switchyard_processing_seconds": "switchyard_message_processing_seconds",
		"switchyard_queue_depth":        "switchyard_inbound_queue_messages",
	} {
		if mf := fams[old]; mf == nil || !strings.HasPrefix(mf.GetHelp(), "Deprecated: use "+renamed+" ") || mf.GetType() != fams[renamed].GetType() {
			t.Errorf("%s is not a deprecated alias of %s: %v", old, renamed, mf)
		}
	}

	for name, labels := range map[string]map[string][]string{
		"switchyard_messages_processed_total": {"status": {"success", "failed", "unmatched"}},
		"switchyard_delivery_attempts_total":  {"outcome": {"success", "retry", "failed"}},
		"switchyard_inbound_rejected_total":   {"reason": {"rate_limited", "store_full", "body_too_large"}},
	} {
		for label, values := range labels {
			for _, v := range values {
				if got, ok := sample(fams, name, map[string]string{label: v}); !ok || got != 0 {
					t.Errorf("%s{%s=%q}: %v (exported: %v), want 0 from the start", name, label, v, got, ok)
				}
			}
		}
	}
	for _, name := range []string{"switchyard_outbound_backlog_deliveries", "switchyard_inbound_queue_messages", "switchyard_queue_depth"} {
		if got, ok := sample(fams, name, nil); !ok || got != 0 {
			t.Errorf("%s: %v (exported: %v), want 0", name, got, ok)
		}
	}

	// Without --max-store-bytes the store is not measured: no size of 0.
	if mf := fams["switchyard_store_bytes"]; mf != nil {
		t.Errorf("switchyard_store_bytes exported without --max-store-bytes: %v", mf)
	}

	bi := fams["switchyard_build_info"]
	if bi == nil || len(bi.GetMetric()) != 1 || bi.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Fatalf("build_info: %v", bi)
	}
	got := map[string]string{}
	for _, l := range bi.GetMetric()[0].GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	if got["version"] != "v1.2.3-test" || got["commit"] == "" || got["goversion"] != runtime.Version() || len(got) != 3 {
		t.Fatalf("build_info labels %v", got)
	}

	// After messages: lower-case statuses, and the aliases say what the
	// new names say.
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "m", "return 1")
	in.send("m", []byte(`{}`), true, nil)
	in.send("none", []byte(`{}`), true, nil)
	fams = in.scrape()
	for status, want := range map[string]float64{"success": 1, "unmatched": 1, "failed": 0} {
		if got, _ := sample(fams, "switchyard_messages_processed_total", map[string]string{"status": status}); got != want {
			t.Errorf("processed{status=%q} = %v, want %v", status, got, want)
		}
	}
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if n := l.GetName(); (n == "status" || n == "outcome" || n == "reason") && l.GetValue() != strings.ToLower(l.GetValue()) {
					t.Errorf("%s{%s=%q}: label values are lower case", mf.GetName(), n, l.GetValue())
				}
			}
		}
	}
	newH := fams["switchyard_message_processing_seconds"].GetMetric()[0].GetHistogram()
	oldH := fams["switchyard_processing_seconds"].GetMetric()[0].GetHistogram()
	if newH.GetSampleCount() != 2 || oldH.GetSampleCount() != newH.GetSampleCount() || oldH.GetSampleSum() != newH.GetSampleSum() {
		t.Errorf("processing seconds: new %d/%v, deprecated %d/%v", newH.GetSampleCount(), newH.GetSampleSum(), oldH.GetSampleCount(), oldH.GetSampleSum())
	}
	for i, b := range newH.GetBucket() {
		if ob := oldH.GetBucket()[i]; ob.GetUpperBound() != b.GetUpperBound() || ob.GetCumulativeCount() != b.GetCumulativeCount() {
			t.Errorf("bucket %v: new %d, deprecated %d", b.GetUpperBound(), b.GetCumulativeCount(), ob.GetCumulativeCount())
		}
	}
	q, _ := sample(fams, "switchyard_inbound_queue_messages", nil)
	oldQ, _ := sample(fams, "switchyard_queue_depth", nil)
	if q != oldQ {
		t.Errorf("queue: %v, deprecated %v", q, oldQ)
	}
}

// The outbound backlog counts the deliveries that wait: held while
// delivery is paused, and one waiting for its retry after a 500; not one
// that failed for good.
func TestOutboundBacklogMetric(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate, func(o *server.Options) { server.SetBacklogEvery(o, 20*time.Millisecond) })
	backlog := func(want float64) {
		t.Helper()
		var got float64
		eventually(t, "the backlog to reach the expected count", func() bool {
			got, _ = sample(in.scrape(), "switchyard_outbound_backlog_deliveries", nil)
			return got == want
		})
	}
	s := newSink(t)
	s.setStatus(http.StatusInternalServerError)
	noDisable := map[string]any{"consecutive_failures": 0}
	once := in.endpoint(map[string]any{"name": "once", "url": s.URL + "/once", "event_types": []string{"*"},
		"retry": map[string]any{"max_attempts": 1}, "auto_disable": noDisable})
	later := in.endpoint(map[string]any{"name": "later", "url": s.URL + "/later", "event_types": []string{"*"},
		"retry": map[string]any{"max_attempts": 3, "backoff": "fixed", "interval_ms": 3_600_000}, "auto_disable": noDisable})
	backlog(0)

	in.api("PUT", "/outbound", map[string]any{"paused": true}, http.StatusOK, nil)
	in.api("POST", "/events", map[string]any{"type": "build.done"}, http.StatusAccepted, nil)
	backlog(2) // both wait while delivery is paused

	in.api("PUT", "/outbound", map[string]any{"paused": false}, http.StatusOK, nil)
	if ds := in.settled(once.ID, 1); ds[0].Status != "FAILED" {
		t.Fatalf("once: %+v", ds[0])
	}
	eventually(t, "the first attempt of the retried delivery", func() bool {
		ds := in.deliveries("endpoint_id=" + later.ID)
		return len(ds) == 1 && ds[0].AttemptCount == 1 && ds[0].Status == "PENDING"
	})
	backlog(1) // the one that waits an hour for its retry
}
