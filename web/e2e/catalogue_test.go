package e2e

import (
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEventTypePicker subscribes an endpoint from the catalogue: the
// types declared through the API are listed under the event types box,
// grouped by kind; a search narrows them; ticking one adds it to the box
// beside a wildcard typed by hand, and the saved endpoint has them all.
// On a new form, a wildcard ticks the types it covers (greyed out, saying
// which), ticking keeps the box's separators, and "alarm" finds the
// alarm-kind types.
// Then an editor declares a type on the catalogue page: a schema that
// loads another document is refused beside the Schema box, a good one is
// saved and listed.
func TestEventTypePicker(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	for _, d := range []map[string]any{
		{"type": "alarm.host_lost", "kind": "alarm", "description": "A monitored host stopped answering"},
		{"type": "alarm.recovery_timeout", "kind": "alarm", "description": "A host did not recover in time"},
		{"type": "cloud.resource.created", "description": "A cloud resource was created"},
		{"type": "cloud.resource.synced", "description": "A cloud resource was synced"},
	} {
		in.api("PUT", "/event-types/"+d["type"].(string), d, 201, nil)
	}
	login(t, ctx, in.url, "ada", password)

	run(t, ctx, "new endpoint",
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(`input[name="event_type_search"]`),
		chromedp.SendKeys(`input[name="name"]`, "Ops pager"),
		chromedp.SendKeys(`input[name="url"]`, "https://pager.example.com/hook"),
		chromedp.SendKeys(`textarea[name="event_types"]`, "message.*"),
	)
	waitJS(t, ctx, "the catalogue grouped by kind", `(() => {
		const kindOf = (type) => { const b = document.querySelector('input[data-event-type="' + type + '"]'); return b && b.closest("section").dataset.kind; };
		return kindOf("alarm.host_lost") === "alarm" && kindOf("alarm.recovery_timeout") === "alarm" &&
			kindOf("cloud.resource.synced") === "event" && kindOf("message.failed") === "alarm" && kindOf("message.succeeded") === "event" &&
			[...document.querySelectorAll(".ob-catalogue h4")].map(h => h.textContent).join("|").startsWith("Alarms");
	})()`)

	run(t, ctx, "search", chromedp.SendKeys(`input[name="event_type_search"]`, "host"))
	waitJS(t, ctx, "only the host types listed", `(() => {
		const shown = [...document.querySelectorAll("input[data-event-type]")].map(b => b.dataset.eventType);
		return shown.includes("alarm.host_lost") && shown.includes("alarm.recovery_timeout") && !shown.includes("cloud.resource.synced");
	})()`)
	js(t, ctx, "pick alarm.host_lost", `document.querySelector('input[data-event-type="alarm.host_lost"]').click()`)
	js(t, ctx, "search again", `(() => {
		const s = document.querySelector('input[name="event_type_search"]');
		s.value = "synced";
		s.dispatchEvent(new Event("input", {bubbles: true}));
	})()`)
	waitJS(t, ctx, "the synced type listed alone", `(() => {
		const shown = [...document.querySelectorAll("input[data-event-type]")].map(b => b.dataset.eventType);
		return shown.length === 1 && shown[0] === "cloud.resource.synced";
	})()`)
	js(t, ctx, "pick cloud.resource.synced", `document.querySelector('input[data-event-type="cloud.resource.synced"]').click()`)
	waitJS(t, ctx, "the box holds the wildcard and both picks", `document.querySelector('textarea[name="event_types"]').value === "message.*\nalarm.host_lost\ncloud.resource.synced"`)
	checkA11y(t, ctx, "new endpoint with the catalogue")
	screenshot(t, ctx, "endpoint-event-type-picker")

	clickText(t, ctx, "Create endpoint")
	waitJS(t, ctx, "the endpoint page", `/^#\/outbound\/endpoints\/[0-9a-f-]{36}$/.test(location.hash)`)
	var eps struct {
		Items []struct {
			EventTypes []string `json:"event_types"`
		} `json:"items"`
	}
	in.api("GET", "/endpoints", nil, 200, &eps)
	if len(eps.Items) != 1 || !slices.Equal(eps.Items[0].EventTypes, []string{"message.*", "alarm.host_lost", "cloud.resource.synced"}) {
		t.Fatalf("saved endpoints: %+v", eps.Items)
	}

	// The endpoint's form shows the saved picks ticked, and the types
	// message.* covers ticked and greyed out (not message.succeeded,
	// which only its exact name subscribes to).
	waitJS(t, ctx, "the picks ticked on the endpoint's form", `(() => {
		const boxes = [...document.querySelectorAll("input[data-event-type]")];
		const ticked = boxes.filter(b => b.checked && !b.disabled).map(b => b.dataset.eventType).sort();
		const covered = boxes.filter(b => b.checked && b.disabled).map(b => b.dataset.eventType).sort();
		return ticked.join(",") === "alarm.host_lost,cloud.resource.synced" && covered.join(",") === "message.failed,message.unmatched";
	})()`)
	// A wildcard typed in the box ticks the types it covers, greyed out
	// and saying which; ticking keeps the box's commas; the search finds
	// a type by its kind.
	run(t, ctx, "another new endpoint",
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(`input[name="event_type_search"]`),
	)
	waitJS(t, ctx, "the catalogue listed", `!!document.querySelector('input[data-event-type="alarm.host_lost"]')`)
	js(t, ctx, "type a wildcard, comma separated", `(() => {
		const i = document.querySelector('textarea[name="event_types"]');
		i.value = "cloud.resource.created, alarm.*";
		i.dispatchEvent(new Event("input", {bubbles: true}));
	})()`)
	waitJS(t, ctx, "the alarms covered by alarm.*", `(() => {
		const box = (type) => document.querySelector('input[data-event-type="' + type + '"]');
		const covered = (type) => box(type).checked && box(type).disabled && box(type).closest("label").textContent.includes("covered by alarm.*");
		return covered("alarm.host_lost") && covered("alarm.recovery_timeout") &&
			box("cloud.resource.created").checked && !box("cloud.resource.created").disabled && !box("cloud.resource.created").closest("label").textContent.includes("covered by") &&
			!box("cloud.resource.synced").checked && !box("cloud.resource.synced").disabled &&
			!box("message.failed").checked && !box("message.failed").disabled;
	})()`)
	js(t, ctx, "tick cloud.resource.synced", `document.querySelector('input[data-event-type="cloud.resource.synced"]').click()`)
	waitJS(t, ctx, "the box keeps its commas", `document.querySelector('textarea[name="event_types"]').value === "cloud.resource.created, alarm.*, cloud.resource.synced"`)
	js(t, ctx, "untick cloud.resource.created", `document.querySelector('input[data-event-type="cloud.resource.created"]').click()`)
	waitJS(t, ctx, "the rest of the box as typed", `document.querySelector('textarea[name="event_types"]').value === "alarm.*, cloud.resource.synced"`)
	js(t, ctx, "search by kind", `(() => {
		const s = document.querySelector('input[name="event_type_search"]');
		s.value = "alarm";
		s.dispatchEvent(new Event("input", {bubbles: true}));
	})()`)
	waitJS(t, ctx, "the alarm-kind types listed, a system one too", `(() => {
		const shown = [...document.querySelectorAll("input[data-event-type]")].map(b => b.dataset.eventType);
		return shown.includes("alarm.host_lost") && shown.includes("message.failed") && shown.includes("endpoint.disabled") &&
			!shown.includes("cloud.resource.synced") && !shown.includes("message.succeeded") &&
			document.querySelector('input[data-event-type="alarm.host_lost"]').disabled;
	})()`)
	checkA11y(t, ctx, "the catalogue with a wildcard")

	run(t, ctx, "the catalogue page", chromedp.Navigate(in.url+"/ui/#/outbound/event-types"), chromedp.WaitVisible(`input[name="type"]`))
	js(t, ctx, "a schema with a remote $ref", `(() => {
		const set = (sel, v) => { const i = document.querySelector(sel); i.value = v; i.dispatchEvent(new Event("input", {bubbles: true})); };
		set('input[name="type"]', "alarm.disk_full");
		document.querySelector('select[name="kind"]').value = "alarm";
		set('input[name="description"]', "A disk is full");
		set('textarea[name="schema"]', '{"$ref": "https://example.com/disk.json"}');
	})()`)
	clickText(t, ctx, "Save event type")
	waitJS(t, ctx, "the error beside the schema", `(() => {
		const i = document.querySelector('textarea[name="schema"]');
		const e = i.closest("label").querySelector(".field-error");
		return !!e && e.textContent.includes("may not refer to another document") && i.getAttribute("aria-invalid") === "true";
	})()`)
	js(t, ctx, "a good schema", `(() => {
		const i = document.querySelector('textarea[name="schema"]');
		i.value = '{"type": "object", "required": ["host"]}';
	})()`)
	clickText(t, ctx, "Save event type")
	waitJS(t, ctx, "the declared type listed", `[...document.querySelectorAll("td")].some(td => td.textContent === "alarm.disk_full")`)
	checkA11y(t, ctx, "event type catalogue")
	screenshot(t, ctx, "event-type-catalogue")
	var got struct {
		Kind   string         `json:"kind"`
		Schema map[string]any `json:"schema"`
	}
	in.api("GET", "/event-types/alarm.disk_full", nil, 200, &got)
	if got.Kind != "alarm" || got.Schema["type"] != "object" {
		t.Fatalf("declared from the page: %+v", got)
	}
}
