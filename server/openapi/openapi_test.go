package openapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSON(t *testing.T) {
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
		t.Fatalf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
	}
}

func TestToJSONRefusesWhatJSONCannotHold(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"integer key", "responses:\n  200: {description: ok}\n", "not a string"},
		{"timestamp", "a: !!timestamp 2026-12-03T14:00:00Z\n", "no JSON form"},
		{"broken", "a: [\n", "openapi.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := toJSON([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
