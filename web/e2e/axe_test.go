package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (npm, installed in testdata/npm by .ci/run),
// read once.
var axeSource = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "..", "testdata", "npm", "node_modules", "axe-core", "axe.min.js"))
})

// axeViolation is one rule that failed, with where.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkA11y runs axe-core (WCAG 2.1 A and AA rules) on the page as it is
// and fails the test on every serious or critical violation.
func checkA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("SWITCHYARD_REQUIRE_NPM") == "1" {
			t.Fatalf("axe-core is required (SWITCHYARD_REQUIRE_NPM=1): %v; run npm ci --prefix testdata/npm", err)
		}
		t.Logf("no axe-core (npm ci --prefix testdata/npm): the accessibility check of %s is skipped", page)
		return
	}
	if !value(t, ctx, "axe loaded", chromedp.Evaluate[bool](`typeof axe === "object"`)) {
		value(t, ctx, "load axe", chromedp.Evaluate[any](string(src)+";0"))
	}
	found := value(t, ctx, "axe on "+page, chromedp.Evaluate[[]axeViolation](strings.Replace(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => AXE_FILTER).map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))`, "AXE_FILTER", axeFilter, 1), chromedp.EvalAwaitPromise))
	for _, v := range found {
		t.Errorf("%s: %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "; "))
	}
}

// axeFilter picks the violations that fail a test (SWITCHYARD_AXE_ALL=1
// shows every one, for a look at the moderate and minor ones too).
var axeFilter = func() string {
	if os.Getenv("SWITCHYARD_AXE_ALL") == "1" {
		return "true"
	}
	return `v.impact === "serious" || v.impact === "critical"`
}()
