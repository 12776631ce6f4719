// Functions: one function (#/functions/:id) with its script, versions and
// dry run; #/functions alone lists every function.
import { h, clear, api, can, toast, field, pageHeader, navigate, fmtTime, ApiError, listAll, checkbox, breadcrumbs, grid } from "../app.js";
import { scriptField, editorPage } from "../scripteditor.js";
import { newFunctionForm } from "./providers.js";

export async function render(ctx) {
  const id = ctx.params[0];
  if (!id) return renderAll(ctx.main);
  return renderDetail(ctx.main, decodeURIComponent(id));
}

async function renderAll(main) {
  const [fs, ps] = await Promise.all([listAll("/functions"), listAll("/providers")]);
  const pname = Object.fromEntries(ps.map((p) => [p.id, p.name]));
  main.append(
    pageHeader("Functions"),
    can("edit") && ps.length ? newFunctionForm(null, ps) : null,
    fs.length
      ? h(
          "div.table-wrap",
          h(
            "table",
            h("thead", h("tr", h("th", "Name"), h("th", "Provider"), h("th", "URI"), h("th", "Active"), h("th", "Version"))),
            h(
              "tbody",
              fs.map((f) =>
                h(
                  "tr",
                  h("td", { "data-label": "Name" }, h("a", { href: `#/functions/${encodeURIComponent(f.id)}` }, f.name)),
                  h("td", { "data-label": "Provider" }, h("a", { href: `#/providers/${encodeURIComponent(f.provider_id)}` }, pname[f.provider_id] || f.provider_id)),
                  h("td.mono", { "data-label": "URI" }, "/webhooks/v1/" + f.uri),
                  h("td", { "data-label": "Active" }, f.active ? h("span.badge.st-success", "active") : h("span.badge", "inactive")),
                  h("td", { "data-label": "Version" }, String(f.version)),
                ),
              ),
            ),
          ),
        )
      : h("p.muted", "No functions yet. ", h("a", { href: "#/providers" }, "Open a provider"), " to add one."),
  );
}

async function renderDetail(main, id) {
  const editable = can("edit");
  let f;
  try {
    f = await api("GET", `/functions/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      main.append(breadcrumbs(h("a", { href: "#/providers" }, "Providers")), h("h1", "No such function"), h("p", "It may have been deleted."));
      return;
    }
    throw e;
  }
  const providers = await listAll("/providers").catch(() => []);
  const base = `/functions/${encodeURIComponent(f.id)}`;
  const state = { saved: f, dirty: false }; // the function as last saved; unsaved edits

  const head = functionHead(main, f, { providers, editable });
  const form = await functionForm(f, { providers, editable, state, save: () => page.save() });
  main.append(form.el);
  head.draw(state.saved);

  if (head.del) {
    head.del.addEventListener("click", async () => {
      if (!confirm(`Delete the function ${state.saved.name}? Its versions are deleted too. This cannot be undone.`)) return;
      try {
        await api("DELETE", base);
        toast(`Deleted ${state.saved.name}.`);
        navigate(`#/providers/${encodeURIComponent(state.saved.provider_id)}`);
      } catch (e) {
        toast(e.message, "error");
      }
    });
  }

  const page = editorPage({
    main,
    base,
    editable,
    state,
    form,
    head,
    script: "script",
    shown: (saved) => {
      form.saved(saved);
      head.draw(saved);
    },
    intro: "Runs a stored message through matching and functions with the script in the editor (saved or not) in place of this function's; this function takes part even if inactive. Nothing is recorded or sent.",
    tryBody: () => ({ function_id: f.id, script: form.editor.getValue() }),
  });
  return page.cleanup;
}

// functionHead puts the function page's breadcrumbs (through its
// provider), title, meta line and delete button in main; draw(saved)
// shows a saved function's name, provider and version.
function functionHead(main, f, { providers, editable }) {
  const providerName = (pid) => (providers.find((p) => p.id === pid) || {}).name || pid;
  const crumbProvider = h("a", { href: `#/providers/${encodeURIComponent(f.provider_id)}` }, providerName(f.provider_id));
  const crumbName = h("span", f.name);
  const title = h("h1", f.name);
  const meta = h("p.muted.meta");
  const del = editable ? h("button.danger", { type: "button" }, "Delete function") : null;
  main.append(
    breadcrumbs(h("a", { href: "#/providers" }, "Providers"), crumbProvider, crumbName),
    h("div.page-head", title, h("div.actions", del)),
    meta,
  );
  function draw(saved) {
    title.textContent = saved.name;
    crumbName.textContent = saved.name;
    crumbProvider.textContent = providerName(saved.provider_id);
    crumbProvider.setAttribute("href", `#/providers/${encodeURIComponent(saved.provider_id)}`);
    clear(meta).append(`Script version ${saved.version} · updated ${fmtTime(saved.updated_at)} · id `, h("span.mono", saved.id));
  }
  return { del, draw };
}

