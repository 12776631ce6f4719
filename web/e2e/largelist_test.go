package e2e

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLargeMessageLists: the list says how many messages match and how
// many it shows, offers jumps in time, and when more new messages arrive
// than one live update brings, offers to load them instead of leaving a
// silent gap.
func TestLargeMessageLists(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	in.api("POST", "/providers", map[string]any{"name": "anyone", "match_script": "return true"}, 201, nil)
	send := func(n int) {
		for i := 0; i < n; i++ {
			resp, err := http.Post(in.url+"/webhooks/v1/bulk", "application/json", bytes.NewReader([]byte(`{}`)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	send(120)
	login(t, ctx, in.url, "ada", password)
	run(t, ctx, "messages", chromedp.Navigate(in.url+"/ui/#/messages"))
	waitJS(t, ctx, "the count", `(document.querySelector(".dm-count") || {}).textContent === "Showing 50 of 120 messages."`)
	if shown := value(t, ctx, "the burst box", chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".dm-burst")).display`)); shown != "none" {
		t.Errorf("the burst offer shows (display %q) with no burst", shown)
	}
	clickText(t, ctx, "Load more")
	waitJS(t, ctx, "the count after more", `(document.querySelector(".dm-count") || {}).textContent === "Showing 100 of 120 messages."`)

	// A burst while the page is open (live updates paused while it is
	// sent, so that no update lands in its middle).
	clickText(t, ctx, "Pause live updates")
	send(150)
	clickText(t, ctx, "Resume live updates")
	waitJS(t, ctx, "the burst offered", `/^150 new messages\./.test((document.querySelector(".dm-burst:not([hidden])") || {}).textContent || "")`)
	clickText(t, ctx, "Load them")
	waitJS(t, ctx, "reloaded with them", `(document.querySelector(".dm-count") || {}).textContent === "Showing 50 of 270 messages." && getComputedStyle(document.querySelector(".dm-burst")).display === "none"`)

	// A jump in time keeps the other filters and sets since.
	run(t, ctx, "filtered", chromedp.Navigate(in.url+"/ui/#/messages?status=UNMATCHED"))
	waitJS(t, ctx, "the filtered list", `(document.querySelector(".dm-count") || {}).textContent === "Showing 50 of 270 messages."`)
	clickText(t, ctx, "the last hour")
	waitJS(t, ctx, "the jump", `/^#\/messages\?status=UNMATCHED&since=/.test(location.hash) && (document.querySelector(".dm-count") || {}).textContent === "Showing 50 of 270 messages."`)
	checkA11y(t, ctx, "messages with counts")
}
