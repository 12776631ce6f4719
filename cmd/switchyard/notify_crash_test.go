package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNotifyCrashKill9WithDeliveriesInFlight kills a real
// Switchyard process with SIGKILL while outbound deliveries are in flight
// and events are still being published, restarts it on the same data
// directory, and holds it to the outbound contract: every event that was
// acknowledged (202) reaches the receiver at least once, a delivery made
// again after the crash carries the same webhook-id, and every delivery
// ends SUCCESS.
func TestNotifyCrashKill9WithDeliveriesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs real processes")
	}
	const (
		events = 300
		killAt = events / 3 // the receiver's killAt-th request triggers the kill
	)
	start := time.Now()
	deadline := start.Add(40 * time.Second) // the whole test; a fast machine needs a few seconds

	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)

	// The receiver records every request by event id, checks its Standard
	// Webhooks signature, and takes a few ms to answer, so that a lane's
	// worth of deliveries is in flight at any time. Its killAt-th request
	// holds its answer until the child is dead: that delivery, at least,
	// is in flight at the kill and must be made again after the restart.
	var (
		mu        sync.Mutex
		seen      = map[string][]string{} // event id -> webhook-ids, one per request
		requests  int
		badSigs   []string
		killEvent string
	)
	killNow, killed := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(killed) }) }
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the child died mid-request
		}
		var ev struct{ ID string }
		json.Unmarshal(body, &ev)
		id := r.Header.Get("webhook-id")
		sigOK := verifyStandardWebhook(key, id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body)
		mu.Lock()
		requests++
		n := requests
		seen[ev.ID] = append(seen[ev.ID], id)
		if !sigOK || ev.ID == "" {
			badSigs = append(badSigs, fmt.Sprintf("webhook-id %q event %q", id, ev.ID))
		}
		if n == killAt {
			killEvent = ev.ID
		}
		mu.Unlock()
		if n == killAt {
			close(killNow)
			<-killed
			return
		}
		time.Sleep(3 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rcv.Close)
	t.Cleanup(release) // runs before rcv.Close, which waits for handlers

	// Loopback receivers are refused unless private targets are allowed:
	// the child reads --allow-private-targets from the environment.
	t.Setenv("SWITCHYARD_ALLOW_PRIVATE_TARGETS", "true")
	dir := t.TempDir()
	c := startChild(t, dir)
	ep, _ := json.Marshal(map[string]any{
		"name": "crash receiver", "url": rcv.URL + "/hook", "event_types": []string{"alarm.*"},
		"signing_secret": secret, "concurrency": 16, "timeout_ms": 10000,
		"retry": map[string]any{"backoff": "fixed", "interval_ms": 200, "max_attempts": 20},
	})
	if code, body := c.api(t, "POST", "/endpoints", string(ep)); code != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", code, body)
	}

	// Publish from 16 clients; every 202 is an acknowledgement we hold the
	// server to. Publishing stops when the server is gone.
	var (
		ackMu sync.Mutex
		acked = map[string]int{} // event id -> n
		wg    sync.WaitGroup
	)
	next := make(chan int, events)
	for i := range events {
		next <- i
	}
	close(next)
	client := &http.Client{Timeout: 15 * time.Second}
	for range 16 {
		wg.Go(func() {
			for i := range next {
				body := fmt.Sprintf(`{"type": "alarm.crash", "title": "crash %d", "data": {"n": %d}}`, i, i)
				req, _ := http.NewRequest("POST", c.url+"/api/v1/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+crashToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var a struct {
					ID         string
					Deliveries int
				}
				if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &a) != nil || a.ID == "" {
					continue
				}
				if a.Deliveries != 1 {
					t.Errorf("event %d: %d deliveries, want 1", i, a.Deliveries)
				}
				ackMu.Lock()
				acked[a.ID] = i
				ackMu.Unlock()
			}
		})
	}

	select {
	case <-killNow:
	case <-time.After(time.Until(deadline)):
		t.Fatalf("the receiver got only %d requests:\n%s", count(&mu, &requests), c.log())
	}
	if err := c.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
		t.Fatal(err)
	}
	c.cmd.Wait()
	release()
	wg.Wait()
	ackMu.Lock()
	nAcked := len(acked)
	ackMu.Unlock()
	t.Logf("killed at %v after %d acknowledged events, %d requests received",
		time.Since(start).Round(time.Millisecond), nAcked, count(&mu, &requests))

	c2 := startChild(t, dir)
	restarted := time.Now()

	// Every acknowledged event reaches the receiver.
	for {
		var missing []string
		mu.Lock()
		for id := range acked {
			if len(seen[id]) == 0 {
				missing = append(missing, id)
			}
		}
		mu.Unlock()
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged events never reached the receiver, e.g. %s:\n%s", len(missing), missing[0], c2.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And every delivery ends SUCCESS.
	for {
		pending := listDeliveries(t, c2, "PENDING")
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still PENDING, e.g. %+v:\n%s", len(pending), pending[0], c2.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if failed := listDeliveries(t, c2, "FAILED"); len(failed) > 0 {
		t.Errorf("%d deliveries FAILED, e.g. %+v", len(failed), failed[0])
	}
	success := listDeliveries(t, c2, "SUCCESS")
	byEvent := map[string]crashDelivery{}
	for _, d := range success {
		byEvent[d.EventID] = d
	}

	mu.Lock()
	defer mu.Unlock()
	twice := 0
	for id := range acked {
		d, ok := byEvent[id]
		if !ok {
			t.Errorf("acknowledged event %s has no SUCCESS delivery", id)
			continue
		}
		for _, wid := range seen[id] {
			if wid != d.ID {
				t.Errorf("event %s came with webhook-ids %q; want its delivery's id %s every time", id, seen[id], d.ID)
				break
			}
		}
	}
	for id, ids := range seen {
		if len(ids) > 1 {
			twice++
		}
		if _, ok := byEvent[id]; !ok && id != "" {
			t.Errorf("the receiver got event %s, which has no SUCCESS delivery", id)
		}
	}
	if len(badSigs) > 0 {
		t.Errorf("%d requests without a valid signature or event, e.g. %s", len(badSigs), badSigs[0])
	}
	if len(seen[killEvent]) < 2 {
		t.Errorf("the delivery in flight at the kill (event %s) was received %d times, want it made again after the restart", killEvent, len(seen[killEvent]))
	}
	t.Logf("%d acknowledged, %d received (%d of them more than once), %d SUCCESS deliveries; restart to settled %v, total %v",
		nAcked, len(seen), twice, len(success), time.Since(restarted).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func count(mu *sync.Mutex, n *int) int {
	mu.Lock()
	defer mu.Unlock()
	return *n
}

type crashDelivery struct {
	ID           string `json:"id"`
	EventID      string `json:"event_id"`
	Status       string `json:"status"`
	AttemptCount int    `json:"attempt_count"`
	LastError    string `json:"last_error"`
}

// listDeliveries lists every delivery with a status, page by page.
func listDeliveries(t *testing.T, c *child, status string) []crashDelivery {
	t.Helper()
	var all []crashDelivery
	cursor := ""
	for {
		code, body := c.api(t, "GET", "/deliveries?limit=500&status="+status+"&cursor="+url.QueryEscape(cursor), "")
		if code != http.StatusOK {
			t.Fatalf("list deliveries: %d %s", code, body)
		}
		var page struct {
			Items      []crashDelivery `json:"items"`
			NextCursor string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// verifyStandardWebhook checks a webhook-signature header: one of its
// space-separated "v1,<base64>" values must be base64(HMAC-SHA256(key,
// id "." timestamp "." body)).
func verifyStandardWebhook(key []byte, id, ts, header string, body []byte) bool {
	if id == "" || ts == "" {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}
