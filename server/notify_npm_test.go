package server_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/npmtest"
	"github.com/switchyard-dev/switchyard/server"
)

// These tests deliver outbound events from a whole Switchyard to a real
// receiver, testdata/npm/receiver.mjs, which checks every request's
// Standard Webhooks signature with the standardwebhooks library from npm:
// the library receivers actually use, not our own reading of the spec.

// npmReceipt is one request as receiver.mjs saw it.
type npmReceipt struct {
	Verified bool           `json:"verified"`
	ID       string         `json:"id"`
	Event    string         `json:"event"`
	Sig      string         `json:"signature"`
	Body     map[string]any `json:"body"`
	Error    string         `json:"error"`
}

// npmReceiver is a running receiver.mjs.
type npmReceiver struct {
	url    string
	mu     sync.Mutex
	got    []npmReceipt
	stderr strings.Builder // guarded by mu
}

// startNpmReceiver runs receiver.mjs with secret (v1); it stops at
// cleanup.
func startNpmReceiver(t *testing.T, secret string) *npmReceiver {
	t.Helper()
	// The secret goes in the environment, not argv, which ps shows.
	return startReceiverEnv(t, "RECEIVER_SECRET="+secret)
}

// startV1aReceiver runs receiver.mjs verifying v1a signatures with the
// public key ("whpk_...") through Node's crypto; it stops at cleanup.
func startV1aReceiver(t *testing.T, publicKey string) *npmReceiver {
	t.Helper()
	return startReceiverEnv(t, "RECEIVER_PUBLIC_KEY="+publicKey)
}

func startReceiverEnv(t *testing.T, env string) *npmReceiver {
	t.Helper()
	dir := npmtest.Dir(t)
	cmd := exec.Command("node", filepath.Join(dir, "receiver.mjs"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env)
	// Closing its standard input stops the receiver.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &npmReceiver{}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.stderr.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	port := make(chan int, 1)
	go func() {
		defer close(exited)
		defer cmd.Wait()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
		first := true
		for sc.Scan() {
			if first {
				first = false
				var p struct{ Port int }
				json.Unmarshal(sc.Bytes(), &p)
				port <- p.Port
				continue
			}
			var rc npmReceipt
			if err := json.Unmarshal(sc.Bytes(), &rc); err != nil {
				rc = npmReceipt{Error: fmt.Sprintf("receiver printed %q: %v", sc.Text(), err)}
			}
			r.mu.Lock()
			r.got = append(r.got, rc)
			r.mu.Unlock()
		}
		close(port)
	}()
	select {
	case p := <-port:
		if p == 0 {
			t.Fatalf("receiver.mjs did not start: %s", r.errors())
		}
		r.url = fmt.Sprintf("http://127.0.0.1:%d/hook", p)
	case <-time.After(20 * time.Second):
		t.Fatalf("receiver.mjs did not print its port within 20s: %s", r.errors())
	}
	return r
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (r *npmReceiver) errors() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

func (r *npmReceiver) receipts() []npmReceipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]npmReceipt(nil), r.got...)
}

// receipt waits for the request with webhook-id id.
func (r *npmReceiver) receipt(t *testing.T, id string) npmReceipt {
	t.Helper()
	var found npmReceipt
	eventually(t, "the receiver gets webhook-id "+id, func() bool {
		for _, rc := range r.receipts() {
			if rc.ID == id {
				found = rc
				return true
			}
		}
		return false
	})
	return found
}

// newWhsec returns a fresh Standard Webhooks secret.
func newWhsec(t *testing.T) string {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

type npmDelivery struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	Status     string `json:"status"`
	Attempts   int    `json:"attempt_count"`
	LastStatus int    `json:"last_status"`
	LastError  string `json:"last_error"`
}

// npmEndpoint creates an endpoint and returns its id.
func (in *instance) npmEndpoint(body map[string]any) string {
	in.t.Helper()
	var ep struct{ ID string }
	in.api("POST", "/endpoints", body, http.StatusCreated, &ep)
	if ep.ID == "" {
		in.t.Fatal("created endpoint has no id")
	}
	return ep.ID
}

