package scripting

import "testing"

// PATH_PARAMS is a plain object of the pattern's values; an empty one for
// an exact URI and in match scripts; installed only for a script that can
// reach it.
func TestPathParams(t *testing.T) {
	t.Parallel()
	req := &Request{
		URI:        "repos/switch yard/push/refs/heads/main",
		PathParams: map[string]string{"repo": "switch yard", "*": "refs/heads/main"},
		Properties: map[string]string{"key": "repo"},
	}
	for _, tt := range []struct {
		name, src string
		req       *Request
		want      any
	}{
		{"a parameter", "return PATH_PARAMS.repo", req, "switch yard"},
		{"the rest", `return PATH_PARAMS["*"]`, req, "refs/heads/main"},
		{"a computed key", "return PATH_PARAMS[PROPERTIES.key]", req, "switch yard"},
		{"as JSON", "return JSON.stringify(PATH_PARAMS)", req, `{"*":"refs/heads/main","repo":"switch yard"}`},
		{"missing", "return PATH_PARAMS.nope === undefined", req, true},
		{"plain object", "return Object.getPrototypeOf(PATH_PARAMS) === Object.prototype", req, true},
		{"writable copy", `PATH_PARAMS.repo = "x"; return PATH_PARAMS.repo + req()
			function req() { return Object.keys(PATH_PARAMS).length }`, req, "x2"},
		{"empty without a pattern", "return JSON.stringify(PATH_PARAMS)", &Request{URI: "git/push"}, "{}"},
		{"a parameter named __proto__", `return PATH_PARAMS.__proto__ + (Object.getPrototypeOf(PATH_PARAMS) === Object.prototype)`,
			&Request{PathParams: map[string]string{"__proto__": "p"}}, "ptrue"},
		{"reached dynamically", `return JSON.stringify(globalThis["PATH" + "_PARAMS"])`, req, `{"*":"refs/heads/main","repo":"switch yard"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustValue(t, tt.src, tt.req); got != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
	prog := mustCompile(t, "plain", "return PAYLOAD.ref + URI")
	if prog.reach.can("PATH_PARAMS") {
		t.Error("a script that does not name PATH_PARAMS gets it installed")
	}
	if prog := mustCompile(t, "computed", "return PATH_PARAMS[PROPERTIES.key]"); prog.reach.dynamic {
		t.Error("PATH_PARAMS[k] makes a script dynamic, unlike HTTP_HEADERS[k]")
	}
	if prog := mustCompile(t, "shadowed", "var PATH_PARAMS = {}; return PATH_PARAMS[PAYLOAD.k]"); !prog.reach.dynamic {
		t.Error("PATH_PARAMS[k] on a variable of that name is not dynamic")
	}
}
