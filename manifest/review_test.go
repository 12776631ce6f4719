package manifest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/manifest"
)

// exported seeds an instance and exports it into a new directory.
func exported(t *testing.T) (*instance, string) {
	t.Helper()
	in := start(t, "")
	seed(in)
	dir := t.TempDir()
	if _, err := manifest.Export(context.Background(), in.c, dir); err != nil {
		t.Fatal(err)
	}
	return in, dir
}

func writeFile(t *testing.T, dir, rel, body string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, dir, rel, old, new string) {
	t.Helper()
	body := readTree(t, dir)[rel]
	if !strings.Contains(body, old) {
		t.Fatalf("%s has no %q", rel, old)
	}
	writeFile(t, dir, rel, strings.Replace(body, old, new, 1))
}

// The plan runs the server's checks (a script that does not compile, a
// bad uri pattern, overlapping patterns, a field out of range) before any
// change, dry run or not, naming the record and its file.
func TestPlanChecksWhatTheServerWouldRefuse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"function script", func(t *testing.T, dir string) { writeFile(t, dir, "functions/greet.js", "return (\n") },
			`function "greet" (functions/greet.js): invalid: script: line 2, column 1: Unexpected end of input`},
		{"match script", func(t *testing.T, dir string) { writeFile(t, dir, "providers/anyone.js", "return }") },
			`provider "anyone" (providers/anyone.js): invalid: match_script: line 1`},
		{"handshake script", func(t *testing.T, dir string) { writeFile(t, dir, "providers/github.handshake.js", "if (") },
			`provider "github" (providers/github.handshake.js): invalid: handshake_script:`},
		{"uri pattern", func(t *testing.T, dir string) {
			replaceIn(t, dir, "switchyard.yaml", "uri: hello", "uri: a/{b")
		}, `function "greet" (switchyard.yaml): invalid:`},
		{"overlap", func(t *testing.T, dir string) {
			replaceIn(t, dir, "switchyard.yaml", "uri: hello", "uri: repos/{x}/push")
			replaceIn(t, dir, "switchyard.yaml", "provider: anyone", "provider: github")
		}, `function "greet" (switchyard.yaml): conflict: uri "repos/{x}/push" overlaps the pattern "repos/{repo}/push" of function "push"`},
		{"timeout", func(t *testing.T, dir string) {
			replaceIn(t, dir, "switchyard.yaml", "match_timeout_ms: 500", "match_timeout_ms: 999999")
		}, `provider "github" (switchyard.yaml): invalid: match_timeout_ms`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, dir := exported(t)
			tc.edit(t, dir)
			before := in.snapshot()
			for _, dry := range []bool{true, false} {
				var out strings.Builder
				err := manifest.Apply(context.Background(), in.c, dir, manifest.Options{Getenv: getenv}, dry, &out)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("dry run %v: got %v, want %q\n%s", dry, err, tc.want, out.String())
				}
				if out.Len() != 0 {
					t.Errorf("a plan that fails printed changes:\n%s", out.String())
				}
			}
			if in.snapshot() != before {
				t.Fatal("a plan that fails changed the server")
			}
		})
	}
}

// A change the server refuses (here an endpoint's URL, which only the
// server checks) names the record, its kind and file, the server's
// answer, and what was applied.
func TestRefusedChangeSaysWhatWasApplied(t *testing.T) {
	t.Parallel()
	in, dir := exported(t)
	yml := readTree(t, dir)["switchyard.yaml"]
	yml = strings.Replace(yml, "providers:\n", "providers:\n  - name: new\n", 1)
	yml = strings.Replace(yml, "url: https://example.org/x", "url: ftp://example.org/x", 1)
	writeFile(t, dir, "switchyard.yaml", yml)
	writeFile(t, dir, "providers/new.js", "return false")
	var out strings.Builder
	err := manifest.Apply(context.Background(), in.c, dir, manifest.Options{Getenv: getenv}, false, &out)
	if err == nil {
		t.Fatalf("apply succeeded:\n%s", out.String())
	}
	for _, want := range []string{`endpoint "plain" (switchyard.yaml): 400 Bad Request: invalid`,
		"the 2 changes listed before it were applied; this one was not"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q has no %q", err, want)
		}
	}
	t.Log(err)
	if !strings.Contains(in.snapshot(), "/providers new ") {
		t.Fatal("the change before the refused one was not applied")
	}
}

// ChangeError's words for one change applied and several not.
func TestChangeErrorCounts(t *testing.T) {
	t.Parallel()
	e := &manifest.ChangeError{Change: manifest.Change{Op: "~", Kind: "function", Name: "greet"}, Applied: 1, NotApplied: 3,
		Err: &client.Error{Method: "PUT", Path: "/functions/x", Status: 400, Message: "invalid: script: line 2, column 1: Unexpected end of input"}}
	want := "function \"greet\" (functions/greet.js): 400 Bad Request: invalid: script: line 2, column 1: Unexpected end of input\n" +
		"(the 1 change listed before it was applied; this one and the 2 changes after it were not: fix it and run apply again)"
	if e.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", e, want)
	}
	e.Applied, e.NotApplied = 0, 2
	if !strings.Contains(e.Error(), "(no change was applied; this one and the 1 change after it were not") {
		t.Fatal(e)
	}
}

