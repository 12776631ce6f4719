package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type catalogueEntry struct {
	Type        string          `json:"type"`
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example"`
	Schema      json.RawMessage `json:"schema"`
	Source      string          `json:"source"`
	LastSeen    string          `json:"last_seen"`
}

func (in *instance) catalogue() map[string]catalogueEntry {
	in.t.Helper()
	var out struct {
		Items []catalogueEntry `json:"items"`
	}
	in.api("GET", "/event-types?limit=500", nil, http.StatusOK, &out)
	m := map[string]catalogueEntry{}
	for _, e := range out.Items {
		m[e.Type] = e
	}
	return m
}

// TestEventTypeCatalogue: the catalogue lists the system types, the
// declared ones and the undeclared ones seen; a declared type's schema
// is enforced by POST /events and NOTIFY.send with a 400 naming the
// failing path; bad declarations (a schema that does not compile or
// loads another document, a system type, a wildcard, an example the
// schema refuses) are refused; viewers read but cannot declare.
func TestEventTypeCatalogue(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)

	cat := in.catalogue()
	for _, name := range []string{"message.failed", "message.unmatched", "message.succeeded", "endpoint.disabled"} {
		e, ok := cat[name]
		if !ok || e.Source != "system" || e.Description == "" || len(e.Example) == 0 || (e.Kind != "event" && e.Kind != "alarm") {
			t.Fatalf("system type %s in the catalogue: %+v", name, e)
		}
	}

	schema := map[string]any{"type": "object", "required": []string{"severity", "host"},
		"properties": map[string]any{"severity": map[string]any{"enum": []string{"critical", "major", "minor"}}, "host": map[string]any{"type": "string"}}}
	var saved catalogueEntry
	in.api("POST", "/event-types/alarm.host_lost", map[string]any{"kind": "alarm", "description": "A host stopped answering",
		"example": map[string]any{"severity": "critical", "host": "db-01"}, "schema": schema}, http.StatusCreated, &saved)
	if saved.Type != "alarm.host_lost" || saved.Kind != "alarm" || saved.Source != "declared" {
		t.Fatalf("declared: %+v", saved)
	}
	if msg := string(in.api("POST", "/event-types/alarm.host_lost", map[string]any{"kind": "alarm"}, http.StatusConflict, nil)); strings.Contains(msg, "put") {
		t.Fatalf("declaring it again: %s, a POST", msg)
	}
	in.api("PUT", "/event-types/cloud.resource.created", map[string]any{"description": "A resource was created"}, http.StatusCreated, &saved)
	if saved.Kind != "event" {
		t.Fatalf("default kind: %+v", saved)
	}
	in.api("PUT", "/event-types/cloud.resource.created", map[string]any{"description": "A cloud resource was created"}, http.StatusOK, nil)

	bad := []struct {
		path string
		body map[string]any
		code int
		want string
	}{
		{"/event-types/message.failed", map[string]any{}, http.StatusConflict, "system event type"},
		{"/event-types/alarm.*", map[string]any{}, http.StatusBadRequest, "must not hold spaces or '*'"},
		{"/event-types/x", map[string]any{"kind": "warning"}, http.StatusBadRequest, `kind: must be "event" or "alarm"`},
		{"/event-types/x", map[string]any{"schema": map[string]any{"type": "no-such-type"}}, http.StatusBadRequest, "schema: "},
		{"/event-types/x", map[string]any{"schema": map[string]any{"$ref": "https://example.com/s.json"}}, http.StatusBadRequest, "may not refer to another document"},
		{"/event-types/x", map[string]any{"schema": map[string]any{"$ref": "file:///etc/passwd"}}, http.StatusBadRequest, "may not refer to another document"},
		{"/event-types/x", map[string]any{"schema": []any{}}, http.StatusBadRequest, "schema: must be a JSON object"},
		{"/event-types/x", map[string]any{"schema": schema, "example": map[string]any{"severity": "low", "host": "a"}}, http.StatusBadRequest, "example does not satisfy the schema: data.severity: value must be one of"},
		{"/event-types/x", map[string]any{"schema": map[string]any{"description": strings.Repeat("a", 70<<10)}}, http.StatusBadRequest, "at most 65536 bytes"},
		{"/event-types/x", map[string]any{"type": "y"}, http.StatusBadRequest, "the body names"},
	}
	for _, c := range bad {
		var got struct{ Error string }
		in.api("PUT", c.path, c.body, c.code, &got)
		if !strings.Contains(got.Error, c.want) {
			t.Errorf("PUT %s %v: %q, want it to say %q", c.path, c.body, got.Error, c.want)
		}
	}

	// POST /events enforces the schema.
	var got struct{ Error string }
	in.api("POST", "/events", map[string]any{"type": "alarm.host_lost", "data": map[string]any{"severity": "urgent", "host": "db-01"}},
		http.StatusBadRequest, &got)
	if want := `data does not satisfy the schema of event type "alarm.host_lost": data.severity: value must be one of 'critical', 'major', 'minor'`; !strings.Contains(got.Error, want) {
		t.Fatalf("bad data: %q, want %q", got.Error, want)
	}
	in.api("POST", "/events", map[string]any{"type": "alarm.host_lost"}, http.StatusBadRequest, &got)
	if !strings.Contains(got.Error, "data: missing properties 'severity', 'host'") {
		t.Fatalf("no data: %q", got.Error)
	}
	in.api("POST", "/events", map[string]any{"type": "alarm.host_lost", "data": map[string]any{"severity": "critical", "host": "db-01"}}, http.StatusAccepted, nil)
	// Undeclared types publish as before, and are listed as seen.
	in.api("POST", "/events", map[string]any{"type": "build.failed", "data": map[string]any{"anything": 1}}, http.StatusAccepted, nil)

	// So does NOTIFY.send: the script's call throws.
	p := in.provider("any", "return true")
	in.function(p.ID, "alarm", "mon/alarm", `NOTIFY.send("alarm.host_lost", {title: "lost", data: {severity: PAYLOAD.severity, host: "db-01"}});`)
	code, a := in.send("mon/alarm", []byte(`{"severity": "urgent"}`), true, nil)
	if code == http.StatusOK || !strings.Contains(string(jsonBody(t, a)), "data.severity: value must be one of") {
		t.Fatalf("NOTIFY.send of bad data: %d %+v", code, a)
	}
	if code, a := in.send("mon/alarm", []byte(`{"severity": "major"}`), true, nil); code != http.StatusOK {
		t.Fatalf("NOTIFY.send of good data: %d %+v", code, a)
	}

	cat = in.catalogue()
	if e := cat["build.failed"]; e.Source != "seen" || e.LastSeen == "" {
		t.Fatalf("a published undeclared type: %+v", e)
	}
	if e := cat["alarm.host_lost"]; e.Source != "declared" || e.Kind != "alarm" || !strings.Contains(string(e.Schema), "severity") {
		t.Fatalf("a declared type: %+v", e)
	}
	if e := cat["cloud.resource.created"]; e.Description != "A cloud resource was created" {
		t.Fatalf("a replaced type: %+v", e)
	}
	in.api("GET", "/event-types/message.failed", nil, http.StatusOK, &saved)
	// A type that needs escaping in a path is named escaped.
	in.api("PUT", "/event-types/ops%3Fx%25y", map[string]any{}, http.StatusCreated, &saved)
	if saved.Type != "ops?x%y" {
		t.Fatalf("an escaped type was declared as %q", saved.Type)
	}
	in.api("DELETE", "/event-types/ops%3Fx%25y", nil, http.StatusNoContent, nil)
	in.api("GET", "/event-types/nope", nil, http.StatusNotFound, nil)

	// Viewers read the catalogue; only editors declare.
	_, viewer := in.user("vera", "viewer")
	if code, _ := in.as(viewer, "GET", "/event-types", nil, nil); code != http.StatusOK {
		t.Fatalf("viewer list: %d", code)
	}
	if code, _ := in.as(viewer, "PUT", "/event-types/x", []byte(`{}`), nil); code != http.StatusForbidden {
		t.Fatalf("viewer declare: %d", code)
	}

	// Deleting the declaration lifts the schema.
	in.api("DELETE", "/event-types/alarm.host_lost", nil, http.StatusNoContent, nil)
	in.api("DELETE", "/event-types/alarm.host_lost", nil, http.StatusNotFound, nil)
	in.api("POST", "/events", map[string]any{"type": "alarm.host_lost", "data": map[string]any{"severity": "urgent"}}, http.StatusAccepted, nil)

	// Audited.
	var audit struct {
		Items []struct{ Action, Target string } `json:"items"`
	}
	in.api("GET", "/audit", nil, http.StatusOK, &audit)
	actions := map[string]bool{}
	for _, e := range audit.Items {
		actions[e.Action+" "+e.Target] = true
	}
	for _, want := range []string{"event_type.create alarm.host_lost", "event_type.update cloud.resource.created", "event_type.delete alarm.host_lost"} {
		if !actions[want] {
			t.Errorf("audit lacks %q: %v", want, audit.Items)
		}
	}
}

