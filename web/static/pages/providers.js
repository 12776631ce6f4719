// Providers: the ordered list (#/providers), a new provider (#/providers/new)
// and one provider (#/providers/:id) with its match script, versions, dry
// run and functions. The script widgets (editor, versions, dry run) are
// exported for pages/functions.js.
import { h, clear, api, can, toast, showFormError, field, pageHeader, navigate, fmtTime, badge, ApiError, guardLeaving, clip } from "../app.js";

// ---------- shared: fetching every page of a list ----------

export async function listAll(path) {
  const sep = path.includes("?") ? "&" : "?";
  const items = [];
  let cursor = "";
  for (let i = 0; i < 100; i++) {
    const page = await api("GET", `${path}${sep}limit=500${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
    items.push(...((page && page.items) || []));
    cursor = (page && page.next_cursor) || "";
    if (!cursor) break;
  }
  return items;
}

// ---------- shared: the script editor, with a <textarea> fallback ----------

let editorModule;
function loadEditorModule() {
  if (!editorModule) editorModule = import("../editor.js").catch(() => null);
  return editorModule;
}

// parseErrorLine without editor.js: "...line N, column M: msg" or
// "msg (line N, column M)".
function fallbackParseErrorLine(message) {
  const s = String(message ?? "");
  let m = /^([\s\S]*?)\s*\(line (\d+), column (\d+)\)\s*$/.exec(s);
  if (m) return { line: +m[2], column: +m[3], message: m[1].trim() };
  m = /(?:^|[\s:])line (\d+), column (\d+): ([\s\S]*)$/.exec(s);
  if (m) return { line: +m[1], column: +m[2], message: m[3].trim() };
  m = /\bline (\d+)\b/.exec(s);
  return m ? { line: +m[1], column: null, message: s } : null;
}

export async function parseErrorLine(message) {
  const mod = await loadEditorModule();
  return mod && mod.parseErrorLine ? mod.parseErrorLine(message) : fallbackParseErrorLine(message);
}

// A minimal unified line diff for when editor.js is missing.
function fallbackDiffView(oldText, newText) {
  const a = String(oldText ?? "").split("\n");
  const b = String(newText ?? "").split("\n");
  const n = a.length, m = b.length;
  const pre = h("pre.diff", { "aria-label": "Differences" });
  if (n * m > 4_000_000) {
    a.forEach((l) => pre.append(h("span.diff-del", "- " + l)));
    b.forEach((l) => pre.append(h("span.diff-add", "+ " + l)));
    return pre;
  }
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { pre.append(h("span", { style: "display:block" }, "  " + a[i])); i++; j++; }
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) { pre.append(h("span.diff-del", "- " + a[i])); i++; }
    else { pre.append(h("span.diff-add", "+ " + b[j])); j++; }
  }
  return pre;
}

export async function diffView(oldText, newText) {
  const mod = await loadEditorModule();
  try {
    if (mod && mod.diffView) return mod.diffView(oldText, newText);
  } catch {
    /* fall back */
  }
  return fallbackDiffView(oldText, newText);
}

// scriptField makes the labelled script editor. The wrapper carries the
// field's `name` so that showFormError puts a server error ("script: line
// 2, ...") right below it. Returns the editor API plus `el`.
export async function scriptField({ label, name, doc, readOnly, onSave, onChange, globals, hint }) {
  const labelId = `lbl-${name}-${Math.random().toString(36).slice(2, 8)}`;
  const host = h("div.script-host");
  const el = h(
    "div.field.script-field",
    { name },
    h("span.label", { id: labelId }, label),
    host,
    hint ? h("span.hint", hint) : null,
  );
  const mod = await loadEditorModule();
  if (mod && mod.createEditor) {
    try {
      const ed = mod.createEditor(host, { doc, onSave, onChange, readOnly, globals });
      const content = host.querySelector(".cm-content");
      if (content) content.setAttribute("aria-labelledby", labelId);
      const focus = ed.focus.bind(ed);
      return Object.assign(ed, {
        el,
        // focus(line) also puts the cursor on that line.
        focus(line) {
          const v = ed.view;
          if (line && v && v.state && v.state.doc) {
            const l = v.state.doc.line(Math.min(Math.max(1, line), v.state.doc.lines));
            v.dispatch({ selection: { anchor: l.from }, scrollIntoView: true });
          }
          focus();
        },
      });
    } catch (e) {
      console.warn("editor failed, using a textarea", e);
    }
  }
  // Fallback: a plain textarea with the same API.
  const ta = h("textarea.script-text", {
    "aria-labelledby": labelId,
    spellcheck: "false",
    autocapitalize: "off",
    autocomplete: "off",
    rows: 16,
    readonly: readOnly || null,
    wrap: "off",
  });
  ta.value = doc || "";
  ta.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      if (onSave) onSave(ta.value);
    }
  });
  ta.addEventListener("input", () => {
    if (onChange) onChange(ta.value);
  });
  host.append(ta);
  return {
    el,
    view: null,
    getValue: () => ta.value,
    setValue(text) {
      ta.value = text ?? "";
    },
    setErrors(list) {
      if (list && list.length) ta.setAttribute("aria-invalid", "true");
      else ta.removeAttribute("aria-invalid");
    },
    setReadOnly(ro) {
      ta.readOnly = !!ro;
    },
    focus(line) {
      ta.focus();
      if (line) {
        const lines = ta.value.split("\n");
        let pos = 0;
        for (let i = 0; i < Math.min(line - 1, lines.length); i++) pos += lines[i].length + 1;
        ta.setSelectionRange(pos, pos + (lines[line - 1] || "").length);
      }
    },
    destroy() {},
  };
}

// scriptError shows a failed save or dry run: at its line in the editor
// and next to the field in the form.
export async function scriptError(form, editor, err) {
  const msg = String(err.message || err).replace(/^invalid: /, "");
  const pos = /^(match_script|script): /.test(msg) ? await parseErrorLine(err.message) : null;
  if (pos) {
    editor.setErrors([{ line: pos.line, column: pos.column || undefined, message: pos.message }]);
    showFormError(form, err);
    // Put the note between the label and the editor, where it is seen.
    const note = editor.el.nextElementSibling;
    if (note && note.classList.contains("field-error")) editor.el.querySelector(".label").after(note);
    editor.focus(pos.line);
  } else {
    editor.setErrors([]);
    showFormError(form, err);
  }
}

export function clearFormErrors(form) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const old of form.querySelectorAll("[aria-invalid]")) old.removeAttribute("aria-invalid");
}

// put appends children, skipping null and flattening arrays (as h() does).
function put(el, ...kids) {
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined && k !== false) el.append(k);
  return el;
}

// ---------- shared: version history ----------

// versionsSection: GET {base}/versions; pick one to see its diff with the
// saved script; roll back (editors). getCurrent() answers the saved script;
// onRolledBack(record) gets the provider or function the rollback answers.
export function versionsSection({ base, getCurrent, getDirty, onRolledBack }) {
  const listBox = h("div");
  const diffBox = h("div.version-diff", { "aria-live": "polite" });
  const el = h("section.card.pf-section", { "aria-labelledby": "versions-h" }, h("h2#versions-h", "Version history"), listBox, diffBox);
  let selected = null;

  async function show(v) {
    selected = v.version;
    for (const b of listBox.querySelectorAll("button[data-version]")) b.setAttribute("aria-pressed", String(+b.dataset.version === v.version));
    const cur = getCurrent();
    const diff = await diffView(v.script, cur.script);
    clear(diffBox);
    put(
      diffBox,
      h("h3", v.current ? `Version ${v.version} (the saved script)` : `Changes from version ${v.version} to the saved script (version ${cur.version})`),
      v.current ? h("pre", v.script) : diff,
      !v.current && can("edit")
        ? h("div.actions", h("button.secondary", { type: "button", onclick: () => rollback(v) }, `Roll back to version ${v.version}`))
        : null,
    );
  }

  async function rollback(v) {
    const dirty = getDirty && getDirty();
    const text = `Roll back to version ${v.version}? Its script is saved again as a new version and applies to webhooks received from now on.` +
      (dirty ? "\n\nYour unsaved changes in the editor will be lost." : "");
    if (!confirm(text)) return;
    try {
      const rec = await api("POST", `${base}/versions/${v.version}/rollback`);
      toast(`Rolled back to version ${v.version}: saved as version ${rec.version}.`);
      clear(diffBox);
      selected = null;
      await onRolledBack(rec);
      await load();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function load() {
    let items;
    try {
      items = await listAll(`${base}/versions`);
    } catch (e) {
      clear(listBox).append(h("p.error", e.message));
      return;
    }
    if (!items.length) {
      clear(listBox).append(h("p.muted", "No versions yet."));
      return;
    }
    clear(listBox).append(
      h(
        "div.table-wrap",
        h(
          "table.versions",
          h("thead", h("tr", h("th", "Version"), h("th", "Saved"), h("th", h("span.dm-sr", "Actions")))),
          h(
            "tbody",
            items.map((v) =>
              h(
                "tr",
                h("td", { "data-label": "Version" }, `v${v.version}`, v.current ? [" ", h("span.badge.st-success", "current")] : null),
                h("td", { "data-label": "Saved" }, fmtTime(v.saved_at)),
                h(
                  "td",
                  { "data-label": "" },
                  h("button.secondary.small", { type: "button", "data-version": v.version, "aria-pressed": String(v.version === selected), onclick: () => show(v) },
                    v.current ? `View version ${v.version}` : `Compare version ${v.version}`),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
  return { el, load };
}

// ---------- shared: dry run ("Try it") ----------

// dryRunSection: pick a stored message (or paste an id), run body() through
// POST /messages/{id}/dry-run, show what happened. onScriptError(err)
// handles a 400 about the script.
export function dryRunSection({ body, onScriptError, intro }) {
  const select = h("select", { name: "message_id_pick" }, h("option", { value: "" }, "Loading messages…"));
  const idInput = h("input", { name: "message_id", placeholder: "or paste a message id", autocomplete: "off", spellcheck: "false" });
  const run = h("button", { type: "submit" }, "Run dry run");
  const out = h("div.dryrun-out", { "aria-live": "polite" });
  const form = h(
    "form.pf-form.dryrun-form",
    { novalidate: true },
    h("div.dryrun-pick", field("Stored message (newest first)", select), field("Message id", idInput, "A pasted id wins over the list.")),
    h("div.actions", run, h("button.secondary", { type: "button", onclick: () => loadMessages() }, "Refresh list")),
  );
  const el = h(
    "section.card.pf-section",
    { "aria-labelledby": "tryit-h" },
    h("h2#tryit-h", "Try it"),
    h("p.muted", intro),
    form,
    out,
  );

  async function loadMessages() {
    try {
      const page = await api("GET", "/messages?limit=20");
      const items = (page && page.items) || [];
      const prev = select.value;
      clear(select);
      if (!items.length) select.append(h("option", { value: "" }, "No stored messages yet"));
      for (const m of items) {
        select.append(
          h("option", { value: m.id }, `${fmtTime(m.received_at)} · ${m.method} /${m.uri} · ${m.status}${m.provider_name ? " · " + m.provider_name : ""}`),
        );
      }
      if (prev && items.some((m) => m.id === prev)) select.value = prev;
    } catch (e) {
      clear(select).append(h("option", { value: "" }, "Could not load messages"));
      toast(e.message, "error");
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    const id = idInput.value.trim() || select.value;
    if (!id) {
      showFormError(form, { message: "message_id: pick a stored message or paste its id" });
      return;
    }
    run.disabled = true;
    clear(out).append(h("p.muted", "Running…"));
    try {
      const res = await api("POST", `/messages/${encodeURIComponent(id)}/dry-run`, body());
      clear(out).append(renderDryRun(res));
      if (onScriptError) onScriptError(null);
      out.scrollIntoView({ block: "nearest" });
    } catch (err) {
      clear(out);
      if (err.status === 400 && onScriptError && /^(invalid: )?(match_script|script): /.test(err.message)) {
        onScriptError(err);
        out.append(h("p.error", { role: "alert" }, "The script in the editor does not compile: " + err.message.replace(/^invalid: /, "")));
      } else if (err.status === 404) {
        showFormError(form, { message: "message_id: no stored message has this id" });
      } else {
        out.append(h("p.error", { role: "alert" }, err.message));
      }
    } finally {
      run.disabled = false;
    }
  });
  return { el, load: loadMessages };
}

function logList(lines) {
  if (!lines || !lines.length) return h("p.muted", "No log lines.");
  return h(
    "ol.log",
    lines.map((l) =>
      h(
        "li",
        h("span.log-time.mono", fmtTime(l.time)),
        " ",
        h(`span.log-level.lv-${String(l.level || "").toLowerCase()}`, l.level),
        l.source ? [" ", h("span.muted", l.source)] : null,
        " ",
        h("span.log-text.mono", l.text),
      ),
    ),
  );
}

function json(v) {
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

function kv(pairs) {
  return h(
    "dl.kv",
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", k), h("dd", v instanceof Node ? v : String(v))]),
  );
}

export function renderDryRun(res) {
  const p = res.provider;
  const fns = res.functions || [];
  const effects = res.effects || [];
  // "function:<id>" -> "function deploy", "provider:<id>" -> "provider GitHub".
  const scopeName = (scope) => {
    const [kind, id] = String(scope).split(/:(.*)/s);
    if (kind === "provider" && p && p.id === id) return `match script of ${p.name}`;
    const f = kind === "function" ? fns.find((x) => x.function_id === id) : null;
    return f ? `function ${f.function_name || "(unsaved)"}` : scope;
  };
  return h(
    "div.dryrun-result",
    h("h3", "Result ", badge(res.status)),
    kv([
      ["Provider matched", p ? `${p.name} (version ${p.version}${p.overridden ? ", the script in the editor" : ""})` : "none: the log below gives each provider's reason"],
      ["Summary", res.message],
      ["Duration", res.duration_ms != null ? `${Number(res.duration_ms).toFixed(1)} ms` : ""],
      ["Message", res.message_id],
    ]),
    h("h4", "Log"),
    logList(res.logs),
    h("h4", `Functions (${fns.length})`),
    fns.length
      ? fns.map((f) =>
          h(
            "div.dryrun-fn",
            h("h5", f.function_name || "unsaved function", " ", badge(f.status), f.overridden ? h("span.muted", " (the script in the editor)") : null),
            kv([
              ["Version", f.version || ""],
              ["Duration", f.duration_ms != null ? `${Number(f.duration_ms).toFixed(1)} ms` : ""],
              ["Error", f.error ? h("span.error.mono", f.error) : ""],
            ]),
            logList(f.logs),
            f.result !== undefined && f.result !== null ? [h("div.muted", "Result"), h("pre", json(f.result))] : null,
          ),
        )
      : h("p.muted", p ? "No function is bound to this provider and the message's URI." : "No function ran."),
    h("h4", `Effects (${effects.length}): recorded, not done`),
    effects.length
      ? h(
          "ul.effects",
          effects.map((ef) =>
            h(
              "li",
              h("strong", ef.kind),
              ef.scope ? h("span.muted", " · " + scopeName(ef.scope)) : null,
              kv([
                ["Request", ef.method || ef.url ? `${ef.method || ""} ${ef.url || ""}`.trim() : ""],
                ["Headers", ef.headers && Object.keys(ef.headers).length ? h("pre", json(ef.headers)) : ""],
                ["Body", ef.body ? h("pre", ef.body) : ""],
                ["Event type", ef.event_type],
                ["Fields", ef.fields ? h("pre", json(ef.fields)) : ""],
                ["Key", ef.key],
                ["TTL", ef.ttl_seconds ? `${ef.ttl_seconds} s` : ""],
              ]),
            ),
          ),
        )
      : h("p.muted", "None."),
  );
}

// ---------- shared: small widgets ----------

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

// ---------- the page ----------

export async function render(ctx) {
  const id = ctx.params[0];
  if (!id) return renderList(ctx.main);
  if (id === "new") return renderNew(ctx.main);
  return renderDetail(ctx.main, decodeURIComponent(id));
}

// ---------- list ----------

async function renderList(main) {
  const editable = can("edit");
  let providers = [];
  let counts = {};
  const body = h("div");
  const status = h("p.visually-hidden", { role: "status", "aria-live": "polite" });
  main.append(
    pageHeader("Providers", editable ? h("a.button", { href: "#/providers/new" }, "New provider") : null),
    h(
      "p.muted",
      "Providers are tried in this order; the first whose match script matches takes the webhook. ",
      editable ? "Drag a row, or use its Up and Down buttons, to change the order." : null,
    ),
    status,
    body,
  );

  async function load() {
    const [ps, fs] = await Promise.all([listAll("/providers"), listAll("/functions").catch(() => [])]);
    providers = ps;
    counts = {};
    for (const f of fs) counts[f.provider_id] = (counts[f.provider_id] || 0) + 1;
    draw();
  }

  async function saveOrder(ids, focusSel, announce) {
    try {
      const res = await api("PUT", "/providers/order", { ids });
      providers = res.items || [];
      draw();
      status.textContent = announce || "Order saved.";
      if (focusSel) {
        const el = body.querySelector(focusSel);
        if (el && !el.disabled) el.focus();
        else if (el) (el.closest("tr").querySelector("button:not(:disabled)") || el).focus();
      }
    } catch (e) {
      toast(e.message, "error");
      await load();
    }
  }

  function move(index, delta) {
    const to = index + delta;
    if (to < 0 || to >= providers.length) return;
    const ids = providers.map((p) => p.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(to, 0, moved);
    const name = providers[index].name;
    saveOrder(ids, `tr[data-id="${CSS.escape(moved)}"] button.${delta < 0 ? "move-up" : "move-down"}`, `Moved ${name} to position ${to + 1} of ${ids.length}.`);
  }

  let dragId = null;

  function draw() {
    if (!providers.length) {
      clear(body).append(
        h("p.muted", "No providers yet.", editable ? [" ", h("a", { href: "#/providers/new" }, "Create the first one"), "."] : null),
      );
      return;
    }
    const rows = providers.map((p, i) => {
      let active;
      if (editable) {
        const cb = h("input", { type: "checkbox", checked: p.active, "aria-label": `${p.name} active` });
        const text = h("span", p.active ? "active" : "inactive");
        // While saving, the box is aria-disabled, not disabled: a disabled
        // element drops the keyboard focus to <body>.
        let saving = false;
        cb.addEventListener("click", (e) => {
          if (saving) e.preventDefault();
        });
        cb.addEventListener("change", async () => {
          saving = true;
          cb.setAttribute("aria-disabled", "true");
          try {
            const upd = await api("PUT", `/providers/${encodeURIComponent(p.id)}`, { active: cb.checked });
            p.active = upd.active;
            toast(`${p.name} is now ${upd.active ? "active" : "inactive"}.`);
          } catch (e) {
            toast(e.message, "error");
          } finally {
            cb.checked = p.active;
            text.textContent = p.active ? "active" : "inactive";
            cb.removeAttribute("aria-disabled");
            saving = false;
          }
        });
        active = h("label.check", cb, " ", text);
      } else {
        active = p.active ? h("span.badge.st-success", "active") : h("span.badge", "inactive");
      }
      const tr = h(
        "tr",
        { dataset: { id: p.id }, draggable: editable ? "true" : null },
        h("td.order", { "data-label": "#" }, editable ? h("span.handle", { "aria-hidden": "true", title: "Drag to reorder" }, "⠿ ") : null, String(i + 1)),
        h("td.name", { "data-label": "Name" }, h("a", { href: `#/providers/${encodeURIComponent(p.id)}` }, clip(p.name, 80))),
        h("td.desc", { "data-label": "Description" }, p.description ? clip(p.description, 120) : h("span.muted", "—")),
        h("td.active", { "data-label": "Active" }, active),
        h("td.num", { "data-label": "Functions" }, String(counts[p.id] || 0)),
        editable
          ? h(
              "td.move",
              { "data-label": "Order" },
              h("button.secondary.small.move-up", { type: "button", disabled: i === 0, "aria-label": `Move ${p.name} up`, onclick: () => move(i, -1) }, "↑ Up"),
              " ",
              h("button.secondary.small.move-down", { type: "button", disabled: i === providers.length - 1, "aria-label": `Move ${p.name} down`, onclick: () => move(i, 1) }, "↓ Down"),
            )
          : null,
      );
      if (editable) {
        tr.addEventListener("dragstart", (e) => {
          dragId = p.id;
          e.dataTransfer.effectAllowed = "move";
          e.dataTransfer.setData("text/plain", p.id);
          tr.classList.add("dragging");
        });
        tr.addEventListener("dragend", () => {
          dragId = null;
          tr.classList.remove("dragging");
          for (const r of body.querySelectorAll(".drop-before,.drop-after")) r.classList.remove("drop-before", "drop-after");
        });
        tr.addEventListener("dragover", (e) => {
          if (!dragId) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = "move";
          const r = tr.getBoundingClientRect();
          const after = e.clientY > r.top + r.height / 2;
          tr.classList.toggle("drop-after", after);
          tr.classList.toggle("drop-before", !after);
        });
        tr.addEventListener("dragleave", () => tr.classList.remove("drop-before", "drop-after"));
        tr.addEventListener("drop", (e) => {
          e.preventDefault();
          const from = dragId || e.dataTransfer.getData("text/plain");
          const after = tr.classList.contains("drop-after");
          tr.classList.remove("drop-before", "drop-after");
          if (!from || from === p.id) return;
          const ids = providers.map((x) => x.id).filter((x) => x !== from);
          let at = ids.indexOf(p.id) + (after ? 1 : 0);
          ids.splice(at, 0, from);
          const moved = providers.find((x) => x.id === from);
          saveOrder(ids, null, `Moved ${moved ? moved.name : "the provider"} to position ${at + 1} of ${ids.length}.`);
        });
      }
      return tr;
    });
    clear(body).append(
      h(
        "div.table-wrap",
        h(
          "table.providers",
          h(
            "thead",
            h(
              "tr",
              h("th", "#"),
              h("th", "Name"),
              h("th", "Description"),
              h("th", "Active"),
              h("th.num", "Functions"),
              editable ? h("th", "Order") : null,
            ),
          ),
          h("tbody", rows),
        ),
      ),
    );
  }

  await load();
}

