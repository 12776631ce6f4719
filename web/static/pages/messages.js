// Messages: the list (#/messages?status=&provider=&function=&uri=&q=&since=&until=,
// live) with its bulk actions (resubmit or delete what the filters
// select, as a job with a progress bar), and one message (#/messages/:id) with its executions, logs,
// headers, query and payload, and the operate actions: resubmit, dry run
// and signature check.
import { h, append, api, can, clear, toast, showFormError, pager, field, navigate, query, badge, fmtTime, fmtAgo, ApiError, clip, visibleNodes, listAll } from "../app.js";

const STATUSES = ["PENDING", "SUCCESS", "FAILED", "UNMATCHED"];
const SCHEMES = ["github", "gitlab", "bitbucket", "slack", "stripe", "standard", "hmac"];
const LIVE_MS = 5000;
const PAYLOAD_MAX = 1 << 20;

export async function render(ctx) {
  return ctx.params[0] ? renderDetail(ctx, decodeURIComponent(ctx.params[0])) : renderList(ctx);
}

// ---------- shared bits ----------

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

function fmtMs(ms) {
  if (ms === undefined || ms === null || ms === "") return "";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

function fmtBytes(n) {
  if (n < 1024) return `${n} byte${n === 1 ? "" : "s"}`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function timeOfDay(t) {
  const d = new Date(t);
  if (isNaN(d)) return String(t || "");
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

// datetime-local value ("2026-01-02T15:04") <-> RFC 3339.
function localToRFC3339(v) {
  if (!v) return "";
  const d = new Date(v);
  return isNaN(d) ? "" : d.toISOString();
}
function rfc3339ToLocal(v) {
  if (!v) return "";
  const d = /^\d+$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
  if (isNaN(d)) return "";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// Log lines: time, level, source, text.
function logLines(lines, empty = "No log lines.") {
  if (!lines || !lines.length) return h("p.muted", empty);
  return h(
    "ol.dm-log",
    lines.map((l) =>
      h(
        "li",
        h("time.dm-log-time", { datetime: l.time, title: fmtTime(l.time) }, timeOfDay(l.time)),
        h(`span.dm-lvl.lvl-${String(l.level || "").toLowerCase()}`, l.level || ""),
        l.source ? h("span.dm-log-src", l.source) : null,
        h("span.dm-log-text", l.text),
      ),
    ),
  );
}

function kvTable(rows, { key = "Name", value = "Value", empty = "None." } = {}) {
  if (!rows.length) return h("p.muted", empty);
  return h(
    "div.table-wrap",
    h(
      "table.dm-kvt",
      h("thead", h("tr", h("th", { scope: "col" }, key), h("th", { scope: "col" }, value))),
      h(
        "tbody",
        rows.map(([k, v]) => h("tr", h("th.mono", { scope: "row", "data-label": key }, k), h("td.mono.dm-break", { "data-label": value }, v))),
      ),
    ),
  );
}

function dl(pairs) {
  return h(
    "dl.kv.dm-kv",
    pairs.filter((p) => p && p[1] !== undefined && p[1] !== null && p[1] !== "").map(([k, v]) => [h("dt", k), h("dd", v)]),
  );
}

function jsonPre(v) {
  return h("pre", JSON.stringify(v, null, 2));
}

// Accessible tabs: role=tablist, arrow keys, Home/End. tabs: [{id, label,
// render: () => node | Promise<node>}]; a tab's panel renders once, when
// first shown.
function tabs(list, selected, onSelect) {
  const bar = h("div.tabs", { role: "tablist", "aria-label": "Message details" });
  const panels = h("div");
  const items = list.map((t) => {
    const tabId = nextId("tab");
    const panelId = nextId("panel");
    const btn = h("button", { type: "button", role: "tab", id: tabId, "aria-controls": panelId, "aria-selected": "false", tabindex: "-1" }, t.label);
    const panel = h("div.dm-panel", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, tabindex: "0", hidden: true });
    bar.append(btn);
    panels.append(panel);
    return { ...t, btn, panel, done: false };
  });
  async function show(item, focus) {
    for (const it of items) {
      const on = it === item;
      it.btn.setAttribute("aria-selected", String(on));
      it.btn.tabIndex = on ? 0 : -1;
      it.panel.hidden = !on;
    }
    if (focus) item.btn.focus();
    onSelect && onSelect(item.id);
    if (!item.done) {
      item.done = true;
      item.panel.append(h("p.muted", "Loading…"));
      try {
        const node = await item.render();
        append(clear(item.panel), node);
      } catch (e) {
        item.done = false;
        append(clear(item.panel), h("p.error", e.message));
      }
    }
  }
  items.forEach((it, i) => {
    it.btn.addEventListener("click", () => show(it, false));
    it.btn.addEventListener("keydown", (e) => {
      let j = null;
      if (e.key === "ArrowRight") j = (i + 1) % items.length;
      else if (e.key === "ArrowLeft") j = (i - 1 + items.length) % items.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = items.length - 1;
      if (j !== null) {
        e.preventDefault();
        show(items[j], true);
      }
    });
  });
  if (items.length) show(items.find((it) => it.id === selected) || items[0], false);
  return h("div.dm-tabs", h("h2.dm-sr", "Message details"), bar, panels);
}

// ---------- list ----------

async function renderList({ main }) {
  const q = query();
  const filters = {
    status: (q.get("status") || "").toUpperCase(),
    provider: q.get("provider") || "",
    function: q.get("function") || "",
    uri: q.get("uri") || "",
    q: q.get("q") || "",
    since: q.get("since") || "",
    until: q.get("until") || "",
  };
  let disposed = false;

  const [providers, fns] = await Promise.all([
    listAll("/providers").catch(() => []),
    listAll("/functions").catch(() => []),
  ]);
  const providerName = new Map(providers.map((p) => [p.id, p.name]));
  const fnById = new Map(fns.map((f) => [f.id, f]));
  const selectedFn = fnById.get(filters.function);
  const inputs = filterInputs(filters, { providers, fns, providerName, selectedFn });
  const form = filtersForm(inputs, fnById);

  const list = messageRows(messageColumns(providerName));
  const count = countLine(list);
  api("GET", `/messages/count?${apiQuery(filters)}`)
    .then((c) => {
      count.total = c;
      count.draw();
    })
    .catch(() => {});

  const pg = pager(
    (cursor) => api("GET", `/messages?${apiQuery(filters, { limit: "50", cursor })}`),
    (items) => {
      list.append(items);
      count.draw();
    },
  );

  // More new messages than one poll brings: offer to load them rather
  // than leave a gap.
  const burst = h("div.dm-burst", { hidden: true, role: "status" });
  const live = liveSwitch();
  const poll = livePoller({ filters, list, count, burst, note: live.note, isLive: live.on, isDisposed: () => disposed });
  const fold = filterFold(filters, form, inputs.fnHint);
  const bulk = bulkActions(filters, () => disposed);
  main.append(
    h(
      "div.dm-scope",
      h("div.page-head", h("h1", "Messages"), h("div.actions", live.note, live.btn)),
      fold.el,
      timeJumps(),
      bulk,
      burst,
      list.el,
      list.empty,
      count.el,
      pg.el,
    ),
  );
  list.el.hidden = true;
  await pg.more();
  if (!list.rows.size) list.empty.hidden = false;

  const timer = setInterval(poll, LIVE_MS);
  return () => {
    disposed = true;
    clearInterval(timer);
    fold.dispose();
  };
}

// filterInputs are the list's filters as inputs.
function filterInputs(filters, { providers, fns, providerName, selectedFn }) {
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((st) => h("option", { value: st }, st)),
  );
  status.value = STATUSES.includes(filters.status) ? filters.status : "";
  const provider = h(
    "select",
    { name: "provider" },
    h("option", { value: "" }, "Any provider"),
    providers.map((p) => h("option", { value: p.id }, p.name)),
  );
  provider.value = providerName.has(filters.provider) ? filters.provider : "";
  const fnSelect = h(
    "select",
    { name: "function", "aria-describedby": "dm-fn-hint" },
    h("option", { value: "" }, "Any function"),
    fns.map((f) => h("option", { value: f.id }, `${f.name} (/${f.uri})`)),
  );
  fnSelect.value = selectedFn ? selectedFn.id : "";
  const uri = h("input", { name: "uri", value: filters.uri, placeholder: "e.g. github/push", autocomplete: "off", spellcheck: "false" });
  const text = h("input", { name: "q", type: "search", value: filters.q, maxlength: 256, placeholder: "e.g. an order number", autocomplete: "off", spellcheck: "false", "aria-describedby": "dm-fn-hint" });
  const since = h("input", { name: "since", type: "datetime-local", value: rfc3339ToLocal(filters.since) });
  const until = h("input", { name: "until", type: "datetime-local", value: rfc3339ToLocal(filters.until) });
  const fnHint = h(
    "p.hint.dm-hint#dm-fn-hint",
    "A function lists the messages it ran for. Text is found, case as typed, in summaries and URIs" + (can("operate") ? ", headers, logs and payloads" : "") + "; each page searches up to 1,000 messages, so Load more goes on.",
  );
  return { status, provider, fnSelect, uri, text, since, until, fnHint };
}

// filtersForm lays the inputs out; applying them goes to the list's
// address with those filters.
function filtersForm({ status, provider, fnSelect, uri, text, since, until }, fnById) {
  const wide = (label, input) => {
    const f = field(label, input);
    f.classList.add("dm-wide");
    return f;
  };
  const form = h(
    "form.filters.dm-filters",
    { role: "search", "aria-label": "Filter messages" },
    field("Status", status),
    field("Provider", provider),
    wide("Function", fnSelect),
    wide("URI", uri),
    wide("Text", text),
    wide("Received from", since),
    wide("Received before", until),
    h(
      "div.dm-filter-actions",
      h("button", { type: "submit" }, "Apply"),
      h("button.secondary", { type: "button", onclick: () => navigate("#/messages") }, "Clear"),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (status.value) p.set("status", status.value);
    if (provider.value) p.set("provider", provider.value);
    const f = fnById.get(fnSelect.value);
    if (f) p.set("function", f.id);
    const u = uri.value.trim();
    if (u) p.set("uri", u);
    if (text.value) p.set("q", text.value);
    if (since.value) p.set("since", localToRFC3339(since.value));
    if (until.value) p.set("until", localToRFC3339(until.value));
    const s = p.toString();
    navigate("#/messages" + (s ? "?" + s : ""));
  });
  return form;
}

// filterFold holds the filters; on a phone they fold away unless some
// are applied. dispose() stops following the screen's width.
function filterFold(filters, form, fnHint) {
  const applied = ["status", "provider", "function", "uri", "q", "since", "until"].filter((k) => filters[k]).length;
  const el = h(
    "details.dm-filter-box",
    { open: applied || !matchMedia("(max-width: 700px)").matches ? true : null },
    h("summary", applied ? `Filters (${applied} applied)` : "Filters"),
    form,
    fnHint,
  );
  const phone = matchMedia("(max-width: 700px)");
  const unfold = (e) => {
    if (!e.matches) el.open = true;
  };
  phone.addEventListener("change", unfold);
  return { el, dispose: () => phone.removeEventListener("change", unfold) };
}

// apiQuery is the API query for these filters, and extra.
function apiQuery(filters, extra = {}) {
  const p = new URLSearchParams();
  if (STATUSES.includes(filters.status)) p.set("status", filters.status);
  if (filters.provider) p.set("provider_id", filters.provider);
  if (filters.function) p.set("function_id", filters.function);
  if (filters.uri) p.set("uri", filters.uri);
  if (filters.q) p.set("q", filters.q);
  if (filters.since) p.set("since", filters.since);
  if (filters.until) p.set("until", filters.until);
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  return p.toString();
}

function messageColumns(providerName) {
  return [
    {
      title: "Received",
      cell: (m) =>
        h(
          "a",
          { href: `#/messages/${encodeURIComponent(m.id)}`, title: fmtAgo(m.received_at), "aria-label": `Message received ${fmtTime(m.received_at)}, ${m.status}` },
          fmtTime(m.received_at),
        ),
      cls: "dm-nowrap",
    },
    { title: "Status", cell: (m) => badge(m.status) },
    { title: "Method", cell: (m) => m.method, cls: "mono" },
    { title: "URI", cell: (m) => clip("/" + (m.uri || "")), cls: "mono dm-uri" },
    { title: "Provider", cell: (m) => (m.provider_name || m.provider_id ? clip(m.provider_name || providerName.get(m.provider_id) || m.provider_id, 60) : h("span.muted", "—")), cls: "dm-prov" },
    { title: "Summary", cell: (m) => clip(m.message || ""), cls: "dm-sum" },
    { title: "Duration", cell: (m) => fmtMs(m.duration_ms), cls: "dm-num dm-nowrap" },
  ];
}

// messageRows is the list's table, built here rather than with table() so
// rows can be prepended, appended and replaced. rows maps an id to its
// {tr, m}; newest() is the received_at of the newest row.
function messageRows(columns) {
  const tbody = h("tbody");
  const el = h(
    "div.table-wrap",
    h("table.dm-messages", h("thead", h("tr", columns.map((c) => h("th", { scope: "col", class: c.cls }, c.title)))), tbody),
  );
  const empty = h("p.muted", { hidden: true }, "No messages match these filters yet.");
  const rows = new Map(); // id -> {tr, m}
  let newest = ""; // received_at of the newest row

  function rowFor(m) {
    const tr = h(
      "tr.clickable",
      { "data-id": m.id },
      columns.map((c) => h("td", { class: c.cls, "data-label": c.title }, c.cell(m))),
    );
    tr.addEventListener("click", (e) => {
      if (!e.target.closest("a,button,input,select") && !window.getSelection().toString()) navigate(`#/messages/${encodeURIComponent(m.id)}`);
    });
    return tr;
  }
  function track(m, tr) {
    rows.set(m.id, { tr, m });
    if (!newest || m.received_at > newest) newest = m.received_at;
  }
  function flash(tr) {
    tr.classList.add("dm-fresh");
    setTimeout(() => tr.classList.remove("dm-fresh"), 4000);
  }
  return {
    el,
    empty,
    rows,
    newest: () => newest,
    // append adds older messages at the bottom.
    append(items) {
      for (const m of items) {
        if (rows.has(m.id)) continue;
        const tr = rowFor(m);
        tbody.append(tr);
        track(m, tr);
      }
      el.hidden = rows.size === 0;
      empty.hidden = rows.size !== 0;
    },
    // prepend adds new messages at the top, highlighted for a moment.
    prepend(fresh) {
      const first = tbody.firstChild;
      for (const m of fresh) {
        const tr = rowFor(m);
        tbody.insertBefore(tr, first);
        track(m, tr);
        flash(tr);
      }
      el.hidden = false;
      empty.hidden = true;
    },
    // replace redraws row r with m, highlighted for a moment.
    replace(r, m) {
      const tr = rowFor(m);
      r.tr.replaceWith(tr);
      rows.set(m.id, { tr, m });
      flash(tr);
    },
    remove(r) {
      r.tr.remove();
      rows.delete(r.m.id);
    },
  };
}

// countLine says how many match: "Showing 50 of 2,340" (or "of more than
// 100,000" when the count stopped early). total is {count, exact}.
function countLine(list) {
  const el = h("p.muted.dm-count", { "aria-live": "polite" });
  const c = { el, total: null };
  c.draw = () => {
    const total = c.total;
    if (!total || !list.rows.size) {
      el.textContent = "";
      return;
    }
    const n = Math.max(total.count, list.rows.size);
    el.textContent = `Showing ${list.rows.size.toLocaleString("en")} of ${total.exact ? "" : "more than "}${n.toLocaleString("en")} message${n === 1 ? "" : "s"}.`;
  };
  return c;
}

// ---------- bulk actions ----------

// The most messages one job acts on (the server's limit).
const JOB_MAX = 10000;
const JOB_POLL_MS = 500;

// bulkActions offers, to operators, to resubmit every message the
// filters select, and to admins to delete them: counted first and
// confirmed with the count, then run as a job on the server whose
// progress shows in a bar. isDisposed stops following it when the page
// is left (the job goes on).
function bulkActions(filters, isDisposed) {
  if (!can("operate")) return null;
  const status = h("div.dm-bulk-status", { role: "status", "aria-live": "polite" });
  const resubmit = h("button.secondary", { type: "button" }, "Resubmit all matching…");
  const del = can("admin") ? h("button.secondary", { type: "button" }, "Delete all matching…") : null;
  const buttons = [resubmit, del].filter(Boolean);
  const busy = (on) => buttons.forEach((b) => (b.disabled = on));
  const kinds = {
    resubmit: { verb: "Resubmit", done: "resubmitted", warn: "Each is sent through the current scripts again as a new message." },
    delete: { verb: "Delete", done: "deleted", warn: "Their payloads, logs and executions are deleted too. This cannot be undone." },
  };

  async function ask(kind) {
    const k = kinds[kind];
    busy(true);
    clear(status).append(h("p.muted", "Counting the messages the filters select…"));
    // What is counted is what the job acts on: messages that arrive
    // meanwhile are left out.
    const asked = filters.until ? filters : { ...filters, until: new Date().toISOString() };
    let c;
    try {
      c = await api("GET", `/messages/count?${apiQuery(asked)}`);
    } catch (e) {
      clear(status).append(h("p.error", e.message));
      busy(false);
      return;
    }
    if (!c.count) {
      clear(status).append(h("p.muted", "No message matches the filters."));
      busy(false);
      return;
    }
    const n = Math.min(c.count, JOB_MAX);
    const more = c.count > JOB_MAX || !c.exact;
    const go = h(`button${kind === "delete" ? ".danger" : ""}`, { type: "button" }, `${k.verb} ${n.toLocaleString("en")} message${n === 1 ? "" : "s"}`);
    const cancel = h("button.secondary", { type: "button" }, "Cancel");
    clear(status).append(
      h(
        "div.dm-bulk-confirm",
        h(
          "p",
          `${k.verb} ${more ? "the newest " : ""}${n.toLocaleString("en")} message${n === 1 ? "" : "s"} that match${n === 1 ? "es" : ""} the current filters?`,
          more ? ` More match; a job acts on at most ${JOB_MAX.toLocaleString("en")}.` : "",
          ` ${k.warn}`,
        ),
        h("div.actions", go, cancel),
      ),
    );
    go.focus();
    cancel.addEventListener("click", () => {
      clear(status);
      busy(false);
      resubmit.focus();
    });
    go.addEventListener("click", () => start(kind, asked, n));
  }

  async function start(kind, asked, n) {
    const k = kinds[kind];
    clear(status).append(h("p.muted", "Starting…"));
    let job;
    try {
      job = await api("POST", `/messages/${kind}`, jobFilter(asked, n));
    } catch (e) {
      clear(status).append(h("p.error", e.message));
      busy(false);
      return;
    }
    const bar = h("progress.dm-bulk-bar", { max: n, value: 0, "aria-label": `${k.verb} progress` });
    const line = h("p.dm-bulk-line", "Selecting the messages…");
    clear(status).append(bar, line);
    for (;;) {
      await new Promise((r) => setTimeout(r, JOB_POLL_MS));
      if (isDisposed()) return;
      let j;
      try {
        j = await api("GET", `/jobs/${encodeURIComponent(job.id)}`);
      } catch (e) {
        line.textContent = `Could not read the job's progress: ${e.message}`;
        continue;
      }
      if (j.total) bar.max = j.total;
      bar.value = j.done + j.failed;
      line.textContent = `${j.done.toLocaleString("en")} of ${j.total.toLocaleString("en")} ${k.done}${j.failed ? `, ${j.failed.toLocaleString("en")} failed` : ""}${j.state === "running" ? "…" : ` · ${j.state}`}${j.error ? ` (${j.error})` : ""}`;
      if (j.state !== "running") break;
    }
    line.dataset.state = "ended";
    busy(false);
    status.append(h("button.secondary", { type: "button", onclick: () => navigate(location.hash) }, "Reload the list"));
  }

  resubmit.addEventListener("click", () => ask("resubmit"));
  if (del) del.addEventListener("click", () => ask("delete"));
  return h("section.dm-bulk", { "aria-label": "Bulk actions" }, h("div.actions", buttons), status);
}

// jobFilter is the body of a filter job for these filters, at most limit
// messages.
function jobFilter(filters, limit) {
  const body = { limit };
  if (STATUSES.includes(filters.status)) body.status = filters.status;
  if (filters.provider) body.provider_id = filters.provider;
  if (filters.function) body.function_id = filters.function;
  if (filters.uri) body.uri = filters.uri;
  if (filters.q) body.q = filters.q;
  if (filters.since) body.since = filters.since;
  if (filters.until) body.until = filters.until;
  return body;
}

// timeJumps: the newest of the last hour, day or week, or from any
// moment back (the "Received before" filter).
function timeJumps() {
  const jump = (label, ms) => {
    const p = query();
    p.delete("until");
    if (ms) p.set("since", new Date(Date.now() - ms).toISOString());
    else p.delete("since");
    const s = p.toString();
    return h("a", { href: "#/messages" + (s ? "?" + s : "") }, label);
  };
  return h(
    "p.dm-jumps",
    h("span.muted", "Received in: "),
    jump("the last hour", 3600e3),
    " · ",
    jump("the last 24 hours", 86400e3),
    " · ",
    jump("the last 7 days", 7 * 86400e3),
    " · ",
    jump("any time", 0),
    h("span.muted", " · to start from an older moment, set “Received before”."),
  );
}

// liveSwitch pauses and resumes live updates.
function liveSwitch() {
  const btn = h("button.secondary", { type: "button", "aria-pressed": "true" }, "Pause live updates");
  const note = h("span.muted.dm-live", { role: "status" });
  let live = true;
  btn.addEventListener("click", () => {
    live = !live;
    btn.setAttribute("aria-pressed", String(live));
    btn.textContent = live ? "Pause live updates" : "Resume live updates";
    note.textContent = live ? "" : "Live updates paused.";
  });
  return { btn, note, on: () => live };
}

// livePoller answers poll(), one live update of the list: new messages at
// the top (or, when more arrived than one page, the burst offer to load
// them), and the rows still PENDING asked again.
function livePoller({ filters, list, count, burst, note, isLive, isDisposed }) {
  let polling = false;
  return async function poll() {
    if (isDisposed() || !isLive() || polling || document.hidden) return;
    polling = true;
    try {
      // New messages: since the newest shown (inclusive, so skip known
      // ids); none can arrive once the "before" filter is past.
      const ended = filters.until && new Date(filters.until) <= new Date();
      const page = ended ? { items: [] } : await api("GET", `/messages?${apiQuery(filters, { since: list.newest() || filters.since, limit: "100" })}`);
      if (isDisposed()) return;
      const fresh = (page.items || []).filter((m) => !list.rows.has(m.id));
      if (page.next_cursor) {
        // Over a page arrived since the newest shown: inserting this page
        // would leave the ones between unseen.
        const more = await api("GET", `/messages/count?${apiQuery(filters, { since: list.newest() || filters.since })}`).catch(() => null);
        if (isDisposed()) return;
        const n = more ? `${more.exact ? "" : "more than "}${Math.max(more.count - 1, 1).toLocaleString("en")}` : "over 100";
        append(clear(burst), h("span", `${n} new messages. `), h("button", { type: "button", onclick: () => navigate(location.hash) }, "Load them"));
        burst.hidden = false;
      } else if (fresh.length) {
        list.prepend(fresh);
        note.textContent = `${fresh.length} new message${fresh.length === 1 ? "" : "s"} at ${fmtTime(new Date()).slice(11)}`;
        if (count.total) count.total.count += fresh.length;
        count.draw();
      }
      await refreshPending(list, isDisposed);
    } catch (e) {
      if (!isDisposed() && e.status !== 401) note.textContent = `Live update failed: ${e.message}`;
    } finally {
      polling = false;
    }
  };
}

// refreshPending asks again for rows still PENDING, a few at a time.
async function refreshPending(list, isDisposed) {
  const pending = [...list.rows.values()].filter((r) => r.m.status === "PENDING").slice(0, 20);
  await Promise.all(
    pending.map(async (r) => {
      try {
        const d = await api("GET", `/messages/${encodeURIComponent(r.m.id)}`);
        if (isDisposed() || d.status === "PENDING") return;
        const { headers, query: _q, logs, executions, ...m } = d;
        list.replace(r, m);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) list.remove(r);
      }
    }),
  );
}

// ---------- detail ----------

async function renderDetail({ main }, id) {
  let disposed = false;
  let timer = null;
  const enc = encodeURIComponent(id);
  let m;
  try {
    m = await api("GET", `/messages/${enc}`);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    main.append(h("h1", "No such message"), h("p", "It may have been purged. ", h("a", { href: "#/messages" }, "Back to the messages")));
    return;
  }
  const operate = can("operate");
  let tab = query().get("tab") || "executions";

  const metaBox = h("div");
  const actionBox = h("div.dm-action-box");
  const tabsBox = h("div");

  const actions = operate
    ? actionButtons(actionBox, [
        ["Resubmit", (close) => resubmitPanel(enc, close)],
        ["Dry run", (close) => dryRunPanel(enc, close)],
        ["Signature check", (close) => signaturePanel(m, enc, close)],
      ])
    : [];

  function paint() {
    append(clear(metaBox), messageMeta(m));
    const onSelect = (t) => {
      tab = t;
      const base = location.hash.split("?")[0];
      history.replaceState(null, "", t === "executions" ? base : `${base}?tab=${t}`);
    };
    append(clear(tabsBox), messageTabs(m, { operate, enc, id, selected: tab, onSelect }));
  }

  main.append(
    h(
      "div.dm-scope",
      h("p.dm-back", h("a", { href: "#/messages" }, "← Messages")),
      h("div.page-head", h("h1", "Message"), h("div.actions", actions)),
      metaBox,
      actionBox,
      operate ? null : h("p.muted.dm-note", "Your role sees statuses only: headers, query, payload, logs and errors are hidden."),
      tabsBox,
    ),
  );
  paint();

  // A PENDING message: look again until it is done.
  async function watch() {
    if (disposed || m.status !== "PENDING") return;
    try {
      const d = await api("GET", `/messages/${enc}`);
      if (disposed) return;
      if (d.status !== "PENDING") {
        m = d;
        paint();
        toast(`Message ${d.status.toLowerCase()}`);
        return;
      }
    } catch {
      /* try again */
    }
    timer = setTimeout(watch, 2000);
  }
  if (m.status === "PENDING") timer = setTimeout(watch, 2000);

  return () => {
    disposed = true;
    clearTimeout(timer);
  };
}

// messageMeta is the message's card: ids, times, where it went, its size.
function messageMeta(m) {
  return h(
    "section.card",
    { "aria-label": "Message" },
    dl([
      ["ID", h("span.mono", m.id)],
      ["Status", badge(m.status)],
      ["Received", [fmtTime(m.received_at), " ", h("span.muted", `(${fmtAgo(m.received_at)})`)]],
      ["Method", h("span.mono", m.method)],
      ["URI", h("span.mono.dm-break", "/webhooks/v1/", visibleNodes(m.uri || ""))],
      ["Remote address", m.remote_addr ? h("span.mono", m.remote_addr) : ""],
      [
        "Provider",
        m.provider_id
          ? [h("a", { href: `#/providers/${encodeURIComponent(m.provider_id)}` }, m.provider_name || m.provider_id), m.provider_version ? h("span.muted", ` · match script v${m.provider_version}`) : null]
          : m.status === "PENDING" ? "" : h("span.muted", "none matched"),
      ],
      ["Summary", m.message ? h("span.dm-break", visibleNodes(m.message)) : m.message],
      ["Duration", fmtMs(m.duration_ms)],
      ["Content type", m.content_type ? h("span.mono", m.content_type) : ""],
      ["Size", fmtBytes(m.size || 0)],
      ["Resubmit of", m.resubmit_of ? h("a.mono", { href: `#/messages/${encodeURIComponent(m.resubmit_of)}` }, m.resubmit_of) : ""],
    ]),
  );
}

// noExecutionText says why a message ran no function: an UNMATCHED
// message either matched no provider or matched one with no function for
// its URI.
function noExecutionText(m) {
  if (m.status === "PENDING") return "Not processed yet.";
  if (m.status !== "UNMATCHED") return "No function ran.";
  if (m.provider_id) return `${m.provider_name || "Its provider"} matched, but none of its active functions has this URI, so no function ran.`;
  return "No provider matched, so no function ran.";
}

// executionsList is what each function did with the message; logs for
// operators.
function executionsList(m, operate) {
  const ex = m.executions || [];
  if (!ex.length) {
    return h("p.muted", noExecutionText(m));
  }
  return h(
    "div",
    ex.map((x) =>
      h(
        "section.dm-exec",
        { "aria-label": `Function ${x.function_name}` },
        h(
          "div.dm-exec-head",
          h("h3", h("a", { href: `#/functions/${encodeURIComponent(x.function_id)}` }, x.function_name || x.function_id)),
          badge(x.status),
          h("span.muted", [x.version ? `v${x.version}` : "", x.started_at ? ` · started ${fmtTime(x.started_at)}` : "", ` · ${fmtMs(x.duration_ms)}`].join("")),
        ),
        x.error ? h("pre.dm-error", x.error) : null,
        operate ? logLines(x.logs, "The function logged nothing.") : null,
      ),
    ),
  );
}

// payloadView shows the body as received: formatted JSON, form fields, or
// text (cut at PAYLOAD_MAX); binary bodies are only offered for download.
async function payloadView(m, enc, id) {
  const res = await api("GET", `/messages/${enc}/payload`, undefined, { raw: true });
  const ct = res.headers.get("Content-Type") || m.content_type || "";
  const buf = new Uint8Array(await res.arrayBuffer());
  const head = h(
    "p.muted.dm-payload-head",
    `${fmtBytes(buf.length)}${ct ? " · " + ct : ""} · `,
    h("a", { href: `/api/v1/messages/${enc}/payload`, download: `payload-${id}` }, "Download raw"),
  );
  if (!buf.length) return h("div", head, h("p.muted", "Empty body."));
  const cut = buf.length > PAYLOAD_MAX;
  const bytes = cut ? buf.subarray(0, PAYLOAD_MAX) : buf;
  const texty = /json|^text\/|xml|x-www-form-urlencoded|javascript|yaml|csv|graphql/i.test(ct);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: !texty && !cut }).decode(bytes);
  } catch {
    text = null;
  }
  if (text === null || (!texty && /[\x00-\x08\x0e-\x1f]/.test(text.slice(0, 4096)))) {
    return h("div", head, h("p", `Binary payload (${fmtBytes(buf.length)}): not shown.`));
  }
  const note = cut ? h("p.muted", `Showing the first ${fmtBytes(PAYLOAD_MAX)} of ${fmtBytes(buf.length)}.`) : null;
  if (/json/i.test(ct) || (!ct && /^\s*[{[]/.test(text))) {
    if (!cut) {
      try {
        return h("div", head, h("pre.dm-payload", { tabindex: "0", "aria-label": "Payload, formatted JSON" }, JSON.stringify(JSON.parse(text), null, 2)));
      } catch {
        return h("div", head, h("p.muted", "Not valid JSON; shown as received."), h("pre.dm-payload", { tabindex: "0" }, text));
      }
    }
  }
  if (/x-www-form-urlencoded/i.test(ct) && !cut) {
    const p = new URLSearchParams(text);
    return h("div", head, kvTable([...p.entries()], { empty: "No fields." }), h("details", h("summary", "As received"), h("pre.dm-payload", text)));
  }
  return h("div", head, note, h("pre.dm-payload", { tabindex: "0", "aria-label": "Payload" }, text));
}

// messageTabs: the executions, and for operators the log, headers, query
// and payload.
function messageTabs(m, { operate, enc, id, selected, onSelect }) {
  const list = [{ id: "executions", label: `Executions (${(m.executions || []).length})`, render: () => executionsList(m, operate) }];
  if (operate) {
    const headers = Object.entries(m.headers || {}).sort(([a], [b]) => a.localeCompare(b));
    const qs = Object.entries(m.query || {}).flatMap(([k, vs]) => (Array.isArray(vs) ? vs : [vs]).map((v) => [k, v]));
    list.push(
      { id: "log", label: `Log (${(m.logs || []).length})`, render: () => logLines(m.logs, "No message-level log lines.") },
      { id: "headers", label: `Headers (${headers.length})`, render: () => kvTable(headers, { key: "Header", empty: "No headers." }) },
      { id: "query", label: `Query (${qs.length})`, render: () => kvTable(qs, { key: "Parameter", empty: "No query parameters." }) },
      { id: "payload", label: "Payload", render: () => payloadView(m, enc, id) },
    );
  }
  return tabs(list, selected, onSelect);
}

// ---------- actions (operate) ----------

// actionButtons are the buttons that open an action's panel in box, one
// panel at a time: [label, build(close)] pairs.
function actionButtons(box, list) {
  const buttons = [];
  for (const [label, build] of list) {
    const btn = h("button.secondary", { type: "button", "aria-expanded": "false" }, label);
    btn.addEventListener("click", () => {
      const open = btn.getAttribute("aria-expanded") === "true";
      for (const b of buttons) b.setAttribute("aria-expanded", "false");
      clear(box);
      if (open) return;
      btn.setAttribute("aria-expanded", "true");
      const panel = build(() => {
        btn.setAttribute("aria-expanded", "false");
        clear(box);
        btn.focus();
      });
      box.append(panel);
      const first = panel.querySelector("button, select, input, a");
      (first || panel).focus();
    });
    buttons.push(btn);
  }
  return buttons;
}

// actionPanel is an action's card, with its title and Close.
function actionPanel(title, close, ...body) {
  const hid = nextId("act");
  return h(
    "section.card.dm-action",
    { "aria-labelledby": hid, tabindex: "-1" },
    h("div.dm-action-head", h("h2", { id: hid }, title), h("button.link", { type: "button", onclick: close }, "Close")),
    body,
  );
}

// resubmitPanel sends the message through again, as a new one.
function resubmitPanel(enc, close) {
  const out = h("div", { role: "status" });
  const go = h("button", { type: "button" }, "Resubmit now");
  go.addEventListener("click", async () => {
    go.disabled = true;
    append(clear(out), h("p.muted", "Running…"));
    let body;
    try {
      const res = await api("POST", `/messages/${enc}/resubmit?sync=true`, undefined, { raw: true });
      body = await res.json();
    } catch (e) {
      // 404 (unmatched), 500 (failed) and 503 (still pending) answer the
      // new message too.
      try {
        body = e instanceof ApiError ? JSON.parse(e.message) : null;
      } catch {
        body = null;
      }
      if (!body || !body.id) {
        append(clear(out), h("p.error", e.message));
        go.disabled = false;
        return;
      }
    }
    append(clear(out),
      h(
        "p",
        "New message ",
        h("a.mono", { href: `#/messages/${encodeURIComponent(body.id)}` }, body.id),
        " ",
        badge(body.status),
        body.provider ? ` · provider ${body.provider}` : "",
      ),
      (body.functions || []).length
        ? h(
            "ul.dm-list",
            body.functions.map((f) => h("li", h("span", f.name), badge(f.status), f.error ? h("span.error.dm-break", f.error) : null)),
          )
        : null,
      h("p.muted", "Resubmitting again makes one more new message, and runs the functions once more."),
    );
    go.textContent = "Resubmit again";
    go.disabled = false;
    toast("Resubmitted");
  });
  return actionPanel(
    "Resubmit",
    close,
    h("p", "Sends this request through matching and functions again, as a new message (functions run for real: their side effects happen again)."),
    h("div.actions", go),
    out,
  );
}

// effect is one thing a dry run recorded instead of doing it.
function effect(e) {
  const pairs = [
    ["Scope", e.scope],
    ["Method", e.method],
    ["URL", e.url ? h("span.mono.dm-break", e.url) : ""],
    ["Event type", e.event_type],
    ["Key", e.key],
    ["TTL", e.ttl_seconds ? `${e.ttl_seconds} s` : ""],
  ];
  return h(
    "li.dm-effect",
    h("div", h("strong", e.kind), e.time ? h("span.muted", ` · ${timeOfDay(e.time)}`) : null),
    dl(pairs),
    e.headers && Object.keys(e.headers).length ? h("details", h("summary", "Headers"), kvTable(Object.entries(e.headers), { key: "Header" })) : null,
    e.fields ? h("details", h("summary", "Fields"), jsonPre(e.fields)) : null,
    e.body ? h("details", h("summary", "Body"), h("pre", e.body)) : null,
  );
}

// dryRunPanel runs the message through the saved scripts, recording
// nothing.
function dryRunPanel(enc, close) {
  const out = h("div", { "aria-live": "polite" });
  const go = h("button", { type: "button" }, "Run");
  go.addEventListener("click", async () => {
    go.disabled = true;
    append(clear(out), h("p.muted", "Running…"));
    try {
      const r = await api("POST", `/messages/${enc}/dry-run`, {});
      append(clear(out),
        dl([
          ["Would end", badge(r.status)],
          ["Summary", r.message],
          [
            "Provider",
            r.provider
              ? [h("a", { href: `#/providers/${encodeURIComponent(r.provider.id)}` }, r.provider.name), h("span.muted", ` · match script v${r.provider.version}`)]
              : h("span.muted", "none would match: the match log below gives each provider's reason"),
          ],
          ["Took", fmtMs(r.duration_ms)],
        ]),
        h("h3", "Match log"),
        logLines(r.logs),
        h("h3", `Functions (${(r.functions || []).length})`),
        (r.functions || []).length
          ? r.functions.map((f) =>
              h(
                "section.dm-exec",
                h(
                  "div.dm-exec-head",
                  h("h4", h("a", { href: `#/functions/${encodeURIComponent(f.function_id)}` }, f.function_name)),
                  badge(f.status),
                  h("span.muted", `v${f.version} · ${fmtMs(f.duration_ms)}`),
                ),
                f.error ? h("pre.dm-error", f.error) : null,
                logLines(f.logs, "Logged nothing."),
                f.result !== undefined && f.result !== null ? h("details", h("summary", "Result"), jsonPre(f.result)) : null,
              ),
            )
          : h("p.muted", "No function would run."),
        h("h3", `Effects (${(r.effects || []).length})`),
        (r.effects || []).length ? h("ul.dm-effects", r.effects.map(effect)) : h("p.muted", "No HTTP requests, notifications, callbacks or dedupe keys."),
      );
    } catch (e) {
      append(clear(out), h("p.error", { role: "alert" }, e.message));
    } finally {
      go.disabled = false;
    }
  });
  return actionPanel(
    "Dry run",
    close,
    h("p", "Runs this message through the match scripts and functions as they are saved now, and records nothing: HTTP requests, notifications, callbacks and dedupe keys are listed instead of done."),
    h("div.actions", go),
    out,
  );
}

// signatureForm: which secret (a provider's stored one, or one typed), the
// scheme and the tolerance; body() is the check's request.
function signatureForm(m) {
  const name = nextId("sig");
  const useStored = h("input", { type: "radio", name, value: "stored", checked: true });
  const useTyped = h("input", { type: "radio", name, value: "typed" });
  const provider = h("select", { name: "provider_id" }, h("option", { value: "" }, "Loading…"));
  const secretName = h("select", { name: "secret_name" });
  const secret = h("input", { name: "secret", type: "password", autocomplete: "off", spellcheck: "false" });
  const scheme = h("select", { name: "scheme" }, h("option", { value: "" }, "Guess from the headers"), SCHEMES.map((s) => h("option", { value: s }, s)));
  const tolerance = h("input", { name: "tolerance_seconds", type: "number", min: "0", step: "1", placeholder: "300", inputmode: "numeric" });
  const storedBox = h("div.dm-row", field("Provider", provider), field("Secret", secretName));
  const typedBox = h("div", { hidden: true }, field("Secret", secret, "Never stored or echoed back."));
  const submit = h("button", { type: "submit" }, "Check");
  let providers = [];

  function fillSecrets() {
    const p = providers.find((x) => x.id === provider.value);
    const names = (p && p.secrets) || [];
    append(clear(secretName),
      names.length ? names.map((n) => h("option", { value: n }, n)) : h("option", { value: "" }, "(no stored secrets)"),
    );
  }
  listAll("/providers").then(
    (list) => {
      providers = list;
      append(clear(provider), providers.map((p) => h("option", { value: p.id }, p.name + (p.secrets && p.secrets.length ? "" : " (no secrets)"))));
      const withSecret = providers.find((p) => p.id === m.provider_id) || providers.find((p) => (p.secrets || []).length) || providers[0];
      if (withSecret) provider.value = withSecret.id;
      fillSecrets();
      if (!providers.some((p) => (p.secrets || []).length)) {
        useTyped.checked = true;
        switchMode();
      }
    },
    (e) => append(clear(provider), h("option", { value: "" }, `Could not load providers: ${e.message}`)),
  );
  provider.addEventListener("change", fillSecrets);
  function switchMode() {
    storedBox.hidden = !useStored.checked;
    typedBox.hidden = useStored.checked;
  }
  useStored.addEventListener("change", switchMode);
  useTyped.addEventListener("change", switchMode);

  const form = h(
    "form.dm-sig",
    { novalidate: true },
    h(
      "fieldset.dm-fieldset",
      h("legend", "Secret"),
      h("label.dm-radio", useStored, " A provider's stored secret"),
      h("label.dm-radio", useTyped, " One I type"),
    ),
    storedBox,
    typedBox,
    h("div.dm-row", field("Scheme", scheme), field("Timestamp tolerance (s)", tolerance, "Default 300")),
    h("div.actions", submit),
  );
  function body() {
    const body = {};
    if (useStored.checked) {
      body.provider_id = provider.value;
      body.secret_name = secretName.value;
    } else body.secret = secret.value;
    if (scheme.value) body.scheme = scheme.value;
    if (tolerance.value !== "") body.tolerance_seconds = Number(tolerance.value);
    return body;
  }
  return { form, submit, body };
}

// signaturePanel recomputes the message's signature with a secret and
// shows which variant matches.
function signaturePanel(m, enc, close) {
  const out = h("div", { "aria-live": "polite" });
  const { form, submit, body } = signatureForm(m);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const req = body();
    submit.disabled = true;
    try {
      const r = await api("POST", `/messages/${enc}/signature-check`, req);
      for (const old of form.querySelectorAll(".field-error")) old.remove();
      append(clear(out), signatureResult(r));
    } catch (err) {
      clear(out);
      showFormError(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  return actionPanel(
    "Signature check",
    close,
    h("p", "Recomputes the HMAC over the stored raw body in every common variant and shows which one matches the signature received."),
    form,
    out,
  );
}

// signatureResult: the verdict, what was expected and received, hints,
// the matching variant and every variant tried.
function signatureResult(r) {
  const c = r.match;
  return h(
    "div.dm-sig-result",
    h(
      "p.dm-verdict",
      r.verified ? h("span.badge.st-success", "Verified") : h("span.badge.st-failed", "Not verified"),
      " ",
      r.reason,
    ),
    dl([
      ["Scheme", [r.scheme, r.guessed ? h("span.muted", " (guessed from the headers)") : null]],
      ["Expected", r.expected],
      ["Received", (r.received || []).length ? h("div", r.received.map((x) => h("div.mono.dm-break", `${x.header}: ${x.value}`))) : h("span.muted", "no signature header")],
    ]),
    (r.hints || []).length ? h("div.dm-hints", h("h3", "Hints"), h("ul", r.hints.map((t) => h("li", t)))) : null,
    h("h3", "Matching variant"),
    c
      ? dl([
          ["Algorithm", `HMAC-${String(c.algorithm).toUpperCase()}`],
          ["Encoding", c.encoding],
          ["Signed", h("span.mono", c.signed)],
          ["Key", c.key],
          ["Value", h("span.mono.dm-break", c.value)],
          ["Header", c.matched_header ? h("span.mono", c.matched_header) : ""],
        ])
      : h("p.muted", "No variant matches a received signature: the secret is probably wrong, or the body was changed on the way."),
    (r.candidates || []).length
      ? h(
          "details",
          h("summary", `All ${r.candidates.length} variants`),
          h(
            "div.table-wrap",
            h(
              "table",
              h("thead", h("tr", ["Algorithm", "Encoding", "Signed", "Key", "Value", "Matches"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                r.candidates.map((x) =>
                  h(
                    "tr",
                    { class: x.matches ? "dm-match" : null },
                    h("td", { "data-label": "Algorithm" }, x.algorithm),
                    h("td", { "data-label": "Encoding" }, x.encoding),
                    h("td.mono", { "data-label": "Signed" }, x.signed),
                    h("td", { "data-label": "Key" }, x.key),
                    h("td.mono.dm-break", { "data-label": "Value" }, x.value),
                    h("td", { "data-label": "Matches" }, x.matches ? `yes${x.matched_header ? " (" + x.matched_header + ")" : ""}` : "no"),
                  ),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
