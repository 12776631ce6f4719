package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A provider's form shows its handshake script in a second editor: a
// template's comes with it, a broken one is refused and marked in that
// editor (not the match script's), and a good one is saved.
func TestProviderHandshakeEditor(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	var p struct {
		ID string `json:"id"`
	}
	in.api("POST", "/providers", map[string]any{"template": "zoom", "secrets": map[string]string{"secret_token": "s3cret"}}, 201, &p)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	login(t, ctx, in.url, "ada", password)

	const hs = `.script-field[name="handshake_script"]`
	run(t, ctx, "the provider page", chromedp.Navigate(in.url+"/ui/#/providers/"+p.ID), chromedp.WaitVisible(hs+` .cm-content`))
	waitJS(t, ctx, "the template's handshake script", `document.querySelector('`+hs+` .cm-content').textContent.includes("endpoint.url_validation")`)
	checkA11y(t, ctx, "provider-handshake")

	js(t, ctx, "focus the handshake editor", `document.querySelector('`+hs+` .cm-content').focus()`)
	run(t, ctx, "break it and save",
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.KeyEvent("var x = 1;\nRESPONSE.body = (;"),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	)
	waitJS(t, ctx, "the error marked in the handshake editor", `(() => {
		const marked = document.querySelector(".cm-lintRange-error");
		return !!marked && !!marked.closest('`+hs+`') && /Unexpected token/.test((document.querySelector(".field-error") || {}).textContent || "");
	})()`)

	js(t, ctx, "focus the handshake editor again", `document.querySelector('`+hs+` .cm-content').focus()`)
	run(t, ctx, "write a good one and save",
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.KeyEvent(`if (QUERY_PARAMS.challenge) RESPONSE.body = QUERY_PARAMS.challenge;`),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	)
	waitJS(t, ctx, "saved", `document.getElementById("toast").textContent.startsWith("Saved")`)
	var got struct {
		HandshakeScript string `json:"handshake_script"`
		MatchScript     string `json:"match_script"`
	}
	in.api("GET", "/providers/"+p.ID, nil, 200, &got)
	if got.HandshakeScript != `if (QUERY_PARAMS.challenge) RESPONSE.body = QUERY_PARAMS.challenge;` || !strings.HasPrefix(got.MatchScript, "// @name Zoom") {
		t.Fatalf("saved %+v", got)
	}
}