// token makes a user of role and a personal token for them.
func roleClient(t *testing.T, in *instance, role string) *client.Client {
	t.Helper()
	uid := in.post("/users", map[string]any{"name": role + "-user", "role": role, "password": "a long enough password 1"})
	var tok struct {
		Token string `json:"token"`
	}
	if err := in.c.Post(context.Background(), "/tokens", map[string]any{"name": "t", "user_id": uid}, &tok); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(in.baseURL, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An operator's token may preview (--dry-run) but not apply: apply says
// so before it prints a plan or changes anything.
func TestApplyChecksTheRoleFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in, dir := exported(t)
	replaceIn(t, dir, "functions/greet.js", "return 1", "return 5")
	op := roleClient(t, in, "operator")
	before := in.snapshot()
	var out strings.Builder
	err := manifest.Apply(ctx, op, dir, manifest.Options{Getenv: getenv}, false, &out)
	if err == nil || !strings.Contains(err.Error(), "role (operator) cannot change the configuration: apply needs an editor's token") {
		t.Fatalf("apply as an operator: %v", err)
	}
	if out.Len() != 0 || in.snapshot() != before {
		t.Fatalf("a refused apply printed or changed:\n%s", out.String())
	}
	out.Reset()
	if err := manifest.Apply(ctx, op, dir, manifest.Options{Getenv: getenv}, true, &out); err != nil || !strings.Contains(out.String(), `~ update function "greet" (script)`) {
		t.Fatalf("dry run as an operator: %v\n%s", err, out.String())
	}
	viewer := roleClient(t, in, "viewer")
	if err := manifest.Apply(ctx, viewer, dir, manifest.Options{Getenv: getenv}, true, &out); err == nil || !strings.Contains(err.Error(), "role (viewer)") {
		t.Fatalf("dry run as a viewer: %v", err)
	}
	editor := roleClient(t, in, "editor")
	out.Reset()
	if err := manifest.Apply(ctx, editor, dir, manifest.Options{Getenv: getenv}, false, &out); err != nil {
		t.Fatalf("apply as an editor: %v", err)
	}
	if !strings.HasSuffix(out.String(), "applied 1 change\n") {
		t.Fatalf("one change applied:\n%s", out.String())
	}
}

// A dry run needs no secrets: a missing variable is a note. Without
// --dry-run it stays an error before any change.
func TestDryRunNeedsNoSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in, dir := exported(t)
	none := func(string) string { return "" }
	var out strings.Builder
	if err := manifest.Apply(ctx, in.c, dir, manifest.Options{Getenv: none}, true, &out); err != nil {
		t.Fatalf("dry run without secrets: %v", err)
	}
	for name := range env {
		if want := "note: " + name + " is not set; the secrets that use it are not compared\n"; !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "no changes") {
		t.Errorf("the plan is not empty:\n%s", out.String())
	}
	before := in.snapshot()
	err := manifest.Apply(ctx, in.c, dir, manifest.Options{Getenv: none}, false, &out)
	if err == nil || !strings.Contains(err.Error(), "environment variables not set") || in.snapshot() != before {
		t.Fatalf("apply without secrets: %v", err)
	}
}

// The exported header points at the docs that exist.
func TestExportHeaderPointsAtTheDocs(t *testing.T) {
	t.Parallel()
	_, dir := exported(t)
	first, _, _ := strings.Cut(readTree(t, dir)["switchyard.yaml"], "\n")
	if !strings.Contains(first, "docs/operations.md#config-as-code") {
		t.Fatalf("header: %s", first)
	}
	if _, err := os.Stat(filepath.Join("..", "docs", "operations.md")); err != nil {
		t.Fatal(err)
	}
}

