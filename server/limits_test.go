package server_test

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// rejected is switchyard_inbound_rejected_total{reason}, which must be
// exported (at 0 if need be).
func (in *instance) rejected(reason string) int {
	in.t.Helper()
	_, b, _ := in.do("GET", "/metrics", nil, nil)
	prefix := `switchyard_inbound_rejected_total{reason="` + reason + `"} `
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				in.t.Fatalf("metric %q: %v", line, err)
			}
			return int(n)
		}
	}
	in.t.Fatalf("no %s in /metrics", strings.TrimSpace(prefix))
	return 0
}

// messageCount is how many messages the API lists (up to 500).
func (in *instance) messageCount() int {
	in.t.Helper()
	var page struct {
		Items []messageDetail `json:"items"`
	}
	in.api("GET", "/messages?limit=500", nil, http.StatusOK, &page)
	return len(page.Items)
}

// from sends the webhook as if from addr, through the trusted proxy.
func from(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// A flood from one address gets 429 with Retry-After once its burst is
// spent, and none of it is recorded, while another address is served;
// an IPv6 address shares its /64's allowance. Each refusal is counted.
func TestRateLimitPerClientAddress(t *testing.T) {
	t.Parallel()
	// A token every 1000 s: none comes back while the test runs.
	in := start(t, func(o *server.Options) {
		o.RateLimit, o.RateLimitBurst = 0.001, 3
		o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8")
	})
	for _, reason := range []string{"rate_limited", "store_full", "body_too_large", "uri_too_long", "busy", "body_timeout", "bad_request", "not_recorded"} {
		if n := in.rejected(reason); n != 0 {
			t.Fatalf("%s starts at %d", reason, n)
		}
	}
	for i := range 3 {
		if code, _ := in.send("flood", []byte(`{}`), false, from("203.0.113.7")); code != http.StatusAccepted {
			t.Fatalf("webhook %d within the burst: %d", i, code)
		}
	}
	for range 5 {
		code, body, h := in.do("POST", "/webhooks/v1/flood", []byte(`{}`), from("203.0.113.7"))
		if code != http.StatusTooManyRequests {
			t.Fatalf("webhook past the burst: %d %s", code, body)
		}
		if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("Retry-After %q", h.Get("Retry-After"))
		}
	}
	if code, _ := in.send("flood", []byte(`{}`), false, from("203.0.113.8")); code != http.StatusAccepted {
		t.Fatalf("another address: %d", code)
	}
	// One /64 is one subscriber: its addresses share the allowance.
	for i := range 3 {
		if code, _ := in.send("flood", []byte(`{}`), false, from("2001:db8:1:2::"+strconv.Itoa(i+1))); code != http.StatusAccepted {
			t.Fatalf("IPv6 webhook %d within the burst: %d", i, code)
		}
	}
	if code, _ := in.send("flood", []byte(`{}`), false, from("2001:db8:1:2:ffff::9")); code != http.StatusTooManyRequests {
		t.Fatalf("IPv6 webhook past its /64's burst: %d", code)
	}
	if code, _ := in.send("flood", []byte(`{}`), false, from("2001:db8:1:3::1")); code != http.StatusAccepted {
		t.Fatalf("IPv6 webhook from the next /64: %d", code)
	}
	if n := in.messageCount(); n != 3+1+3+1 {
		t.Fatalf("%d messages recorded, want 8: refused ones must not be", n)
	}
	if n := in.rejected("rate_limited"); n != 6 {
		t.Fatalf("rate_limited counted %d, want 6", n)
	}
}

