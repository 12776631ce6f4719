package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// The append benchmarks compare three ways to make concurrent writers
// durable, on the same records, from 32 goroutines (2 × GOMAXPROCS × 16 on
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
	return u[:], meta, bytes.Repeat([]byte("x"), 7*1024)
}

func benchAppend(b *testing.B, write func(s *Store, fn func(*bolt.Tx) error) error) {
	s := benchStore(b)
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k, meta, payload := benchRecord(b)
			if err := write(s, appendOp(k, meta, payload)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
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
