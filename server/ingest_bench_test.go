package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// BenchmarkIngestSync is bench/ingest.sh's end-to-end path in-process:
// a signed GitHub push, sent with flex-sync-webhook through the whole
// handler (client address, limits, body, group commit), matched by a
// GitHub HMAC provider, one function reading PAYLOAD, the outcome
// recorded; 16 senders per core, each from its own address. Options
// (rate limit, allowed sources) are set by the variants in
// limits_bench_test.go; here, the defaults.
func BenchmarkIngestSync(b *testing.B) {
	benchIngest(b, server.Options{}, nil)
}

// benchIngest runs BenchmarkIngestSync's load on an instance with opts,
// its provider created with extra fields.
func benchIngest(b *testing.B, opts server.Options, extra map[string]any) {
	body, err := os.ReadFile("../testdata/github/push.json")
	if err != nil {
		b.Fatal(err)
	}
	opts.Listen, opts.DataDir, opts.AdminToken = "127.0.0.1:0", b.TempDir(), testToken
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	url := serveBench(b, srv)
	provider := map[string]any{"name": "GitHub", "secrets": map[string]string{"secret": "bench-secret"},
		"match_script": `return HMAC.equals(HTTP_HEADERS['x-hub-signature-256'] || '', 'sha256=' + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret))`}
	for k, v := range extra {
		provider[k] = v
	}
	var p struct{ ID string }
	benchAPI(b, url+"/api/v1/providers", provider, &p)
	benchAPI(b, url+"/api/v1/functions", map[string]any{"name": "build", "provider_id": p.ID, "uri": "github/push",
		"script": `LOG.setMessage(PAYLOAD.ref + " " + PAYLOAD.commits.length)`}, nil)
	mac := hmac.New(sha256.New, []byte("bench-secret"))
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	h := srv.Handler()
	var sender atomic.Int32
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		addr := "10.0." + strconv.Itoa(int(sender.Add(1))) + ".1:40000"
		for pb.Next() {
			req := httptest.NewRequest("POST", "/webhooks/v1/github/push", bytes.NewReader(body))
			req.RemoteAddr = addr
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Github-Event", "push")
			req.Header.Set("X-Hub-Signature-256", sig)
			req.Header.Set("Flex-Sync-Webhook", "true")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("webhook: %d %s", rec.Code, rec.Body)
			}
		}
	})
}

// serveBench runs srv until the benchmark ends and returns its URL.
func serveBench(b *testing.B, srv *server.Server) string {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + srv.Addr().String()
}

// benchAPI POSTs body to url with the admin token, wants 201, and
// decodes the answer into out (unless nil).
func benchAPI(b *testing.B, url string, body, out any) {
	raw, err := json.Marshal(body)
	if err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("POST %s: %d %s", url, resp.StatusCode, answer)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			b.Fatal(err)
		}
	}
}
