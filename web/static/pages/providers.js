// Providers: the ordered list (#/providers), a new provider (#/providers/new)
// and one provider (#/providers/:id) with its match script, versions, dry
// run and functions.
import { h, append, clear, api, can, toast, showFormError, clearFormErrors, field, pageHeader, navigate, fmtTime, ApiError, clip, listAll, checkbox, grid, breadcrumbs } from "../app.js";
import { scriptField, scriptError, editorPage } from "../scripteditor.js";

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

  const drag = { id: null }; // the provider being dragged

  function draw() {
    if (!providers.length) {
      clear(body).append(
        h("p.muted", "No providers yet.", editable ? [" ", h("a", { href: "#/providers/new" }, "Create the first one"), "."] : null),
      );
      return;
    }
    const rows = providers.map((p, i) => {
      const tr = providerRow(p, i, { editable, count: counts[p.id] || 0, last: i === providers.length - 1, move });
      if (editable) dragToReorder(tr, p, { drag, body, providers, saveOrder });
      return tr;
    });
    clear(body).append(providersTable(rows, editable));
  }

  await load();
}

// providerRow is the list's row of p, at index i; move(i, ±1) moves it.
function providerRow(p, i, { editable, count, last, move }) {
  return h(
    "tr",
    { dataset: { id: p.id }, draggable: editable ? "true" : null },
    h("td.order", { "data-label": "#" }, editable ? h("span.handle", { "aria-hidden": "true", title: "Drag to reorder" }, "⠿ ") : null, String(i + 1)),
    h("td.name", { "data-label": "Name" }, h("a", { href: `#/providers/${encodeURIComponent(p.id)}` }, clip(p.name, 80))),
    h("td.desc", { "data-label": "Description" }, p.description ? clip(p.description, 120) : h("span.muted", "—")),
    h("td.active", { "data-label": "Active" }, editable ? activeToggle(p) : p.active ? h("span.badge.st-success", "active") : h("span.badge", "inactive")),
    h("td.num", { "data-label": "Functions" }, String(count)),
    editable
      ? h(
          "td.move",
          { "data-label": "Order" },
          h("button.secondary.small.move-up", { type: "button", disabled: i === 0, "aria-label": `Move ${p.name} up`, onclick: () => move(i, -1) }, "↑ Up"),
          " ",
          h("button.secondary.small.move-down", { type: "button", disabled: last, "aria-label": `Move ${p.name} down`, onclick: () => move(i, 1) }, "↓ Down"),
        )
      : null,
  );
}

// activeToggle is the checkbox that makes p active or inactive at once.
function activeToggle(p) {
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
  return h("label.check", cb, " ", text);
}

