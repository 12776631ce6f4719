package scripting

// capBuiltins replaces the built-ins that can allocate without bound.
func (r *run) capBuiltins() {}
