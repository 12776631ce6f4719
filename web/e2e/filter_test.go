package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEndpointFilterForm saves an endpoint with a filter from the form:
// a bad operator is refused next to the Filter box, a good filter is
// saved and shown on the endpoint's page and back in its form.
func TestEndpointFilterForm(t *testing.T) {
	ctx, in := signedIn(t, 1280, 900)
	newEndpoint(t, ctx, in, `textarea[name="filter"]`, "DB pager", "https://pager.example.com/hook", "alarm.*")
	run(t, ctx, "a bad filter", chromedp.SendKeys(`textarea[name="filter"]`, `{"data.severity": {"$like": "crit"}}`))
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the error beside the filter", `(() => {
		const i = document.querySelector('textarea[name="filter"]');
		const e = i.closest("label") ? i.closest("label").querySelector(".field-error") : null;
		return !!e && e.textContent.includes('unknown operator "$like"') && i.getAttribute("aria-invalid") === "true";
	})()`)
	js(t, ctx, "a good filter", `(() => {
		const i = document.querySelector('textarea[name="filter"]');
		i.value = '{"data.severity": {"$in": ["critical"]}, "data.host": {"$regex": "^db-"}}';
		i.dispatchEvent(new Event("input", {bubbles: true}));
	})()`)
	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the filter on the endpoint page", `/^#\/outbound\/endpoints\/[0-9a-f-]{36}$/.test(location.hash) &&
		[...document.querySelectorAll("dd")].some(d => d.textContent.includes('"data.host":{"$regex":"^db-"}'))`)
	waitJS(t, ctx, "the filter back in the form", `(() => {
		const i = document.querySelector('textarea[name="filter"]');
		return !!i && JSON.parse(i.value)["data.severity"]["$in"][0] === "critical";
	})()`)
}
