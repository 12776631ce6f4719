package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

const testToken = "test-admin-token"

// instance is a whole Switchyard running in-process on a real loopback
// listener, with its store in a temporary directory.
type instance struct {
	t    *testing.T
	srv  *server.Server
	url  string
	opts server.Options
	stop func() error
}

// start runs an instance; edit adjusts its options. It stops at cleanup.
func start(t *testing.T, edit ...func(*server.Options)) *instance {
	t.Helper()
	opts := server.Options{
		Listen:     "127.0.0.1:0",
		DataDir:    t.TempDir(),
		AdminToken: testToken,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, e := range edit {
		e(&opts)
	}
	return startWith(t, opts)
}

func startWith(t *testing.T, opts server.Options) *instance {
	t.Helper()
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, srv, opts)
}

// serve runs srv, made with opts, until the test ends or it is stopped.
func serve(t *testing.T, srv *server.Server, opts server.Options) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	in := &instance{t: t, srv: srv, url: "http://" + srv.Addr().String(), opts: opts}
	stopped := false
	in.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("instance did not stop within 30s")
			return nil
		}
	}
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return in
}

// do sends a request and returns the status and body.
func (in *instance) do(method, path string, body []byte, header http.Header) (int, []byte, http.Header) {
	in.t.Helper()
	req, err := http.NewRequest(method, in.url+path, bytes.NewReader(body))
	if err != nil {
		in.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// api calls the admin API with the token; body is marshalled to JSON
// unless it is already []byte. It checks the status and decodes into out.
func (in *instance) api(method, path string, body any, want int, out any) []byte {
	in.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			in.t.Fatal(err)
		}
	}
	h := http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}}
	code, resp, _ := in.do(method, "/api/v1"+path, raw, h)
	if code != want {
		in.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			in.t.Fatalf("%s %s: decode %s: %v", method, path, resp, err)
		}
	}
	return resp
}

type provider struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Sequence int      `json:"sequence"`
	Active   bool     `json:"active"`
	Version  int      `json:"version"`
	Secrets  []string `json:"secrets"`
}

type function struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	URI     string `json:"uri"`
	Version int    `json:"version"`
}

func (in *instance) provider(name, script string, extra ...map[string]any) provider {
	in.t.Helper()
	body := map[string]any{"name": name, "match_script": script}
	for _, e := range extra {
		for k, v := range e {
			body[k] = v
		}
	}
	var p provider
	in.api("POST", "/providers", body, http.StatusCreated, &p)
	return p
}

func (in *instance) function(providerID, name, uri, script string, extra ...map[string]any) function {
	in.t.Helper()
	body := map[string]any{"name": name, "provider_id": providerID, "uri": uri, "script": script}
	for _, e := range extra {
		for k, v := range e {
			body[k] = v
		}
	}
	var f function
	in.api("POST", "/functions", body, http.StatusCreated, &f)
	return f
}

type syncAnswer struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	Provider  *string `json:"provider"`
	Functions []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"functions"`
}

// send posts a webhook; sync adds flex-sync-webhook: true.
func (in *instance) send(uri string, body []byte, sync bool, header http.Header) (int, syncAnswer) {
	in.t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range header {
		h[k] = v
	}
	if sync {
		h.Set("flex-sync-webhook", "true")
	}
	code, resp, _ := in.do("POST", "/webhooks/v1/"+uri, body, h)
	var a syncAnswer
	if len(resp) > 0 && resp[0] == '{' {
		if err := json.Unmarshal(resp, &a); err != nil {
			in.t.Fatalf("webhook answer %s: %v", resp, err)
		}
	}
	return code, a
}

type logLine struct {
	Level  string `json:"level"`
	Text   string `json:"text"`
	Source string `json:"source"`
}

type messageDetail struct {
	ID           string              `json:"id"`
	Status       string              `json:"status"`
	URI          string              `json:"uri"`
	Method       string              `json:"method"`
	ProviderID   string              `json:"provider_id"`
	ProviderName string              `json:"provider_name"`
	ProviderVer  int                 `json:"provider_version"`
	Message      string              `json:"message"`
	ResubmitOf   string              `json:"resubmit_of"`
	RemoteAddr   string              `json:"remote_addr"`
	Headers      map[string]string   `json:"headers"`
	Query        map[string][]string `json:"query"`
	Size         int                 `json:"size"`
	Logs         []logLine           `json:"logs"`
	Executions   []struct {
		FunctionName string    `json:"function_name"`
		Version      int       `json:"version"`
		Status       string    `json:"status"`
		Error        string    `json:"error"`
		DurationMS   float64   `json:"duration_ms"`
		Logs         []logLine `json:"logs"`
	} `json:"executions"`
}

func (in *instance) message(id string) messageDetail {
	in.t.Helper()
	var d messageDetail
	in.api("GET", "/messages/"+id, nil, http.StatusOK, &d)
	return d
}

// waitDone polls a message until it leaves PENDING, for at most 10 s.
func (in *instance) waitDone(id string) messageDetail {
	in.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := in.message(id)
		if d.Status != "PENDING" {
			return d
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("message %s still PENDING after 10s", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// eventually polls cond until it holds, for at most 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func jsonBody(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// logBuffer collects logs from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func mustPrefixes(t *testing.T, cidrs ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}