// randomBody is n incompressible bytes.
func randomBody(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// A full store answers 507 and counts it; every webhook acknowledged
// before is still there, whole, and processed. On both backends.
func TestStoreFullAnswers507(t *testing.T) {
	t.Parallel()
	for name, backend := range map[string]func(*testing.T) func(*server.Options){
		"bolt":     func(*testing.T) func(*server.Options) { return func(*server.Options) {} },
		"postgres": onPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := start(t, backend(t), func(o *server.Options) {
				o.MaxStoreBytes = 1 << 20
				server.SetStoreSizeEvery(o, 10*time.Millisecond)
			})
			p := in.provider("all", `return true`)
			in.function(p.ID, "keep", "fill", `return FLX_PRISTINE_PAYLOAD.length`)
			bodies := map[string][]byte{}
			full := false
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
				body := randomBody(64 << 10)
				code, a := in.send("fill", body, false, http.Header{"Content-Type": {"application/octet-stream"}})
				if code == http.StatusInsufficientStorage {
					full = true
					break
				}
				if code != http.StatusAccepted {
					t.Fatalf("webhook before the store is full: %d", code)
				}
				bodies[a.ID] = body
			}
			if !full {
				t.Fatalf("no 507 within 20s, after %d webhooks of 64 KiB into a store of 1 MiB", len(bodies))
			}
			code, body, _ := in.do("POST", "/webhooks/v1/fill", []byte(`{}`), nil)
			if code != http.StatusInsufficientStorage || !strings.Contains(string(body), "full") {
				t.Fatalf("webhook into a full store: %d %s", code, body)
			}
			if n := in.rejected("store_full"); n < 2 {
				t.Fatalf("store_full counted %d, want at least 2", n)
			}
			for id, want := range bodies {
				d := in.waitDone(id)
				if d.Status != "SUCCESS" || len(d.Executions) != 1 {
					t.Fatalf("acknowledged message %s: %s %+v", id, d.Status, d.Executions)
				}
				_, got, _ := in.do("GET", "/api/v1/messages/"+id+"/payload", nil, http.Header{"Authorization": {"Bearer " + testToken}})
				if string(got) != string(want) {
					t.Fatalf("acknowledged message %s lost its payload (%d bytes, want %d)", id, len(got), len(want))
				}
			}
		})
	}
}

// Between two measures of the store, the bodies accepted count: a burst
// cannot overshoot --max-store-bytes by a measuring interval's worth.
func TestStoreFullBetweenMeasures(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) {
		o.MaxStoreBytes = 1 << 20
		server.SetStoreSizeEvery(o, time.Hour) // measured once, at start
	})
	// With --max-store-bytes the measured size is exported. Waiting for
	// it also lets the one measure come first: one taken while accepted
	// webhooks are still on their way to disk would count them as neither
	// measured nor added (a loaded machine let 17 in).
	eventually(t, "switchyard_store_bytes is the measured size", func() bool {
		got, ok := sample(in.scrape(), "switchyard_store_bytes", nil)
		return ok && got > 0
	})
	accepted := 0
	for range 40 {
		code, _ := in.send("fill", randomBody(64<<10), false, nil)
		if code == http.StatusInsufficientStorage {
			break
		}
		if code != http.StatusAccepted {
			t.Fatalf("webhook: %d", code)
		}
		accepted++
	}
	// The store held something at start, so fewer than 16 fit.
	if accepted == 0 || accepted > 16 {
		t.Fatalf("%d webhooks of 64 KiB accepted into a store of 1 MiB before a 507, want 1 to 16", accepted)
	}
}

// When the purge frees space, webhooks are accepted again.
func TestStoreAcceptsAgainAfterPurge(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) {
		o.MaxStoreBytes = 512 << 10
		o.RetentionUnmatched = time.Millisecond
		o.PurgeInterval = 20 * time.Millisecond
		server.SetStoreSizeEvery(o, 10*time.Millisecond)
	})
	// Another node, as it were, runs the purge: nothing is freed yet.
	unlock, ok, err := server.HoldJob(in.srv, server.JobPurgeMessages)
	if err != nil || !ok {
		t.Fatalf("hold the purge: %v %v", ok, err)
	}
	eventually(t, "the store fills with unmatched messages", func() bool {
		code, _ := in.send("nobody/listens", randomBody(64<<10), false, nil)
		return code == http.StatusInsufficientStorage
	})
	unlock()
	eventually(t, "the purge frees space", func() bool {
		code, _ := in.send("nobody/listens", []byte(`{}`), false, nil)
		return code == http.StatusAccepted
	})
}

