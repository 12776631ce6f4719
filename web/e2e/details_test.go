package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSmallThingsANewcomerMeets: the sign-in form starts at Name and says
// "wrong name or password" without a field prefix; toggling a provider's
// active box keeps the focus on it; a viewer's editor and fields are read
// only and out of the tab order; an unknown delivery says so; "Resubmit"
// can be used again.
func TestSmallThingsANewcomerMeets(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	in.api("POST", "/users", map[string]any{"name": "vic", "role": "viewer", "password": password}, 201, nil)
	var p struct{ ID string }
	in.api("POST", "/providers", map[string]any{"name": "anyone", "match_script": "return true"}, 201, &p)
	var f struct{ ID string }
	in.api("POST", "/functions", map[string]any{"name": "ok", "provider_id": p.ID, "uri": "ok", "script": "return 1"}, 201, &f)

	// Sign-in: focus on Name; a wrong password said plainly.
	run(t, ctx, "sign-in page", chromedp.Navigate(in.url+"/ui/#/login"), chromedp.WaitVisible(`input[name="name"]`))
	waitJS(t, ctx, "focus on Name", `document.activeElement && document.activeElement.name === "name"`)
	run(t, ctx, "a wrong password",
		chromedp.SendKeys(`input[name="name"]`, "ada"),
		chromedp.SendKeys(`input[name="password"]`, "not it at all"),
		chromedp.Click(`form.login button[type="submit"]`),
		chromedp.WaitVisible(`.field-error`),
	)
	if msg := textOf(t, ctx, ".field-error"); msg != "wrong name or password" {
		t.Errorf("the sign-in error reads %q", msg)
	}
	js(t, ctx, "clear the password", `document.querySelector('input[name="password"]').value = ""`)
	run(t, ctx, "sign in", chromedp.SendKeys(`input[name="password"]`, password), chromedp.Click(`form.login button[type="submit"]`), chromedp.WaitVisible(`header nav`))

	// The active box keeps the focus through its save.
	run(t, ctx, "providers", chromedp.Navigate(in.url+"/ui/#/providers"))
	waitJS(t, ctx, "the list", `!!document.querySelector('table.providers input[type="checkbox"]')`)
	js(t, ctx, "focus and toggle", `(() => { const cb = document.querySelector('table.providers input[type="checkbox"]'); cb.focus(); cb.click(); })()`)
	waitJS(t, ctx, "saved", `document.getElementById("toast").textContent.includes("is now inactive")`)
	if tag := value(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.type || document.activeElement.tagName`)); tag != "checkbox" {
		t.Errorf("after the toggle the focus is on %q", tag)
	}
	js(t, ctx, "back on", `document.querySelector('table.providers input[type="checkbox"]').click()`)
	waitJS(t, ctx, "saved again", `document.getElementById("toast").textContent.includes("is now active")`)

	// Resubmit can be used again.
	resp, err := http.Post(in.url+"/webhooks/v1/ok", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	run(t, ctx, "messages", chromedp.Navigate(in.url+"/ui/#/messages"))
	waitJS(t, ctx, "a message", `!!document.querySelector("tr[data-id]")`)
	js(t, ctx, "open it", `document.querySelector("tr[data-id]").click()`)
	clickText(t, ctx, "Resubmit")
	clickText(t, ctx, "Resubmit now")
	waitJS(t, ctx, "resubmitted, and again possible", `[...document.querySelectorAll("button")].some(b => b.textContent === "Resubmit again" && !b.disabled)`)

	// The blank provider's script points to nothing the server does not
	// serve.
	run(t, ctx, "new provider", chromedp.Navigate(in.url+"/ui/#/providers/new"))
	waitJS(t, ctx, "the form", `!!document.querySelector('input[name="mode"][value="blank"]')`)
	js(t, ctx, "blank", `(() => { const r = document.querySelector('input[name="mode"][value="blank"]'); r.click(); return true })()`)
	waitJS(t, ctx, "the blank script", `[...document.querySelectorAll(".cm-content")].some(c => c.textContent.includes("Return true when this provider sent the webhook"))`)
	if src := value(t, ctx, "the blank script", chromedp.Evaluate[string](`[...document.querySelectorAll(".cm-content")].map(c => c.textContent).join("\n")`)); strings.Contains(src, "docs/") {
		t.Errorf("the blank script points to docs the server does not serve: %q", src)
	}

	// An unknown delivery.
	run(t, ctx, "unknown delivery", chromedp.Navigate(in.url+"/ui/#/deliveries/01a209bf-75fa-72ad-93d4-4683e2dbb805"))
	waitJS(t, ctx, "No such delivery", `(document.querySelector("main h1") || {}).textContent === "No such delivery"`)

	// A viewer's function page is read only, and its editor is not in the
	// tab order.
	run(t, ctx, "sign out", chromedp.Navigate(in.url+"/ui/#/"), chromedp.WaitVisible(`header .who`))
	clickText(t, ctx, "Sign out")
	run(t, ctx, "signed out", chromedp.WaitVisible(`form.login`))
	login(t, ctx, in.url, "vic", password)
	run(t, ctx, "the function", chromedp.Navigate(in.url+"/ui/#/functions/"+f.ID))
	waitJS(t, ctx, "the editor", `!!document.querySelector(".cm-content")`)
	state := value(t, ctx, "read only", chromedp.Evaluate[string](`JSON.stringify({
		editable: document.querySelector(".cm-content").getAttribute("contenteditable"),
		enabled: [...document.querySelectorAll("main input, main select")].filter(i => !i.disabled).map(i => i.name),
		note: document.body.textContent.includes("Read only: your role cannot change functions."),
	})`))
	if state != `{"editable":"false","enabled":[],"note":true}` {
		t.Errorf("a viewer's function page: %s", state)
	}
	checkA11y(t, ctx, "function page, viewer")
}
