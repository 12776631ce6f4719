import { h, api, setSession, navigate, query, showFormError, field } from "../app.js";

export async function render({ main }) {
  const name = h("input", { name: "name", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form.card.login",
    { novalidate: true },
    h("h1", "Sign in to Switchyard"),
    field("Name", name),
    field("Password", password),
    submit,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const me = await api("POST", "/login", { name: name.value, password: password.value });
      setSession(me);
      const next = query().get("next");
      navigate(next && next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/");
    } catch (err) {
      showFormError(form, err.status === 401 ? { message: "password: wrong name or password" } : err);
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(form);
  name.focus();
}
