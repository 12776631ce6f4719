package scripting

import (
	"context"
	"testing"
	"time"
)

// runScript compiles src and runs it once against req with a 20 s
// timeout: long enough for a busy machine under -race, since no test that
// uses it is about the deadline.
func runScript(t *testing.T, src string, req *Request) Result {
	t.Helper()
	return runWith(t, NewEngine(Limits{}), src, req)
}

// runWith is runScript on a given engine. The deadline is only a bound on a
// hang: ordinary scripts take far less, even under -race on a busy machine.
func runWith(t *testing.T, e *Engine, src string, req *Request) Result {
	t.Helper()
	p := mustCompile(t, t.Name(), src)
	if req == nil {
		req = &Request{}
	}
	return e.Run(context.Background(), p, req, 60*time.Second)
}

// mustValue runs src and fails the test unless it succeeds; it returns the
// exported result.
func mustValue(t *testing.T, src string, req *Request) any {
	t.Helper()
	res := runScript(t, src, req)
	if res.Err != nil {
		t.Fatalf("script %q: %v", src, res.Err)
	}
	return res.Value
}
