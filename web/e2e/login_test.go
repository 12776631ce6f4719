package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestSignInAndOut(t *testing.T) {
	ctx := browser(t, 1280, 800)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "editor", "password": "correct horse battery"}, 201, nil)

	// A wrong password is refused next to the form.
	run(t, ctx, "wrong password",
		chromedp.Navigate(in.url+"/ui/"),
		chromedp.WaitVisible(`form.login`),
		chromedp.SendKeys(`input[name="name"]`, "ada"),
		chromedp.SendKeys(`input[name="password"]`, "not the password"),
		chromedp.Click(`form.login button[type="submit"]`),
		chromedp.WaitVisible(`.field-error`),
	)
	if msg := textOf(t, ctx, ".field-error"); !strings.Contains(msg, "wrong name or password") {
		t.Fatalf("error shown: %q", msg)
	}
	checkA11y(t, ctx, "sign-in")
	login(t, ctx, in.url, "ada", "correct horse battery")
	if who := textOf(t, ctx, "header .who"); !strings.Contains(who, "editor") {
		t.Fatalf("header: %q", who)
	}
	// An editor does not see the admin pages in the navigation.
	if nav := textOf(t, ctx, "header nav"); strings.Contains(nav, "Users") || !strings.Contains(nav, "Providers") {
		t.Fatalf("nav for an editor: %q", nav)
	}
	run(t, ctx, "sign out",
		chromedp.Click(`header .who button`),
		chromedp.WaitVisible(`form.login`),
	)
}