// Export never writes or removes through a symbolic link: a linked
// folder or script file is refused, and the cleanup removes only regular
// *.js files.
func TestExportNeverFollowsLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	outside := t.TempDir()
	writeFile(t, outside, "victim.js", "precious")
	writeFile(t, outside, "greet.js", "precious too")

	for _, tc := range []struct{ name, link, target, want string }{
		{"providers folder", "providers", outside, "providers is not a directory"},
		{"functions folder", "functions", outside, "functions is not a directory"},
		{"script file", "functions/greet.js", filepath.Join(outside, "greet.js"), "functions/greet.js is not a regular file"},
		{"yaml file", "switchyard.yaml", filepath.Join(outside, "victim.js"), "switchyard.yaml is not a regular file"},
	} {
		dir := t.TempDir()
		if tc.link != manifest.ConfigFile {
			writeFile(t, dir, manifest.ConfigFile, "providers: []\n") // an earlier export's directory
		}
		mustLink(t, tc.target, filepath.Join(dir, filepath.FromSlash(tc.link)))
		if _, err := manifest.Export(ctx, in.c, dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	// Stray links and files that are not scripts stay; the links' targets too.
	dir := t.TempDir()
	writeFile(t, dir, manifest.ConfigFile, "providers: []\n")
	writeFile(t, dir, "functions/old.js", "return 0")
	writeFile(t, dir, "functions/README.txt", "notes")
	if err := os.Symlink(filepath.Join(outside, "victim.js"), filepath.Join(dir, "functions", "stray.js")); err != nil {
		t.Fatal(err)
	}
	if _, err := manifest.Export(ctx, in.c, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "functions", "old.js")); !os.IsNotExist(err) {
		t.Errorf("the stray script stayed: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "functions", "stray.js")); err != nil {
		t.Errorf("the stray link was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "functions", "README.txt")); err != nil {
		t.Errorf("a file that is not a script was removed: %v", err)
	}
	tree := readTree(t, outside)
	if tree["victim.js"] != "precious" || tree["greet.js"] != "precious too" || len(tree) != 2 {
		t.Fatalf("outside DIR changed: %v", tree)
	}
}

// Read refuses a linked script or folder, files over their limits and a
// YAML alias bomb, quickly and with a clear error.
func TestReadRefusesHostileDirectories(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeFile(t, outside, "secret.txt", "root:x:0:0")
	base := "providers:\n  - name: a\n"
	// 9^9 "lol"s, under a field that takes any YAML.
	laughs := "endpoints:\n  - name: e\n    extra_body:\n      a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += fmt.Sprintf("      %s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"linked script", func(t *testing.T, dir string) {
			writeFile(t, dir, "switchyard.yaml", base)
			mustLink(t, filepath.Join(outside, "secret.txt"), filepath.Join(dir, "providers", "a.js"))
		}, "providers/a.js is not a regular file"},
		{"linked folder", func(t *testing.T, dir string) {
			writeFile(t, dir, "switchyard.yaml", base)
			writeFile(t, outside, "a.js", "return true")
			if err := os.Symlink(outside, filepath.Join(dir, "providers")); err != nil {
				t.Fatal(err)
			}
		}, "providers is not a directory"},
		{"linked yaml", func(t *testing.T, dir string) {
			mustLink(t, filepath.Join(outside, "secret.txt"), filepath.Join(dir, "switchyard.yaml"))
		}, "switchyard.yaml is not a regular file"},
		{"large yaml", func(t *testing.T, dir string) {
			writeFile(t, dir, "switchyard.yaml", base)
			if err := os.Truncate(filepath.Join(dir, "switchyard.yaml"), manifest.MaxConfigSize+1); err != nil {
				t.Fatal(err)
			}
		}, "switchyard.yaml is 8388609 bytes; the limit is 8388608"},
		{"large script", func(t *testing.T, dir string) {
			writeFile(t, dir, "switchyard.yaml", base)
			writeFile(t, dir, "providers/a.js", "")
			if err := os.Truncate(filepath.Join(dir, "providers", "a.js"), manifest.MaxScriptSize+1); err != nil {
				t.Fatal(err)
			}
		}, "providers/a.js is 2097153 bytes; the limit is 2097152"},
		{"billion laughs", func(t *testing.T, dir string) {
			writeFile(t, dir, "switchyard.yaml", laughs)
		}, "excessive aliasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.setup(t, dir)
			_, err := manifest.Read(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "root:x") {
				t.Fatalf("the error shows the linked file: %v", err)
			}
		})
	}
}

func mustLink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// Export into another project's directory (files, no switchyard.yaml) is
// refused before anything is written or removed; a new directory, one
// with only dot files (a fresh git repository), or an earlier export's
// is fine.
func TestExportRefusesAnotherProjectsDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	project := t.TempDir()
	writeFile(t, project, "package.json", "{}")
	writeFile(t, project, "functions/index.js", "exports.x = 1")
	if _, err := manifest.Export(ctx, in.c, project); err == nil || !strings.Contains(err.Error(), "not an export's directory") {
		t.Fatalf("export into a project: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(project, "functions", "index.js")); err != nil || string(b) != "exports.x = 1" {
		t.Fatalf("the project's file: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(project, manifest.ConfigFile)); !os.IsNotExist(err) {
		t.Fatalf("switchyard.yaml written into the project: %v", err)
	}
	repo := t.TempDir()
	writeFile(t, repo, ".git/HEAD", "ref: refs/heads/main\n")
	for _, dir := range []string{filepath.Join(t.TempDir(), "new"), repo, repo} { // the second time: an export's
		if _, err := manifest.Export(ctx, in.c, dir); err != nil {
			t.Fatalf("export into %s: %v", dir, err)
		}
	}
}