// TestAlarmCatalogueWorkedExample runs docs/notifications.md's "an alarm
// catalogue with a filter": two alarms declared with a schema, a pager
// subscribed to alarm.* with a filter; a critical db alarm is delivered,
// a web host's is filtered out, and an alarm with a severity the schema
// does not know is refused before anything is stored.
func TestAlarmCatalogueWorkedExample(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	schema := map[string]any{"type": "object", "required": []string{"severity", "host"},
		"properties": map[string]any{"severity": map[string]any{"enum": []string{"critical", "major", "minor"}}, "host": map[string]any{"type": "string"}}}
	for name, desc := range map[string]string{"alarm.host_lost": "A monitored host stopped answering", "alarm.recovery_timeout": "A host did not recover in time"} {
		in.api("PUT", "/event-types/"+name, map[string]any{"kind": "alarm", "description": desc,
			"example": map[string]any{"severity": "critical", "host": "db-01"}, "schema": schema}, http.StatusCreated, nil)
	}
	cat := in.catalogue()
	for _, name := range []string{"alarm.host_lost", "alarm.recovery_timeout"} {
		if e := cat[name]; e.Kind != "alarm" || e.Source != "declared" {
			t.Fatalf("%s: %+v", name, e)
		}
	}
	e := in.endpoint(map[string]any{"name": "DB pager", "url": s.URL + "/hook", "event_types": []string{"alarm.*"},
		"filter": map[string]any{"data.severity": map[string]any{"$in": []string{"critical"}}, "data.host": map[string]any{"$regex": "^db-"}}})
	publish := func(host, severity string, want int) int {
		var pub struct {
			Deliveries int `json:"deliveries"`
			Error      string
		}
		in.api("POST", "/events", map[string]any{"type": "alarm.host_lost", "title": host + " lost",
			"data": map[string]any{"severity": severity, "host": host}}, want, &pub)
		if want == http.StatusBadRequest && !strings.Contains(pub.Error, `data.severity: value must be one of 'critical', 'major', 'minor'`) {
			t.Fatalf("refusal: %q", pub.Error)
		}
		return pub.Deliveries
	}
	if n := publish("db-01", "critical", http.StatusAccepted); n != 1 {
		t.Fatalf("db-01: %d deliveries", n)
	}
	if n := publish("web-03", "critical", http.StatusAccepted); n != 0 {
		t.Fatalf("web-03: %d deliveries", n)
	}
	publish("db-02", "urgent", http.StatusBadRequest)
	in.settled(e.ID, 1)
	if bodies, _ := s.received(); len(bodies) != 1 || bodies[0]["data"].(map[string]any)["host"] != "db-01" {
		t.Fatalf("received: %v", bodies)
	}
}