// ---------- new provider ----------

const BLANK_SCRIPT = `// Return true when this provider sent the webhook.
// Ctrl-Space lists the globals (HTTP_HEADERS, PAYLOAD, PROPERTIES, HMAC...);
// Once saved, "Try it" on its page runs it against a stored message.
return HTTP_HEADERS["x-example-event"] !== undefined;
`;

async function renderNew(main) {
  main.append(breadcrumbs(h("a", { href: "#/providers" }, "Providers"), "New provider"));
  if (!can("edit")) {
    main.append(h("h1", "Not allowed"), h("p", "Your role cannot create providers."));
    return;
  }
  main.append(pageHeader("New provider"));
  let templates = [];
  try {
    templates = await listAll("/provider-templates");
  } catch (e) {
    toast(e.message, "error");
  }

  const modeTemplate = h("input", { type: "radio", name: "mode", value: "template", checked: templates.length > 0, disabled: !templates.length });
  const modeBlank = h("input", { type: "radio", name: "mode", value: "blank", checked: !templates.length });
  const modes = h(
    "fieldset.modes",
    h("legend", "Start from"),
    h("label.check", modeTemplate, " a template (GitHub, GitLab, Slack, Stripe…)"),
    h("label.check", modeBlank, " a blank provider: write the match script yourself"),
  );

  const name = h("input", { name: "name", autocomplete: "off" });
  const description = h("input", { name: "description", autocomplete: "off" });
  const nameField = field("Name", name);
  const nameHint = h("span.hint");
  nameField.append(nameHint);

  // template part
  const tplSelect = h(
    "select",
    { name: "template" },
    templates.map((t) => h("option", { value: t.name }, t.title || t.name)),
  );
  const tplDesc = h("p.hint.tpl-desc");
  const tplParams = h("div.tpl-params");
  const tplPart = h("div", field("Template", tplSelect), tplDesc, tplParams);

  // blank part
  const blankPart = h("div");
  let editor = null;

  const submit = h("button", { type: "submit" }, "Create provider");
  const form = h(
    "form.card.pf-form",
    { novalidate: true },
    modes,
    grid(nameField, field("Description", description)),
    tplPart,
    blankPart,
    h("div.actions", submit, h("a.button.secondary", { href: "#/providers" }, "Cancel")),
  );
  main.append(form);

  function currentTemplate() {
    return templates.find((t) => t.name === tplSelect.value);
  }

  function drawTemplate() {
    const t = currentTemplate();
    clear(tplParams);
    tplDesc.textContent = t ? t.description || "" : "";
    if (!t) return;
    const secrets = t.secrets || [];
    const props = t.properties || [];
    const cond = (c) => (c ? ` (required when ${c.property} is ${c.value})` : "");
    if (props.length) {
      tplParams.append(
        h(
          "fieldset",
          h("legend", "Properties"),
          props.map((p) => {
            const input = p.one_of && p.one_of.length
              ? h("select", { "data-property": p.name }, p.one_of.map((v) => h("option", { value: v, selected: v === p.default }, v)))
              : h("input", { "data-property": p.name, value: p.default || "", autocomplete: "off" });
            if (input.tagName === "SELECT") input.value = p.default || p.one_of[0];
            return field(`${p.name}${p.required ? " (required)" : ""}`, input, (p.description || "") + cond(p.required_when));
          }),
        ),
      );
    }
    if (secrets.length) {
      tplParams.append(
        h(
          "fieldset",
          h("legend", "Secrets"),
          h("p.hint", "Encrypted at rest and never shown again."),
          secrets.map((s) =>
            field(
              `${s.name}${s.required ? " (required)" : ""}`,
              h("input", { type: "password", "data-secret": s.name, autocomplete: "new-password", spellcheck: "false" }),
              (s.description || "") + cond(s.required_when),
            ),
          ),
        ),
      );
    }
    nameHint.textContent = `Leave empty to call it “${t.title || t.name}”.`;
  }

  async function drawMode() {
    const tpl = modeTemplate.checked;
    tplPart.hidden = !tpl;
    blankPart.hidden = tpl;
    if (tpl) {
      drawTemplate();
    } else {
      nameHint.textContent = "";
      if (!editor) {
        editor = await scriptField({ label: "Match script", name: "match_script", doc: BLANK_SCRIPT, hint: "A function body; the provider matches when it returns a truthy value." });
        blankPart.append(editor.el);
      }
    }
  }
  modeTemplate.addEventListener("change", drawMode);
  modeBlank.addEventListener("change", drawMode);
  tplSelect.addEventListener("change", drawTemplate);
  await drawMode();

  async function create() {
    clearFormErrors(form);
    if (editor) editor.setErrors([]);
    const body = {};
    if (name.value.trim()) body.name = name.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    if (modeTemplate.checked) {
      body.template = tplSelect.value;
      const secrets = {};
      for (const i of tplParams.querySelectorAll("[data-secret]")) if (i.value !== "") secrets[i.dataset.secret] = i.value;
      const props = {};
      for (const i of tplParams.querySelectorAll("[data-property]")) if (i.value !== "") props[i.dataset.property] = i.value;
      body.secrets = secrets;
      body.properties = props;
    } else {
      body.match_script = editor.getValue();
      if (!body.name) {
        showFormError(form, { message: "name is required" });
        return;
      }
    }
    submit.disabled = true;
    try {
      const p = await api("POST", "/providers", body);
      toast(`Created ${p.name}.`);
      navigate(`#/providers/${encodeURIComponent(p.id)}`);
    } catch (err) {
      if (editor && !modeTemplate.checked) await scriptError(form, editor, err);
      else showFormError(form, err);
      pointAtParam(form, err);
    } finally {
      submit.disabled = false;
    }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    create();
  });
}

