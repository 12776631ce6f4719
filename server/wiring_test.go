package server_test

import (
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// TestScriptsSeeRefusalsPlainly: what the outbound engine refuses reaches
// the script as what was wrong, without the "invalid: " that the API's
// answers start with; a refused callback is a TypeError.
func TestScriptsSeeRefusalsPlainly(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "refused", "ci/refused", `
		var out = [];
		try { NOTIFY.send("build done") } catch (e) { out.push(e.name + ": " + e.message) }
		try { NOTIFY.webhook({url: "https://example.com/cb", timeout: 100}) } catch (e) { out.push(e.name + ": " + e.message) }
		throw new Error(out.join(" | "))`)
	_, a := in.send("ci/refused", []byte(`{}`), true, nil)
	if a.Status != "FAILED" || len(a.Functions) != 1 {
		t.Fatalf("webhook: %+v", a)
	}
	got := a.Functions[0].Error
	for _, want := range []string{
		`Error: NOTIFY.send: type must not hold spaces or '*' (event types look like "build.failed"), got "build done" | `,
		"TypeError: NOTIFY.webhook: bad webhook request: timeout_ms must be from 500 to 120000, got 100",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the script saw %q, want it to hold %q", got, want)
		}
	}
	if strings.Contains(got, "invalid") {
		t.Errorf("the script saw the API's prefix: %q", got)
	}
}

// A script's log lines are stored with the levels it logged them at, so
// the stored levels (which the outbound engine reads, storage.LevelSevere
// for an error line) are scripting's.
func TestLogLevelsAgree(t *testing.T) {
	t.Parallel()
	if scripting.LevelFine != storage.LevelFine || scripting.LevelInfo != storage.LevelInfo ||
		scripting.LevelWarning != storage.LevelWarning || scripting.LevelSevere != storage.LevelSevere {
		t.Fatal("scripting's log levels and storage's differ")
	}
}
