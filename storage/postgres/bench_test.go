package postgres

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
)

// BenchmarkAppendMessage measures what ingest waits for before its 202:
// AppendMessage of a real 8.7 KB GitHub push, from 32 goroutines
// (2 × GOMAXPROCS × 16 on a 2-core machine), on bbolt and on PostgreSQL
// in one run, each through its group commit. Read the two as a ratio:
//
//	go test -run x -bench AppendMessage -benchtime 3s ./storage/postgres/
//
// tx/write is the transactions per message, rt/write the round trips
// (requests sent to PostgreSQL; bbolt has none).
func BenchmarkAppendMessage(b *testing.B) {
	payload, err := os.ReadFile("../../testdata/github/push.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, backend := range []struct {
		name  string
		open  func(b *testing.B) storage.Store
		stats func(s storage.Store) (commits, writes, roundTrips uint64)
	}{
		{"bolt", func(b *testing.B) storage.Store {
			s, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), testSealer(b, 1))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}, func(s storage.Store) (uint64, uint64, uint64) {
			st := s.(*bolt.Store).WriterStats()
			return st.Commits, st.Writes, 0
		}},
		{"postgres", func(b *testing.B) storage.Store { return openTest(b) }, func(s storage.Store) (uint64, uint64, uint64) {
			st := s.(*Store).WriterStats()
			return st.Commits, st.Writes, s.(*Store).RoundTrips()
		}},
	} {
		b.Run(backend.name, func(b *testing.B) {
			s := backend.open(b)
			ctx := context.Background()
			b.SetParallelism(16)
			b.ReportAllocs()
			commits0, writes0, trips0 := backend.stats(s)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m := storage.Message{ID: uuid.Must(uuid.NewV7()).String(), ReceivedAt: time.Now(), Method: "POST", URI: "github/push",
						Headers: map[string]string{"content-type": "application/json", "x-github-event": "push"}}
					if err := s.AppendMessage(ctx, m, payload); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			if commits, writes, trips := backend.stats(s); writes > writes0 {
				b.ReportMetric(float64(commits-commits0)/float64(writes-writes0), "tx/write")
				if trips > trips0 {
					b.ReportMetric(float64(trips-trips0)/float64(writes-writes0), "rt/write")
				}
			}
		})
	}
}

// BenchmarkLoginLimits: what a failed sign-in costs the shared limiter:
// its check and its failure, one statement each, over many addresses and
// names.
func BenchmarkLoginLimits(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	now := time.Now()
	i := 0
	for b.Loop() {
		addr, name := fmt.Sprint("a\x00198.51.100.", i%250), fmt.Sprint("n\x00user-", i%1000)
		buckets := []storage.LoginBucket{{Key: addr, Burst: 10}, {Key: addr + name, Burst: 10}, {Key: name, Burst: 30}}
		if _, _, err := s.LoginFailures(ctx, now, 6*time.Second, buckets, name, addr); err != nil {
			b.Fatal(err)
		}
		if err := s.RecordLoginFailure(ctx, now, 6*time.Second, buckets); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
