package scripting

import (
	"reflect"

	"github.com/dop251/goja"
)

// dynamicSource is a goja.DynamicObject of this package: goja exports such
// an object as the handler itself, which plainExport replaces.
type dynamicSource interface {
	Keys() []string
	Get(key string) goja.Value
}

// plainExport makes a value exported from goja look as if every object in
// it were ordinary: the lazy objects of PAYLOAD and the globals built on
// DynamicObject (which goja exports as their Go handler) become
// map[string]any, also inside maps and slices. It is a no-op for a value
// that holds none.
func plainExport(v any) any {
	switch v.(type) {
	case map[string]any, []any, dynamicSource:
		x := exportFixer{}
		return x.fix(v)
	}
	return v
}

type exportFixer struct {
	seen map[uintptr]bool       // maps and slices already walked
	done map[any]map[string]any // dynamic objects already converted
}

func (x *exportFixer) mark(p uintptr) bool {
	if x.seen == nil {
		x.seen = map[uintptr]bool{}
	}
	if x.seen[p] {
		return false
	}
	x.seen[p] = true
	return true
}

func (x *exportFixer) fix(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if x.mark(reflect.ValueOf(t).Pointer()) {
			for k, e := range t {
				t[k] = x.fix(e)
			}
		}
	case []any:
		if len(t) > 0 && x.mark(reflect.ValueOf(t).Pointer()) {
			for i, e := range t {
				t[i] = x.fix(e)
			}
		}
	case dynamicSource:
		if m, ok := x.done[t]; ok {
			return m
		}
		if x.done == nil {
			x.done = map[any]map[string]any{}
		}
		keys := t.Keys()
		m := make(map[string]any, len(keys))
		x.done[t] = m
		for _, k := range keys {
			if e := t.Get(k); e != nil {
				m[k] = x.fix(e.Export())
			}
		}
		return m
	}
	return v
}