// A template's error names a secret or property ('missing secret "secret"'):
// move the note next to that input.
function pointAtParam(form, err) {
  const m = /\b(secret|property) "([^"]+)"/.exec(String(err.message || ""));
  if (!m) return;
  const input = form.querySelector(m[1] === "secret" ? `[data-secret="${CSS.escape(m[2])}"]` : `[data-property="${CSS.escape(m[2])}"]`);
  const note = form.querySelector(".field-error");
  if (!input || !note) return;
  for (const o of form.querySelectorAll("[aria-invalid]")) o.removeAttribute("aria-invalid");
  input.setAttribute("aria-invalid", "true");
  (input.closest("label") || input).after(note);
  input.focus();
}

// ---------- detail ----------

async function renderDetail(main, id) {
  const editable = can("edit");
  let p;
  try {
    p = await api("GET", `/providers/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      main.append(breadcrumbs(h("a", { href: "#/providers" }, "Providers")), h("h1", "No such provider"), h("p", "It may have been deleted."));
      return;
    }
    throw e;
  }
  const base = `/providers/${encodeURIComponent(p.id)}`;
  let saved = p; // the provider as last saved
  let dirty = false;

  const title = h("h1", p.name);
  const meta = h("p.muted.meta");
  const deleteError = h("div", { role: "alert" });
  const del = editable ? h("button.danger", { type: "button" }, "Delete provider") : null;
  main.append(
    breadcrumbs(h("a", { href: "#/providers" }, "Providers"), p.name),
    h("div.page-head", title, h("div.actions", del)),
    meta,
    deleteError,
  );

  // --- the form ---
  const dis = !editable || null;
  const name = h("input", { name: "name", value: p.name, disabled: dis, autocomplete: "off", required: true });
  const description = h("input", { name: "description", value: p.description, disabled: dis, autocomplete: "off" });
  const timeout = h("input", { name: "match_timeout_ms", type: "number", min: 1, max: 10000, value: p.match_timeout_ms, disabled: dis });
  const active = checkbox("active", p.active, "Active: takes part in matching", !editable);

  const propsBox = h("div.kv-rows");
  const propsSet = h(
    "fieldset.props",
    { name: "properties" },
    h("legend", "Properties"),
    h("p.hint", "Plain values the scripts read as PROPERTIES.name. Saving sends all of them."),
    propsBox,
    editable ? h("button.secondary.small", { type: "button", onclick: () => { addPropRow("", ""); propsBox.lastChild.querySelector("input").focus(); markDirty(); } }, "Add property") : null,
  );
  const secretsBox = h("div.kv-rows");
  const newSecretsBox = h("div.kv-rows");
  const secretsSet = h(
    "fieldset.secrets",
    { name: "secrets" },
    h("legend", "Secrets"),
    h("p.hint", "Encrypted at rest; scripts read them as PROPERTIES.name. Values are never shown: type a new value to replace one."),
    secretsBox,
    newSecretsBox,
    editable ? h("button.secondary.small", { type: "button", onclick: () => { addNewSecretRow(); newSecretsBox.lastChild.querySelector("input").focus(); } }, "Add secret") : null,
  );

  function addPropRow(k, v) {
    const key = h("input", { value: k, "aria-label": "Property name", placeholder: "name", disabled: dis, autocomplete: "off", spellcheck: "false" });
    const val = h("input", { value: v, "aria-label": "Property value", placeholder: "value", disabled: dis, autocomplete: "off", spellcheck: "false" });
    const row = h("div.kv-row.prop-row", key, val);
    key.addEventListener("input", () => val.setAttribute("aria-label", `Value of ${key.value || "property"}`));
    val.setAttribute("aria-label", `Value of ${k || "property"}`);
    if (editable) {
      row.append(h("button.secondary.small", {
        type: "button",
        "aria-label": `Remove property ${k}`.trim(),
        onclick: () => { row.remove(); markDirty(); },
      }, "Remove"));
    }
    propsBox.append(row);
  }

  function addNewSecretRow() {
    const key = h("input", { "aria-label": "New secret name", placeholder: "name", autocomplete: "off", spellcheck: "false", "data-new-secret": "name" });
    const val = h("input", { type: "password", "aria-label": "New secret value", placeholder: "value", autocomplete: "new-password", "data-new-secret": "value" });
    const row = h("div.kv-row.new-secret", key, val, h("button.secondary.small", { type: "button", onclick: () => row.remove() }, "Cancel"));
    newSecretsBox.append(row);
  }

  function drawProps() {
    clear(propsBox);
    const entries = Object.entries(saved.properties || {}).sort(([a], [b]) => a.localeCompare(b));
    for (const [k, v] of entries) addPropRow(k, v);
    if (!entries.length && !editable) propsBox.append(h("p.muted", "None."));
  }

  function drawSecrets() {
    clear(secretsBox);
    clear(newSecretsBox);
    const names = saved.secrets || [];
    if (!names.length) secretsBox.append(h("p.muted", "No secrets."));
    for (const s of names) {
      const val = h("input", { type: "password", "aria-label": `New value for secret ${s}`, placeholder: "unchanged", autocomplete: "new-password", disabled: dis, "data-secret": s });
      const rm = h("input", { type: "checkbox", "data-remove-secret": s, disabled: dis });
      secretsBox.append(
        h(
          "div.kv-row.secret-row",
          h("span.secret-name.mono", s),
          val,
          editable ? h("label.check", rm, " Remove") : null,
        ),
      );
      rm.addEventListener("change", () => {
        val.disabled = rm.checked;
        if (rm.checked) val.value = "";
      });
    }
  }

  const save = editable ? h("button", { type: "submit" }, "Save") : null;
  const dirtyNote = h("span.muted.dirty-note", { "aria-live": "polite" });
  const form = h("form.card.pf-form.provider-form", { novalidate: true });
  function markDirty() {
    if (!editable) return;
    dirty = true;
    dirtyNote.textContent = "Unsaved changes";
  }

  const globals = () => [{ name: "PROPERTIES", members: [...Object.keys(saved.properties || {}), ...(saved.secrets || [])] }];
  const editor = await scriptField({
    label: "Match script",
    name: "match_script",
    doc: p.match_script,
    readOnly: !editable,
    globals: globals(),
    onSave: () => editable && doSave(),
    onChange: () => markDirty(),
    hint: "A function body: the provider matches when it returns a truthy value." + (editable ? " Ctrl/Cmd-S saves." : ""),
  });
  form.addEventListener("input", (e) => {
    if (!e.target.closest(".script-field")) markDirty();
  });
  form.append(
    grid(field("Name", name), field("Match timeout (ms)", timeout, "1 to 10000")),
    field("Description", description),
    active.el,
    propsSet,
    secretsSet,
    editor.el,
    editable ? h("div.actions.sticky-actions", save, dirtyNote) : h("p.muted", "Read only: your role cannot change providers."),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    doSave();
  });
  main.append(form);

  function drawMeta() {
    title.textContent = saved.name;
    const crumbs = main.querySelector(".crumbs");
    if (crumbs) crumbs.lastChild.textContent = saved.name;
    clear(meta).append(
      `Match script version ${saved.version} · updated ${fmtTime(saved.updated_at)} · id `,
      h("span.mono", saved.id),
    );
  }
  drawMeta();
  drawProps();
  drawSecrets();

  const tail = {}; // editorPageTail below gives it versionsSaved
  let saving = false;
  async function doSave() {
    if (!editable || saving) return;
    clearFormErrors(form);
    const properties = {};
    for (const row of propsBox.querySelectorAll(".prop-row")) {
      const [k, v] = row.querySelectorAll("input");
      const key = k.value.trim();
      if (!key) {
        if (v.value === "") continue;
        showFormError(form, { message: "properties: a property needs a name" });
        k.setAttribute("aria-invalid", "true");
        k.focus();
        return;
      }
      properties[key] = v.value;
    }
    const secrets = {};
    for (const i of secretsBox.querySelectorAll("[data-secret]")) if (i.value !== "") secrets[i.dataset.secret] = i.value;
    for (const c of secretsBox.querySelectorAll("[data-remove-secret]")) if (c.checked) secrets[c.dataset.removeSecret] = "";
    for (const row of newSecretsBox.querySelectorAll(".new-secret")) {
      const k = row.querySelector('[data-new-secret="name"]');
      const v = row.querySelector('[data-new-secret="value"]');
      const key = k.value.trim();
      if (!key && !v.value) continue;
      if (!key || !v.value) {
        showFormError(form, { message: "secrets: a new secret needs a name and a value" });
        (key ? v : k).setAttribute("aria-invalid", "true");
        (key ? v : k).focus();
        return;
      }
      secrets[key] = v.value;
    }
    const body = {
      name: name.value,
      description: description.value,
      active: active.input.checked,
      match_timeout_ms: timeout.value === "" ? 0 : Number(timeout.value),
      properties,
      match_script: editor.getValue(),
    };
    if (Object.keys(secrets).length) body.secrets = secrets;
    saving = true;
    save.disabled = true;
    try {
      const before = saved.version;
      saved = await api("PUT", base, body);
      editor.setErrors([]);
      dirty = false;
      dirtyNote.textContent = "";
      drawMeta();
      drawProps();
      drawSecrets();
      toast(saved.version !== before ? `Saved as version ${saved.version}.` : "Saved.");
      if (saved.version !== before) tail.versionsSaved();
    } catch (err) {
      await scriptError(form, editor, err);
    } finally {
      saving = false;
      save.disabled = false;
    }
  }

  // --- delete ---
  if (del) {
    del.addEventListener("click", async () => {
      clear(deleteError);
      if (!confirm(`Delete the provider ${saved.name}? Its versions are deleted too. This cannot be undone.`)) return;
      try {
        await api("DELETE", base);
        toast(`Deleted ${saved.name}.`);
        navigate("#/providers");
      } catch (e) {
        deleteError.append(h("p.error", e.status === 409 ? `Cannot delete: ${e.message}` : e.message));
        deleteError.scrollIntoView({ block: "nearest" });
      }
    });
  }

  // --- functions of this provider ---
  const fnBox = h("div");
  const fnSection = h("section.card.pf-section", { "aria-labelledby": "fns-h" }, h("div.section-head", h("h2#fns-h", "Functions")), fnBox);
  main.append(fnSection);
  async function loadFunctions() {
    try {
      const fs = await listAll(`/functions?provider_id=${encodeURIComponent(p.id)}`);
      clear(fnBox).append(
        fs.length
          ? h(
              "div.table-wrap",
              h(
                "table",
                h("thead", h("tr", h("th", "Name"), h("th", "URI"), h("th", "Active"), h("th", "Version"))),
                h(
                  "tbody",
                  fs.map((f) =>
                    h(
                      "tr",
                      h("td", { "data-label": "Name" }, h("a", { href: `#/functions/${encodeURIComponent(f.id)}` }, f.name)),
                      h("td.mono", { "data-label": "URI" }, "/webhooks/v1/" + f.uri),
                      h("td", { "data-label": "Active" }, f.active ? h("span.badge.st-success", "active") : h("span.badge", "inactive")),
                      h("td", { "data-label": "Version" }, String(f.version)),
                    ),
                  ),
                ),
              ),
            )
          : h("p.muted", "No functions yet: a provider alone does nothing. Bind a function to it on the URI you give the sender."),
      );
    } catch (e) {
      clear(fnBox).append(h("p.error", e.message));
    }
  }
  if (editable) fnSection.append(newFunctionForm(p.id));
  loadFunctions();

  return editorPageTail(tail, {
    main,
    form,
    editor,
    base,
    editable,
    intro: "Runs a stored message through matching and functions with the match script in the editor (saved or not). Nothing is recorded or sent.",
    tryBody: () => ({ provider_id: p.id, match_script: editor.getValue() }),
    getCurrent: () => ({ script: saved.match_script, version: saved.version }),
    getDirty: () => dirty,
    scriptOf: (rec) => rec.match_script,
    onRolledBack: (rec) => {
      saved = rec;
      dirty = false;
      dirtyNote.textContent = "";
      drawMeta();
    },
    save: () => doSave(),
  });
}

