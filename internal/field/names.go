package field

import (
	"fmt"
	"strings"

	"github.com/switchyard-dev/switchyard/storage"
)

// NameKey is what two names of one kind (providers, functions,
// endpoints) are compared by: without surrounding spaces and without
// case, so "Anyone" and " anyone" are one name. Case-insensitive
// because the names become file names (config as code) on file systems
// that ignore case.
func NameKey(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// NameTakenError is a create or a rename onto a name another record of
// the same kind holds. It wraps storage.ErrConflict (a 409).
type NameTakenError struct {
	Kind string // "provider", "function", "endpoint"
	Name string // the name asked for
	ID   string // the record that holds it
}

func (e *NameTakenError) Error() string {
	article := "a"
	if strings.ContainsRune("aeiou", rune(e.Kind[0])) {
		article = "an"
	}
	return fmt.Sprintf("%s %s named %s already exists (id %s); names are unique per kind, ignoring case and surrounding spaces", article, e.Kind, Quote(e.Name), e.ID)
}

// Unwrap makes errors.Is(err, storage.ErrConflict) hold.
func (e *NameTakenError) Unwrap() error { return storage.ErrConflict }

// UniqueName checks that the record id (empty for a new one) may be
// saved as name among all, whose ids and names ident returns: it may
// when no other record holds the name, or when the record already had
// that name, so that a store that holds duplicates from before names
// were unique keeps working (only a create or a rename into a collision
// is refused).
func UniqueName[T any](kind string, all []T, ident func(T) (id, name string), id, name string) error {
	key := NameKey(name)
	var holder string
	for _, r := range all {
		rid, rname := ident(r)
		if NameKey(rname) != key {
			continue
		}
		if id != "" && rid == id {
			return nil // not a rename
		}
		if holder == "" {
			holder = rid
		}
	}
	if holder != "" {
		return &NameTakenError{Kind: kind, Name: strings.TrimSpace(name), ID: holder}
	}
	return nil
}
