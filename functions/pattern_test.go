package functions

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// Every uri is checked at save; a pattern's mistakes are named.
func TestParsePattern(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", maxParamName+1)
	for _, tc := range []struct {
		uri     string
		pattern bool
		err     string // "" when valid
	}{
		{"git/push", false, ""},
		{"a-b.c~d/e_f@g", false, ""},
		{"repos/{repo}/push", true, ""},
		{"jira/*", true, ""},
		{"*", true, ""},
		{"{a}/{b_2}/{$c}/*", true, ""},
		{"{" + long[1:] + "}", true, ""},
		{"a//b", false, "empty segment"},
		{"a/*/b", false, `"*" may only be the whole last segment`},
		{"*/*", false, `"*" may only be the whole last segment`},
		{"a/b*", false, `segment "b*" holds a "*"`},
		{"a/{x}*", false, `segment "{x}*" holds a "*"`},
		{"a/{}", false, "empty parameter {}"},
		{"a/{1x}", false, "not an identifier"},
		{"a/{x-y}", false, "not an identifier"},
		{"a/{é}", false, "not an identifier"},
		{"a/{*}", false, "holds a \"*\""},
		{"a/{" + long + "}", false, "at most 64 characters"},
		{"{x}/{x}", false, "names the parameter {x} twice"},
		{"a/{x", false, "holds a brace"},
		{"a/x}", false, "holds a brace"},
		{"a/pre{x}", false, "holds a brace"},
		{strings.Repeat("a/", maxSegments) + "a", false, "segments, at most 64"},
	} {
		p, err := parsePattern(tc.uri)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.uri, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, storage.ErrInvalid)):
			t.Errorf("%q: got %v, want an invalid error holding %q", tc.uri, err, tc.err)
		case tc.err == "" && (p != nil) != tc.pattern:
			t.Errorf("%q: pattern %v, want %v", tc.uri, p != nil, tc.pattern)
		}
	}
}

// "Could match the same URI": same number of segments with every
// position a parameter on one side or the same literal on both, or a
// "*" whose prefix is compatible with the other's and leaves it a
// non-empty rest. Checked both ways round.
func TestOverlaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b    string
		overlap bool
	}{
		{"repos/{repo}/push", "repos/{name}/push", true},
		{"repos/{repo}/push", "repos/main/{action}", true},
		{"repos/{repo}/push", "repos/{repo}/pull", false},
		{"repos/{repo}/push", "repos/{repo}/push/{x}", false},
		{"repos/{repo}/push", "{a}/{b}/{c}", true},
		{"a/{x}", "b/{x}", false},
		{"jira/*", "jira/{x}", true},
		{"jira/*", "jira/issue/{id}", true},
		{"jira/*", "jira/{x}/*", true},
		{"jira/*", "git/*", false},
		{"jira/*", "{x}/*", true},
		{"jira/*", "{x}", false},      // "jira" alone is not matched by jira/*
		{"{x}/*", "{y}", false},       // * needs a non-empty rest
		{"{x}/*", "{y}/{z}", true},    // x/x
		{"a/{x}/*", "a/b", false},     // too short for the "*"
		{"a/{x}/*", "a/b/c/d", false}, // literal a/b/c/d is exact, not a pattern
		{"a/{x}/*", "a/b/{c}", true},
		{"a/{x}/*", "{y}/c/*", true},
		{"a/{x}/*", "b/{y}/*", false},
		{"*", "{x}", true},
		{"*", "a/b/{c}/*", true},
	} {
		a, b := mustPattern(t, tc.a), mustPattern(t, tc.b)
		if b == nil {
			if tc.overlap {
				t.Fatalf("%q is not a pattern", tc.b)
			}
			continue
		}
		for _, pq := range [][2]*pattern{{a, b}, {b, a}} {
			if got := pq[0].overlaps(pq[1]); got != tc.overlap {
				t.Errorf("%q overlaps %q: %v, want %v", pq[0].raw, pq[1].raw, got, tc.overlap)
			}
		}
		if tc.overlap {
			ex := a.example(b)
			parts := strings.Split(ex, "/")
			if _, ok := a.match(parts); !ok {
				t.Errorf("example %q of %q and %q does not match %q", ex, tc.a, tc.b, tc.a)
			}
			if _, ok := b.match(parts); !ok {
				t.Errorf("example %q of %q and %q does not match %q", ex, tc.a, tc.b, tc.b)
			}
		}
	}
}

