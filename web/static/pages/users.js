// Users (admin): list, create, edit (role, display name, disabled, new
// password), delete; and a user's API tokens.
//
// Routes: #/users, #/users/:id.
import { h, clear, api, me, toast, showFormError, table, field, pageHeader, navigate, fmtTime, fmtAgo, listAll } from "../app.js";
import { tokenList } from "./tokens.js";

const ROLES = [
  ["admin", "Admin: everything, users and the audit log included"],
  ["editor", "Editor: changes providers, functions and endpoints"],
  ["operator", "Operator: resubmits and replays, sees payloads"],
  ["viewer", "Viewer: reads statuses"],
];

export async function render(ctx) {
  const id = ctx.params[0];
  if (id) return renderUser(ctx, decodeURIComponent(id));
  return renderList(ctx);
}

function roleSelect(value) {
  const el = h("select", { name: "role" }, ROLES.map(([r, label]) => h("option", { value: r }, label)));
  el.value = value || "viewer";
  return el;
}

// The password policy's message starts with "the password"; point it at
// the password field.
function formError(form, err) {
  const msg = String((err && err.message) || err).replace(/^invalid: /, "");
  showFormError(form, /^the password/.test(msg) ? { message: msg.replace(/^the password /, "password ") } : err);
}

function statusBadge(u) {
  return u.disabled ? h("span.badge.st-failed", "Disabled") : h("span.badge.st-success", "Active");
}

