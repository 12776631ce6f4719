package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTokens makes a personal API token in the UI, uses it, and revokes
// it, on the user's own page and on the admin's page of that user.
func TestTokens(t *testing.T) {
	ctx := browser(t, 1280, 800)
	in := startServer(t)
	var u struct{ ID string }
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, &u)
	login(t, ctx, in.url, "ada", password)

	run(t, ctx, "tokens page",
		chromedp.Navigate(in.url+"/ui/#/tokens"),
		chromedp.WaitVisible(`input[name="name"]`),
		chromedp.SendKeys(`input[name="name"]`, "ci deploy"),
	)
	clickText(t, ctx, "Create token")
	waitJS(t, ctx, "the token, shown once", `[...document.querySelectorAll("input[readonly]")].some(i => i.value.startsWith("sy_pat_"))`)
	tok := value(t, ctx, "read the token", chromedp.Evaluate[string](`[...document.querySelectorAll("input[readonly]")].find(i => i.value.startsWith("sy_pat_")).value`))
	waitJS(t, ctx, "listed", `document.querySelector("main table") && document.querySelector("main table").textContent.includes("ci deploy")`)
	if strings.Contains(value(t, ctx, "list text", chromedp.Evaluate[string](`document.querySelector("main table").textContent`)), tok) {
		t.Fatal("the list shows the whole token")
	}
	// The token works against the API.
	in.apiAs(tok, "GET", "/me", 200)

	// The admin's page of the user lists it too, and revokes it.
	run(t, ctx, "the user's page", chromedp.Navigate(in.url+"/ui/#/users/"+u.ID))
	waitJS(t, ctx, "its tokens", `(document.querySelector("main h1") || {}).textContent === "ada" && [...document.querySelectorAll("main table")].some(t => t.textContent.includes("ci deploy"))`)
	js(t, ctx, "accept confirmations", `window.confirm = () => true`)
	clickText(t, ctx, "Revoke")
	waitJS(t, ctx, "revoked", `document.querySelector("main").textContent.includes("has no API tokens")`)
	in.apiAs(tok, "GET", "/me", 401)
}
