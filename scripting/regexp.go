package scripting

import (
	"time"

	"github.com/dlclark/regexp2/v2"
)

// MaxRegexpMatch bounds one match of a regular expression that goja runs
// with regexp2 (those RE2 cannot: backreferences, lookaround), which
// backtracks: /^(a+)+$/ on 40 "a"s and a "!" would otherwise run for
// hours, inside one built-in call that the run's deadline cannot stop.
// goja treats a match that runs out of time as no match.
const MaxRegexpMatch = time.Second

func init() {
	// regexp2 reads its default when a pattern is compiled; goja compiles
	// patterns with regexp2.Compile and never sets a timeout itself. Only
	// goja uses regexp2 in this program.
	regexp2.DefaultMatchTimeout = MaxRegexpMatch
}