// editorPageTail adds what the provider and function editors share below
// their form: "Try it" (for operators), the version history with
// rollback, the warning before leaving unsaved edits, and Ctrl/Cmd-S
// anywhere on the page. It returns the page's cleanup, and tail.versionsSaved
// for the page's save to call when a save made a new version.
export function editorPageTail(tail, { main, form, editor, base, editable, intro, tryBody, getCurrent, getDirty, scriptOf, onRolledBack, save }) {
  if (can("operate")) {
    const tryIt = dryRunSection({
      intro,
      // Below the editor role the editor is read-only and the server runs
      // only saved scripts: send none.
      body: () => {
        const b = tryBody();
        if (!editable) {
          delete b.match_script;
          delete b.script;
        }
        return b;
      },
      onScriptError: async (err) => {
        if (err) await scriptError(form, editor, err);
        else {
          editor.setErrors([]);
          clearFormErrors(form);
        }
      },
    });
    main.append(tryIt.el);
    tryIt.load();
  }

  const versions = versionsSection({
    base,
    getCurrent,
    getDirty,
    onRolledBack: async (rec) => {
      editor.setValue(scriptOf(rec));
      editor.setErrors([]);
      onRolledBack(rec);
    },
  });
  main.append(versions.el);
  versions.load();
  tail.versionsSaved = () => versions.load();

  const beforeUnload = (e) => {
    if (getDirty()) e.preventDefault();
  };
  guardLeaving(() => !getDirty() || confirm("Leave this page? Your unsaved script changes will be lost."));
  window.addEventListener("beforeunload", beforeUnload);
  // Ctrl/Cmd-S anywhere on the page saves (the editor handles its own).
  const saveKey = (e) => {
    if (!editable || e.defaultPrevented || !(e.ctrlKey || e.metaKey) || e.altKey || e.key.toLowerCase() !== "s") return;
    e.preventDefault();
    save();
  };
  document.addEventListener("keydown", saveKey);
  return () => {
    window.removeEventListener("beforeunload", beforeUnload);
    document.removeEventListener("keydown", saveKey);
    editor.destroy();
  };
}

