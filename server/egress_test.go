package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// A function calls another system with HTTP.request: by default the
// guard refuses a loopback target and the refusal is in the execution's
// log; with --allow-private-targets the call goes through, and the log
// shows it without the query.
func TestFunctionHTTPRequestThroughTheGuard(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.URL.RequestURI() + " " + r.Header.Get("Content-Type") + " " + string(b)
		w.Header().Set("X-Build", "42")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "queued")
	}))
	t.Cleanup(target.Close)
	script := `var r = HTTP.request({url: "` + target.URL + `/build?token=s3cret", body: {ref: PAYLOAD.ref}})
		LOG.setMessage(r.status + " " + r.headers["x-build"] + " " + r.body)`

	// The default: refused.
	in := start(t)
	p := in.provider("p", "return true")
	in.function(p.ID, "f", "ci", script)
	_, a := in.send("ci", []byte(`{"ref":"refs/heads/main"}`), true, nil)
	d := in.message(a.ID)
	if d.Status != "FAILED" || len(d.Executions) != 1 || !strings.Contains(d.Executions[0].Error, "loopback address") {
		t.Fatalf("a loopback target must be refused by default: %+v", d)
	}
	if logs := d.Executions[0].Logs; len(logs) != 1 || logs[0].Level != "WARNING" ||
		!strings.Contains(logs[0].Text, "POST http://127.0.0.1:") || strings.Contains(logs[0].Text, "s3cret") {
		t.Fatalf("the refusal must be logged without the query: %+v", logs)
	}
	select {
	case r := <-got:
		t.Fatalf("the target was reached: %s", r)
	default:
	}

	// Allowed.
	in = start(t, func(o *server.Options) { o.AllowPrivateTargets = true })
	p = in.provider("p", "return true")
	in.function(p.ID, "f", "ci", script)
	_, a = in.send("ci", []byte(`{"ref":"refs/heads/main"}`), true, nil)
	d = in.message(a.ID)
	if d.Status != "SUCCESS" || d.Message != "201 42 queued" {
		t.Fatalf("allowed call: %+v", d)
	}
	if r := <-got; r != `POST /build?token=s3cret application/json {"ref":"refs/heads/main"}` {
		t.Fatalf("the target got %q", r)
	}
	logs := d.Executions[0].Logs
	if len(logs) != 1 || logs[0].Level != "INFO" || !strings.Contains(logs[0].Text, "/build?… -> 201") || strings.Contains(logs[0].Text, "s3cret") {
		t.Fatalf("the call must be logged without the query: %+v", logs)
	}
}