// functionForm is the function's form: its fields and script. state.dirty
// is set by edits; save() runs on submit and Ctrl/Cmd-S. read() answers
// the body to save, saved(f) shows the URI as saved, clean() marks the
// form saved.
async function functionForm(f, { providers, editable, state, save }) {
  const dis = !editable || null;
  const name = h("input", { name: "name", value: f.name, disabled: dis, autocomplete: "off", required: true });
  const description = h("input", { name: "description", value: f.description, disabled: dis, autocomplete: "off" });
  const provider = h(
    "select",
    { name: "provider_id", disabled: dis },
    providers.map((p) => h("option", { value: p.id }, p.name + (p.active ? "" : " (inactive)"))),
  );
  if (!providers.some((p) => p.id === f.provider_id)) provider.append(h("option", { value: f.provider_id }, f.provider_id));
  provider.value = f.provider_id;
  const uri = uriField(f.uri, dis);
  const timeout = h("input", { name: "timeout_ms", type: "number", min: 1, max: 300000, value: f.timeout_ms, disabled: dis });
  const active = checkbox("active", f.active, "Active: runs for matching webhooks", !editable);

  const saveBtn = editable ? h("button", { type: "submit" }, "Save") : null;
  const dirtyNote = h("span.muted.dirty-note", { "aria-live": "polite" });
  const form = h("form.card.pf-form.function-form", { novalidate: true });
  const markDirty = () => {
    if (!editable) return;
    state.dirty = true;
    dirtyNote.textContent = "Unsaved changes";
  };
  const pickedProvider = () => providers.find((p) => p.id === provider.value);
  const globals = () => {
    const p = pickedProvider();
    return p ? [{ name: "PROPERTIES", members: [...Object.keys(p.properties || {}), ...(p.secrets || [])] }] : [];
  };
  const editor = await scriptField({
    label: "Script",
    name: "script",
    doc: f.script,
    readOnly: !editable,
    globals: globals(),
    onSave: () => editable && save(),
    onChange: markDirty,
    hint: "A function body; throwing makes the execution FAILED." + (editable ? " Ctrl/Cmd-S saves." : ""),
  });
  form.addEventListener("input", (e) => {
    if (!e.target.closest(".script-field")) markDirty();
  });
  form.addEventListener("change", (e) => {
    if (!e.target.closest(".script-field")) markDirty();
  });
  form.append(
    grid(field("Name", name), field("Provider", provider, "The function runs for webhooks this provider matches."), uri.el, field("Timeout (ms)", timeout, "1 to 300000")),
    field("Description", description),
    active.el,
    editor.el,
    editable ? h("div.actions.sticky-actions", saveBtn, dirtyNote) : h("p.muted", "Read only: your role cannot change functions."),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save();
  });

  return {
    el: form,
    editor,
    save: saveBtn,
    read: () => ({
      name: name.value,
      description: description.value,
      provider_id: provider.value,
      uri: uri.input.value,
      active: active.input.checked,
      timeout_ms: timeout.value === "" ? 0 : Number(timeout.value),
      script: editor.getValue(),
    }),
    saved(saved) {
      uri.input.value = saved.uri;
      uri.show();
    },
    clean() {
      state.dirty = false;
      dirtyNote.textContent = "";
    },
  };
}

// uriField is the URI's field, whose hint shows the address senders post
// to, and for a pattern what its parts match; show() updates the hint.
function uriField(value, dis) {
  const input = h("input", { name: "uri", value, disabled: dis, autocomplete: "off", spellcheck: "false", placeholder: "e.g. git/push, repos/{repo}/push or jira/*" });
  const hint = h("span.hint");
  const show = () => {
    const u = input.value.trim().replace(/^\/+|\/+$/g, "");
    hint.textContent = u
      ? `The sender posts to ${location.origin}/webhooks/v1/${u}${patternHint(u)}`
      : "The part after /webhooks/v1/. A {name} segment matches any one segment (PATH_PARAMS.name); a final * matches the rest (PATH_PARAMS[\"*\"]).";
  };
  input.addEventListener("input", show);
  show();
  const el = field("URI", input);
  el.append(hint);
  return { el, input, show };
}

// patternHint says what a pattern uri's parameters and "*" match, "" for
// an exact uri.
function patternHint(uri) {
  const parts = uri.split("/");
  const params = parts.filter((p) => /^\{.+\}$/.test(p)).map((p) => `PATH_PARAMS.${p.slice(1, -1)}`);
  const star = parts[parts.length - 1] === "*";
  if (!params.length && !star) return "";
  const what = [];
  if (params.length) what.push(`each {name} matches one segment, as ${params.join(", ")}`);
  if (star) what.push('the final * matches the rest, slashes included, as PATH_PARAMS["*"]');
  return ` (a pattern: ${what.join("; ")}; a function with this exact URI wins over it).`;
}
