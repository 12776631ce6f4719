package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEndpointBodyTemplatesForm saves an endpoint with body templates by
// language from the form: an unknown language is refused next to the box,
// a good map is saved, its languages shown on the endpoint's page and the
// map back in its form.
func TestEndpointBodyTemplatesForm(t *testing.T) {
	ctx, in := signedIn(t, 1280, 900)
	newEndpoint(t, ctx, in, `textarea[name="body_templates"]`, "Team chat", "https://chat.example.com/hook", "message.failed")
	run(t, ctx, "an unknown language", chromedp.SendKeys(`textarea[name="body_templates"]`, `{"fr": "{{title}}"}`))
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the error beside the body templates", `(() => {
		const i = document.querySelector('textarea[name="body_templates"]');
		const e = i.closest("label") ? i.closest("label").querySelector(".field-error") : null;
		return !!e && e.textContent.includes('language "fr" is not one of en, zh') && i.getAttribute("aria-invalid") === "true";
	})()`)
	js(t, ctx, "good templates", `(() => {
		const i = document.querySelector('textarea[name="body_templates"]');
		i.value = JSON.stringify({zh: '{"text": "告警 {{title}}"}'});
		i.dispatchEvent(new Event("input", {bubbles: true}));
	})()`)
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the languages on the endpoint page", `/^#\/outbound\/endpoints\/[0-9a-f-]{36}$/.test(location.hash) &&
		[...document.querySelectorAll("dd.ob-body-templates")].some(d => d.textContent === "zh")`)
	waitJS(t, ctx, "the templates back in the form", `(() => {
		const i = document.querySelector('textarea[name="body_templates"]');
		return !!i && JSON.parse(i.value).zh === '{"text": "告警 {{title}}"}';
	})()`)
}
