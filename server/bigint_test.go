package server_test

import (
	"strings"
	"testing"
)

// Saving a function compiles its script. goja folds an expression of
// constants while it compiles, so `return 7n ** 50000000n` used to be
// computed in the save request (34 s, on no deadline), and the function
// then returned the constant. Now the save does no BigInt work, and the
// run stops at the BigInt cap: the kind of outcome shows that nothing was
// folded, whatever the machine's speed.
func TestSaveBigIntScript(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "big", "big", "return 7n ** 50000000n")
	_, a := in.send("big", []byte(`{}`), true, nil)
	if len(a.Functions) != 1 || a.Functions[0].Status != "FAILED" || !strings.Contains(a.Functions[0].Error, "RangeError: BigInt") {
		t.Fatalf("answer %+v, want the function stopped by the BigInt cap", a)
	}
}
