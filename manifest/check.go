package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// check runs, before any change, the server's own checks of the
// providers and functions the plan would send (providers.Normalize and
// functions.Normalize: the scripts compile, the fields are in range, a
// uri is a valid pattern) and the overlap of the directory's function
// patterns, each record as it would be after the apply: the
// directory's fields over the server's. What only the server can know
// (its other records at the time of the change) stays its answer.
// env holds the secrets' values; one missing (a dry run) counts as set.
func check(cfg *Config, st *State, env map[string]string, prune bool) error {
	var errs []error
	haveP := map[string]*serverProvider{}
	for i := range st.Providers {
		haveP[field.NameKey(st.Providers[i].Name)] = &st.Providers[i]
	}
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		sp := storage.Provider{Name: p.Name, Active: true, MatchScript: p.MatchScript, HandshakeScript: p.HandshakeScript}
		if have := haveP[field.NameKey(p.Name)]; have != nil {
			sp.Description, sp.MatchTimeoutMS, sp.AllowedSources, sp.Properties = deref(have.Description), derefInt(have.MatchTimeoutMS), have.AllowedSources, have.Properties
			if have.Active != nil {
				sp.Active = *have.Active
			}
			sp.Secrets = map[string]string{}
			for _, s := range have.Secrets {
				sp.Secrets[s] = "set"
			}
		}
		if p.Description != nil {
			sp.Description = *p.Description
		}
		if p.MatchTimeoutMS != nil {
			sp.MatchTimeoutMS = *p.MatchTimeoutMS
		}
		if p.AllowedSources != nil {
			sp.AllowedSources = p.AllowedSources
		}
		if p.Properties != nil {
			sp.Properties = p.Properties
		}
		if p.Secrets != nil {
			sp.Secrets = map[string]string{}
			for k, ref := range p.Secrets {
				sp.Secrets[k] = secretValue(env, ref)
			}
		}
		if err := providers.Normalize(&sp); err != nil {
			file := ConfigFile
			var ce *scripting.CompileError
			if errors.As(err, &ce) {
				file = providerScript(p.Name)
				if strings.Contains(err.Error(), "handshake_script:") {
					file = handshakeScript(p.Name)
				}
			}
			errs = append(errs, fmt.Errorf("provider %q (%s): %w", p.Name, file, err))
		}
	}

	haveF := map[string]*serverFunction{}
	for i := range st.Functions {
		haveF[field.NameKey(st.Functions[i].Name)] = &st.Functions[i]
	}
	provKey := map[string]string{} // provider id to name key
	for _, sp := range st.Providers {
		provKey[sp.ID] = field.NameKey(sp.Name)
	}
	// after is every function as the apply leaves it, for the overlap
	// check: ids are name keys, provider ids the providers' name keys.
	var after []storage.Function
	inDir := map[string]bool{}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		key := field.NameKey(f.Name)
		inDir[key] = true
		sf := storage.Function{ID: key, Name: f.Name, ProviderID: field.NameKey(f.Provider), Active: true, Script: f.Script}
		if have := haveF[key]; have != nil {
			sf.Description, sf.URI, sf.TimeoutMS = deref(have.Description), deref(have.URI), derefInt(have.TimeoutMS)
			if have.Active != nil {
				sf.Active = *have.Active
			}
		}
		if f.Description != nil {
			sf.Description = *f.Description
		}
		if f.URI != nil {
			sf.URI = *f.URI
		}
		if f.Active != nil {
			sf.Active = *f.Active
		}
		if f.TimeoutMS != nil {
			sf.TimeoutMS = *f.TimeoutMS
		}
		if err := functions.Normalize(&sf); err != nil {
			file := ConfigFile
			var ce *scripting.CompileError
			if errors.As(err, &ce) {
				file = functionScript(f.Name)
			}
			errs = append(errs, fmt.Errorf("function %q (%s): %w", f.Name, file, err))
			continue
		}
		after = append(after, sf)
	}
	if !prune {
		for _, sf := range st.Functions {
			if key := field.NameKey(sf.Name); !inDir[key] {
				after = append(after, storage.Function{ID: key, Name: sf.Name, ProviderID: provKey[sf.ProviderID],
					URI: deref(sf.URI), Active: sf.Active == nil || *sf.Active})
			}
		}
	}
	for _, f := range after {
		if !inDir[f.ID] {
			continue
		}
		if err := functions.CheckOverlap(f, after); err != nil {
			errs = append(errs, fmt.Errorf("function %q (%s): %w", f.Name, ConfigFile, err))
		}
	}
	return errors.Join(errs...)
}

// secretValue is a reference's value, or a stand-in when it is not set
// (a dry run goes on without it).
func secretValue(env map[string]string, ref string) string {
	if v := env[ref]; v != "" {
		return v
	}
	return "not set"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}
