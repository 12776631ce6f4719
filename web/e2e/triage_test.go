package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestFunctionsPageCreates: the Functions page offers "New function" with
// a provider to pick, and what it creates is saved and opened.
func TestFunctionsPageCreates(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	in.api("POST", "/providers", map[string]any{"name": "first", "match_script": "return false"}, 201, nil)
	var p struct{ ID string }
	in.api("POST", "/providers", map[string]any{"name": "second", "match_script": "return true"}, 201, &p)

	login(t, ctx, in.url, "ada", password)
	run(t, ctx, "functions", chromedp.Navigate(in.url+"/ui/#/functions"))
	clickText(t, ctx, "New function")
	run(t, ctx, "the form", chromedp.WaitVisible(`form.new-function-form select[name="provider_id"]`))
	js(t, ctx, "pick the second provider", `(() => { const s = document.querySelector('form.new-function-form select[name="provider_id"]'); s.value = `+quote(p.ID)+`; return true })()`)
	run(t, ctx, "fill it in",
		chromedp.SendKeys(`form.new-function-form input[name="name"]`, "from-the-list"),
		chromedp.SendKeys(`form.new-function-form input[name="uri"]`, "made/here"),
	)
	clickText(t, ctx, "Create function")
	waitJS(t, ctx, "the new function's page", `location.hash.startsWith("#/functions/") && (document.querySelector("main h1") || {}).textContent === "from-the-list"`)

	var fs struct {
		Items []struct {
			Name       string
			URI        string
			ProviderID string `json:"provider_id"`
		}
	}
	in.api("GET", "/functions", nil, 200, &fs)
	if len(fs.Items) != 1 || fs.Items[0].Name != "from-the-list" || fs.Items[0].URI != "made/here" || fs.Items[0].ProviderID != p.ID {
		t.Fatalf("functions after creating one from the Functions page: %+v", fs.Items)
	}
}

// TestBulkActionsOnTheMessageList: an operator filters the list, resubmits
// what it selects after a confirmation that gives the count, and watches
// the progress bar reach done; deleting is offered to admins only.
func TestBulkActionsOnTheMessageList(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	in.api("POST", "/users", map[string]any{"name": "olga", "role": "operator", "password": password}, 201, nil)
	var p struct{ ID string }
	in.api("POST", "/providers", map[string]any{"name": "anyone", "match_script": "return true"}, 201, &p)
	in.api("POST", "/functions", map[string]any{"name": "ok", "provider_id": p.ID, "uri": "bulk/a", "script": "return 1"}, 201, nil)
	for i := range 35 {
		uri := "bulk/a"
		if i%7 == 0 {
			uri = "other"
		}
		resp, err := http.Post(in.url+"/webhooks/v1/"+uri, "application/json", strings.NewReader(`{"n":`+strconv.Itoa(i)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	count := func(uri string) int {
		var c struct{ Count int }
		in.api("GET", "/messages/count?uri="+uri, nil, 200, &c)
		return c.Count
	}

	// An operator: filter by URI, resubmit, see the job reach done.
	login(t, ctx, in.url, "olga", password)
	run(t, ctx, "messages", chromedp.Navigate(in.url+"/ui/#/messages"))
	run(t, ctx, "filter by URI", chromedp.WaitVisible(`form.dm-filters input[name="uri"]`), chromedp.SendKeys(`form.dm-filters input[name="uri"]`, "bulk/a"))
	js(t, ctx, "apply", `document.querySelector("form.dm-filters").requestSubmit()`)
	waitJS(t, ctx, "the filtered list", `location.hash.includes("uri=bulk") && !!document.querySelector("tr[data-id]")`)
	if n := value(t, ctx, "delete offered?", chromedp.Evaluate[int](`[...document.querySelectorAll("button")].filter(b => b.textContent.startsWith("Delete all")).length`)); n != 0 {
		t.Fatal("an operator is offered to delete messages")
	}
	clickText(t, ctx, "Resubmit all matching…")
	clickText(t, ctx, "Resubmit 30 messages")
	waitJS(t, ctx, "the job ends", `(document.querySelector(".dm-bulk-line[data-state=ended]") || {}).textContent === "30 of 30 resubmitted · done"`)
	if bar := value(t, ctx, "the bar", chromedp.Evaluate[string](`(() => { const b = document.querySelector("progress.dm-bulk-bar"); return b.value + "/" + b.max })()`)); bar != "30/30" {
		t.Errorf("the progress bar ends at %s", bar)
	}
	checkA11y(t, ctx, "messages, bulk resubmit done")
	screenshot(t, ctx, "messages-bulk")
	if n := count("bulk/a"); n != 60 {
		t.Fatalf("after resubmitting 30 messages to bulk/a there are %d", n)
	}

	// An admin deletes what another filter selects.
	clickText(t, ctx, "Sign out")
	run(t, ctx, "signed out", chromedp.WaitVisible(`form.login`))
	login(t, ctx, in.url, "ada", password)
	run(t, ctx, "messages to other", chromedp.Navigate(in.url+"/ui/#/messages?uri=other"))
	waitJS(t, ctx, "the list", `!!document.querySelector("tr[data-id]")`)
	clickText(t, ctx, "Delete all matching…")
	waitJS(t, ctx, "the confirmation", `(document.querySelector(".dm-bulk-confirm") || {textContent: ""}).textContent.includes("cannot be undone")`)
	clickText(t, ctx, "Delete 5 messages")
	waitJS(t, ctx, "the delete ends", `(document.querySelector(".dm-bulk-line[data-state=ended]") || {}).textContent === "5 of 5 deleted · done"`)
	if n := count("other"); n != 0 {
		t.Fatalf("after deleting, %d messages to other are left", n)
	}
	if n := count("bulk/a"); n != 60 {
		t.Fatalf("deleting the messages to other left %d of 60 to bulk/a", n)
	}
}
