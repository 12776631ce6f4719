// The signed-in user's personal API tokens: list, create (shown once),
// revoke. Route: #/tokens.
import { h, clear, api, me, toast, showFormError, table, field, pageHeader, fmtTime, fmtAgo } from "../app.js";

export async function render({ main }) {
  const who = me();
  main.append(pageHeader("API tokens"));
  if (!who || !who.user) {
    main.append(
      h(
        "section.card",
        h("p", "You are signed in with the admin token, which belongs to no user. API tokens belong to users."),
        h(
          "p",
          "Sign in as a user to make your own tokens, or, as an admin, create a user on the ",
          h("a", { href: "#/users" }, "Users"),
          " page and see and revoke that user's tokens there.",
        ),
      ),
    );
    return;
  }

  main.append(
    h(
      "p.muted",
      "Tokens let scripts and tools call the admin API as you (",
      who.name,
      ", role ",
      who.role,
      "): send ",
      h("code", "Authorization: Bearer <token>"),
      ". A token has your role; revoke it when it is no longer needed.",
    ),
  );

  const reveal = h("div", { "aria-live": "polite" });
  const listBox = h("div", h("p.muted", "Loading…"));

  // create
  const name = h("input", { name: "name", required: true, maxlength: 100, autocomplete: "off", placeholder: "CI deploy job" });
  const days = h("input", { name: "expires_in_days", type: "number", inputmode: "numeric", min: 0, max: 3650, value: "90" });
  const submit = h("button", { type: "submit" }, "Create token");
  const form = h(
    "form.card.adm-form",
    { novalidate: true, "aria-labelledby": "adm-new-token" },
    h("h2#adm-new-token", "New token"),
    h(
      "div.adm-row",
      field("Name", name, "Say what it is for."),
      field("Expires in (days)", days, "0: never. At most 3650."),
    ),
    h("div.actions", submit),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const n = days.value.trim() === "" ? 0 : Number(days.value);
    if (!Number.isInteger(n)) {
      showFormError(form, { message: "expires_in_days must be a whole number of days" });
      return;
    }
    submit.disabled = true;
    try {
      const t = await api("POST", "/tokens", { name: name.value.trim(), expires_in_days: n });
      for (const old of form.querySelectorAll(".field-error")) old.remove();
      name.value = "";
      showToken(t);
      loadList();
    } catch (err) {
      showFormError(form, err);
    } finally {
      submit.disabled = false;
    }
  });

  function showToken(t) {
    const input = h("input.mono.adm-token", { readonly: true, value: t.token, "aria-label": `The new token ${t.name}`, spellcheck: "false" });
    const copy = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(t.token);
          } catch {
            input.select();
            document.execCommand("copy");
          }
          toast("Token copied");
        },
      },
      "Copy",
    );
    const done = h("button.secondary", { type: "button", onclick: () => { clear(reveal); name.focus(); } }, "Done");
    clear(reveal).append(
      h(
        "section.card.adm-reveal",
        { "aria-labelledby": "adm-reveal-title" },
        h("h2#adm-reveal-title", `Token "${t.name}" created`),
        h("p", h("strong", "Copy it now: you will not see it again."), " Only its prefix is kept to recognise it."),
        h("div.adm-copy", input, copy),
        h("p.muted", t.expires_at ? `Expires ${fmtTime(t.expires_at)}.` : "It does not expire."),
        done,
      ),
    );
    input.focus();
    input.select();
  }

  const loadList = () =>
    tokenList(listBox, "/tokens", {
      empty: "You have no API tokens.",
      confirmText: (t) => `Revoke the token "${t.name}"? Anything using it stops working at once.`,
    });

  main.append(reveal, form, h("h2", "Your tokens"), listBox);
  loadList();
}

// tokenList loads the tokens at path into box, each with a Revoke button
// (confirmText asks first); used here and on a user's admin page.
export async function tokenList(box, path, { empty, confirmText }) {
  const reload = () => tokenList(box, path, { empty, confirmText });
  try {
    const page = await api("GET", path);
    const now = Date.now();
    clear(box).append(
      table(
        [
          { title: "Name", cell: (t) => t.name },
          { title: "Prefix", cls: "mono", cell: (t) => t.prefix + "…" },
          { title: "Created", cell: (t) => fmtTime(t.created_at) },
          {
            title: "Expires",
            cell: (t) =>
              !t.expires_at
                ? "never"
                : new Date(t.expires_at).getTime() <= now
                  ? h("span.badge.st-failed", "expired")
                  : fmtTime(t.expires_at),
          },
          { title: "Last used", cell: (t) => (t.last_used_at ? h("span", { title: fmtTime(t.last_used_at) }, fmtAgo(t.last_used_at)) : h("span.muted", "never")) },
          {
            title: "",
            cell: (t) =>
              h(
                "button.secondary",
                {
                  type: "button",
                  "aria-label": `Revoke token ${t.name}`,
                  onclick: async (e) => {
                    if (!confirm(confirmText(t))) return;
                    e.target.disabled = true;
                    try {
                      await api("DELETE", `/tokens/${encodeURIComponent(t.id)}`);
                      toast(`Token "${t.name}" revoked`);
                      reload();
                    } catch (err) {
                      toast(err.message, "error");
                      e.target.disabled = false;
                    }
                  },
                },
                "Revoke",
              ),
          },
        ],
        page.items || [],
        { empty },
      ),
    );
  } catch (err) {
    clear(box).append(h("p.error", err.message));
  }
}