func mustPattern(t *testing.T, uri string) *pattern {
	t.Helper()
	p, err := parsePattern(uri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The overlap check at save: which functions a new one is compared with,
// and the conflict's message naming the other function.
func TestCheckOverlap(t *testing.T) {
	t.Parallel()
	fn := func(id, provider, uri string, active bool) storage.Function {
		return storage.Function{ID: id, Name: "fn " + id, ProviderID: provider, URI: uri, Active: active}
	}
	stored := []storage.Function{
		fn("1", "p", "jira/*", true),
		fn("2", "p", "repos/{repo}/push", true),
		fn("3", "p", "off/{x}", false),
		fn("4", "q", "git/{x}", true),
		fn("5", "p", "git/push", true),
	}
	for _, tc := range []struct {
		f        storage.Function
		conflict string // the other function named, "" when allowed
	}{
		{fn("", "p", "jira/{key}", true), `overlaps the pattern "jira/*" of function "fn 1" (1) of the same provider: both would match "jira/x"`},
		{fn("", "p", "repos/main/{action}", true), `"repos/{repo}/push" of function "fn 2" (2)`},
		{fn("", "p", "jira/{key}", false), ""},     // inactive: not checked
		{fn("", "p", "off/{y}", true), ""},         // the other is inactive
		{fn("", "p", "git/{x}", true), ""},         // another provider's pattern; p's exact git/push wins
		{fn("", "p", "jira/*", true), ""},          // the same uri: both run
		{fn("2", "p", "repos/{r}/push", true), ""}, // itself, renamed
		{fn("", "q", "git/{y}", true), `"git/{x}" of function "fn 4" (4)`},
		{fn("", "p", "jira", true), ""}, // exact
	} {
		err := checkOverlap(tc.f, stored)
		switch {
		case tc.conflict == "" && err != nil:
			t.Errorf("%s %q: %v", tc.f.ProviderID, tc.f.URI, err)
		case tc.conflict != "" && (err == nil || !errors.Is(err, storage.ErrConflict) || !strings.Contains(err.Error(), tc.conflict)):
			t.Errorf("%s %q: got %v, want a conflict naming %s", tc.f.ProviderID, tc.f.URI, err, tc.conflict)
		}
	}
}

// Routing precedence: an exact uri over any pattern; then more literal
// segments; then no "*" over "*"; then more segments; then the literal at
// the first position where one has a literal and the other a parameter;
// then the uri's text. The later rules only decide between overlapping
// patterns, which a save refuses but older data or two nodes saving at
// once may hold, so the table builds routes directly.
func TestRoutePrecedence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uris []string // of one provider's functions
		uri  string   // received
		want string   // the uri that routes; "" for none
	}{
		{[]string{"repos/{repo}/push", "repos/main/push"}, "repos/main/push", "repos/main/push"},
		{[]string{"repos/{repo}/push", "repos/main/push"}, "repos/dev/push", "repos/{repo}/push"},
		{[]string{"*", "git/push"}, "git/push", "git/push"},
		{[]string{"*", "git/{x}"}, "git/push", "git/{x}"},
		{[]string{"a/{x}/c", "a/*"}, "a/b/c", "a/{x}/c"},                // more literals
		{[]string{"a/{x}", "a/*"}, "a/b", "a/{x}"},                      // no "*" over "*"
		{[]string{"a/{x}/*", "a/*"}, "a/b/c", "a/{x}/*"},                // more segments
		{[]string{"a/{x}", "{y}/b"}, "a/b", "a/{x}"},                    // leftmost literal
		{[]string{"{y}/b", "a/{x}"}, "a/b", "a/{x}"},                    // whatever the order saved
		{[]string{"r/{b}", "r/{a}"}, "r/1", "r/{a}"},                    // the text
		{[]string{"a/{x}/c", "a/b/{y}", "{z}/b/c"}, "a/b/c", "a/b/{y}"}, // 2 literals each: a/b before a/{x}
		{[]string{"jira/*"}, "jira", ""},                                // "*" needs a rest
		{[]string{"jira/*"}, "jira/a//b", "jira/*"},
		{[]string{"{x}/push"}, "/push", ""}, // no empty parameter
		{[]string{"*"}, "", ""},
		{[]string{"repos/{repo}/push"}, "repos/a/b/push", ""}, // %2F decoded is a "/"
		{[]string{"a/*/b"}, "a/*/b", "a/*/b"},                 // saved before patterns: literal
		{[]string{"a/*/b"}, "a/x/b", ""},
	} {
		var list []storage.Function
		for i, u := range tc.uris {
			list = append(list, storage.Function{ID: fmt.Sprint(i), Name: u, ProviderID: "p", URI: u, Active: true, Script: "return 1"})
		}
		routes, err := BuildRoutes(list, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if r := routes.For("p", tc.uri); len(r.Functions) > 0 {
			got = r.Functions[0].URI
		}
		if got != tc.want {
			t.Errorf("%v %q: routed to %q, want %q", tc.uris, tc.uri, got, tc.want)
		}
		if r := routes.For("other", tc.uri); len(r.Functions) > 0 {
			t.Errorf("another provider routes %q", tc.uri)
		}
	}
}

// PATH_PARAMS values: each {name} its segment, "*" the rest with its
// slashes; functions of the same pattern all run with them.
func TestRouteParams(t *testing.T) {
	t.Parallel()
	list := []storage.Function{
		{ID: "1", ProviderID: "p", URI: "repos/{repo}/push/*", Active: true, Script: "1"},
		{ID: "2", ProviderID: "p", URI: "repos/{repo}/push/*", Active: true, Script: "2"},
		{ID: "3", ProviderID: "p", URI: "repos/{repo}/push/*", Active: false, Script: "3"},
		{ID: "4", ProviderID: "p", URI: "exact", Active: true, Script: "4"},
	}
	routes, err := BuildRoutes(list, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := routes.For("p", "repos/switch yard/push/refs/heads/main")
	want := map[string]string{"repo": "switch yard", "*": "refs/heads/main"}
	if len(r.Functions) != 2 || r.Pattern != "repos/{repo}/push/*" || !maps.Equal(r.Params, want) {
		t.Fatalf("got %d functions, pattern %q, params %v", len(r.Functions), r.Pattern, r.Params)
	}
	if r := routes.For("p", "exact"); len(r.Functions) != 1 || r.Pattern != "" || r.Params != nil {
		t.Fatalf("exact: %+v", r)
	}
}