const NEW_FUNCTION_SCRIPT = `// Runs for each webhook this provider matches on the function's URI.
LOG.info("received", METHOD, URI);
LOG.setMessage("handled by " + URI);
`;

function newFunctionForm(providerId) {
  const open = h("button.secondary", { type: "button", "aria-expanded": "false" }, "New function");
  const wrap = h("div.new-function", open);
  let form = null;
  let editor = null;
  open.addEventListener("click", async () => {
    if (form) {
      form.hidden = !form.hidden;
      open.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("input").focus();
      return;
    }
    const name = h("input", { name: "name", autocomplete: "off", required: true });
    const uri = h("input", { name: "uri", autocomplete: "off", spellcheck: "false", placeholder: "e.g. github or git/push", required: true });
    const description = h("input", { name: "description", autocomplete: "off" });
    const create = h("button", { type: "submit" }, "Create function");
    editor = await scriptField({ label: "Script", name: "script", doc: NEW_FUNCTION_SCRIPT, onSave: () => form.requestSubmit() });
    form = h(
      "form.pf-form.new-function-form",
      { novalidate: true },
      h("h3", "New function"),
      grid(field("Name", name), field("URI", uri, "The part after /webhooks/v1/ that the sender posts to.")),
      field("Description", description),
      editor.el,
      h("div.actions", create, h("button.secondary", { type: "button", onclick: () => { form.hidden = true; open.setAttribute("aria-expanded", "false"); open.focus(); } }, "Cancel")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      create.disabled = true;
      try {
        const f = await api("POST", "/functions", {
          provider_id: providerId,
          name: name.value,
          uri: uri.value,
          description: description.value,
          script: editor.getValue(),
        });
        toast(`Created ${f.name}.`);
        navigate(`#/functions/${encodeURIComponent(f.id)}`);
      } catch (err) {
        await scriptError(form, editor, err);
      } finally {
        create.disabled = false;
      }
    });
    wrap.append(form);
    open.setAttribute("aria-expanded", "true");
    name.focus();
  });
  return wrap;
}
