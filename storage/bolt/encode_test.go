package bolt

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// sameAsEncodingJSON checks that got, a record body encoded by hand, is
// valid JSON that decodes into the disk record type D to what json.Marshal
// of want (the same record as a D) decodes to.
func sameAsEncodingJSON[D any](t *testing.T, got []byte, want *D) {
	t.Helper()
	if !json.Valid(got) {
		t.Fatalf("invalid JSON: %s", got)
	}
	ref, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var a, b D
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal(ref, &b); err != nil {
		t.Fatal(err)
	}
	ca, _ := json.Marshal(a)
	cb, _ := json.Marshal(b)
	if !bytes.Equal(ca, cb) {
		t.Fatalf("hand encoding decodes differently:\n got %s\nwant %s", ca, cb)
	}
}

// detailSample is what CompleteMessage encodes into a detailRecord.
type detailSample struct {
	logs  []storage.LogLine
	execs []storage.Execution
}

func (d *detailSample) appendJSON(b []byte) []byte { return appendDetailJSON(b, d.logs, d.execs) }

// disk is the detailRecord json.Marshal would have to write.
func (d *detailSample) disk() *detailRecord {
	lines := func(in []storage.LogLine) []diskLogLine {
		if in == nil {
			return nil
		}
		out := make([]diskLogLine, len(in))
		for i, l := range in {
			out[i] = diskLogLine(l)
		}
		return out
	}
	r := &detailRecord{Logs: lines(d.logs)}
	for _, e := range d.execs {
		r.Executions = append(r.Executions, diskExecution{FunctionID: e.FunctionID, FunctionName: e.FunctionName, Version: e.Version,
			Status: e.Status, Error: e.Error, StartedAt: e.StartedAt, DurationMS: e.DurationMS, Logs: lines(e.Logs)})
	}
	return r
}

func sampleDetail(s string) detailSample {
	now := time.Date(2026, 11, 23, 20, 0, 0, 123456789, time.UTC)
	return detailSample{
		logs: []storage.LogLine{{Time: now, Level: "SEVERE", Text: s, Source: "provider:" + s}},
		execs: []storage.Execution{
			{FunctionID: "f1", FunctionName: s, Version: 3, Status: "FAILED", Error: s, StartedAt: now, DurationMS: 0.000125,
				Logs: []storage.LogLine{{Time: now, Level: "INFO", Text: s}}},
			{FunctionID: "f2", FunctionName: "ok", Version: 1, Status: "SUCCESS", StartedAt: now, DurationMS: 12345678.5, Logs: []storage.LogLine{}},
			{FunctionID: "f3", FunctionName: "nil logs", Status: "SUCCESS", StartedAt: now},
		},
	}
}

func sampleOutcome(s string) outcomeRecord {
	return outcomeRecord{Status: "SUCCESS", ProviderID: s, ProviderName: s, ProviderVersion: 7, Summary: s,
		CompletedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), DurationMS: 1.25e-7}
}

// sampleMessage is a message as AppendMessage stores it (no outcome).
func sampleMessage(s string) storage.Message {
	return storage.Message{
		ID: "01a20a0f-c4ad-749f-8139-1ed6a2fe049d", ReceivedAt: time.Date(2026, 11, 23, 1, 2, 3, 4, time.UTC),
		Method: "POST", URI: s, Headers: map[string]string{s: s, "content-type": "application/json", "x": ""},
		Query: url.Values{s: {s, "2"}, "empty": {}, "nil": nil}, RemoteAddr: "127.0.0.1", RemoteHost: s,
		ContentType: s, Size: 8761, Status: storage.StatusPending, ResubmitOf: s,
	}
}

var encodeSeeds = []string{
	"", "plain", `quote " backslash \ slash /`, "tab\tnewline\nreturn\r\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "café 日本 🎉", "bad \xff\xfe utf8 \xe2\x82", "line\u2028para\u2029",
}

// sameMessage checks appendMessageJSON against json.Marshal of the
// diskMessage.
func sameMessage(t *testing.T, m *storage.Message) {
	t.Helper()
	want := diskMessage(*m)
	sameAsEncodingJSON(t, appendMessageJSON(nil, m), &want)
}

func TestHandEncodingMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range encodeSeeds {
		d := sampleDetail(s)
		sameAsEncodingJSON(t, d.appendJSON(nil), d.disk())
		o := sampleOutcome(s)
		sameAsEncodingJSON(t, o.appendJSON(nil), &o)
	}
	for _, s := range encodeSeeds {
		m := sampleMessage(s)
		sameMessage(t, &m)
	}
	sameMessage(t, &storage.Message{ID: "x", Status: "PENDING"})
	empty := detailSample{}
	sameAsEncodingJSON(t, empty.appendJSON(nil), empty.disk())
	onlyExec := detailSample{execs: sampleDetail("x").execs}
	sameAsEncodingJSON(t, onlyExec.appendJSON(nil), onlyExec.disk())
	bare := outcomeRecord{Status: "UNMATCHED"}
	sameAsEncodingJSON(t, bare.appendJSON(nil), &bare)
}

func FuzzHandEncoding(f *testing.F) {
	for _, s := range encodeSeeds {
		f.Add(s, 1.5)
	}
	f.Fuzz(func(t *testing.T, s string, ms float64) {
		if ms != ms || ms > 1e300 || ms < -1e300 { // NaN and infinities are not durations
			return
		}
		d := sampleDetail(s)
		d.execs[0].DurationMS = ms
		sameAsEncodingJSON(t, d.appendJSON(nil), d.disk())
		o := sampleOutcome(s)
		o.DurationMS = ms
		sameAsEncodingJSON(t, o.appendJSON(nil), &o)
		m := sampleMessage(s)
		sameMessage(t, &m)
	})
}
