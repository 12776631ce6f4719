package notify

import (
	"fmt"
	"regexp"
	"regexp/syntax"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Limits on the regular expressions of a schema (pattern,
// patternProperties, propertyNames' patterns, format "regex"). Go's
// regexp expands a counted repeat when it compiles ("[ab]{1000}" is a
// thousand copies), so a short pattern can cost hundreds of megabytes to
// compile and seconds per string matched: the size counted is the
// compiled program's, in instructions, per pattern and over the schema.
const (
	MaxSchemaPattern      = 1 << 10 // characters of one pattern
	MaxPatternProgram     = 10_000  // instructions of one compiled pattern
	MaxSchemaPatternTotal = 50_000  // instructions of all of a schema's patterns
	// MaxPatternInput is the longest string a schema's pattern is run on
	// (bytes), as for a filter's $regex: a longer string does not match
	// (and so fails "pattern").
	MaxPatternInput = 64 << 10
)

// boundedRegexp is a schema's pattern whose matching is bounded.
type boundedRegexp struct{ re *regexp.Regexp }

func (b boundedRegexp) String() string { return b.re.String() }

func (b boundedRegexp) MatchString(s string) bool {
	return len(s) <= MaxPatternInput && b.re.MatchString(s)
}

// patternSize is the size of pattern's compiled program, in
// instructions, measured before regexp compiles it for use.
func patternSize(pattern string) (int, error) {
	if len(pattern) > MaxSchemaPattern {
		return 0, fmt.Errorf("a pattern may be at most %d characters, got %d", MaxSchemaPattern, len(pattern))
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, err
	}
	return len(prog.Inst), nil
}

// boundedRegexpEngine compiles a schema's patterns, refusing one whose
// program passes MaxPatternProgram and, with the count of all patterns
// compiled through it, a schema whose patterns pass
// MaxSchemaPatternTotal.
func boundedRegexpEngine() jsonschema.RegexpEngine {
	total := 0
	return func(pattern string) (jsonschema.Regexp, error) {
		n, err := patternSize(pattern)
		if err != nil {
			return nil, err
		}
		if n > MaxPatternProgram {
			return nil, fmt.Errorf("pattern %.60q is too large once its repeats are expanded (%d instructions, at most %d)", pattern, n, MaxPatternProgram)
		}
		if total += n; total > MaxSchemaPatternTotal {
			return nil, fmt.Errorf("the schema's patterns are too large together once their repeats are expanded (more than %d instructions)", MaxSchemaPatternTotal)
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, err
		}
		return boundedRegexp{re}, nil
	}
}
