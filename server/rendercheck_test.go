package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// A body template that cannot render valid JSON, where the body is sent
// as JSON, is refused at save with the field's name; with a Content-Type
// that is not JSON it is the body as written.
func TestBodyTemplateMustRenderJSON(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "t", "url": "https://example.com/hook", "event_types": []string{"*"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for name, c := range map[string]struct {
		body map[string]any
		want string
	}{
		"unclosed":     {base(map[string]any{"body_template": `{"text": "{{title}}"`}), "body_template: rendered body is not valid JSON"},
		"two values":   {base(map[string]any{"body_template": `{"a": {{data.x}} {{data.y}}}`}), "body_template: rendered body is not valid JSON"},
		"by language":  {base(map[string]any{"body_templates": map[string]string{"zh": `告警 {{title}}`}}), "body_templates.zh: rendered body is not valid JSON"},
		"json+suffix":  {base(map[string]any{"body_template": `text {{title}}`, "headers": map[string]string{"content-type": "application/vnd.x+json"}}), "Content-Type application/vnd.x+json"},
		"on the tests": {base(map[string]any{"body_template": `{`}), "fix the template, or set a Content-Type header that is not JSON"},
	} {
		code, body, _ := in.do("POST", "/api/v1/endpoints", jsonBody(t, c.body),
			http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}})
		if code != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want 400 with %q", name, code, body, c.want)
		}
		code, body, _ = in.do("POST", "/api/v1/endpoints/test", jsonBody(t, c.body),
			http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}})
		if code != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s, tested unsaved: %d %s, want 400 with %q", name, code, body, c.want)
		}
	}
	// Not JSON: sent as written.
	in.endpoint(base(map[string]any{"name": "plain", "body_template": `Alert: {{title}}`, "headers": map[string]string{"Content-Type": "text/plain"}}))
	// Valid for any event: placeholders outside strings are JSON values.
	in.endpoint(base(map[string]any{"name": "ok", "body_template": `{"n": {{data.count}}, "d": {{data}}, "t": "{{title}}"}`}))
}

// A body that cannot be built for an event (here: past the 8 MiB cap on a
// rendered body) fails the delivery at once, with why in the attempt,
// rather than being retried for a day.
func TestRenderErrorIsFinal(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	tmpl := "[" + strings.TrimSuffix(strings.Repeat(`{{data.s}},`, 10), ",") + "]"
	e := in.endpoint(map[string]any{"name": "big", "url": s.URL + "/in", "event_types": []string{"*"}, "body_template": tmpl})
	code, body, _, err := publishKeyed(in.url, "", jsonBody(t, map[string]any{"type": "x.y", "data": map[string]any{"s": strings.Repeat("a", 900<<10)}}))
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("publish: %d %s %v", code, body, err)
	}
	ds := in.settled(e.ID, 1)
	var d delivery
	in.api("GET", "/deliveries/"+ds[0].ID, nil, http.StatusOK, &d)
	if d.Status != "FAILED" || d.AttemptCount != 1 || len(d.Attempts) != 1 ||
		!strings.Contains(d.Attempts[0].Error, "building the request (not retried): ") || !strings.Contains(d.Attempts[0].Error, "too large") {
		t.Fatalf("delivery %+v", d)
	}
	if bodies, _ := s.received(); len(bodies) != 0 {
		t.Fatalf("the receiver got %d requests", len(bodies))
	}
}