// --unmatched metadata keeps an UNMATCHED message's metadata and outcome
// but not its payload nor its headers; a matched message keeps both.
func TestUnmatchedMetadata(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.Unmatched = server.UnmatchedMetadata })
	p := in.provider("github", `return HTTP_HEADERS['x-github-event'] === 'push'`)
	in.function(p.ID, "build", "ci", `return 1`)
	secret := http.Header{"X-Note": {"private"}}

	code, a := in.send("elsewhere?x=1", []byte(`{"card":"4111"}`), false, secret)
	if code != http.StatusAccepted {
		t.Fatalf("webhook: %d", code)
	}
	d := in.waitDone(a.ID)
	if d.Status != "UNMATCHED" || d.URI != "elsewhere" || len(d.Headers) != 0 || d.Query["x"][0] != "1" || len(d.Logs) == 0 {
		t.Fatalf("unmatched message kept: %+v", d)
	}
	auth := http.Header{"Authorization": {"Bearer " + testToken}}
	if code, body, _ := in.do("GET", "/api/v1/messages/"+a.ID+"/payload", nil, auth); code != http.StatusNotFound || strings.Contains(string(body), "4111") {
		t.Fatalf("payload of an unmatched message: %d %s", code, body)
	}
	if code, body, _ := in.do("POST", "/api/v1/messages/"+a.ID+"/resubmit", nil, auth); code != http.StatusNotFound || !strings.Contains(string(body), "not kept") {
		t.Fatalf("resubmit of a message without its payload: %d %s", code, body)
	}
	// Sync: the same answer as ever, and the same trimming.
	code, s := in.send("elsewhere", []byte(`{"card":"4111"}`), true, secret)
	if code != http.StatusNotFound || s.Status != "UNMATCHED" {
		t.Fatalf("sync unmatched: %d %+v", code, s)
	}
	if d := in.message(s.ID); len(d.Headers) != 0 {
		t.Fatalf("sync unmatched message kept its headers: %v", d.Headers)
	}

	secret.Set("X-Github-Event", "push")
	_, ok := in.send("ci", []byte(`{"ref":"main"}`), false, secret)
	if d := in.waitDone(ok.ID); d.Status != "SUCCESS" || d.Headers["x-note"] != "private" {
		t.Fatalf("matched message: %+v", d)
	}
	if code, body, _ := in.do("GET", "/api/v1/messages/"+ok.ID+"/payload", nil, auth); code != http.StatusOK || string(body) != `{"ref":"main"}` {
		t.Fatalf("payload of a matched message: %d %s", code, body)
	}
}

// --unmatched drop keeps nothing of an UNMATCHED message: the sender
// gets its usual answer, and the message is gone once processed.
func TestUnmatchedDrop(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.Unmatched = server.UnmatchedDrop })
	p := in.provider("all", `return true`)
	in.function(p.ID, "build", "ci", `return 1`)
	auth := http.Header{"Authorization": {"Bearer " + testToken}}
	gone := func(id string) bool {
		code, _, _ := in.do("GET", "/api/v1/messages/"+id, nil, auth)
		return code == http.StatusNotFound
	}

	code, a := in.send("no/function", []byte(`{}`), false, nil)
	if code != http.StatusAccepted || a.ID == "" {
		t.Fatalf("async unmatched: %d %+v", code, a)
	}
	eventually(t, "the unmatched message is dropped", func() bool { return gone(a.ID) })
	code, s := in.send("no/function", []byte(`{}`), true, nil)
	if code != http.StatusNotFound || s.Status != "UNMATCHED" || s.ID == "" {
		t.Fatalf("sync unmatched: %d %+v", code, s)
	}
	if !gone(s.ID) {
		t.Fatal("a sync unmatched message is still there after its answer")
	}
	_, m := in.send("ci", []byte(`{}`), false, nil)
	if d := in.waitDone(m.ID); d.Status != "SUCCESS" {
		t.Fatalf("matched message: %+v", d)
	}
	if n := in.messageCount(); n != 1 {
		t.Fatalf("%d messages kept, want only the matched one", n)
	}
}

// --retention-unmatched purges UNMATCHED messages long before the
// general retention purges the others.
func TestRetentionUnmatched(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) {
		o.RetentionUnmatched = time.Millisecond
		o.PurgeInterval = 20 * time.Millisecond
	})
	p := in.provider("all", `return true`)
	in.function(p.ID, "build", "ci", `return 1`)
	_, matched := in.send("ci", []byte(`{}`), false, nil)
	in.waitDone(matched.ID)
	_, unmatched := in.send("nothing/here", []byte(`{}`), false, nil)
	auth := http.Header{"Authorization": {"Bearer " + testToken}}
	eventually(t, "the unmatched message is purged", func() bool {
		code, _, _ := in.do("GET", "/api/v1/messages/"+unmatched.ID, nil, auth)
		return code == http.StatusNotFound
	})
	if d := in.message(matched.ID); d.Status != "SUCCESS" {
		t.Fatalf("matched message after the unmatched purge: %+v", d)
	}
}

