// The script editor the provider and function pages share: the script
// field (the CodeMirror editor of editor.js, or a <textarea> when it cannot
// load), a save's error shown at its line, the version history with its
// diffs and rollback, the dry run ("Try it") and its result, and
// editorPage, which puts these and the save below an editor page's form.
import { h, append, clear, api, can, toast, showFormError, clearFormErrors, field, fmtTime, badge, guardLeaving, listAll } from "./app.js";

// ---------- the script field, with a <textarea> fallback ----------

let editorModule;
function loadEditorModule() {
  if (!editorModule) editorModule = import("./editor.js").catch(() => null);
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

async function parseErrorLine(message) {
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

async function diffView(oldText, newText) {
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
  const pos = /^(match_script|handshake_script|script): /.test(msg) ? await parseErrorLine(err.message) : null;
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

// ---------- version history ----------

// versionsSection: GET {base}/versions; pick one to see its diff with the
// saved script; roll back (editors). getCurrent() answers the saved script;
// onRolledBack(record) gets the provider or function the rollback answers.
function versionsSection({ base, getCurrent, getDirty, onRolledBack }) {
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
    append(
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

// ---------- dry run ("Try it") ----------

// dryRunSection: pick a stored message (or paste an id), run body() through
// POST /messages/{id}/dry-run, show what happened. onScriptError(err)
// handles a 400 about the script.
function dryRunSection({ body, onScriptError, intro }) {
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

function renderDryRun(res) {
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

// ---------- below an editor page's form ----------

// editorPage finishes a provider's or a function's page below its head
// and form: the save (scriptSaver), then editorPageTail. state is {saved,
// dirty}; script names the record's script field; shown(saved) redraws
// what shows the record after a save, head.draw(saved) after a rollback.
// It answers {save, cleanup}: the form's save and the page's cleanup.
export function editorPage({ main, base, editable, state, form, head, script, shown, intro, tryBody }) {
  const tail = {};
  const save = scriptSaver({ base, editable, state, form, tail, shown });
  const cleanup = editorPageTail(tail, {
    main,
    form: form.el,
    editor: form.editor,
    base,
    editable,
    intro,
    tryBody,
    getCurrent: () => ({ script: state.saved[script], version: state.saved.version }),
    getDirty: () => state.dirty,
    scriptOf: (rec) => rec[script],
    onRolledBack: (rec) => {
      state.saved = rec;
      form.clean();
      head.draw(state.saved);
    },
    save: () => save(),
  });
  return { save, cleanup };
}

// scriptSaver answers an editor page's save: it sends form.read() (nothing
// when that answers null, having shown why) with PUT to base, keeps the
// answer in state.saved, marks the form saved and shows the record with
// shown(saved); a new version reloads the history (tail.versionsSaved). A
// refusal is shown at its line in the editor. Saves do not overlap, and
// a reader's never run.
function scriptSaver({ base, editable, state, form, tail, shown }) {
  let saving = false;
  return async function save() {
    if (!editable || saving) return;
    clearFormErrors(form.el);
    const body = form.read();
    if (!body) return;
    saving = true;
    form.save.disabled = true;
    try {
      const before = state.saved.version;
      state.saved = await api("PUT", base, body);
      form.editor.setErrors([]);
      if (form.handshake) form.handshake.setErrors([]);
      form.clean();
      shown(state.saved);
      toast(state.saved.version !== before ? `Saved as version ${state.saved.version}.` : "Saved.");
      if (state.saved.version !== before) tail.versionsSaved();
    } catch (err) {
      // A form with more than one script (a provider's handshake) shows
      // the error in the editor the server names.
      const named = form.editorFor && form.editorFor(String(err.message || "").replace(/^invalid: /, ""));
      await scriptError(form.el, named || form.editor, err);
    } finally {
      saving = false;
      form.save.disabled = false;
    }
  };
}

// editorPageTail adds what the provider and function editors share below
// their form: "Try it" (for operators), the version history with
// rollback, the warning before leaving unsaved edits, and Ctrl/Cmd-S
// anywhere on the page. It returns the page's cleanup, and tail.versionsSaved
// for the page's save to call when a save made a new version.
function editorPageTail(tail, { main, form, editor, base, editable, intro, tryBody, getCurrent, getDirty, scriptOf, onRolledBack, save }) {
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
