package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The provider form edits allowed_sources: it shows the saved ranges one
// a line, saves what is typed, and shows them back as the server
// normalised them.
func TestProviderAllowedSources(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	var p struct {
		ID             string   `json:"id"`
		AllowedSources []string `json:"allowed_sources"`
	}
	in.api("POST", "/providers", map[string]any{"name": "github", "match_script": "return true", "allowed_sources": []string{"192.30.252.0/22"}}, 201, &p)

	login(t, ctx, in.url, "ada", password)
	run(t, ctx, "the provider's page",
		chromedp.Navigate(in.url+"/ui/#/providers/"+p.ID),
		chromedp.WaitVisible(`textarea[name="allowed_sources"]`),
	)
	waitJS(t, ctx, "the saved sources shown", `document.querySelector('textarea[name="allowed_sources"]').value === "192.30.252.0/22"`)
	js(t, ctx, "type other sources", `(() => { const a = document.querySelector('textarea[name="allowed_sources"]'); a.value = "10.1.2.3/8\n 192.0.2.1, 2001:DB8::/32"; a.dispatchEvent(new Event("input", {bubbles: true})); })()`)
	clickText(t, ctx, "Save")
	waitJS(t, ctx, "the normalised sources shown", `document.querySelector('textarea[name="allowed_sources"]').value === "10.0.0.0/8\n192.0.2.1/32\n2001:db8::/32"`)
	in.api("GET", "/providers/"+p.ID, nil, 200, &p)
	if got := strings.Join(p.AllowedSources, " "); got != "10.0.0.0/8 192.0.2.1/32 2001:db8::/32" {
		t.Fatalf("saved allowed_sources %q", got)
	}
}
