package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/switchyard-dev/switchyard/internal/brokertest"
)

// TestOutboundEndpoint creates an endpoint from the Slack preset in the
// UI, sees a server error next to its field, sends a test, and finds a
// delivery with its attempt.
func TestOutboundEndpoint(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b map[string]any
		_ = json.Unmarshal(raw, &b)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer sink.Close()
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	login(t, ctx, in.url, "ada", password)

	run(t, ctx, "new endpoint",
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(`input[name="url"]`),
		chromedp.SendKeys(`input[name="name"]`, "Ops chat"),
		chromedp.SendKeys(`input[name="url"]`, sink.URL+"/slack"),
		chromedp.SendKeys(`textarea[name="event_types"]`, "alarm.*"),
	)
	js(t, ctx, "the Slack preset", `(() => { const s = document.querySelector('select[name="preset"]'); s.value = "slack"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	// A timeout out of range is refused by the server, next to its field.
	js(t, ctx, "a bad timeout", `(() => { const i = document.querySelector('input[name="timeout_ms"]'); i.value = "100"; i.dispatchEvent(new Event("input", {bubbles: true})); })()`)
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the error beside the timeout", `(() => { const e = document.querySelector(".field-error"); const i = document.querySelector('input[name="timeout_ms"]'); return !!e && e.textContent.includes("timeout_ms must be from 500 to 120000") && i.getAttribute("aria-invalid") === "true"; })()`)
	js(t, ctx, "a good timeout", `(() => { const i = document.querySelector('input[name="timeout_ms"]'); i.value = "5000"; i.dispatchEvent(new Event("input", {bubbles: true})); })()`)
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the endpoint page", `/^#\/outbound\/endpoints\/[0-9a-f-]{36}$/.test(location.hash) && [...document.querySelectorAll("button")].some(b => b.textContent.trim() === "Send test")`)

	clickText(t, ctx, "Send test")
	waitJS(t, ctx, "the test result", `!!document.querySelector(".ob-test-card") && document.querySelector(".ob-test-card").textContent.includes("200")`)
	mu.Lock()
	got := len(bodies) == 1 && bodies[0]["text"] != nil && strings.Contains(bodies[0]["text"].(string), "Test event")
	mu.Unlock()
	if !got {
		t.Fatalf("the sink got %v, want one Slack-shaped test message", bodies)
	}

	// An event makes a delivery, listed with its attempt.
	in.api("POST", "/events", map[string]any{"type": "alarm.disk_full", "title": "Disk full"}, 202, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ds struct {
			Items []struct{ Status string } `json:"items"`
		}
		in.api("GET", "/deliveries?status=SUCCESS", nil, 200, &ds)
		if len(ds.Items) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivery did not succeed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	run(t, ctx, "deliveries", chromedp.Navigate(in.url+"/ui/#/outbound/deliveries"))
	waitJS(t, ctx, "a successful delivery", `!!document.querySelector('input[name="event_id"]') && !!document.querySelector("main table") && document.querySelector("main table").textContent.includes("SUCCESS")`)
	screenshot(t, ctx, "deliveries")
	checkA11y(t, ctx, "deliveries")
}

// TestOutboundSendTestBeforeSaving sends a test from the new-endpoint
// form: a bad field is shown beside it, a good form reaches the receiver
// and shows the attempt, and nothing is saved.
func TestOutboundSendTestBeforeSaving(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b map[string]any
		_ = json.Unmarshal(raw, &b)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "got it")
	}))
	defer sink.Close()
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	login(t, ctx, in.url, "ada", password)

	run(t, ctx, "new endpoint",
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(`input[name="url"]`),
		chromedp.SendKeys(`input[name="name"]`, "Draft"),
		chromedp.SendKeys(`input[name="url"]`, sink.URL+"/draft"),
	)
	// Without event types the server refuses it as a create would.
	clickText(t, ctx, "Send test")
	waitJS(t, ctx, "the error beside the event types", `(() => { const e = document.querySelector(".field-error"); return !!e && e.textContent.includes("event_types is required"); })()`)
	run(t, ctx, "event types", chromedp.SendKeys(`textarea[name="event_types"]`, "alarm.*"))
	clickText(t, ctx, "Send test")
	waitJS(t, ctx, "the test result", `(() => { const c = document.querySelector(".ob-test-card"); return !!c && c.textContent.includes("202") && c.textContent.includes("got it") && !document.querySelector(".field-error"); })()`)
	mu.Lock()
	got := len(bodies) == 1 && bodies[0]["type"] == "switchyard.test"
	mu.Unlock()
	if !got {
		t.Fatalf("the sink got %v, want one test event", bodies)
	}
	waitJS(t, ctx, "still on the form", `location.hash === "#/outbound/endpoints/new"`)
	var list struct {
		Items []any `json:"items"`
	}
	in.api("GET", "/endpoints", nil, 200, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a tested endpoint was saved: %v", list.Items)
	}
	checkA11y(t, ctx, "new endpoint tested")
}

