// Package e2e drives the admin UI in a real headless Chromium (Debian's
// chromium package) against a whole Switchyard started in-process. The
// tests skip when Chromium is missing, unless SWITCHYARD_REQUIRE_BROWSER=1
// (set by .ci/run), which makes them fail instead.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/switchyard-dev/switchyard/server"
)

const adminToken = "e2e-admin-token"

// browserPath finds Chromium, or skips (fails when it is required).
func browserPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SWITCHYARD_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("SWITCHYARD_REQUIRE_BROWSER") == "1" {
		t.Fatal("Chromium is required (SWITCHYARD_REQUIRE_BROWSER=1) but /usr/bin/chromium is missing: apt-get install chromium")
	}
	t.Skip("no Chromium: apt-get install chromium to run the UI tests")
	return ""
}

// instance is a running Switchyard.
type instance struct {
	t   *testing.T
	url string
}

func startServer(t *testing.T, edit ...func(*server.Options)) *instance {
	t.Helper()
	opts := server.Options{
		Listen:              "127.0.0.1:0",
		DataDir:             t.TempDir(),
		AdminToken:          adminToken,
		AllowPrivateTargets: true,
		Logger:              slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, e := range edit {
		e(&opts)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	})
	return &instance{t: t, url: "http://" + srv.Addr().String()}
}

// api calls the admin API with the admin token and decodes the answer.
func (in *instance) api(method, path string, body any, want int, out any) {
	in.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.url+"/api/v1"+path, r)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		in.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			in.t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
}

// apiAs calls the admin API with another bearer token and checks the
// status.
func (in *instance) apiAs(token, method, path string, want int) {
	in.t.Helper()
	req, _ := http.NewRequest(method, in.url+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		in.t.Fatalf("%s %s with the token: %d, want %d", method, path, resp.StatusCode, want)
	}
}

// browser starts a headless Chromium for one test; the context's
// deadline bounds the whole test.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := browserPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	failOnPageErrors(t, ctx)
	return ctx
}

// failOnPageErrors fails the test, when it ends, if the page threw an
// exception that nothing caught (an unhandled rejection too) or called
// console.error: a broken handler must never pass a browser test because
// the step it broke was not the one being checked.
func failOnPageErrors(t *testing.T, ctx context.Context) {
	t.Helper()
	var (
		mu     sync.Mutex
		errors []string
	)
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg = "uncaught: " + d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			msg += " at " + d.URL + ":" + strconv.FormatInt(d.LineNumber+1, 10)
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			msg = "console.error: " + strings.Join(parts, " ")
		default:
			return
		}
		mu.Lock()
		errors = append(errors, msg)
		mu.Unlock()
	})
	if err != nil {
		t.Fatalf("listen to the page: %v", err)
	}
	// Registered after the browser's own cleanup, so it runs first,
	// while the page is still there.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range errors {
			t.Errorf("the page reported an error: %s", e)
		}
	})
}

// run runs browser actions, failing the test with the step's name (and
// a screenshot of the page, kept in the test's temporary directory).
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v%s", step, err, failureShot(t, ctx))
	}
}

// value runs one action that returns a value.
func value[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v%s", step, err, failureShot(t, ctx))
	}
	return v
}

func failureShot(t *testing.T, ctx context.Context) string {
	dir := os.Getenv("SWITCHYARD_E2E_FAILURES")
	if dir == "" {
		return ""
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return ""
	}
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
	if os.WriteFile(path, buf, 0o644) != nil {
		return ""
	}
	return " (screenshot: " + path + ")"
}

// screenshot saves the page to docs/screenshots/<name>.png when
// SWITCHYARD_SCREENSHOTS names the repository root (see docs/ui.md).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	root := os.Getenv("SWITCHYARD_SCREENSHOTS")
	if root == "" {
		return
	}
	buf := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(root, "docs", "screenshots", name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// login signs in through the form.
func login(t *testing.T, ctx context.Context, url, name, password string) {
	t.Helper()
	run(t, ctx, "sign in as "+name,
		chromedp.Navigate(url+"/ui/#/login"),
		chromedp.WaitVisible(`input[name="name"]`),
		chromedp.SendKeys(`input[name="name"]`, name),
		chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Click(`form.login button[type="submit"]`),
		chromedp.WaitVisible(`header nav`),
	)
}

// textOf reads an element's text.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(value(t, ctx, "read "+sel, chromedp.Text(sel, chromedp.NodeVisible)))
}

// signedIn starts a server with an admin, ada, signed in to a browser of
// the given size.
func signedIn(t *testing.T, width, height int, edit ...func(*server.Options)) (context.Context, *instance) {
	t.Helper()
	ctx := browser(t, width, height)
	in := startServer(t, edit...)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	login(t, ctx, in.url, "ada", password)
	return ctx, in
}

// newEndpoint opens the new-endpoint form, waits for the field named by
// wait and fills the name, url and event types.
func newEndpoint(t *testing.T, ctx context.Context, in *instance, wait, name, url, eventTypes string) {
	t.Helper()
	run(t, ctx, "new endpoint "+name,
		chromedp.Navigate(in.url+"/ui/#/outbound/endpoints/new"),
		chromedp.WaitVisible(wait),
		chromedp.SendKeys(`input[name="name"]`, name),
		chromedp.SendKeys(`input[name="url"]`, url),
		chromedp.SendKeys(`textarea[name="event_types"]`, eventTypes),
	)
}
