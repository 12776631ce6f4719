package e2e

import (
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
