package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestFunctionPatternHint: a function's URI field explains a pattern,
// naming the PATH_PARAMS its parts fill, and follows what is typed.
func TestFunctionPatternHint(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	var p struct{ ID string }
	in.api("POST", "/providers", map[string]any{"name": "anyone", "match_script": "return true"}, 201, &p)
	var f struct{ ID string }
	in.api("POST", "/functions", map[string]any{"name": "push", "provider_id": p.ID, "uri": "repos/{repo}/push/*", "script": "return PATH_PARAMS.repo"}, 201, &f)

	login(t, ctx, in.url, "ada", password)
	run(t, ctx, "the function page", chromedp.Navigate(in.url+"/ui/#/functions/"+f.ID))
	waitJS(t, ctx, "the pattern hint", `[...document.querySelectorAll(".hint")].some(e => e.textContent.includes("as PATH_PARAMS.repo") && e.textContent.includes('PATH_PARAMS["*"]'))`)
	js(t, ctx, "type an exact uri", `const i = document.querySelector('input[name="uri"]'); i.value = "git/push"; i.dispatchEvent(new Event("input"))`)
	waitJS(t, ctx, "the exact hint", `[...document.querySelectorAll(".hint")].some(e => e.textContent.endsWith("/webhooks/v1/git/push"))`)
}
