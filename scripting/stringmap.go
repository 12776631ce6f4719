package scripting

import (
	"net/url"
	"slices"

	"github.com/dop251/goja"
)

// stringMap is the goja.DynamicObject behind HTTP_HEADERS, QUERY_PARAMS and
// PROPERTIES: it reads the request's map directly, so building the global
// costs nothing whatever the number of entries. It behaves like a plain
// object of string values whose keys are in sorted order (array indices
// first, as goja lists them); once the script writes to it or deletes from
// it, it keeps its own copy.
type stringMap struct {
	rt *goja.Runtime
	m  map[string]string // headers, properties
	q  url.Values        // query: the first value of each key

	keys []string              // sorted keys of m or q, or the current keys once owned
	vals map[string]goja.Value // non-nil once owned: the members

	missing func(key string) // called for a key asked for and absent (HTTP_HEADERS), or nil
}

func (r *run) newStringMap(m map[string]string, q url.Values) *goja.Object {
	return r.rt.NewDynamicObject(&stringMap{rt: r.rt, m: m, q: q})
}

// newHeaderMap is HTTP_HEADERS: a stringMap that notes the headers asked
// for and absent (see Result.MissingHeaders).
func (r *run) newHeaderMap(m map[string]string) *goja.Object {
	return r.rt.NewDynamicObject(&stringMap{rt: r.rt, m: m, missing: r.missingHeader})
}

func (s *stringMap) lookup(key string) (string, bool) {
	if s.q != nil {
		vs, ok := s.q[key]
		if !ok {
			return "", false
		}
		if len(vs) == 0 {
			return "", true
		}
		return vs[0], true
	}
	v, ok := s.m[key]
	return v, ok
}

// sortedKeys returns the keys in order (not to be modified).
func (s *stringMap) sortedKeys() []string {
	if s.keys == nil && s.vals == nil {
		keys := make([]string, 0, len(s.m)+len(s.q))
		for k := range s.m {
			keys = append(keys, k)
		}
		for k := range s.q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		orderKeys(keys)
		s.keys = keys
	}
	return s.keys
}

// own switches to the object's own copy of its members.
func (s *stringMap) own() {
	if s.vals != nil {
		return
	}
	keys := s.sortedKeys()
	s.vals = make(map[string]goja.Value, len(keys))
	for _, k := range keys {
		v, _ := s.lookup(k)
		s.vals[k] = s.rt.ToValue(v)
	}
	s.keys = slices.Clone(keys)
}

// Get implements goja.DynamicObject.
func (s *stringMap) Get(key string) goja.Value {
	if s.vals != nil {
		return s.vals[key]
	}
	v, ok := s.lookup(key)
	if !ok {
		if s.missing != nil {
			s.missing(key)
		}
		return nil
	}
	return s.rt.ToValue(v)
}

// Set implements goja.DynamicObject.
func (s *stringMap) Set(key string, val goja.Value) bool {
	if val == nil {
		val = goja.Undefined()
	}
	s.own()
	if _, ok := s.vals[key]; !ok {
		s.keys = append(s.keys, key)
		orderKeys(s.keys)
	}
	s.vals[key] = val
	return true
}

// Has implements goja.DynamicObject.
func (s *stringMap) Has(key string) bool {
	if s.vals != nil {
		_, ok := s.vals[key]
		return ok
	}
	_, ok := s.lookup(key)
	if !ok && s.missing != nil {
		s.missing(key)
	}
	return ok
}

// Delete implements goja.DynamicObject.
func (s *stringMap) Delete(key string) bool {
	if !s.Has(key) {
		return true
	}
	s.own()
	delete(s.vals, key)
	s.keys = slices.DeleteFunc(s.keys, func(k string) bool { return k == key })
	return true
}

// Keys implements goja.DynamicObject.
func (s *stringMap) Keys() []string { return slices.Clone(s.sortedKeys()) }
