// Package functions owns the function model, URI routing, and the
// dispatcher that takes each received message through matching and the
// functions it routes to, recording what happened.
package functions

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// Function script time limits.
const (
	DefaultTimeout = 30 * time.Second
	MaxTimeout     = 5 * time.Minute
)

// NormalizeURI turns a user's URI into the form routing compares: no
// leading or trailing slash, no query string.
func NormalizeURI(uri string) string {
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return strings.Trim(strings.TrimSpace(uri), "/")
}

// Normalize fills defaults and checks a function before it is saved. Its
// errors wrap storage.ErrInvalid; a script that does not compile is refused
// with the compiler's message and line.
func Normalize(f *storage.Function) error {
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" {
		return fmt.Errorf("%w: name is required", storage.ErrInvalid)
	}
	if err := field.Name("name", f.Name, field.MaxName); err != nil {
		return err
	}
	if err := field.Text("description", f.Description, field.MaxDescription); err != nil {
		return err
	}
	if f.ProviderID == "" {
		return fmt.Errorf("%w: provider_id is required", storage.ErrInvalid)
	}
	f.URI = NormalizeURI(f.URI)
	if f.URI == "" {
		return fmt.Errorf("%w: uri is required (the part after /webhooks/v1/, e.g. \"git/push\")", storage.ErrInvalid)
	}
	if err := field.Line("uri", f.URI, field.MaxURI); err != nil {
		return err
	}
	if _, err := parsePattern(f.URI); err != nil {
		return err
	}
	if f.TimeoutMS == 0 {
		f.TimeoutMS = int(DefaultTimeout / time.Millisecond)
	}
	if err := field.Int("timeout_ms", f.TimeoutMS, 1, int(MaxTimeout.Milliseconds())); err != nil {
		return err
	}
	if strings.TrimSpace(f.Script) == "" {
		return fmt.Errorf("%w: script is required", storage.ErrInvalid)
	}
	if _, err := scripting.Compile(f.Name, f.Script); err != nil {
		return fmt.Errorf("%w: script: %w", storage.ErrInvalid, err)
	}
	return nil
}

// Compiled is an active function ready to run.
type Compiled struct {
	storage.Function
	Program *scripting.Program
	Timeout time.Duration
}

// BuildRoutes compiles the active functions of list, reusing the programs
// of prev for unchanged versions, and indexes them by provider and uri.
func BuildRoutes(list []storage.Function, prev *Routes) (*Routes, error) {
	old := map[string]*Compiled{}
	if prev != nil {
		for _, c := range prev.all {
			old[c.ID] = c
		}
	}
	r := &Routes{byProvider: map[string]*providerRoutes{}}
	for _, f := range list {
		if !f.Active {
			continue
		}
		c := &Compiled{Function: f, Timeout: time.Duration(f.TimeoutMS) * time.Millisecond}
		if c.Timeout <= 0 {
			c.Timeout = DefaultTimeout
		}
		if o := old[f.ID]; o != nil && o.Version == f.Version && o.Script == f.Script {
			c.Program = o.Program
		} else {
			prog, err := scripting.Compile("function:"+f.Name, f.Script)
			if err != nil {
				return nil, fmt.Errorf("function %s (%s): %w", f.Name, f.ID, err)
			}
			c.Program = prog
		}
		r.add(c)
	}
	return r, nil
}
