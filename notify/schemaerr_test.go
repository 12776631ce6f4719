package notify

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// TestSchemaCompileErrorsAreShort: a schema that does not compile is
// refused in one short line that says what to fix: the document it
// refers to, or the first place the metaschema refuses, not the
// library's wording or every branch the metaschema tried.
func TestSchemaCompileErrorsAreShort(t *testing.T) {
	for s, want := range map[string]string{
		`{"$ref": "https://example.com/s.json"}`:    `schema: may not refer to another document ("https://example.com/s.json"), only to its own parts`,
		`{"$ref": "other.json"}`:                    `schema: may not refer to another document ("other.json")`,
		`{"type": "objekt"}`:                        `schema: #/type: value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'`,
		`{"properties": {"a/b": {"minimum": "3"}}}`: `schema: #/properties/a~1b/minimum: got string, want number`,
	} {
		_, err := CheckEventType("t", EventTypeChange{Schema: json.RawMessage(s)})
		if err == nil || !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it refused saying %q", s, err, want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "failing loading") || strings.Contains(msg, "metaschema") || strings.Contains(msg, "allOf") || len(msg) > 200 {
			t.Errorf("%s: %q, want one short line without the library's wording", s, msg)
		}
	}
}
