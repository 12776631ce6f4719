// Switchyard admin UI: the shell. Pages live in pages/*.js; each exports
// `async function render(ctx)` that fills ctx.main (and may return a
// cleanup function). Everything is built with h(), never innerHTML with
// data, so values from webhooks cannot inject markup.

// ---------- DOM helpers ----------

// h("tag.class#id", {attr: value, onclick: fn}, ...children)
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec) || [];
  const el = document.createElement(m[1] || "div");
  for (const part of (m[2] || "").match(/[.#][\w-]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs !== null && attrs !== undefined && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  appendAll(el, children);
  return el;
}

// append adds children (nodes, strings, arrays; null and false skipped)
// to el, as h() does: use it instead of el.append for page content.
export function append(el, ...children) {
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) appendAll(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// ---------- formatting ----------

export function fmtTime(t) {
  if (!t) return "";
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtAgo(t) {
  const s = (Date.now() - new Date(t).getTime()) / 1000;
  if (!isFinite(s)) return "";
  if (s < 60) return `${Math.max(0, Math.round(s))} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// A value from outside (a sender, a sign-in form) is shown as what it is:
// control characters, newlines included, and invisible format characters
// (bidirectional overrides, zero-width spaces) appear as escapes (\n, \t,
// \x1b, \u202e) marked as such, so a crafted value cannot read as several
// lines, a different entry or reversed text.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const ESCAPES = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };

function escapeOf(c) {
  const n = c.charCodeAt(0);
  return ESCAPES[c] || (n < 0x100 ? "\\x" + n.toString(16).padStart(2, "0") : "\\u" + n.toString(16).padStart(4, "0"));
}

// visible(s) is s as text with those characters escaped (for titles).
export function visible(s) {
  return String(s ?? "").replace(INVISIBLE, escapeOf);
}

// visibleNodes(s) is s as nodes, each escape in a span.ctl.
export function visibleNodes(s) {
  const text = String(s ?? "");
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INVISIBLE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h("span.ctl", { title: "control character" }, escapeOf(m[0])));
    last = m.index + 1;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// clip(value, max) is a list cell's text: one line, control characters
// shown, cut at max characters with "…" (and by CSS at the column's
// width); the title holds more of it, and the detail page the whole value.
export function clip(value, max = 160) {
  const raw = String(value ?? "");
  const cut = raw.length > max;
  const all = visible(raw);
  return h(
    "span.clip",
    { title: cut || all.length > 30 ? (all.length > 2000 ? all.slice(0, 1999) + "…" : all) : null },
    visibleNodes(cut ? raw.slice(0, max - 1) : raw),
    cut ? "…" : null,
  );
}

// A status as a coloured badge: SUCCESS, FAILED, PENDING, UNMATCHED...
export function badge(status) {
  return h(`span.badge.st-${String(status || "").toLowerCase()}`, status || "—");
}

// ---------- API ----------

export class ApiError extends Error {
  // body is the parsed answer (e.g. a failed sync resubmit's message).
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const state = { me: null, csrf: "" };

export async function api(method, path, body, { raw = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const res = await fetch("/api/v1" + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  // (Sign-in and setup answer 401 for a wrong password or admin token:
  // their forms show it.)
  if (res.status === 401 && path !== "/login" && path !== "/setup") {
    state.me = null;
    if (!location.hash.startsWith("#/login")) navigate("#/login?next=" + encodeURIComponent(location.hash));
    throw new ApiError(401, "signed out");
  }
  if (raw) {
    if (!res.ok) throw new ApiError(res.status, (await res.text()) || res.statusText);
    return res;
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || res.statusText, data);
  return data;
}

// listAll fetches every page of a list (providers, functions, versions,
// templates, endpoints, users), 500 at a time, until the server gives no
// cursor: a page shows the whole list. A cursor given before ends it.
export async function listAll(path) {
  const sep = path.includes("?") ? "&" : "?";
  const items = [];
  const seen = new Set();
  let cursor = "";
  do {
    seen.add(cursor);
    const page = await api("GET", `${path}${sep}limit=500${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
    items.push(...((page && page.items) || []));
    cursor = (page && page.next_cursor) || "";
  } while (cursor && !seen.has(cursor));
  return items;
}

export function can(perm) {
  return !!state.me && state.me.permissions.includes(perm);
}

export function me() {
  return state.me;
}

// ---------- feedback ----------

let toastTimer;
export function toast(text, kind = "ok") {
  const el = document.getElementById("toast");
  clear(el).append(h(`div.toast.${kind}`, text));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => clear(el), kind === "warn" ? 20000 : 5000);
}

// Shows an API error next to the form field it names (the server's
// messages start with the field: "timeout_ms must be ...", "name is
// required"), or at the top of the form.
export function showFormError(form, err) {
  clearFormErrors(form);
  const msg = String((err && err.message) || err).replace(/^invalid: /, "");
  let target = null;
  for (const input of form.querySelectorAll("[name]")) {
    const name = input.getAttribute("name");
    if (msg.startsWith(name + " ") || msg.startsWith(name + ":") || msg.startsWith(name + ".") || msg.includes(`field "${name}"`)) {
      target = input;
      break;
    }
  }
  // "password: wrong name or password" is shown beside the password as
  // "wrong name or password"; "name is required" stays a sentence.
  const note = h("p.field-error", { role: "alert" }, target && msg.startsWith(target.getAttribute("name") + ": ") ? msg.slice(target.getAttribute("name").length + 2) : msg);
  if (target) {
    target.setAttribute("aria-invalid", "true");
    const wrap = target.closest("label");
    if (wrap) wrap.append(note); // inside the field, so grids keep their shape
    else target.after(note);
    target.focus();
  } else {
    form.prepend(note);
  }
}

// clearFormErrors takes away the notes and marks showFormError left.
export function clearFormErrors(form) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const old of form.querySelectorAll("[aria-invalid]")) old.removeAttribute("aria-invalid");
}

// ---------- widgets ----------

// A table: columns [{title, cell: row => node|string, cls}], rows; onRow
// makes rows clickable (and keyboard-activable).
export function table(columns, rows, { onRow, empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p.muted", empty);
  return h(
    "div.table-wrap",
    h(
      "table",
      h("thead", h("tr", columns.map((c) => h("th", c.title)))),
      h(
        "tbody",
        rows.map((r) => {
          const tr = h("tr", columns.map((c) => h("td", { class: c.cls, "data-label": c.title }, cellOf(c, r))));
          if (onRow) {
            tr.classList.add("clickable");
            tr.tabIndex = 0;
            tr.addEventListener("click", (e) => {
              if (!e.target.closest("a,button,input,select")) onRow(r);
            });
            tr.addEventListener("keydown", (e) => {
              if (e.key === "Enter") onRow(r);
            });
          }
          return tr;
        }),
      ),
    ),
  );
}

// cellOf renders a column's cell: text is clipped (see clip), nodes are
// the page's own.
function cellOf(c, r) {
  const v = c.cell(r);
  return typeof v === "string" ? clip(v) : v;
}

// A "More" button for cursor-paged lists: load(cursor) returns
// {items, next_cursor}; render(items) appends them.
export function pager(load, render) {
  const btn = h("button.secondary", { type: "button" }, "Load more");
  const wrap = h("div.pager", btn);
  let cursor = "";
  async function more() {
    btn.disabled = true;
    try {
      const page = await load(cursor);
      render(page.items || []);
      cursor = page.next_cursor || "";
      wrap.hidden = !cursor;
    } catch (e) {
      toast(e.message, "error");
    } finally {
      btn.disabled = false;
    }
  }
  btn.addEventListener("click", more);
  return { el: wrap, more };
}

export function field(label, input, hint) {
  return h("label.field", h("span.label", label), input, hint ? h("span.hint", hint) : null);
}

export function pageHeader(title, ...actions) {
  return h("div.page-head", h("h1", title), h("div.actions", actions));
}

// checkbox is a labelled checkbox: {input, el}.
export function checkbox(name, checked, label, disabled) {
  const input = h("input", { type: "checkbox", name, checked, disabled });
  return { input, el: h("label.check", input, " ", label) };
}

// grid lays fields out side by side; each in its own cell, so that an error
// note showFormError puts after a field stays under it.
export function grid(...fields) {
  return h("div.grid", fields.map((f) => h("div.cell", f)));
}

export function breadcrumbs(...parts) {
  return h(
    "nav.crumbs",
    { "aria-label": "Breadcrumb" },
    parts.map((p, i) => [i ? h("span.sep", { "aria-hidden": "true" }, " › ") : null, p]),
  );
}

// ---------- routing ----------

const routes = [
  // [pattern, module, permission]
  [/^#\/login/, "login", null],
  [/^#\/setup/, "setup", null],
  [/^#\/?(?:\?.*)?$/, "dashboard", "read"],
  [/^#\/providers(?:\/([^/?]+))?/, "providers", "read"],
  [/^#\/functions(?:\/([^/?]+))?/, "functions", "read"],
  [/^#\/messages(?:\/([^/?]+))?/, "messages", "read"],
  [/^#\/outbound(?:\/([^/?]+)(?:\/([^/?]+))?)?/, "outbound", "read"],
  [/^#\/deliveries\/([^/?]+)/, "outbound", "read"],
  [/^#\/users(?:\/([^/?]+))?/, "users", "admin"],
  [/^#\/tokens/, "tokens", "read"],
  [/^#\/audit/, "audit", "admin"],
];

// navigate goes to hash; a toast given is shown on the new page. (Toasts
// outlive a change of page: routing never clears them, so
// toast(...); navigate(...) shows the toast on the page it leads to.)
export function navigate(hash, { toast: note } = {}) {
  if (note) toast(note);
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function query() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1));
}

let cleanup = null;

let routeSeq = 0;

// A page with unsaved work registers a guard: leaving asks it first.
let leaveGuard = null;
let shownHash = null;

// guardLeaving(fn): before the page is left for another one inside the
// app, fn() is asked; false keeps the page (and its address).
export function guardLeaving(fn) {
  leaveGuard = fn;
}

async function route() {
  if (leaveGuard && shownHash !== null && location.hash !== shownHash && !leaveGuard()) {
    history.replaceState(null, "", shownHash);
    return;
  }
  leaveGuard = null;
  shownHash = location.hash;
  const seq = ++routeSeq;
  const hash = location.hash || "#/";
  const main = document.getElementById("main");
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  const match = routes.find(([re]) => re.test(hash));
  if (!match) {
    clear(main).append(h("h1", "Not found"), h("p", h("a", { href: "#/" }, "Back to the dashboard")));
    return;
  }
  const [re, name, perm] = match;
  if (name !== "login" && name !== "setup" && !state.me) {
    try {
      await loadMe();
    } catch {
      return; // api() went to the login page
    }
  }
  if (seq !== routeSeq) return;
  renderHeader();
  if (perm && !can(perm)) {
    clear(main).append(h("h1", "Not allowed"), h("p", `Your role (${state.me.role}) cannot open this page.`));
    return;
  }
  const params = re.exec(hash).slice(1);
  clear(main).append(h("p.muted", "Loading…"));
  try {
    const mod = await import(`./pages/${name}.js`);
    if (seq !== routeSeq) return; // a newer navigation took over
    const ctx = { main, params, hash, query: query() };
    clear(main);
    const done = await mod.render(ctx);
    if (seq !== routeSeq) {
      if (typeof done === "function") done();
      return;
    }
    cleanup = done;
    // The page's start for keyboard and screen reader users, unless the
    // page put the focus somewhere itself (the sign-in form's name, the
    // setup form's admin token).
    if (!main.contains(document.activeElement) || document.activeElement === main) main.focus({ preventScroll: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    if (seq !== routeSeq) return;
    if (e instanceof ApiError && e.status === 404) {
      // A page whose record is gone (purged, deleted) or never was.
      const what = { messages: "message", providers: "provider", functions: "function", outbound: "endpoint", users: "user" }[name];
      const back = { messages: "#/messages", providers: "#/providers", functions: "#/functions", outbound: "#/outbound", users: "#/users" }[name] || "#/";
      const kind = hash.startsWith("#/deliveries/") ? "delivery" : what;
      clear(main).append(
        h("h1", kind ? `No such ${kind}` : "Not found"),
        h("p", kind === "message" || kind === "delivery" ? "It may have been purged after the retention period, or the address is wrong. " : "It may have been deleted, or the address is wrong. ", h("a", { href: kind === "delivery" ? "#/outbound/deliveries" : back }, "Back to the list")),
      );
      return;
    }
    clear(main).append(h("h1", "Something went wrong"), h("p.error", e.message));
  }
}

export async function loadMe() {
  const me = await api("GET", "/me");
  state.me = me;
  state.csrf = me.csrf_token || "";
  return me;
}

// setSession is called by the login and setup pages.
export function setSession(me) {
  state.me = me;
  state.csrf = me.csrf_token || "";
}

export async function logout() {
  try {
    await api("POST", "/logout");
  } catch {
    /* signed out anyway */
  }
  state.me = null;
  state.csrf = "";
  renderHeader();
  navigate("#/login");
}

function renderHeader() {
  const top = clear(document.getElementById("top"));
  if (!state.me) {
    top.append(h("div.bar", h("a.brand", { href: "#/" }, "Switchyard")));
    return;
  }
  const links = [
    ["#/", "Dashboard", "read"],
    ["#/providers", "Providers", "read"],
    ["#/functions", "Functions", "read"],
    ["#/messages", "Messages", "read"],
    ["#/outbound", "Outbound", "read"],
    ["#/users", "Users", "admin"],
    ["#/audit", "Audit", "admin"],
  ].filter(([, , p]) => can(p));
  const cur = location.hash || "#/";
  const nav = h(
    "nav",
    { "aria-label": "Main" },
    links.map(([href, label]) => {
      const active = href === "#/" ? cur === "#/" || cur === "#" : cur.startsWith(href);
      return h("a", { href, "aria-current": active ? "page" : null }, label);
    }),
  );
  const who = state.me.user ? state.me.user.display_name || state.me.name : state.me.name;
  top.append(
    h(
      "div.bar",
      h("a.brand", { href: "#/" }, "Switchyard"),
      nav,
      h(
        "div.who",
        h("span", { title: `signed in ${state.me.via === "session" ? "" : "with a token "}as ${state.me.name}` }, `${who} · ${state.me.role}`),
        state.me.user ? h("a", { href: "#/tokens" }, "API tokens") : null,
        state.me.via === "session" ? h("button.link", { type: "button", onclick: logout }, "Sign out") : null,
      ),
    ),
  );
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
if (document.readyState !== "loading") route();
