package server_test

import (
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// BenchmarkIngestSyncLimited is BenchmarkIngestSync with the rate limit
// on (high enough never to refuse) and the provider's allowed_sources
// holding every sender: what the checks cost when they are in use.
func BenchmarkIngestSyncLimited(b *testing.B) {
	benchIngest(b, server.Options{RateLimit: 1e9, RateLimitBurst: 1e9},
		map[string]any{"allowed_sources": []string{"192.30.252.0/22", "185.199.108.0/22", "10.0.0.0/8"}})
}
