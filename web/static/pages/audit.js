// The audit log (admin): who changed what, newest first, with filters.
// Route: #/audit?actor=&action=&since=&until=
import { h, clear, api, table, pager, field, pageHeader, navigate, fmtTime } from "../app.js";

// Where an action's target can be opened.
const TARGET_ROUTES = [
  ["provider.", "#/providers/"],
  ["function.", "#/functions/"],
  ["message.", "#/messages/"],
  ["endpoint.", "#/outbound/endpoints/"],
  ["delivery.", "#/deliveries/"],
  ["user.", "#/users/"],
];

// datetime-local <-> RFC 3339 (the browser's time zone).
function toRFC3339(v) {
  if (!v) return "";
  const d = new Date(v);
  return isNaN(d) ? "" : d.toISOString();
}
function toLocalInput(t) {
  const d = new Date(t);
  if (!t || isNaN(d)) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function render({ main, query }) {
  const actor = h("input", { name: "actor", value: query.get("actor") || "", autocomplete: "off", spellcheck: "false", placeholder: "alice" });
  const action = h("input", { name: "action", value: query.get("action") || "", autocomplete: "off", spellcheck: "false", placeholder: "provider.", "aria-describedby": "adm-action-hint" });
  const since = h("input", { name: "since", type: "datetime-local", value: toLocalInput(query.get("since")) });
  const until = h("input", { name: "until", type: "datetime-local", value: toLocalInput(query.get("until")) });
  const filters = h(
    "form.filters",
    { role: "search", "aria-label": "Filter the audit log", novalidate: true },
    field("Actor", actor),
    field("Action", action),
    field("Since", since),
    field("Until", until),
    h("button", { type: "submit" }, "Apply"),
    query.toString() ? h("button.secondary", { type: "button", onclick: () => navigate("#/audit") }, "Clear") : null,
  );
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (actor.value.trim()) q.set("actor", actor.value.trim());
    if (action.value.trim()) q.set("action", action.value.trim());
    if (since.value) q.set("since", toRFC3339(since.value));
    if (until.value) q.set("until", toRFC3339(until.value));
    navigate("#/audit" + (q.toString() ? "?" + q : ""));
  });

  const columns = [
    { title: "Time", cell: (e) => h("time", { datetime: e.time }, fmtTime(e.time)) },
    { title: "Actor", cell: (e) => e.actor },
    { title: "Action", cls: "mono", cell: (e) => e.action },
    {
      title: "Target",
      cls: "mono",
      cell: (e) => {
        if (!e.target) return h("span.muted", "—");
        const r = TARGET_ROUTES.find(([p]) => e.action.startsWith(p));
        const short = e.target.length > 14 ? e.target.slice(0, 13) + "…" : e.target;
        return r && !e.action.endsWith(".delete")
          ? h("a", { href: r[1] + encodeURIComponent(e.target), title: e.target }, short)
          : h("span", { title: e.target }, short);
      },
    },
    { title: "Detail", cell: (e) => e.detail || h("span.muted", "—") },
    { title: "IP", cls: "mono", cell: (e) => e.ip || "" },
  ];

  const rows = [];
  const holder = h("div", h("p.muted", "Loading…"));
  const p = pager(
    (cursor) => {
      const q = new URLSearchParams();
      for (const k of ["actor", "action", "since", "until"]) if (query.get(k)) q.set(k, query.get(k));
      if (cursor) q.set("cursor", cursor);
      return api("GET", "/audit?" + q).catch((err) => {
        clear(holder).append(h("p.error", err.message));
        throw err;
      });
    },
    (items) => {
      rows.push(...items);
      clear(holder).append(table(columns, rows, { empty: query.toString() ? "No entries match." : "Nothing recorded yet." }));
    },
  );
  p.el.hidden = true;

  const hint = h("p.muted.adm-hint#adm-action-hint", "Action: an exact action (user.login), or a prefix ending in “.” (provider. matches every provider change). Times are in your time zone.");
  main.append(pageHeader("Audit log"), filters, hint, holder, p.el);
  await p.more();
}