// A provider's handshake script, like its match script, is not run for
// a request from outside its allowed_sources: a stranger cannot make it
// answer a sender's URL verification.
func TestAllowedSourcesGuardHandshakes(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") })
	in.api("POST", "/providers", map[string]any{
		"name": "slack", "match_script": "return true", "handshake_script": `RESPONSE.body = "challenge"`,
		"allowed_sources": []string{"192.30.252.0/22"},
	}, http.StatusCreated, nil)
	if code, b, _ := in.do("POST", "/webhooks/v1/events", nil, from("192.30.253.4")); code != http.StatusOK || string(b) != "challenge" {
		t.Fatalf("from an allowed address: %d %s, want the handshake's answer", code, b)
	}
	if code, b, _ := in.do("POST", "/webhooks/v1/events", nil, from("203.0.113.5")); code != http.StatusAccepted || string(b) == "challenge" {
		t.Fatalf("from elsewhere: %d %s, want no handshake answer (202)", code, b)
	}
}

// A provider with allowed_sources never matches a request from
// elsewhere, and its match script is not run (it would log); from an
// allowed address it runs and matches. The API shows the sources
// normalised, and refuses what is not a range.
func TestAllowedSources(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") })
	var gh struct {
		ID             string   `json:"id"`
		AllowedSources []string `json:"allowed_sources"`
	}
	in.api("POST", "/providers", map[string]any{
		"name": "github", "match_script": `LOG.info('github script ran'); return true`,
		"allowed_sources": []string{"192.30.252.1/22", "2001:DB8::/32", "192.30.252.0/22", "140.82.112.9"},
	}, http.StatusCreated, &gh)
	if want := []string{"192.30.252.0/22", "2001:db8::/32", "140.82.112.9/32"}; strings.Join(gh.AllowedSources, " ") != strings.Join(want, " ") {
		t.Fatalf("allowed_sources saved as %v, want %v", gh.AllowedSources, want)
	}
	other := in.provider("other", `LOG.info('other script ran'); return true`)
	in.function(gh.ID, "build", "push", `return 1`)
	in.function(other.ID, "note", "push", `return 2`)

	for addr, want := range map[string]string{"192.30.253.4": "github", "2001:db8:5::1": "github", "::ffff:140.82.112.9": "github", "203.0.113.5": "other", "192.30.256.1": "other"} {
		_, a := in.send("push", []byte(`{}`), true, from(addr))
		d := in.message(a.ID)
		if d.ProviderName != want {
			t.Fatalf("from %s: matched %q, want %q", addr, d.ProviderName, want)
		}
		ran := false
		for _, l := range d.Logs {
			ran = ran || strings.Contains(l.Text, "github script ran")
		}
		if ran != (want == "github") {
			t.Fatalf("from %s: the github match script ran: %v; logs %+v", addr, ran, d.Logs)
		}
	}
	// Matching nothing says why.
	in.api("PUT", "/providers/"+other.ID, map[string]any{"active": false}, http.StatusOK, nil)
	eventually(t, "the change is live", func() bool {
		_, a := in.send("push", []byte(`{}`), true, from("203.0.113.5"))
		return a.Status == "UNMATCHED"
	})
	_, a := in.send("push", []byte(`{}`), true, from("203.0.113.5"))
	d := in.message(a.ID)
	if len(d.Logs) == 0 || !strings.Contains(d.Logs[0].Text, `"203.0.113.5", outside its allowed_sources`) {
		t.Fatalf("no reason given for the refusal: %+v", d.Logs)
	}
	// Cleared with an empty list; refused when not a range.
	in.api("PUT", "/providers/"+gh.ID, map[string]any{"allowed_sources": []string{}}, http.StatusOK, &gh)
	if gh.AllowedSources == nil || len(gh.AllowedSources) != 0 {
		t.Fatalf("cleared allowed_sources: %#v", gh.AllowedSources)
	}
	for _, bad := range []string{"10.0.0.0/33", "github.com", ""} {
		body := in.api("POST", "/providers", map[string]any{"name": "bad", "match_script": "return true", "allowed_sources": []string{bad}}, http.StatusBadRequest, nil)
		if !strings.Contains(string(body), "allowed_sources[0]") {
			t.Fatalf("error for %q: %s", bad, body)
		}
	}
}
