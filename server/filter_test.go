package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestEndpointFilterAPI: a filter is refused with a 400 that names the
// path when it is bad, shown on get as it was saved, applied to what
// POST /events delivers, and removed by PUT with {}.
func TestEndpointFilterAPI(t *testing.T) {
	t.Parallel()
	in := start(t, allowPrivate)
	s := newSink(t)
	base := func(filter any) map[string]any {
		return map[string]any{"name": "pager", "url": s.URL + "/db", "event_types": []string{"alarm.*"}, "filter": filter}
	}
	bad := []struct {
		filter any
		want   string
	}{
		{map[string]any{"data.severity": map[string]any{"$like": "crit"}}, `filter: "data.severity": unknown operator "$like"`},
		{map[string]any{"data.severity": map[string]any{"$in": "critical"}}, `filter: "data.severity": $in needs an array of values, got a string`},
		{map[string]any{"data.host": map[string]any{"$regex": "(db"}}, `filter: "data.host": $regex: error parsing regexp`},
		{map[string]any{"data.level": map[string]any{"$gt": true}}, `filter: "data.level": $gt needs a number or a string, got a boolean`},
		{map[string]any{"data.up": map[string]any{"$exists": 1}}, `filter: "data.up": $exists needs true or false, got a number`},
		{map[string]any{"severity": "critical"}, `filter: "severity": a path starts with one of the event's fields`},
		{map[string]any{"$or": []any{}}, `filter: "$or": is not a path`},
		{"critical", `filter must be an object, got a string`},
	}
	for _, c := range bad {
		var got struct{ Error string }
		in.api("POST", "/endpoints", base(c.filter), http.StatusBadRequest, &got)
		if !strings.Contains(got.Error, c.want) {
			t.Errorf("%v: %q, want it to say %q", c.filter, got.Error, c.want)
		}
	}

	filter := map[string]any{"data.severity": map[string]any{"$in": []any{"critical"}}, "data.host": map[string]any{"$regex": "^db-"}}
	e := in.endpoint(base(filter))
	var got struct {
		Filter map[string]any `json:"filter"`
	}
	in.api("GET", "/endpoints/"+e.ID, nil, http.StatusOK, &got)
	if !reflect.DeepEqual(got.Filter, filter) {
		t.Fatalf("filter on get: %#v, want %#v", got.Filter, filter)
	}

	publish := func(host string) int {
		var pub struct {
			Deliveries int `json:"deliveries"`
		}
		in.api("POST", "/events", map[string]any{"type": "alarm.host_lost", "title": host + " lost",
			"data": map[string]any{"severity": "critical", "host": host}}, http.StatusAccepted, &pub)
		return pub.Deliveries
	}
	if n := publish("db-01"); n != 1 {
		t.Fatalf("a matching event made %d deliveries", n)
	}
	if n := publish("web-03"); n != 0 {
		t.Fatalf("an event the filter refuses made %d deliveries", n)
	}
	in.settled(e.ID, 1)
	bodies, _ := s.received()
	if len(bodies) != 1 || bodies[0]["data"].(map[string]any)["host"] != "db-01" {
		t.Fatalf("received: %v", bodies)
	}

	// PUT without filter keeps it; with {} removes it.
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"description": "db on-call"}, http.StatusOK, nil)
	in.api("GET", "/endpoints/"+e.ID, nil, http.StatusOK, &got)
	if len(got.Filter) != 2 {
		t.Fatalf("a PUT without filter changed it: %#v", got.Filter)
	}
	var raw json.RawMessage
	in.api("PUT", "/endpoints/"+e.ID, map[string]any{"filter": map[string]any{}}, http.StatusOK, &raw)
	if strings.Contains(string(raw), `"filter"`) {
		t.Fatalf("the filter is still shown: %s", raw)
	}
	if n := publish("web-04"); n != 1 {
		t.Fatalf("without a filter: %d deliveries", n)
	}
}
