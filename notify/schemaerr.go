package notify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileError turns the library's error for a schema that does not
// compile into one line for the editor: a reference to another document
// names it (relative to the schema, as written), a schema the
// metaschema refuses gives its first failing place (`#/properties/a/type:
// value must be one of ...`) rather than every branch the metaschema
// tried, and anything else loses the made-up URL the schema is compiled
// under.
func compileError(err error) error {
	var le *jsonschema.LoadURLError
	if errors.As(err, &le) {
		ref := strings.TrimPrefix(le.URL, schemaURL[:strings.LastIndex(schemaURL, "/")+1])
		return fmt.Errorf("may not refer to another document (%q), only to its own parts (\"#/$defs/...\")", ref)
	}
	var se *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if errors.As(err, &se) && errors.As(se.Err, &ve) {
		for len(ve.Causes) > 0 {
			ve = ve.Causes[0]
		}
		place := "#"
		for _, tok := range ve.InstanceLocation {
			place += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
		}
		return errors.New(place + ": " + ve.ErrorKind.LocalizedString(printer))
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(err.Error(), schemaURL, "schema"), "\n") {
		if l = strings.TrimPrefix(strings.TrimSpace(l), "- "); l != "" {
			lines = append(lines, l)
		}
	}
	return errors.New(strings.Join(lines, "; "))
}
