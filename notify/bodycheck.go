package notify

import (
	"maps"
	"net/http"
	"slices"

	"github.com/switchyard-dev/switchyard/notify/template"
	"github.com/switchyard-dev/switchyard/storage"
)

// checkBodiesRender refuses a body template that cannot render valid JSON
// when the body is sent as JSON (the endpoint's Content-Type, by default
// application/json). It renders each of body_template and body_templates
// for a sample event: a value lands as one JSON value or inside a string,
// so what a template's validity hangs on is its own text, and a template
// that fails here fails for every event (each delivery would otherwise be
// retried for a day before failing).
func checkBodiesRender(e *storage.Endpoint) error {
	if e.Method == http.MethodGet {
		return nil // no body is sent
	}
	v := sampleVars()
	ct := "application/json"
	if k := headerName(e.Headers, "Content-Type"); k != "" {
		t, err := template.Parse(e.Headers[k])
		if err != nil {
			return nil // the header's own check says so
		}
		ct = t.Text(v)
	}
	if !isJSON(ct) {
		return nil
	}
	fields := [][2]string{{"body_template", e.BodyTemplate}}
	for _, lang := range slices.Sorted(maps.Keys(e.BodyTemplates)) {
		fields = append(fields, [2]string{"body_templates." + lang, e.BodyTemplates[lang]})
	}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		t, err := template.Parse(f[1])
		if err != nil {
			continue // its own check says so
		}
		if _, err := t.JSON(v); err != nil {
			return invalid("%s: %v (rendered for a sample event: the body is sent as JSON, Content-Type %s; fix the template, or set a Content-Type header that is not JSON)",
				f[0], err, ct)
		}
	}
	return nil
}

// sampleVars are the values of a typical event, for checking templates.
func sampleVars() template.Vars {
	return template.Vars{
		ID: "019cb82a-bc00-7000-8000-000000000001", Type: TestType, Title: "Sample title", SubTitle: "Sample sub-title",
		Message: "Sample message", Logo: "https://example.com/logo.png", Image: "https://example.com/image.png",
		Time: "2026-01-02T03:04:05Z", Timestamp: "1767323045000", Sign: "c2FtcGxl",
		Data: map[string]any{"endpoint_id": "019cb82a-bc00-7000-8000-000000000002", "endpoint_name": "sample"},
	}
}