// npmPublish publishes an event (raw JSON) and returns the stored event as
// the API answered it, decoded generically.
func (in *instance) npmPublish(raw string, wantDeliveries int) map[string]any {
	in.t.Helper()
	var ev map[string]any
	in.api("POST", "/events", []byte(raw), http.StatusAccepted, &ev)
	if n, _ := ev["deliveries"].(float64); int(n) != wantDeliveries {
		in.t.Fatalf("publish %s: %v deliveries, want %d", raw, ev["deliveries"], wantDeliveries)
	}
	return ev
}

// npmSettled waits until the delivery of event eventID leaves PENDING and
// returns it.
func (in *instance) npmSettled(eventID string) npmDelivery {
	in.t.Helper()
	var d npmDelivery
	eventually(in.t, "the delivery of event "+eventID+" settles", func() bool {
		var l struct{ Items []npmDelivery }
		in.api("GET", "/deliveries?event_id="+eventID, nil, http.StatusOK, &l)
		if len(l.Items) != 1 {
			in.t.Fatalf("event %s has %d deliveries, want 1", eventID, len(l.Items))
		}
		d = l.Items[0]
		return d.Status != "PENDING"
	})
	return d
}

func allowLoopback(o *server.Options) { o.AllowPrivateTargets = true }

func TestNotifyNpmReceiverVerifiesEveryDelivery(t *testing.T) {
	t.Parallel()
	secret := newWhsec(t)
	rcv := startNpmReceiver(t, secret)
	in := start(t, allowLoopback)
	epID := in.npmEndpoint(map[string]any{
		"name": "npm receiver", "url": rcv.url, "event_types": []string{"alarm.*"},
		"signing_secret": secret,
	})

	hostile := "ünï \"quoted\" 'single' \\back\\slash\nnew line\r\n\ttab </script><b>&amp; \u2028\u2029 \u0000 😀 \U0010FFFF {{title}} ${x}"
	events := []string{
		`{"type": "alarm.host_lost", "title": "host a lost", "message": "no heartbeat", "data": {"host": "a", "n": 1}}`,
		`{"type": "alarm.disk.full", "title": "disk", "sub_title": "/var", "data": {"pct": 99.5, "tags": ["x", "y"], "nested": {"deep": [1, {"k": null}]}}}`,
		string(jsonBody(t, map[string]any{
			"type": "alarm.hostile", "title": hostile, "sub_title": hostile, "message": hostile,
			"logo": "https://example.com/l.png?a=1&b=\"2\"", "image": "",
			"data": map[string]any{
				hostile: hostile, "quote\"key": "v\n", "big": 12345678901234567890.0, "tiny": 1e-300,
				"list": []any{hostile, true, false, nil, -0.5}, "empty": map[string]any{},
			},
		})),
		// A lone surrogate escape: the API decodes it as U+FFFD.
		`{"type": "alarm.surrogate", "title": "\ud800\udc00 pair and \udfff lone", "data": {"s": "\ud83d"}}`,
	}
	var published []map[string]any
	for _, raw := range events {
		published = append(published, in.npmPublish(raw, 1))
	}
	// Not subscribed: no delivery, nothing reaches the receiver.
	in.npmPublish(`{"type": "message.failed", "title": "not for this endpoint"}`, 0)

	for _, ev := range published {
		evID := ev["id"].(string)
		d := in.npmSettled(evID)
		if d.Status != "SUCCESS" || d.EndpointID != epID || d.LastStatus != http.StatusNoContent {
			t.Errorf("event %s (%s): delivery %+v, want SUCCESS with 204", evID, ev["type"], d)
		}
		rc := rcv.receipt(t, d.ID) // webhook-id is the delivery's id
		if !rc.Verified {
			t.Errorf("event %s (%s): standardwebhooks did not verify: %s", evID, ev["type"], rc.Error)
		}
		if rc.Event != ev["type"] {
			t.Errorf("X-Switchyard-Event %q, want %q", rc.Event, ev["type"])
		}
		// The body the library verified is the event, field for field.
		for _, k := range []string{"id", "type", "title", "sub_title", "message", "logo", "data"} {
			want, ok := ev[k]
			if !ok {
				switch k {
				case "data":
					want = map[string]any{}
				default:
					want = ""
				}
			}
			if !reflect.DeepEqual(rc.Body[k], want) {
				t.Errorf("event %s: body %s = %#v, want %#v", evID, k, rc.Body[k], want)
			}
		}
		var lines []string
		for _, k := range []string{"title", "sub_title", "message"} {
			if s, _ := ev[k].(string); s != "" {
				lines = append(lines, s)
			}
		}
		if want := strings.Join(lines, "\n"); rc.Body["Msg"] != want {
			t.Errorf("event %s: Msg %q, want %q", evID, rc.Body["Msg"], want)
		}
	}
	if got := rcv.receipts(); len(got) != len(events) {
		t.Errorf("receiver got %d requests, want %d: %+v", len(got), len(events), got)
	}
}

