package transfer_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/transfer"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.UTC)
	var zero time.Time
	for _, tc := range []struct {
		name string
		a, b any
		want string
	}{
		{"same", &storage.User{ID: "u", CreatedAt: at}, &storage.User{ID: "u", CreatedAt: at}, ""},
		{"a time elsewhere", &storage.User{CreatedAt: at}, &storage.User{CreatedAt: at.In(time.FixedZone("x", 3600))}, ""},
		{"a nanosecond later", &storage.User{CreatedAt: at}, &storage.User{CreatedAt: at.Add(1)}, "CreatedAt"},
		{"nil and empty map", &storage.Provider{}, &storage.Provider{Secrets: map[string]string{}}, ""},
		{"a secret", &storage.Provider{Secrets: map[string]string{"k": "a"}}, &storage.Provider{Secrets: map[string]string{"k": "b"}}, `Secrets["k"]`},
		{"a secret's name", &storage.Provider{Secrets: map[string]string{"k": "a"}}, &storage.Provider{Secrets: map[string]string{"j": "a"}}, "Secrets"},
		{"nil time and zero time", &storage.Delivery{}, &storage.Delivery{NextAt: &zero}, ""},
		{"nil time and a time", &storage.Delivery{}, &storage.Delivery{NextAt: &at}, "NextAt"},
		{"embedded field", &transfer.Provider{Provider: storage.Provider{Name: "a"}}, &transfer.Provider{Provider: storage.Provider{Name: "b"}}, "Name"},
		{"a version", &transfer.Function{Versions: []storage.ScriptVersion{{Version: 1, Script: "a"}}},
			&transfer.Function{Versions: []storage.ScriptVersion{{Version: 1, Script: "b"}}}, "Versions[0].Script"},
		{"a body", &transfer.Message{Payload: []byte{1, 2}}, &transfer.Message{Payload: []byte{1, 3}}, "Payload"},
		{"nil and empty body", &transfer.Message{}, &transfer.Message{Payload: []byte{}}, ""},
		{"event data as written", &storage.EncodedEvent{DataJSON: json.RawMessage(`{"a":1}`)},
			&storage.EncodedEvent{DataJSON: json.RawMessage(`{"a": 1}`)}, "DataJSON"},
		{"decoded data", &storage.EncodedEvent{Event: storage.Event{Data: map[string]any{"a": []any{1.0, "x"}}}},
			&storage.EncodedEvent{Event: storage.Event{Data: map[string]any{"a": []any{1.0, "y"}}}}, `Data["a"][1]`},
		{"a number of another type", &storage.EncodedEvent{Event: storage.Event{Data: map[string]any{"a": 1.0}}},
			&storage.EncodedEvent{Event: storage.Event{Data: map[string]any{"a": "1"}}}, `Data["a"]`},
		{"a callback's secret", &storage.Delivery{Callback: &storage.Callback{Auth: storage.Auth{Password: "a"}}},
			&storage.Delivery{Callback: &storage.Callback{Auth: storage.Auth{Password: "b"}}}, "Callback.Auth.Password"},
	} {
		if got := transfer.Diff(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
