package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestEndpointBodyTemplatesAPI: body_templates is refused with a 400 that
// names the language when it is bad, shown on get as saved, used for the
// endpoint's language by POST /events, kept by a PUT without it and
// removed by PUT with {}.
func TestEndpointBodyTemplatesAPI(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	base := func(templates any) map[string]any {
		return map[string]any{"name": "team", "url": s.URL + "/team", "event_types": []string{"build.*"}, "language": "zh",
			"body_template": `{"lang": "default", "text": "{{title}}"}`, "body_templates": templates}
	}
	for _, c := range []struct {
		templates any
		want      string
	}{
		{map[string]string{"fr": "{{title}}"}, `body_templates: language "fr" is not one of en, zh`},
		{map[string]string{"zh": `{"text": "{{title"}`}, `body_templates.zh: `},
		{"zh", `body_templates`},
	} {
		var got struct{ Error string }
		in.api("POST", "/endpoints", base(c.templates), http.StatusBadRequest, &got)
		if !strings.Contains(got.Error, c.want) {
			t.Errorf("%v: %q, want it to say %q", c.templates, got.Error, c.want)
		}
	}

	templates := map[string]string{"zh": `{"lang": "zh", "text": "{{title}}"}`, "en": `{"lang": "en"}`}
	e := in.endpoint(base(templates))
	var got struct {
		BodyTemplates map[string]string `json:"body_templates"`
	}
	in.api("GET", "/endpoints/"+e.ID, nil, http.StatusOK, &got)
	if !reflect.DeepEqual(got.BodyTemplates, templates) {
		t.Fatalf("body_templates on get: %#v, want %#v", got.BodyTemplates, templates)
	}

	publish := func(title string) {
		in.api("POST", "/events", map[string]any{"type": "build.done", "title": title}, http.StatusAccepted, nil)
	}
	publish("构建完成")
	in.settled(e.ID, 1)
	bodies, _ := s.received()
	if len(bodies) != 1 || bodies[0]["lang"] != "zh" || bodies[0]["text"] != "构建完成" {
		t.Fatalf("received: %v", bodies)
	}

	// PUT without body_templates keeps them; with {} removes them, and
	// body_template is used again.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"description": "the team"}, http.StatusOK, nil)
	in.api("GET", "/endpoints/"+e.ID, nil, http.StatusOK, &got)
	if len(got.BodyTemplates) != 2 {
		t.Fatalf("a PUT without body_templates changed them: %#v", got.BodyTemplates)
	}
	var raw json.RawMessage
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"body_templates": map[string]string{}}, http.StatusOK, &raw)
	if strings.Contains(string(raw), `"body_templates"`) {
		t.Fatalf("body_templates are still shown: %s", raw)
	}
	publish("Build done")
	in.settled(e.ID, 2)
	bodies, _ = s.received()
	if len(bodies) != 2 || bodies[1]["lang"] != "default" || bodies[1]["text"] != "Build done" {
		t.Fatalf("received after clearing: %v", bodies)
	}
}
