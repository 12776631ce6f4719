package notify_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

// TestFilterDecidesDeliveries: of two endpoints subscribed to the same
// types, the filtered one gets a delivery only for the events its filter
// matches; the other gets every one.
func TestFilterDecidesDeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	all := newReceiver(t, nil)
	some := newReceiver(t, nil)
	plain := e.endpoint(t, storage.Endpoint{Name: "all", URL: all.URL + "/all", EventTypes: []string{"alarm.*"}})
	filtered := e.endpoint(t, storage.Endpoint{Name: "db-critical", URL: some.URL + "/db", EventTypes: []string{"alarm.*"},
		Filter: map[string]any{
			"data.severity": map[string]any{"$in": []any{"critical"}},
			"data.host":     map[string]any{"$regex": "^db-"},
		}})

	events := []struct {
		data map[string]any
		want int // deliveries
	}{
		{map[string]any{"severity": "critical", "host": "db-01"}, 2},
		{map[string]any{"severity": "minor", "host": "db-01"}, 1},
		{map[string]any{"severity": "critical", "host": "web-01"}, 1},
		{map[string]any{"host": "db-02"}, 1}, // no severity: $in does not match a missing path
		{nil, 1},
	}
	var wantHosts []string
	for i, ev := range events {
		_, n := e.publish(t, storage.Event{Type: "alarm.host_lost", Title: "Host lost", Data: ev.data})
		if n != ev.want {
			t.Fatalf("event %d (%v): %d deliveries, want %d", i, ev.data, n, ev.want)
		}
		if ev.want == 2 {
			wantHosts = append(wantHosts, ev.data["host"].(string))
		}
	}
	e.settled(t, plain.ID, len(events))
	e.settled(t, filtered.ID, len(wantHosts))
	got := some.requests()
	if len(got) != len(wantHosts) {
		t.Fatalf("the filtered endpoint got %d requests, want %d", len(got), len(wantHosts))
	}
	for i, r := range got {
		var body struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Data["host"] != wantHosts[i] || body.Data["severity"] != "critical" {
			t.Fatalf("request %d: %s", i, r.Body)
		}
	}
	if n := len(all.requests()); n != len(events) {
		t.Fatalf("the unfiltered endpoint got %d requests, want %d", n, len(events))
	}

	// An event whose only subscriber's filter turns it away is not
	// stored: no deliveries.
	if err := e.eng.DeleteEndpoint(t.Context(), plain.ID); err != nil {
		t.Fatal(err)
	}
	if _, n := e.publish(t, storage.Event{Type: "alarm.x", Data: map[string]any{"severity": "minor"}}); n != 0 {
		t.Fatalf("deliveries: %d, want 0", n)
	}
}

// TestFilterIsCheckedAtSave: a bad filter is refused with a 400-class
// error that names the filter and the path; an empty one is no filter.
func TestFilterIsCheckedAtSave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	bad := map[string]any{"data.severity": map[string]any{"$like": "crit%"}}
	name, url := "f", "https://example.com/hook"
	_, err := e.eng.CreateEndpoint(t.Context(), notify.EndpointChange{Name: &name, URL: &url,
		EventTypes: &[]string{"*"}, Filter: &bad})
	if !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), `filter: "data.severity": unknown operator "$like"`) {
		t.Fatalf("bad filter: %v", err)
	}
	good := map[string]any{"data.level": map[string]any{"$gte": 3.0}}
	ep, err := e.eng.CreateEndpoint(t.Context(), notify.EndpointChange{Name: &name, URL: &url, EventTypes: &[]string{"*"}, Filter: &good})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.store.GetEndpoint(t.Context(), ep.ID)
	if err != nil || stored.Filter["data.level"].(map[string]any)["$gte"] != 3.0 {
		t.Fatalf("stored filter: %#v %v", stored.Filter, err)
	}
	none := map[string]any{}
	ep, err = e.eng.UpdateEndpoint(t.Context(), ep.ID, notify.EndpointChange{Filter: &none})
	if err != nil || ep.Filter != nil {
		t.Fatalf("clearing the filter: %#v %v", ep.Filter, err)
	}
}
