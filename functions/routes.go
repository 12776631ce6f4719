package functions

import (
	"strings"
)

// Routes maps a provider and a URI to the active functions bound to them:
// an exact uri by one map lookup, a pattern through a trie of the
// provider's patterns, built once per catalogue snapshot.
type Routes struct {
	byProvider map[string]*providerRoutes
	all        []*Compiled
}

// providerRoutes are one provider's functions.
type providerRoutes struct {
	exact map[string][]*Compiled // by uri
	trie  *trieNode              // patterns; nil when there are none
}

// patternRoute is the functions bound to one pattern (the same text).
type patternRoute struct {
	pat *pattern
	fns []*Compiled
}

// trieNode is a position in the patterns' segments: the literal and
// parameter segments that may follow, and the patterns that end here
// (with or without a final "*"). Each node sits at one depth, so a lookup
// visits each node at most once: its cost is bounded by the patterns'
// size, never exponential in the URI.
type trieNode struct {
	lits  map[string]*trieNode
	param *trieNode
	ends  []*patternRoute // patterns of exactly this many segments
	stars []*patternRoute // patterns whose "*" takes the rest from here
}

// Route is where a URI goes for one provider.
type Route struct {
	Functions []*Compiled
	// Pattern is the function uri that matched, when it is a pattern; ""
	// for an exact uri.
	Pattern string
	// Params are the pattern's values (PATH_PARAMS); nil for an exact uri.
	Params map[string]string
}

// add indexes one active function. A uri saved before patterns existed
// that is not a valid pattern ("a/*/b") is taken literally, as it was.
func (r *Routes) add(c *Compiled) {
	r.all = append(r.all, c)
	pr := r.byProvider[c.ProviderID]
	if pr == nil {
		pr = &providerRoutes{exact: map[string][]*Compiled{}}
		r.byProvider[c.ProviderID] = pr
	}
	pat, err := parsePattern(c.URI)
	if err != nil || pat == nil {
		pr.exact[c.URI] = append(pr.exact[c.URI], c)
		return
	}
	if pr.trie == nil {
		pr.trie = &trieNode{}
	}
	n := pr.trie
	for _, s := range pat.segs {
		n = n.child(s)
	}
	list := &n.ends
	if pat.star {
		list = &n.stars
	}
	for _, pr := range *list {
		if pr.pat.raw == pat.raw {
			pr.fns = append(pr.fns, c)
			return
		}
	}
	*list = append(*list, &patternRoute{pat: pat, fns: []*Compiled{c}})
}

// child returns the node after segment s, making it if needed.
func (n *trieNode) child(s segment) *trieNode {
	if s.param != "" {
		if n.param == nil {
			n.param = &trieNode{}
		}
		return n.param
	}
	if n.lits == nil {
		n.lits = map[string]*trieNode{}
	}
	c := n.lits[s.lit]
	if c == nil {
		c = &trieNode{}
		n.lits[s.lit] = c
	}
	return c
}

// For returns the active functions of providerID that uri routes to: those
// whose uri equals it, or else those of the pattern that takes precedence
// (see pattern.before) among the patterns that match it.
func (r *Routes) For(providerID, uri string) Route {
	pr := r.byProvider[providerID]
	if pr == nil {
		return Route{}
	}
	if fns := pr.exact[uri]; len(fns) > 0 || pr.trie == nil {
		return Route{Functions: fns}
	}
	parts := strings.Split(uri, "/")
	best := pr.trie.best(parts, 0, nil)
	if best == nil {
		return Route{}
	}
	params, _ := best.pat.match(parts)
	return Route{Functions: best.fns, Pattern: best.pat.raw, Params: params}
}

// best returns the pattern of highest precedence, best or one under n,
// that matches parts from depth i on.
func (n *trieNode) best(parts []string, i int, best *patternRoute) *patternRoute {
	pick := func(list []*patternRoute) {
		for _, pr := range list {
			if best == nil || pr.pat.before(best.pat) {
				best = pr
			}
		}
	}
	if i == len(parts) {
		pick(n.ends)
		return best
	}
	if i < len(parts)-1 || parts[i] != "" {
		pick(n.stars) // the rest, parts[i:], is not empty
	}
	if c := n.lits[parts[i]]; c != nil {
		best = c.best(parts, i+1, best)
	}
	if n.param != nil && parts[i] != "" {
		best = n.param.best(parts, i+1, best)
	}
	return best
}
