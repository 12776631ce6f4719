package scripting

import "github.com/dop251/goja"

// method is one function of a global API object (LOG, HMAC).
type method struct {
	name string
	make func(r *run) func(goja.FunctionCall) goja.Value
}

// methods is the DynamicObject behind LOG and HMAC. Creating a JavaScript
// function is the dearest part of setting up a runtime, so each is created
// on first access only (and then kept, so LOG.info === LOG.info). The
// object is read-only: assignments and deletes are ignored (TypeError in
// strict mode).
type methods struct {
	r     *run
	table []method
	vals  []goja.Value
	names []string
}

// newMethods returns a read-only object whose functions are made on demand.
func (r *run) newMethods(table []method, names []string) *goja.Object {
	return r.rt.NewDynamicObject(&methods{r: r, table: table, names: names})
}

func (m *methods) index(key string) int {
	for i := range m.table {
		if m.table[i].name == key {
			return i
		}
	}
	return -1
}

// Get implements goja.DynamicObject.
func (m *methods) Get(key string) goja.Value {
	i := m.index(key)
	if i < 0 {
		return nil
	}
	if m.vals == nil {
		m.vals = make([]goja.Value, len(m.table))
	}
	if m.vals[i] == nil {
		f := m.r.fn(m.table[i].make(m.r))
		// ToValue names the function after its Go symbol; show the JS name
		// in fn.name and in stack traces instead.
		f.DefineDataProperty("name", m.r.rt.ToValue(key), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		m.vals[i] = f
	}
	return m.vals[i]
}

// Set implements goja.DynamicObject; the object is read-only.
func (m *methods) Set(string, goja.Value) bool { return false }

// Has implements goja.DynamicObject.
func (m *methods) Has(key string) bool { return m.index(key) >= 0 }

// Delete implements goja.DynamicObject; the object is read-only.
func (m *methods) Delete(key string) bool { return m.index(key) < 0 }

// Keys implements goja.DynamicObject.
func (m *methods) Keys() []string { return append([]string(nil), m.names...) }

// methodNames lists a table's names, in order.
func methodNames(table []method) []string {
	names := make([]string, len(table))
	for i, m := range table {
		names[i] = m.name
	}
	return names
}
