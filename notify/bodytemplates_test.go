package notify_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// TestBodyTemplatesByLanguage: an endpoint whose language has a template in
// body_templates is sent that one; an endpoint of another language falls
// back to body_template, and one with neither gets the default body.
func TestBodyTemplatesByLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rcv := newReceiver(t, nil)
	templates := map[string]string{"zh": `{"lang": "zh", "text": "{{title}}"}`}
	fallback := `{"lang": "default", "text": "{{title}}"}`
	zh := e.endpoint(t, storage.Endpoint{Name: "zh", URL: rcv.URL + "/zh", EventTypes: []string{"build.*"}, Language: "zh",
		BodyTemplate: fallback, BodyTemplates: templates})
	en := e.endpoint(t, storage.Endpoint{Name: "en", URL: rcv.URL + "/en", EventTypes: []string{"build.*"}, Language: "en",
		BodyTemplate: fallback, BodyTemplates: templates})
	plain := e.endpoint(t, storage.Endpoint{Name: "plain", URL: rcv.URL + "/plain", EventTypes: []string{"build.*"}, Language: "en",
		BodyTemplates: templates})

	if _, n := e.publish(t, storage.Event{Type: "build.done", Title: "Build done"}); n != 3 {
		t.Fatalf("deliveries: %d, want 3", n)
	}
	for _, id := range []string{zh.ID, en.ID, plain.ID} {
		e.settled(t, id, 1)
	}
	got := map[string]map[string]any{}
	for _, r := range rcv.requests() {
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("%s: %v: %s", r.Path, err, r.Body)
		}
		got[r.Path] = body
	}
	if b := got["/zh"]; b["lang"] != "zh" || b["text"] != "Build done" {
		t.Errorf("zh endpoint: %v", b)
	}
	if b := got["/en"]; b["lang"] != "default" || b["text"] != "Build done" {
		t.Errorf("en endpoint: %v", b)
	}
	if b := got["/plain"]; b["lang"] != nil || b["type"] != "build.done" || b["title"] != "Build done" {
		t.Errorf("endpoint without body_template: %v", b)
	}
}

// TestBodyTemplatesAreCheckedAtSave: a language Switchyard does not know
// and a template that does not parse are refused with a 400-class error
// naming body_templates; an empty template is none.
func TestBodyTemplatesAreCheckedAtSave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	name, url := "t", "https://example.com/hook"
	for _, tt := range []struct {
		templates map[string]string
		want      string
	}{
		{map[string]string{"fr": "{{title}}"}, `body_templates: language "fr" is not one of en, zh`},
		{map[string]string{"zh": "{{title"}, `body_templates.zh: `},
	} {
		_, err := e.eng.CreateEndpoint(t.Context(), notify.EndpointChange{Name: &name, URL: &url,
			EventTypes: &[]string{"*"}, BodyTemplates: &tt.templates})
		if !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.templates, err, tt.want)
		}
	}
	good := map[string]string{"zh": "{{title}}", "en": ""}
	ep, err := e.eng.CreateEndpoint(t.Context(), notify.EndpointChange{Name: &name, URL: &url, EventTypes: &[]string{"*"}, BodyTemplates: &good})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.store.GetEndpoint(t.Context(), ep.ID)
	if err != nil || len(stored.BodyTemplates) != 1 || stored.BodyTemplates["zh"] != "{{title}}" {
		t.Fatalf("stored body_templates: %#v %v", stored.BodyTemplates, err)
	}
	none := map[string]string{}
	ep, err = e.eng.UpdateEndpoint(t.Context(), ep.ID, notify.EndpointChange{BodyTemplates: &none})
	if err != nil || ep.BodyTemplates != nil {
		t.Fatalf("clearing body_templates: %#v %v", ep.BodyTemplates, err)
	}
}
