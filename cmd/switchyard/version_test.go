package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"version"}, env(nil), &out, &errOut); code != 0 {
		t.Fatalf("version: %d %s", code, errOut.String())
	}
	for _, want := range []string{"switchyard ", "commit:", "commit time:", "go:          " + runtime.Version()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version prints %q, without %q", out.String(), want)
		}
	}

	out.Reset()
	if code := run(context.Background(), []string{"version", "--output", "json"}, env(nil), &out, &errOut); code != 0 {
		t.Fatalf("version --output json: %d %s", code, errOut.String())
	}
	var v struct {
		Version   string `json:"version"`
		Commit    string `json:"commit"`
		GoVersion string `json:"go_version"`
		Modified  *bool  `json:"modified"`
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("version --output json: %v: %s", err, out.String())
	}
	if v.Version == "" || v.Commit == "" || v.GoVersion != runtime.Version() || v.Modified == nil {
		t.Fatalf("version --output json: %s", out.String())
	}

	errOut.Reset()
	if code := run(context.Background(), []string{"version", "--output", "yaml"}, env(nil), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "table or json") {
		t.Fatalf("version --output yaml: %d %s", code, errOut.String())
	}
}

func TestHealthCommand(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv.Close)
	listen := strings.TrimPrefix(srv.URL, "http://")
	var out, errOut bytes.Buffer
	// The default URL follows SWITCHYARD_LISTEN.
	if code := run(context.Background(), []string{"health"}, env(map[string]string{"SWITCHYARD_LISTEN": listen}), &out, &errOut); code != 0 || !strings.Contains(out.String(), "ok") {
		t.Fatalf("health: %d %q %q", code, out.String(), errOut.String())
	}
	if code := run(context.Background(), []string{"health", "--url", srv.URL + "/nope"}, env(nil), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "404") {
		t.Fatalf("health of a 404: %d %q", code, errOut.String())
	}
	if code := run(context.Background(), []string{"health", "--url", "ftp://x"}, env(nil), &out, &errOut); code != 2 {
		t.Fatalf("health --url ftp://x: %d", code)
	}
	if code := run(context.Background(), []string{"health"}, env(map[string]string{"SWITCHYARD_LISTEN": "nonsense"}), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "host:port") {
		t.Fatalf("health with a bad SWITCHYARD_LISTEN: %d %q", code, errOut.String())
	}
}

func TestReadyURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":               "http://127.0.0.1:8080/readyz",
		":9000":          "http://127.0.0.1:9000/readyz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/readyz",
		"[::]:8080":      "http://127.0.0.1:8080/readyz",
		"10.0.0.5:8080":  "http://10.0.0.5:8080/readyz",
		"[::1]:8080":     "http://[::1]:8080/readyz",
		"localhost:8081": "http://localhost:8081/readyz",
	} {
		if got, err := readyURL(in); err != nil || got != want {
			t.Errorf("readyURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
