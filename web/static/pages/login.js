import { h, api, setSession, navigate, query, showFormError, field } from "../app.js";

export async function render({ main }) {
  // With no user yet there is no one to sign in as: the setup page creates
  // the first admin instead. (If the server cannot say, sign-in shows.)
  const setup = await api("GET", "/setup").catch(() => null);
  if (setup && setup.needed) {
    location.replace("#/setup");
    return;
  }
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