func TestNotifyNpmWrongSecretIsNotSuccess(t *testing.T) {
	t.Parallel()
	rcv := startNpmReceiver(t, newWhsec(t))
	in := start(t, allowLoopback)
	in.npmEndpoint(map[string]any{
		"name": "wrong secret", "url": rcv.url, "event_types": []string{"alarm.*"},
		"signing_secret": newWhsec(t), "retry": map[string]any{"max_attempts": 1},
	})
	ev := in.npmPublish(`{"type": "alarm.x", "title": "signed with the wrong key"}`, 1)
	d := in.npmSettled(ev["id"].(string))
	if d.Status != "FAILED" || d.LastStatus != http.StatusUnauthorized || d.Attempts != 1 {
		t.Errorf("delivery %+v, want FAILED after one attempt answered 401", d)
	}
	rc := rcv.receipt(t, d.ID)
	if rc.Verified || !strings.Contains(rc.Error, "No matching signature") {
		t.Errorf("receiver: verified=%v error=%q, want a signature mismatch", rc.Verified, rc.Error)
	}
}

func TestNotifyNpmSecretRotationSignsWithBoth(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := newWhsec(t), newWhsec(t)
	oldRcv := startNpmReceiver(t, oldSecret)
	in := start(t, allowLoopback)
	epID := in.npmEndpoint(map[string]any{
		"name": "rotating", "url": oldRcv.url, "event_types": []string{"alarm.*"},
		"signing_secret": oldSecret, "retry": map[string]any{"max_attempts": 1},
	})
	check := func(rcv *npmReceiver, what string) {
		t.Helper()
		ev := in.npmPublish(fmt.Sprintf(`{"type": "alarm.rotation", "title": %q}`, what), 1)
		d := in.npmSettled(ev["id"].(string))
		rc := rcv.receipt(t, d.ID)
		if !rc.Verified || d.Status != "SUCCESS" {
			t.Errorf("%s: verified=%v (%s), delivery %s %d", what, rc.Verified, rc.Error, d.Status, d.LastStatus)
		}
	}
	check(oldRcv, "before rotation")

	var ep struct {
		Signing struct {
			RotatingUntil *time.Time `json:"rotating_until"`
		} `json:"signing"`
	}
	in.api("PUT", "/endpoints/"+epID, map[string]any{"signing_secret": newSecret}, http.StatusOK, &ep)
	if u := ep.Signing.RotatingUntil; u == nil || time.Until(*u) < 23*time.Hour {
		t.Errorf("rotating_until %v, want about 24h from now", u)
	}
	// A receiver that has not switched yet still verifies.
	check(oldRcv, "after rotation, old secret")

	// One that has switched verifies too.
	newRcv := startNpmReceiver(t, newSecret)
	in.api("PUT", "/endpoints/"+epID, map[string]any{"url": newRcv.url}, http.StatusOK, nil)
	check(newRcv, "after rotation, new secret")

	// Clearing the secret ends signing with either.
	in.api("PUT", "/endpoints/"+epID, map[string]any{"signing_secret": ""}, http.StatusOK, nil)
	ev := in.npmPublish(`{"type": "alarm.rotation", "title": "unsigned"}`, 1)
	d := in.npmSettled(ev["id"].(string))
	if d.Status != "FAILED" || d.LastStatus != http.StatusUnauthorized {
		t.Errorf("unsigned delivery %s %d, want FAILED with 401", d.Status, d.LastStatus)
	}
	var unsigned []npmReceipt
	for _, rc := range newRcv.receipts() {
		if rc.Body["id"] == ev["id"] {
			unsigned = append(unsigned, rc)
		}
	}
	if len(unsigned) != 1 || unsigned[0].Verified || unsigned[0].ID != d.ID {
		t.Errorf("unsigned request as received: %+v, want one with webhook-id %s (every delivery has one), not verified", unsigned, d.ID)
	}
}