async function renderList(ctx) {
  const { main } = ctx;
  const users = await listAll("/users");
  const self = me() && me().user ? me().user.id : "";

  const createBox = h("div");
  const newBtn = h("button", { type: "button", "aria-expanded": "false", "aria-controls": "adm-new-user" }, "New user");
  newBtn.addEventListener("click", () => {
    if (createBox.firstChild) {
      clear(createBox);
      newBtn.setAttribute("aria-expanded", "false");
      return;
    }
    newBtn.setAttribute("aria-expanded", "true");
    createBox.append(
      createForm(() => {
        clear(createBox);
        newBtn.setAttribute("aria-expanded", "false");
        newBtn.focus();
      }),
    );
    createBox.querySelector("input[name=name]").focus();
  });

  main.append(
    pageHeader("Users", newBtn),
    h("div#adm-new-user", createBox),
    table(
      [
        { title: "Name", cell: (u) => h("span", h("a", { href: `#/users/${encodeURIComponent(u.id)}` }, u.name), u.id === self ? h("span.muted", " (you)") : null) },
        { title: "Display name", cell: (u) => u.display_name || "—" },
        { title: "Role", cell: (u) => u.role },
        { title: "Status", cell: statusBadge },
        {
          title: "Last sign-in",
          cell: (u) => (u.last_login_at ? h("span", { title: fmtTime(u.last_login_at) }, fmtAgo(u.last_login_at)) : h("span.muted", "never")),
        },
      ],
      users,
      { onRow: (u) => navigate(`#/users/${encodeURIComponent(u.id)}`), empty: "No users yet: sign-in uses the admin token only." },
    ),
  );

  function createForm(close) {
    const name = h("input", { name: "name", required: true, autocomplete: "off", spellcheck: "false", maxlength: 64 });
    const display = h("input", { name: "display_name", autocomplete: "off" });
    const role = roleSelect("viewer");
    const password = h("input", { name: "password", type: "password", required: true, autocomplete: "new-password" });
    const submit = h("button", { type: "submit" }, "Create user");
    const form = h(
      "form.card.adm-form",
      { novalidate: true, "aria-label": "New user" },
      h("h2", "New user"),
      h(
        "div.adm-row",
        field("Name", name, "For signing in: letters, digits, . _ @ -"),
        field("Display name", display, "Shown in the UI and the audit log."),
      ),
      h("div.adm-row", field("Role", role), field("Password", password, "At least 10 characters.")),
      h("div.actions", submit, h("button.secondary", { type: "button", onclick: close }, "Cancel")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      submit.disabled = true;
      try {
        const u = await api("POST", "/users", {
          name: name.value.trim(),
          display_name: display.value.trim(),
          role: role.value,
          password: password.value,
        });
        navigate("#/users", { toast: `User "${u.name}" created` });
      } catch (err) {
        formError(form, err);
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }
}

async function renderUser(ctx, id) {
  const { main } = ctx;
  const u = await api("GET", `/users/${encodeURIComponent(id)}`);
  const path = `/users/${encodeURIComponent(u.id)}`;
  const isSelf = me() && me().user && me().user.id === u.id;

  const display = h("input", { name: "display_name", value: u.display_name || "", autocomplete: "off" });
  const role = roleSelect(u.role);
  const disabled = h("input", { type: "checkbox", name: "disabled", checked: u.disabled });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const submit = h("button", { type: "submit" }, "Save changes");
  const form = h(
    "form.card.adm-form",
    { novalidate: true, "aria-label": "Edit user" },
    h("div.adm-row", field("Display name", display), field("Role", role)),
    h("label.adm-check", disabled, h("span", h("strong", "Disabled"), ": the user cannot sign in or use their tokens.")),
    h("div.adm-row", field("New password", password, "Leave empty to keep the current password. At least 10 characters."), h("div")),
    isSelf ? h("p.muted", "This is you: demoting or disabling yourself takes effect at once.") : null,
    h("div.actions", submit),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { display_name: display.value.trim(), role: role.value, disabled: disabled.checked };
    if (password.value) body.password = password.value;
    if (isSelf && (body.disabled || body.role !== "admin") && !confirm("You are changing your own account: you may lose access to this page. Continue?")) return;
    submit.disabled = true;
    try {
      await api("PUT", path, body);
      toast("User saved");
      clear(main);
      await renderUser(ctx, id);
    } catch (err) {
      formError(form, err);
    } finally {
      submit.disabled = false;
    }
  });

  const del = h(
    "button.danger",
    {
      type: "button",
      onclick: async () => {
        if (!confirm(`Delete the user "${u.name}"? They can no longer sign in, and their API tokens stop working.`)) return;
        del.disabled = true;
        try {
          await api("DELETE", path);
          navigate("#/users", { toast: `User "${u.name}" deleted` });
        } catch (err) {
          toast(err.message, "error");
          del.disabled = false;
        }
      },
    },
    "Delete user",
  );

  const tokensBox = h("div", h("p.muted", "Loading…"));
  main.append(
    h("p.adm-crumbs", h("a", { href: "#/users" }, "Users"), " / ", u.name),
    pageHeader(u.display_name ? `${u.display_name} (${u.name})` : u.name, del),
    h(
      "section.card",
      { "aria-label": "Account" },
      h(
        "dl.kv",
        h("dt", "Name"),
        h("dd.mono", u.name),
        h("dt", "Status"),
        h("dd", statusBadge(u)),
        h("dt", "Role"),
        h("dd", u.role),
        h("dt", "Last sign-in"),
        h("dd", u.last_login_at ? `${fmtTime(u.last_login_at)} (${fmtAgo(u.last_login_at)})` : "never"),
        h("dt", "Created"),
        h("dd", fmtTime(u.created_at)),
        h("dt", "Updated"),
        h("dd", fmtTime(u.updated_at)),
      ),
    ),
    h("h2", "Edit"),
    form,
    h("h2", "API tokens"),
    tokensBox,
  );
  loadTokens();

  function loadTokens() {
    return tokenList(tokensBox, `/tokens?user_id=${encodeURIComponent(u.id)}`, {
      empty: `${u.name} has no API tokens. Users make their own on their API tokens page.`,
      confirmText: (t) => `Revoke the token "${t.name}" of ${u.name}? Anything using it stops working.`,
    });
  }
}