// TestEventTypePathIsDecodedOnce: the {type} of /event-types/{type} is
// decoded once whatever its escapes: %25 is '%', %41 is 'A', and a '/'
// (%2F) is refused, as no path could name that type again.
func TestEventTypePathIsDecodedOnce(t *testing.T) {
	t.Parallel()
	in := start(t)
	var e catalogueEntry
	in.api("PUT", "/event-types/a%25b", map[string]any{"kind": "event"}, http.StatusCreated, &e)
	if e.Type != "a%b" {
		t.Errorf("PUT /event-types/a%%25b declared %q, want a%%b", e.Type)
	}
	in.api("PUT", "/event-types/x%41y", map[string]any{"kind": "event"}, http.StatusCreated, &e)
	if e.Type != "xAy" {
		t.Errorf("PUT /event-types/x%%41y declared %q, want xAy", e.Type)
	}
	for _, p := range []string{"/event-types/a%25b", "/event-types/%61%25b", "/event-types/xAy"} {
		in.api("GET", p, nil, http.StatusOK, &e)
	}
	body := in.api("PUT", "/event-types/a%2Fb", map[string]any{"kind": "event"}, http.StatusBadRequest, nil)
	if !strings.Contains(string(body), "may not hold '/'") {
		t.Errorf("PUT /event-types/a%%2Fb: %s", body)
	}
	if _, ok := in.catalogue()["a%2Fb"]; ok {
		t.Error("a%2Fb was declared literally")
	}
}
