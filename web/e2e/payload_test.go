package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// postPayload sends an anonymous webhook with a content type and returns
// the message id.
func postPayload(t *testing.T, url, contentType, body string) string {
	t.Helper()
	resp, err := http.Post(url+"/webhooks/v1/drop", contentType, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", resp.StatusCode, err)
	}
	return a.ID
}

// TestPayloadNeverRunsOnTheAppsOrigin: a sender's JavaScript, CSS and HTML
// payloads, loaded on a page of the app as a script, a stylesheet or a
// frame (as an HTML injection would), neither run nor apply; the message
// page shows them as text.
func TestPayloadNeverRunsOnTheAppsOrigin(t *testing.T) {
	ctx := browser(t, 1280, 800)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	in.api("POST", "/providers", map[string]any{"name": "anyone", "match_script": "return true"}, 201, nil)
	jsID := postPayload(t, in.url, "application/javascript", `window.pwned = (window.pwned || 0) + 1`)
	cssID := postPayload(t, in.url, "text/css", `body { background: rgb(255, 0, 0) !important }`)
	htmlID := postPayload(t, in.url, "text/html", `<script>parent.pwned = 99</script><b>hi</b>`)

	login(t, ctx, in.url, "ada", password)
	js(t, ctx, "load the payloads as subresources", `(() => {
		const add = (tag, attrs) => { const e = document.createElement(tag); Object.assign(e, attrs); e.onload = () => (window.loaded = (window.loaded || []).concat(tag)); e.onerror = () => (window.failed = (window.failed || []).concat(tag)); document.head.append(e); };
		add("script", { src: "/api/v1/messages/`+jsID+`/payload" });
		add("link", { rel: "stylesheet", href: "/api/v1/messages/`+cssID+`/payload" });
		const f = document.createElement("iframe"); f.src = "/api/v1/messages/`+htmlID+`/payload"; document.body.append(f);
		return true;
	})()`)
	waitJS(t, ctx, "both loads end", `(window.failed || []).length + (window.loaded || []).length === 2`)
	got := value(t, ctx, "what ran", chromedp.Evaluate[string](`JSON.stringify({pwned: window.pwned || 0, failed: window.failed || [], bg: getComputedStyle(document.body).backgroundColor})`))
	if strings.Contains(got, `"pwned":1`) || strings.Contains(got, `"pwned":99`) || strings.Contains(got, "255, 0, 0") || !strings.Contains(got, `"script"`) || !strings.Contains(got, `"link"`) {
		t.Fatalf("a payload ran or applied on the app's origin: %s", got)
	}

	// The message page shows the script as text.
	run(t, ctx, "the message", chromedp.Navigate(in.url+"/ui/#/messages/"+jsID))
	clickText(t, ctx, "Payload")
	waitJS(t, ctx, "the payload as text", `(document.querySelector("pre.dm-payload") || {}).textContent === "window.pwned = (window.pwned || 0) + 1"`)
	if p := value(t, ctx, "pwned", chromedp.Evaluate[int](`window.pwned || 0`)); p != 0 {
		t.Fatal("the payload ran when shown")
	}
}