// TestOutboundBrokerEndpoint: a broker url in the endpoint form hides the
// fields only HTTP has, a test before saving is confirmed by RabbitMQ,
// and the saved endpoint shows its url without the password.
func TestOutboundBrokerEndpoint(t *testing.T) {
	addr := brokertest.Need(t, "RabbitMQ", brokertest.AMQP)
	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q := brokertest.Name("sy_e2e")
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = ch.QueueDelete(q, false, false, false) }()
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	login(t, ctx, in.url, "ada", password)

	run(t, ctx, "new endpoint",
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(`input[name="url"]`),
		chromedp.SendKeys(`input[name="name"]`, "Orders queue"),
		chromedp.SendKeys(`textarea[name="event_types"]`, "order.*"),
	)
	waitJS(t, ctx, "the HTTP fields shown for no url", `document.querySelector('fieldset[name="headers"]').offsetParent !== null && document.querySelector('select[name="method"]').offsetParent !== null`)
	run(t, ctx, "a broker url", chromedp.SendKeys(`input[name="url"]`, "amqp://guest:guest@"+addr+"/?routing_key="+q))
	waitJS(t, ctx, "the HTTP fields hidden", `document.querySelector('fieldset[name="headers"]').offsetParent === null && document.querySelector('fieldset[name="cookies"]').offsetParent === null && document.querySelector('select[name="method"]').offsetParent === null && document.querySelector('select[name="verify.type"]').offsetParent === null`)
	clickText(t, ctx, "Send test")
	waitJS(t, ctx, "the confirm", `(() => { const c = document.querySelector(".ob-test-card"); return !!c && c.textContent.includes("confirmed by the broker") && c.textContent.includes("confirmed: delivery tag 1") && c.textContent.includes("OK"); })()`)
	checkA11y(t, ctx, "new broker endpoint tested")
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the endpoint page", `/^#\/outbound\/endpoints\/[0-9a-f-]{36}$/.test(location.hash) && document.body.textContent.includes("amqp://`+addr+`/?routing_key=`+q+`") && !document.body.textContent.includes("guest:guest")`)
	qi, err := ch.QueueDeclarePassive(q, false, true, false, false, nil)
	if err != nil || qi.Messages != 1 {
		t.Fatalf("the queue holds %d messages (%v), want the test's one", qi.Messages, err)
	}
}

// TestOutboundOAuth2Endpoint creates an endpoint with OAuth 2.0 client
// credentials in the UI: the client secret is saved (never shown), and
// the test it sends carries a token from the token endpoint.
func TestOutboundOAuth2Endpoint(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, _ := r.BasicAuth(); id != "switchyard" || secret != "cl1ent-s3cret" || r.FormValue("scope") != "hooks.write" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"access_token": "ui-token", "token_type": "Bearer", "expires_in": 600}`)
	}))
	defer tokens.Close()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer sink.Close()
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	login(t, ctx, in.url, "ada", password)

	run(t, ctx, "new endpoint",
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(`input[name="url"]`),
		chromedp.SendKeys(`input[name="name"]`, "OAuth receiver"),
		chromedp.SendKeys(`input[name="url"]`, sink.URL+"/hook"),
		chromedp.SendKeys(`textarea[name="event_types"]`, "alarm.*"),
	)
	js(t, ctx, "OAuth 2.0", `(() => { const s = document.querySelector('select[name="auth"]'); s.value = "oauth2"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	run(t, ctx, "the OAuth 2.0 fields",
		chromedp.WaitVisible(`input[name="auth.token_url"]`),
		chromedp.SendKeys(`input[name="auth.token_url"]`, tokens.URL+"/token"),
		chromedp.SendKeys(`input[name="auth.client_id"]`, "switchyard"),
		chromedp.SendKeys(`input[name="auth.client_secret"]`, "cl1ent-s3cret"),
		chromedp.SendKeys(`input[name="auth.scopes"]`, "hooks.write"),
	)
	js(t, ctx, "open Connection", `document.querySelector("details.ob-connection").open = true`)
	screenshot(t, ctx, "endpoint-connection")
	checkA11y(t, ctx, "endpoint connection")
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the endpoint page", `/^#\/outbound\/endpoints\/[0-9a-f-]{36}$/.test(location.hash) && [...document.querySelectorAll("button")].some(b => b.textContent.trim() === "Send test")`)
	var list struct {
		Items []struct {
			Auth map[string]any `json:"auth"`
		} `json:"items"`
	}
	var raw json.RawMessage
	in.api("GET", "/endpoints", nil, 200, &list)
	in.api("GET", "/endpoints", nil, 200, &raw)
	if len(list.Items) != 1 || list.Items[0].Auth["type"] != "oauth2" || list.Items[0].Auth["client_secret_set"] != true ||
		list.Items[0].Auth["client_id"] != "switchyard" || strings.Contains(string(raw), "cl1ent-s3cret") {
		t.Fatalf("saved: %s", raw)
	}
	clickText(t, ctx, "Send test")
	waitJS(t, ctx, "the test result", `!!document.querySelector(".ob-test-card") && document.querySelector(".ob-test-card").textContent.includes("200")`)
	mu.Lock()
	got := len(auths) == 1 && auths[0] == "Bearer ui-token"
	mu.Unlock()
	if !got {
		t.Fatalf("the receiver got Authorization %q, want one Bearer ui-token", auths)
	}
}
