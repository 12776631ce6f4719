package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLongValuesFromOutside: URIs, summaries and names thousands of
// characters long, with newlines, keep every list row to one line's height
// (at 1280 px and at a phone's 390 px), show control characters as
// pictures, and leave the URI readable on a phone even beside a long
// provider name; the header stays short on a phone, and a long list of
// providers stays a list.
func TestLongValuesFromOutside(t *testing.T) {
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	var p struct{ ID string }
	in.api("POST", "/providers", map[string]any{"name": "a provider whose name goes on " + strings.Repeat("and on ", 20), "match_script": "return true"}, 201, &p)
	in.api("POST", "/functions", map[string]any{"name": "echo", "provider_id": p.ID, "uri": "say", "script": `LOG.setMessage(PAYLOAD.s); return true`}, 201, nil)
	for i := 0; i < 30; i++ {
		in.api("POST", "/providers", map[string]any{"name": "p" + strings.Repeat("x", i), "description": strings.Repeat("a long description ", 10), "match_script": "return false", "active": false}, 201, nil)
	}
	long := strings.Repeat("segment-", 250) // 2,000 characters
	send := func(uri, body string) {
		resp, err := http.Post(in.url+"/webhooks/v1/"+uri+"?sync", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send(long, `{}`)
	send("say", `{"s": "`+strings.Repeat("words ", 500)+`"}`)
	send("say", `{"s": "first line\nSUCCESS forged second line"}`)
	send("say", `{"s": ""}`)

	for _, width := range []int{1280, 390} {
		ctx := browser(t, width, 900)
		login(t, ctx, in.url, "ada", password)
		run(t, ctx, "messages", chromedp.Navigate(in.url+"/ui/#/messages"))
		waitJS(t, ctx, "four rows", `document.querySelectorAll("tr[data-id]").length === 4`)
		waitJS(t, ctx, "the summaries done", `![...document.querySelectorAll("tr[data-id]")].some(tr => tr.textContent.includes("PENDING"))`)
		tallest := value(t, ctx, "row heights", chromedp.Evaluate[float64](`Math.max(...[...document.querySelectorAll("tr[data-id]")].map(tr => tr.getBoundingClientRect().height))`))
		limit := 60.0
		if width < 700 {
			limit = 140
		}
		if tallest > limit {
			t.Errorf("at %d px a message row is %.0f px tall (limit %.0f)", width, tallest, limit)
		}
		if width < 700 {
			narrowest := value(t, ctx, "URI widths", chromedp.Evaluate[float64](`Math.min(...[...document.querySelectorAll("tr[data-id] td:nth-child(4)")].map(td => td.getBoundingClientRect().width))`))
			if narrowest < 100 {
				t.Errorf("at %d px the URI column is %.0f px wide", width, narrowest)
			}
			if over := value(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); over {
				t.Errorf("messages scroll sideways at %d px", width)
			}
		}
		if wide := value(t, ctx, "table overflow", chromedp.Evaluate[bool](`(w => w.scrollWidth > w.clientWidth + 1)(document.querySelector("table.dm-messages").closest(".table-wrap"))`)); wide {
			t.Errorf("at %d px the messages table is wider than its box", width)
		}
		text := value(t, ctx, "list text", chromedp.Evaluate[string](`document.querySelector("table.dm-messages tbody").textContent`))
		if !strings.Contains(text, "first line\\nSUCCESS forged") {
			t.Errorf("at %d px the newline is not shown as \\n: %.300q", width, text)
		}
		if header := value(t, ctx, "header height", chromedp.Evaluate[float64](`document.querySelector("header").getBoundingClientRect().height`)); header > 80 {
			t.Errorf("at %d px the header is %.0f px tall", width, header)
		}
		screenshot(t, ctx, map[int]string{1280: "messages-long", 390: "messages-long-phone"}[width])
		checkA11y(t, ctx, map[int]string{1280: "messages-long", 390: "messages-long-phone"}[width])
		run(t, ctx, "providers", chromedp.Navigate(in.url+"/ui/#/providers"))
		waitJS(t, ctx, "the providers", `document.querySelectorAll("table.providers tbody tr").length === 31`)
		if hgt := value(t, ctx, "providers row", chromedp.Evaluate[float64](`Math.max(...[...document.querySelectorAll("table.providers tbody tr")].map(tr => tr.getBoundingClientRect().height))`)); hgt > 90 {
			t.Errorf("at %d px a provider row is %.0f px tall", width, hgt)
		}
		if width < 700 {
			if over := value(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); over {
				t.Errorf("providers scroll sideways at %d px", width)
			}
			// The move buttons are big enough to tap.
			if small := value(t, ctx, "tap targets", chromedp.Evaluate[bool](`[...document.querySelectorAll("table.providers button.move-down")].some(b => b.getBoundingClientRect().height < 36)`)); small {
				t.Errorf("at %d px the move buttons are under 36 px tall", width)
			}
			screenshot(t, ctx, "providers-long-phone")
			checkA11y(t, ctx, "providers-long-phone")
		}
	}
}
