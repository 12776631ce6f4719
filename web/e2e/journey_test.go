package e2e

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

const password = "correct horse battery"

// js runs a script in the page and fails the test if it throws.
func js(t *testing.T, ctx context.Context, step, script string) {
	t.Helper()
	value(t, ctx, step, chromedp.Evaluate[any](script))
}

// waitJS polls a JavaScript condition until it is true.
func waitJS(t *testing.T, ctx context.Context, step, cond string) {
	t.Helper()
	value(t, ctx, step, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(30*time.Second)))
}

// clickText clicks the button or link whose text is text.
func clickText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	waitJS(t, ctx, "find "+text, `[...document.querySelectorAll("button,a")].some(b => b.textContent.trim() === `+quote(text)+` && b.offsetParent !== null)`)
	js(t, ctx, "click "+text, `[...document.querySelectorAll("button,a")].find(b => b.textContent.trim() === `+quote(text)+` && b.offsetParent !== null).click()`)
}

func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }

// sendGitHubPush posts a push signed as GitHub signs it.
func sendGitHubPush(t *testing.T, url, secret string) {
	t.Helper()
	body := []byte(`{"ref": "refs/heads/main", "commits": [{"id": "abc"}], "repository": {"full_name": "acme/api"}}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, _ := http.NewRequest("POST", url+"/webhooks/v1/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", uuid.NewString())
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
}

// TestOperatorJourney is the walk through the UI: sign in, create
// a provider from the GitHub template, write a function in the editor,
// send a signed webhook, watch the message appear, open it, resubmit it,
// and check that a viewer cannot see the payload.
func TestOperatorJourney(t *testing.T) {
	ctx := browser(t, 1280, 900)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "display_name": "Ada Lovelace", "role": "admin", "password": password}, 201, nil)
	in.api("POST", "/users", map[string]any{"name": "vic", "role": "viewer", "password": password}, 201, nil)

	login(t, ctx, in.url, "ada", password)
	run(t, ctx, "dashboard", chromedp.WaitVisible(`main svg`))
	run(t, ctx, "the dashboard's nodes", chromedp.WaitVisible(`.dm-nodes li`))
	if got := textOf(t, ctx, `.dm-nodes li`); !strings.Contains(got, strings.TrimPrefix(in.url, "http://")) || !strings.Contains(got, "(this node)") {
		t.Fatalf("the Nodes card lists %q, want this node's address, marked", got)
	}

	// A provider from the GitHub template, with its secret.
	run(t, ctx, "new provider form",
		chromedp.Navigate(in.url+"/ui/#/providers/new"),
		chromedp.WaitVisible(`select[name="template"]`),
	)
	js(t, ctx, "pick the GitHub template", `(() => { const s = document.querySelector('select[name="template"]'); s.value = "github"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	run(t, ctx, "fill the secret",
		chromedp.WaitVisible(`input[data-secret="secret"]`),
		chromedp.SendKeys(`input[data-secret="secret"]`, "s3cret-gh"),
	)
	clickText(t, ctx, "Create provider")
	waitJS(t, ctx, "the provider page", `/^#\/providers\/[0-9a-f-]{36}$/.test(location.hash) && (document.querySelector("main h1") || {}).textContent === "GitHub" && !!document.querySelector(".cm-content")`)
	waitJS(t, ctx, "the creation's toast, still shown on the new page", `document.getElementById("toast").textContent === "Created GitHub."`)
	screenshot(t, ctx, "provider-editor")
	checkA11y(t, ctx, "provider-editor")

	// Saving the provider's script makes version 2, current at once in
	// its history.
	js(t, ctx, "focus the provider's editor", `document.querySelector(".cm-content").focus()`)
	run(t, ctx, "add a line and save",
		chromedp.KeyEvent("\ue010", chromedp.KeyModifiers(chromedp.ModifierCtrl)), // Ctrl-End
		chromedp.KeyEvent("\n// reviewed"),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	)
	waitJS(t, ctx, "the provider saved as version 2", `document.body.textContent.includes("Saved as version 2.") &&
		[...document.querySelectorAll("table.versions tbody tr")].some(tr => tr.textContent.startsWith("v2") && tr.textContent.includes("current"))`)

	// A function, written in the editor.
	clickText(t, ctx, "New function")
	run(t, ctx, "function fields",
		chromedp.WaitVisible(`form input[name="uri"]`),
		chromedp.SendKeys(`form:has(input[name="uri"]) input[name="name"]`, "deploy"),
		chromedp.SendKeys(`form input[name="uri"]`, "github"),
	)
	js(t, ctx, "focus the new function's editor", `(() => { const all = document.querySelectorAll(".cm-content"); all[all.length - 1].focus(); })()`)
	run(t, ctx, "write the script",
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.KeyEvent(`LOG.setMessage("deployed " + PAYLOAD.ref); return true;`),
	)
	clickText(t, ctx, "Create function")
	waitJS(t, ctx, "the function page", `/^#\/functions\/[0-9a-f-]{36}$/.test(location.hash) && (document.querySelector("main h1") || {}).textContent === "deploy" && !!document.querySelector(".cm-content")`)
	waitJS(t, ctx, "the function's toast", `document.getElementById("toast").textContent === "Created deploy."`)
	var fns struct {
		Items []struct {
			Script string `json:"script"`
			URI    string `json:"uri"`
		} `json:"items"`
	}
	screenshot(t, ctx, "function-editor")
	checkA11y(t, ctx, "function-editor")

	// A script that does not compile is refused, and the editor marks the
	// line the server names.
	js(t, ctx, "focus the function's editor", `document.querySelector(".cm-content").focus()`)
	run(t, ctx, "break the script",
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.KeyEvent("var ok = 1;\nreturn ok +;"),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	)
	waitJS(t, ctx, "the error marked at the line the server names", `(() => {
		const m = /line (\d+), column \d+/.exec((document.querySelector(".field-error") || {}).textContent || "");
		const lines = [...document.querySelectorAll(".cm-line")];
		const marked = document.querySelector(".cm-lintRange-error");
		return !!m && !!marked && lines.indexOf(marked.closest(".cm-line")) === Number(m[1]) - 1 && Number(m[1]) > 1;
	})()`)
	in.api("GET", "/functions", nil, 200, &fns)
	if strings.Contains(fns.Items[0].Script, "return ok +") {
		t.Fatal("a script that does not compile was saved")
	}
	in.api("GET", "/functions", nil, 200, &fns)
	if len(fns.Items) != 1 || fns.Items[0].URI != "github" || !strings.Contains(fns.Items[0].Script, `LOG.setMessage("deployed " + PAYLOAD.ref); return true;`) {
		t.Fatalf("saved function: %+v", fns.Items)
	}

	// Leaving unsaved edits asks first: refused, the page stays.
	here := value(t, ctx, "the function's address", chromedp.Evaluate[string](`location.hash`))
	js(t, ctx, "refuse to leave", `window.confirm = () => false`)
	js(t, ctx, "try to leave", `location.hash = "#/messages"`)
	waitJS(t, ctx, "still on the function", `location.hash === `+quote(here)+` && (document.querySelector("main h1") || {}).textContent === "deploy"`)

	// A good save makes version 2: the toast says so and the history
	// marks it current at once, with version 1 there to compare (and any
	// error the save handler throws fails the test through the harness).
	js(t, ctx, "focus the function's editor again", `document.querySelector(".cm-content").focus()`)
	run(t, ctx, "mend the script and save",
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.KeyEvent(`LOG.info("v2"); LOG.setMessage("deployed " + PAYLOAD.ref); return true;`),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	)
	waitJS(t, ctx, "saved as version 2, current in the history", `document.body.textContent.includes("Saved as version 2.") &&
		[...document.querySelectorAll("table.versions tbody tr")].some(tr => tr.textContent.startsWith("v2") && tr.textContent.includes("current")) &&
		!!document.querySelector('table.versions button[data-version="1"]')`)
	if got := value(t, ctx, "error messages on the page", chromedp.Evaluate[string](`[...document.querySelectorAll(".error, .form-error, [role=alert]")].map(e => e.textContent).join(" | ")`)); strings.Contains(got, "not defined") {
		t.Fatalf("the save showed an error: %s", got)
	}
	js(t, ctx, "agree to leave", `window.confirm = () => true`)

	// The messages page picks up a webhook sent while it is open.
	run(t, ctx, "messages page", chromedp.Navigate(in.url+"/ui/#/messages"))
	waitJS(t, ctx, "the messages list", `(document.querySelector("main h1") || {}).textContent === "Messages"`)
	sendGitHubPush(t, in.url, "s3cret-gh")
	waitJS(t, ctx, "the message appears", `[...document.querySelectorAll("tr[data-id]")].some(tr => tr.textContent.includes("deployed refs/heads/main"))`)
	screenshot(t, ctx, "messages")
	checkA11y(t, ctx, "messages")

	js(t, ctx, "open it", `document.querySelector("tr[data-id]").click()`)
	waitJS(t, ctx, "the message page", `/^#\/messages\/[0-9a-f-]{36}/.test(location.hash) && [...document.querySelectorAll('[role="tab"]')].some(b => b.textContent === "Payload")`)
	screenshot(t, ctx, "message-detail")
	checkA11y(t, ctx, "message-detail")
	clickText(t, ctx, "Resubmit")
	clickText(t, ctx, "Resubmit now")
	waitJS(t, ctx, "the resubmitted message", `[...document.querySelectorAll(".dm-action")].some(s => s.textContent.includes("New message") && s.textContent.includes("SUCCESS"))`)
	var msgs struct {
		Items []struct {
			ResubmitOf string `json:"resubmit_of"`
			Status     string `json:"status"`
		} `json:"items"`
	}
	in.api("GET", "/messages", nil, 200, &msgs)
	if len(msgs.Items) != 2 || msgs.Items[0].ResubmitOf == "" || msgs.Items[0].Status != "SUCCESS" {
		t.Fatalf("after resubmit: %+v", msgs.Items)
	}
	detail := value(t, ctx, "the message's address", chromedp.Evaluate[string](`location.hash`))

	// More screens for the docs, the dashboard with an unrecognised
	// request beside the two deployed pushes.
	resp, err := http.Post(in.url+"/webhooks/v1/github", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, page := range []string{"", "providers", "outbound", "users", "audit"} {
		title := map[string]string{"": "Dashboard", "providers": "Providers", "outbound": "Outbound", "users": "Users", "audit": "Audit log"}[page]
		run(t, ctx, "page "+page, chromedp.Navigate(in.url+"/ui/#/"+page))
		waitJS(t, ctx, page+" loaded", `(document.querySelector("main h1") || {}).textContent === `+quote(title)+` && !document.querySelector("main").textContent.includes("Loading")`)
		screenshot(t, ctx, cmp.Or(page, "dashboard"))
		checkA11y(t, ctx, cmp.Or(page, "dashboard"))
	}

	// A viewer sees the message's status, not its payload.
	run(t, ctx, "sign out", chromedp.Navigate(in.url+"/ui/#/"), chromedp.WaitVisible(`header .who`))
	clickText(t, ctx, "Sign out")
	run(t, ctx, "signed out", chromedp.WaitVisible(`form.login`))
	login(t, ctx, in.url, "vic", password)
	run(t, ctx, "the message as a viewer", chromedp.Navigate(in.url+"/ui/"+detail))
	waitJS(t, ctx, "the viewer's note", `document.body.textContent.includes("Your role sees statuses only")`)
	tabs := value(t, ctx, "tabs", chromedp.Evaluate[string](`[...document.querySelectorAll('[role="tab"]')].map(b => b.textContent).join(",")`))
	if strings.Contains(tabs, "Payload") || strings.Contains(tabs, "Headers") {
		t.Fatalf("a viewer has the tabs %q", tabs)
	}
	if body := value(t, ctx, "page text", chromedp.Evaluate[string](`document.body.textContent`)); strings.Contains(body, "refs/heads/main\",") || strings.Contains(body, "x-hub-signature") {
		t.Fatal("the payload or headers reached a viewer's page")
	}
	if buttons := value(t, ctx, "buttons", chromedp.Evaluate[string](`[...document.querySelectorAll("button")].map(b => b.textContent).join(",")`)); strings.Contains(buttons, "Resubmit") {
		t.Fatalf("a viewer can resubmit: %s", buttons)
	}
}

// TestPhoneWidth opens the main lists at a phone's width.
func TestPhoneWidth(t *testing.T) {
	ctx := browser(t, 390, 844)
	in := startServer(t)
	in.api("POST", "/users", map[string]any{"name": "ada", "role": "admin", "password": password}, 201, nil)
	in.api("POST", "/providers", map[string]any{"name": "anyone", "match_script": "return true"}, 201, nil)
	login(t, ctx, in.url, "ada", password)
	for _, page := range []string{"messages", "providers"} {
		title := map[string]string{"messages": "Messages", "providers": "Providers"}[page]
		run(t, ctx, page, chromedp.Navigate(in.url+"/ui/#/"+page))
		waitJS(t, ctx, page+" loaded", `(document.querySelector("main h1") || {}).textContent === `+quote(title)+` && !document.querySelector("main").textContent.includes("Loading")`)
		overflow := value(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if overflow {
			t.Errorf("%s scrolls sideways at 390 px", page)
		}
		screenshot(t, ctx, page+"-phone")
		checkA11y(t, ctx, page+"-phone")
	}
}