// dragToReorder lets p's row be dragged, and other rows dropped before or
// after it; a drop saves the new order of providers (the list as drawn).
function dragToReorder(tr, p, { drag, body, providers, saveOrder }) {
  tr.addEventListener("dragstart", (e) => {
    drag.id = p.id;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", p.id);
    tr.classList.add("dragging");
  });
  tr.addEventListener("dragend", () => {
    drag.id = null;
    tr.classList.remove("dragging");
    for (const r of body.querySelectorAll(".drop-before,.drop-after")) r.classList.remove("drop-before", "drop-after");
  });
  tr.addEventListener("dragover", (e) => {
    if (!drag.id) return;
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
    const from = drag.id || e.dataTransfer.getData("text/plain");
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

function providersTable(rows, editable) {
  return h(
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
  );
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

  const { modes, modeTemplate, modeBlank } = startFrom(templates);

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

  function drawTemplate() {
    const t = templates.find((x) => x.name === tplSelect.value);
    clear(tplParams);
    tplDesc.textContent = t ? t.description || "" : "";
    if (!t) return;
    append(tplParams, templateParams(t));
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

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    createProvider(form, { editor, name, description, modeTemplate, tplSelect, tplParams, submit });
  });
}

// startFrom is the choice between a template (when there are any) and a
// blank provider.
function startFrom(templates) {
  const modeTemplate = h("input", { type: "radio", name: "mode", value: "template", checked: templates.length > 0, disabled: !templates.length });
  const modeBlank = h("input", { type: "radio", name: "mode", value: "blank", checked: !templates.length });
  const modes = h(
    "fieldset.modes",
    h("legend", "Start from"),
    h("label.check", modeTemplate, " a template (GitHub, GitLab, Slack, Stripe…)"),
    h("label.check", modeBlank, " a blank provider: write the match script yourself"),
  );
  return { modes, modeTemplate, modeBlank };
}

// templateParams are the fields of a template's properties and secrets.
function templateParams(t) {
  const secrets = t.secrets || [];
  const props = t.properties || [];
  const cond = (c) => (c ? ` (required when ${c.property} is ${c.value})` : "");
  return [
    props.length
      ? h(
          "fieldset",
          h("legend", "Properties"),
          props.map((p) => {
            const input = p.one_of && p.one_of.length
              ? h("select", { "data-property": p.name }, p.one_of.map((v) => h("option", { value: v, selected: v === p.default }, v)))
              : h("input", { "data-property": p.name, value: p.default || "", autocomplete: "off" });
            if (input.tagName === "SELECT") input.value = p.default || p.one_of[0];
            return field(`${p.name}${p.required ? " (required)" : ""}`, input, (p.description || "") + cond(p.required_when));
          }),
        )
      : null,
    secrets.length
      ? h(
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
        )
      : null,
  ];
}

// createProvider sends the new provider's form: from a template with its
// properties and secrets, or blank with the script in the editor.
async function createProvider(form, { editor, name, description, modeTemplate, tplSelect, tplParams, submit }) {
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
  const state = { saved: p, dirty: false }; // the provider as last saved; unsaved edits

  const head = providerHead(main, p, editable);
  const form = await providerForm(p, { editable, state, save: () => page.save() });
  main.append(form.el);
  head.draw(state.saved);
  form.draw(state.saved);

  if (head.del) deleteOnClick(head, base, () => state.saved.name);
  main.append(functionsSection(p.id, editable));

  const page = editorPage({
    main,
    base,
    editable,
    state,
    form,
    head,
    script: "match_script",
    shown: (saved) => {
      head.draw(saved);
      form.draw(saved);
    },
    intro: "Runs a stored message through matching and functions with the match script in the editor (saved or not). Nothing is recorded or sent.",
    tryBody: () => ({ provider_id: p.id, match_script: form.editor.getValue() }),
  });
  return page.cleanup;
}

// providerHead puts the provider page's breadcrumbs, title, meta line and
// delete button in main; draw(saved) shows a saved provider's name and
// version.
function providerHead(main, p, editable) {
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
  function draw(saved) {
    title.textContent = saved.name;
    const crumbs = main.querySelector(".crumbs");
    if (crumbs) crumbs.lastChild.textContent = saved.name;
    clear(meta).append(
      `Match script version ${saved.version} · updated ${fmtTime(saved.updated_at)} · id `,
      h("span.mono", saved.id),
    );
  }
  return { del, deleteError, draw };
}

// deleteOnClick deletes the provider when the head's delete button is
// clicked and the user confirms; a refusal shows under the head.
function deleteOnClick({ del, deleteError }, base, nameOf) {
  del.addEventListener("click", async () => {
    clear(deleteError);
    if (!confirm(`Delete the provider ${nameOf()}? Its versions are deleted too. This cannot be undone.`)) return;
    try {
      await api("DELETE", base);
      toast(`Deleted ${nameOf()}.`);
      navigate("#/providers");
    } catch (e) {
      deleteError.append(h("p.error", e.status === 409 ? `Cannot delete: ${e.message}` : e.message));
      deleteError.scrollIntoView({ block: "nearest" });
    }
  });
}

// providerForm is the provider's form: its fields, properties, secrets and
// match script. state.dirty is set by edits; save() runs on submit and
// Ctrl/Cmd-S. read() answers the body to save (null after showing why
// not), draw(saved) shows the saved properties and secrets, clean() marks
// the form saved.
async function providerForm(p, { editable, state, save }) {
  const dis = !editable || null;
  const name = h("input", { name: "name", value: p.name, disabled: dis, autocomplete: "off", required: true });
  const description = h("input", { name: "description", value: p.description, disabled: dis, autocomplete: "off" });
  const timeout = h("input", { name: "match_timeout_ms", type: "number", min: 1, max: 10000, value: p.match_timeout_ms, disabled: dis });
  const active = checkbox("active", p.active, "Active: takes part in matching", !editable);
  const sources = h("textarea.ob-short", { name: "allowed_sources", rows: 2, spellcheck: "false", autocomplete: "off", disabled: dis, placeholder: "192.30.252.0/22\n2001:db8::/32" });
  sources.value = (p.allowed_sources || []).join("\n");
  const props = propertiesFieldset({ editable, dis, markDirty });
  const secrets = secretsFieldset({ editable, dis });

  const saveBtn = editable ? h("button", { type: "submit" }, "Save") : null;
  const dirtyNote = h("span.muted.dirty-note", { "aria-live": "polite" });
  const form = h("form.card.pf-form.provider-form", { novalidate: true });
  function markDirty() {
    if (!editable) return;
    state.dirty = true;
    dirtyNote.textContent = "Unsaved changes";
  }

  const globals = () => [{ name: "PROPERTIES", members: [...Object.keys(p.properties || {}), ...(p.secrets || [])] }];
  const editor = await scriptField({
    label: "Match script",
    name: "match_script",
    doc: p.match_script,
    readOnly: !editable,
    globals: globals(),
    onSave: () => editable && save(),
    onChange: () => markDirty(),
    hint: "A function body: the provider matches when it returns a truthy value." + (editable ? " Ctrl/Cmd-S saves." : ""),
  });
  const handshake = await scriptField({
    label: "Handshake script (optional)",
    name: "handshake_script",
    doc: p.handshake_script || "",
    readOnly: !editable,
    globals: globals(),
    onSave: () => editable && save(),
    onChange: () => markDirty(),
    hint: "Runs for every request before it is recorded; setting RESPONSE answers the request at once (a sender's URL verification). Leave empty for none.",
  });
  form.addEventListener("input", (e) => {
    if (!e.target.closest(".script-field")) markDirty();
  });
  form.append(
    grid(field("Name", name), field("Match timeout (ms)", timeout, "1 to 10000")),
    field("Description", description),
    field("Allowed sources", sources, "CIDRs or addresses, one a line. When set, a request from any other address never matches this provider (its match script is not run). Empty: every address."),
    active.el,
    props.el,
    secrets.el,
    editor.el,
    handshake.el,
    editable ? h("div.actions.sticky-actions", saveBtn, dirtyNote) : h("p.muted", "Read only: your role cannot change providers."),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save();
  });

  function read() {
    const properties = props.read(form);
    if (!properties) return null;
    const secretValues = secrets.read(form);
    if (!secretValues) return null;
    const body = {
      name: name.value,
      description: description.value,
      active: active.input.checked,
      match_timeout_ms: timeout.value === "" ? 0 : Number(timeout.value),
      allowed_sources: sources.value.split(/[\s,]+/).filter(Boolean),
      properties,
      match_script: editor.getValue(),
      handshake_script: handshake.getValue(),
    };
    if (Object.keys(secretValues).length) body.secrets = secretValues;
    return body;
  }
  return {
    el: form,
    editor,
    handshake,
    editorFor: (msg) => (msg.startsWith("handshake_script: ") ? handshake : null),
    save: saveBtn,
    read,
    draw(saved) {
      sources.value = (saved.allowed_sources || []).join("\n");
      props.draw(saved.properties);
      secrets.draw(saved.secrets || []);
    },
    clean() {
      state.dirty = false;
      dirtyNote.textContent = "";
    },
  };
}

// propertiesFieldset edits the provider's plain properties: draw(map)
// shows them, read(form) answers those to save, or null after showing
// why not.
function propertiesFieldset({ editable, dis, markDirty }) {
  const box = h("div.kv-rows");
  const el = h(
    "fieldset.props",
    { name: "properties" },
    h("legend", "Properties"),
    h("p.hint", "Plain values the scripts read as PROPERTIES.name. Saving sends all of them."),
    box,
    editable ? h("button.secondary.small", { type: "button", onclick: () => { addRow("", ""); box.lastChild.querySelector("input").focus(); markDirty(); } }, "Add property") : null,
  );

  function addRow(k, v) {
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
    box.append(row);
  }

  function draw(properties) {
    clear(box);
    const entries = Object.entries(properties || {}).sort(([a], [b]) => a.localeCompare(b));
    for (const [k, v] of entries) addRow(k, v);
    if (!entries.length && !editable) box.append(h("p.muted", "None."));
  }

  function read(form) {
    const properties = {};
    for (const row of box.querySelectorAll(".prop-row")) {
      const [k, v] = row.querySelectorAll("input");
      const key = k.value.trim();
      if (!key) {
        if (v.value === "") continue;
        showFormError(form, { message: "properties: a property needs a name" });
        k.setAttribute("aria-invalid", "true");
        k.focus();
        return null;
      }
      properties[key] = v.value;
    }
    return properties;
  }
  return { el, draw, read };
}

// secretsFieldset shows the names of the provider's secrets, never their
// values, and takes new values, removals and new secrets: draw(names),
// and read(form) answers the changes to save (a secret to remove maps to
// ""), or null after showing why not.
function secretsFieldset({ editable, dis }) {
  const box = h("div.kv-rows");
  const newBox = h("div.kv-rows");
  const el = h(
    "fieldset.secrets",
    { name: "secrets" },
    h("legend", "Secrets"),
    h("p.hint", "Encrypted at rest; scripts read them as PROPERTIES.name. Values are never shown: type a new value to replace one."),
    box,
    newBox,
    editable ? h("button.secondary.small", { type: "button", onclick: () => { addNewRow(); newBox.lastChild.querySelector("input").focus(); } }, "Add secret") : null,
  );

  function addNewRow() {
    const key = h("input", { "aria-label": "New secret name", placeholder: "name", autocomplete: "off", spellcheck: "false", "data-new-secret": "name" });
    const val = h("input", { type: "password", "aria-label": "New secret value", placeholder: "value", autocomplete: "new-password", "data-new-secret": "value" });
    const row = h("div.kv-row.new-secret", key, val, h("button.secondary.small", { type: "button", onclick: () => row.remove() }, "Cancel"));
    newBox.append(row);
  }

  function draw(names) {
    clear(box);
    clear(newBox);
    if (!names.length) box.append(h("p.muted", "No secrets."));
    for (const s of names) {
      const val = h("input", { type: "password", "aria-label": `New value for secret ${s}`, placeholder: "unchanged", autocomplete: "new-password", disabled: dis, "data-secret": s });
      const rm = h("input", { type: "checkbox", "data-remove-secret": s, disabled: dis });
      box.append(
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

  function read(form) {
    const secrets = {};
    for (const i of box.querySelectorAll("[data-secret]")) if (i.value !== "") secrets[i.dataset.secret] = i.value;
    for (const c of box.querySelectorAll("[data-remove-secret]")) if (c.checked) secrets[c.dataset.removeSecret] = "";
    for (const row of newBox.querySelectorAll(".new-secret")) {
      const k = row.querySelector('[data-new-secret="name"]');
      const v = row.querySelector('[data-new-secret="value"]');
      const key = k.value.trim();
      if (!key && !v.value) continue;
      if (!key || !v.value) {
        showFormError(form, { message: "secrets: a new secret needs a name and a value" });
        (key ? v : k).setAttribute("aria-invalid", "true");
        (key ? v : k).focus();
        return null;
      }
      secrets[key] = v.value;
    }
    return secrets;
  }
  return { el, draw, read };
}

// functionsSection lists the provider's functions, with the form for a
// new one (editors).
function functionsSection(providerId, editable) {
  const box = h("div");
  const el = h("section.card.pf-section", { "aria-labelledby": "fns-h" }, h("div.section-head", h("h2#fns-h", "Functions")), box);
  if (editable) el.append(newFunctionForm(providerId));
  loadFunctions(box, providerId);
  return el;
}

async function loadFunctions(box, providerId) {
  try {
    const fs = await listAll(`/functions?provider_id=${encodeURIComponent(providerId)}`);
    clear(box).append(
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
    clear(box).append(h("p.error", e.message));
  }
}

// ---------- a new function ----------

const NEW_FUNCTION_SCRIPT = `// Runs for each webhook this provider matches on the function's URI.
LOG.info("received", METHOD, URI);
LOG.setMessage("handled by " + URI);
`;

// newFunctionForm is the "New function" button and the form it opens:
// for the provider providerId, or, given providers (the Functions page),
// for the one picked from them.
export function newFunctionForm(providerId, providers) {
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
    const provider = providers
      ? h("select", { name: "provider_id", required: true }, providers.map((p) => h("option", { value: p.id }, p.name + (p.active ? "" : " (inactive)"))))
      : null;
    const create = h("button", { type: "submit" }, "Create function");
    editor = await scriptField({ label: "Script", name: "script", doc: NEW_FUNCTION_SCRIPT, onSave: () => form.requestSubmit() });
    form = h(
      "form.pf-form.new-function-form",
      { novalidate: true },
      h("h3", "New function"),
      grid(
        ...[
          field("Name", name),
          provider && field("Provider", provider, "The function runs for webhooks this provider matches."),
          field("URI", uri, "The part after /webhooks/v1/ that the sender posts to."),
        ].filter(Boolean),
      ),
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
          provider_id: provider ? provider.value : providerId,
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
