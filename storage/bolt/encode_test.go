package bolt

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// roundTrip checks that the hand encoder's output is valid JSON that
// decodes to what json.Marshal's output decodes to.
func roundTrip[T any](t *testing.T, v *T, enc func(*T, []byte) []byte) {
	t.Helper()
	got := enc(v, nil)
	if !json.Valid(got) {
		t.Fatalf("invalid JSON: %s", got)
	}
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b T
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	ca, _ := json.Marshal(a)
	cb, _ := json.Marshal(b)
	if !bytes.Equal(ca, cb) {
		t.Fatalf("hand encoding decodes differently:\n got %s\nwant %s", ca, cb)
	}
}

func sampleDetail(s string) detailRecord {
	now := time.Date(2026, 11, 23, 20, 0, 0, 123456789, time.UTC)
	return detailRecord{
		Logs: []storage.LogLine{{Time: now, Level: "SEVERE", Text: s, Source: "provider:" + s}},
		Executions: []storage.Execution{
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

func TestHandEncodingMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range encodeSeeds {
		d := sampleDetail(s)
		roundTrip(t, &d, (*detailRecord).appendJSON)
		o := sampleOutcome(s)
		roundTrip(t, &o, (*outcomeRecord).appendJSON)
	}
	for _, s := range encodeSeeds {
		m := sampleMessage(s)
		roundTrip(t, &m, func(m *storage.Message, b []byte) []byte { return appendMessageJSON(b, m) })
	}
	bareMsg := storage.Message{ID: "x", Status: "PENDING"}
	roundTrip(t, &bareMsg, func(m *storage.Message, b []byte) []byte { return appendMessageJSON(b, m) })
	empty := detailRecord{}
	roundTrip(t, &empty, (*detailRecord).appendJSON)
	onlyExec := detailRecord{Executions: sampleDetail("x").Executions}
	roundTrip(t, &onlyExec, (*detailRecord).appendJSON)
	bare := outcomeRecord{Status: "UNMATCHED"}
	roundTrip(t, &bare, (*outcomeRecord).appendJSON)
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
		d.Executions[0].DurationMS = ms
		roundTrip(t, &d, (*detailRecord).appendJSON)
		o := sampleOutcome(s)
		o.DurationMS = ms
		roundTrip(t, &o, (*outcomeRecord).appendJSON)
		m := sampleMessage(s)
		roundTrip(t, &m, func(m *storage.Message, b []byte) []byte { return appendMessageJSON(b, m) })
	})
}
