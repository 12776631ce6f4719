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
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	login(t, ctx, in.url, "ada", password)

	run(t, ctx, "new endpoint",
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(`textarea[name="body_templates"]`),
		chromedp.SendKeys(`input[name="name"]`, "Team chat"),
		chromedp.SendKeys(`input[name="url"]`, "https://chat.example.com/hook"),
		chromedp.SendKeys(`textarea[name="event_types"]`, "message.failed"),
		chromedp.SendKeys(`textarea[name="body_templates"]`, `{"fr": "{{title}}"}`),
	)
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
