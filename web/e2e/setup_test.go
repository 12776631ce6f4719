package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestFirstRunSetup: a server without users shows the setup page, not
// sign-in; a wrong admin token is refused beside its field; the right one
// makes the first admin, signed in, and setup never shows again. A server
// with a user shows sign-in.
func TestFirstRunSetup(t *testing.T) {
	ctx := browser(t, 1280, 800)
	in := startServer(t)

	run(t, ctx, "open the UI",
		chromedp.Navigate(in.url+"/ui/"),
		chromedp.WaitVisible(`form.setup`),
	)
	if n := count(t, ctx, `form.login`); n != 0 {
		t.Fatal("the sign-in form shows while setup is needed")
	}
	if msg := textOf(t, ctx, "form.setup"); !strings.Contains(msg, "admin-token") || !strings.Contains(msg, "SWITCHYARD_ADMIN_TOKEN") {
		t.Fatalf("the setup page does not say where the token is: %q", msg)
	}
	// The admin token field has the focus: the page works from the keyboard.
	if got := value(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.name`)); got != "admin_token" {
		t.Fatalf("focus on %q, want the admin token", got)
	}
	checkA11y(t, ctx, "setup")
	screenshot(t, ctx, "setup")

	// Passwords that differ are caught before asking the server.
	run(t, ctx, "passwords differ",
		chromedp.SendKeys(`input[name="admin_token"]`, "not-the-token"),
		chromedp.SendKeys(`input[name="name"]`, "root"),
		chromedp.SendKeys(`input[name="password"]`, "correct horse battery"),
		chromedp.SendKeys(`input[name="confirm"]`, "correct horse battery!"),
		chromedp.Click(`form.setup button[type="submit"]`),
		chromedp.WaitVisible(`.field-error`),
	)
	if msg := textOf(t, ctx, ".field-error"); !strings.Contains(msg, "differ") {
		t.Fatalf("error shown: %q", msg)
	}
	// A wrong token is refused by the server, shown beside the token.
	clearInput(t, ctx, `input[name="confirm"]`)
	run(t, ctx, "wrong token",
		chromedp.SendKeys(`input[name="confirm"]`, "correct horse battery"),
		chromedp.Click(`form.setup button[type="submit"]`),
		chromedp.WaitVisible(`input[name="admin_token"][aria-invalid="true"]`),
	)
	if msg := textOf(t, ctx, ".field-error"); !strings.Contains(msg, "not the server's admin token") {
		t.Fatalf("error shown: %q", msg)
	}
	checkA11y(t, ctx, "setup with an error")
	var users struct {
		Items []struct{ Name, Role string }
	}
	in.api("GET", "/users", nil, 200, &users)
	if len(users.Items) != 0 {
		t.Fatalf("a refused setup made users: %+v", users.Items)
	}

	// The right token, sent with Enter: the dashboard, signed in as admin.
	clearInput(t, ctx, `input[name="admin_token"]`)
	run(t, ctx, "set up",
		chromedp.SendKeys(`input[name="admin_token"]`, adminToken),
		chromedp.SendKeys(`input[name="confirm"]`, kb.Enter),
		chromedp.WaitVisible(`header nav`),
		chromedp.WaitVisible(`.dash, main h1`),
	)
	if who := textOf(t, ctx, "header .who"); !strings.Contains(who, "root") || !strings.Contains(who, "admin") {
		t.Fatalf("header: %q", who)
	}
	if nav := textOf(t, ctx, "header nav"); !strings.Contains(nav, "Users") {
		t.Fatalf("nav for the new admin: %q", nav)
	}
	if hash := value(t, ctx, "address", chromedp.Evaluate[string](`location.hash`)); hash != "#/" {
		t.Fatalf("after setup at %q, want the dashboard", hash)
	}
	in.api("GET", "/users", nil, 200, &users)
	if len(users.Items) != 1 || users.Items[0].Name != "root" || users.Items[0].Role != "admin" {
		t.Fatalf("users: %+v", users.Items)
	}

	// A reload keeps the session; the setup address leads to the dashboard.
	for _, addr := range []string{in.url + "/ui/", in.url + "/ui/#/setup"} {
		run(t, ctx, "open "+addr,
			chromedp.Navigate(addr),
			chromedp.Reload(),
			chromedp.WaitVisible(`header nav`),
		)
		if n := count(t, ctx, `form.setup, form.login`); n != 0 {
			t.Fatalf("%s shows a setup or sign-in form after setup", addr)
		}
	}
	// Signed out, it is sign-in.
	run(t, ctx, "sign out",
		chromedp.Click(`header .who button`),
		chromedp.WaitVisible(`form.login`),
	)
	if n := count(t, ctx, `form.setup`); n != 0 {
		t.Fatal("setup shows after signing out")
	}

	// Another server, with a user: sign-in, never setup.
	other := startServer(t)
	other.api("POST", "/users", map[string]any{"name": "ada", "role": "viewer", "password": "correct horse battery"}, 201, nil)
	run(t, ctx, "a server with a user",
		chromedp.Navigate(other.url+"/ui/"),
		chromedp.WaitVisible(`form.login`),
	)
	if n := count(t, ctx, `form.setup`); n != 0 {
		t.Fatal("setup shows on a server with a user")
	}
	run(t, ctx, "its setup address",
		chromedp.Navigate(other.url+"/ui/#/setup"),
		chromedp.WaitVisible(`form.login`),
	)
}

// count is how many elements match sel now.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	q, _ := json.Marshal(sel)
	return value(t, ctx, "count "+sel, chromedp.Evaluate[int](`document.querySelectorAll(`+string(q)+`).length`))
}

// clearInput empties an input (what its user would select and delete).
func clearInput(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	q, _ := json.Marshal(sel)
	value(t, ctx, "clear "+sel, chromedp.Evaluate[bool](`(document.querySelector(`+string(q)+`).value = "") === ""`))
}
