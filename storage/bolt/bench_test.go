package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// The append benchmarks compare three ways to make concurrent writers
// durable, on the same records (a real 8.7 KB push body), from 32 goroutines (2 × GOMAXPROCS × 16 on
// this machine's 2 cores, as in the figures):
//
//	GroupCommit: the store's writer (one commit + fsync for all queued writes)
//	BoltBatch:   bbolt's DB.Batch (default 10 ms MaxBatchDelay)
//	UpdateEach:  one DB.Update (one fsync) per write
//
// Read them as ratios to each other, measured in the same run:
//
//	go test -run x -bench Append -benchtime 3s ./storage/bolt/

const benchParallelism = 16

func benchStore(b *testing.B) *Store {
	sealer, _ := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), sealer)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchRecord(b *testing.B) (k, meta, payload []byte) {
	u := uuid.Must(uuid.NewV7())
	m := storage.Message{ID: u.String(), ReceivedAt: time.Now(), Method: "POST", URI: "github/push",
		Headers: map[string]string{"content-type": "application/json", "x-github-event": "push"}, Status: storage.StatusPending}
	meta, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return u[:], meta, benchPayload(b)
}

// benchPayload is a real 8.7 KB GitHub push (testdata/github/push.json).
func benchPayload(b *testing.B) []byte {
	pushOnce.Do(func() { push, pushErr = os.ReadFile("../../testdata/github/push.json") })
	if pushErr != nil {
		b.Fatal(pushErr)
	}
	return push
}

var (
	pushOnce sync.Once
	push     []byte
	pushErr  error
)

func benchAppend(b *testing.B, write func(s *Store, fn func(*bolt.Tx) error) error) {
	s := benchStore(b)
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	written := diskWrites()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k, meta, payload := benchRecord(b)
			if err := write(s, appendOp(k, meta, encodePayload(payload))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	if w := diskWrites(); w > 0 {
		b.ReportMetric(float64(w-written)/float64(b.N), "disk-B/write")
	}
}

// diskWrites is the bytes this process has sent to the disk so far (Linux
// /proc/self/io write_bytes), 0 where unknown.
func diskWrites() int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func BenchmarkAppendGroupCommit(b *testing.B) {
	benchAppend(b, func(s *Store, fn func(*bolt.Tx) error) error { return s.update(context.Background(), fn) })
}

func BenchmarkAppendBoltBatch(b *testing.B) {
	benchAppend(b, func(s *Store, fn func(*bolt.Tx) error) error { return s.db.Batch(fn) })
}

func BenchmarkAppendUpdateEach(b *testing.B) {
	benchAppend(b, func(s *Store, fn func(*bolt.Tx) error) error { return s.db.Update(fn) })
}

var benchAt = time.Date(2026, 3, 4, 6, 0, 0, 123456789, time.UTC)

func benchMessage() storage.Message {
	return storage.Message{ID: "019cb7b4-5c7b-7000-8000-000000000001", ReceivedAt: benchAt, Method: "POST", URI: "github/push",
		Headers: map[string]string{"content-type": "application/json", "x-github-event": "push", "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
			"user-agent": "GitHub-Hookshot/044aadd", "x-hub-signature-256": "sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c"},
		Query: url.Values{"a": {"1"}}, RemoteAddr: "192.0.2.1:4321", RemoteHost: "192.0.2.1", ContentType: "application/json", Size: 8761, Status: storage.StatusPending}
}

func benchOutcome() storage.Outcome {
	return storage.Outcome{Status: storage.StatusSuccess, ProviderID: "01a23cd4-31a2-735e-963d-f5ef2be5807f", ProviderName: "GitHub", ProviderVersion: 2,
		Summary: "deployed", CompletedAt: benchAt, DurationMS: 12.5,
		Logs: []storage.LogLine{{Time: benchAt, Level: "INFO", Text: "matched", Source: "provider:GitHub"}},
		Executions: []storage.Execution{{FunctionID: "01a23cd4-31a3-789f-a7a6-dcc2c9dae050", FunctionName: "deploy", Version: 1, Status: "SUCCESS", StartedAt: benchAt, DurationMS: 3.25,
			Logs: []storage.LogLine{{Time: benchAt, Level: "INFO", Text: "pushed 3 commits to main"}, {Time: benchAt, Level: "INFO", Text: "done"}}}}}
}

func benchDelivery() storage.Delivery {
	next := benchAt.Add(time.Minute)
	return storage.Delivery{ID: "019cb82a-bc00-7000-8000-0000000000d1", EventID: "019cb82a-bc00-7000-8000-00000000000e", EventType: "message.failed",
		EndpointID: "01a23cd4-31a4-7e58-84fe-d06887b60bdc", Lane: "01a23cd4-31a4-7e58-84fe-d06887b60bdc", Status: storage.DeliveryPending,
		AttemptCount: 2, NextAt: &next, LastStatus: 503, LastError: "HTTP 503", CreatedAt: benchAt, UpdatedAt: benchAt}
}

// The record benchmarks encode and decode one record of a kind as the
// store does (format-version byte, disk type, conversion to the storage
// type); ListMessages reads a page of 50 and one message's details.
//
//	go test -run x -bench 'Record|List' ./storage/bolt/

func BenchmarkRecordMessage(b *testing.B) {
	m := benchMessage()
	b.ReportAllocs()
	for b.Loop() {
		raw := appendMessageJSON(newRecord(1024), &m)
		var got storage.Message
		if err := decodeMessage(raw, &got); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecordOutcome(b *testing.B) {
	o := benchOutcome()
	b.ReportAllocs()
	for b.Loop() {
		rec := outcomeOf(&o)
		outcome := rec.appendJSON(newRecord(256))
		detail := appendDetailJSON(newRecord(512), o.Logs, o.Executions)
		var oc outcomeRecord
		var det detailRecord
		if err := decodeRecord(outcome, &oc); err != nil {
			b.Fatal(err)
		}
		if err := decodeRecord(detail, &det); err != nil {
			b.Fatal(err)
		}
		var md storage.MessageDetail
		oc.apply(&md.Message)
		det.apply(&md)
	}
}

func BenchmarkRecordDelivery(b *testing.B) {
	s := benchStore(b)
	d := benchDelivery()
	b.ReportAllocs()
	for b.Loop() {
		raw, err := encodeRecord(s.sealDelivery(d))
		if err != nil {
			b.Fatal(err)
		}
		var r deliveryRecord
		if err := decodeRecord(raw, &r); err != nil {
			b.Fatal(err)
		}
		if _, err := s.openDelivery(&r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListMessages(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	o := benchOutcome()
	for i := 0; i < 500; i++ {
		m := benchMessage()
		k := timeKey(benchAt.Add(time.Duration(i) * time.Millisecond))
		k[6], k[8] = 0x70, 0x80
		m.ID = idOf(k)
		if err := s.AppendMessage(ctx, m, []byte(`{}`)); err != nil {
			b.Fatal(err)
		}
		if err := s.CompleteMessage(ctx, m.ID, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		items, _, err := s.ListMessages(ctx, storage.MessageFilter{Limit: 50})
		if err != nil || len(items) != 50 {
			b.Fatal(len(items), err)
		}
		d, err := s.GetMessage(ctx, items[0].ID)
		if err != nil || len(d.Executions) != 1 {
			b.Fatal(err)
		}
	}
}
