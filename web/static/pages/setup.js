// The first run: with no user yet, the setup page creates the first admin
// with the server's admin token (POST /api/v1/setup) and signs them in.
import { h, api, setSession, navigate, showFormError, clearFormErrors, field } from "../app.js";

const minPassword = 10; // as the server's password policy

export async function render({ main }) {
  const status = await api("GET", "/setup");
  if (!status.needed) {
    // Someone set it up already: the dashboard, or sign-in without a session.
    location.replace("#/");
    return;
  }
  const token = h("input", { name: "admin_token", type: "password", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "setup-where" });
  const name = h("input", { name: "name", autocomplete: "username", required: true, maxlength: 64 });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: minPassword });
  const confirm = h("input", { name: "confirm", type: "password", autocomplete: "new-password", required: true });
  const submit = h("button", { type: "submit" }, "Create the admin and sign in");
  const form = h(
    "form.card.setup",
    { novalidate: true, "aria-labelledby": "setup-title" },
    h("h1#setup-title", "Set up Switchyard"),
    h("p", "No one can sign in yet. Create the first user, an admin, with the server's admin token; once it exists, this page is gone and everyone signs in."),
    h(
      "div#setup-where",
      h("p", "Where is the admin token? On the server:"),
      h(
        "ul.where",
        h("li", "in the file ", h("code", "admin-token"), " in the server's data directory (", h("code", "./data/admin-token"), " by default, or ", h("code", "--data DIR"), "), which the first start created and named in its log: ", h("code", "created an admin API token; read it from the file path=…"), ";"),
        h("li", "or, if the server was started with ", h("code", "SWITCHYARD_ADMIN_TOKEN"), ", that variable's value."),
      ),
    ),
    field("Admin token", token),
    field("Your user name", name, "letters, digits, '.', '_', '@' and '-'"),
    field("Password", password, `at least ${minPassword} characters`),
    field("Confirm password", confirm),
    submit,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    // What the browser can tell at once; the server checks it all again.
    const missing = [
      [token, "admin_token: paste the admin token"],
      [name, "name: choose a user name"],
    ].find(([input]) => !input.value.trim());
    if (missing) return showFormError(form, { message: missing[1] });
    if ([...password.value].length < minPassword) return showFormError(form, { message: `password: at least ${minPassword} characters` });
    if (password.value !== confirm.value) return showFormError(form, { message: "confirm: the two passwords differ" });
    submit.disabled = true;
    try {
      const me = await api("POST", "/setup", { admin_token: token.value.trim(), name: name.value.trim(), password: password.value });
      setSession(me);
      navigate("#/", { toast: `Welcome, ${me.name}: you are the admin. Add users on the Users page.` });
    } catch (err) {
      if (err.status === 409) {
        navigate("#/login", { toast: "Setup is done already: sign in." });
        return;
      }
      // "invalid: the password must have..." belongs beside the password.
      const msg = String(err.message || err).replace(/^invalid: /, "");
      showFormError(form, { message: /^the password/.test(msg) ? "password: " + msg : msg });
    } finally {
      submit.disabled = false;
    }
  });
  main.append(form);
  token.focus();
}
