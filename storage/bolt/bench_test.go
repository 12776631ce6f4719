package bolt

import (
	"bytes"
	"context"
	"encoding/json"
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
