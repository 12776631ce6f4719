// The outbound event catalogue: the picker on the endpoint form (search,
// grouped by kind, click to subscribe; wildcards typed by hand tick the
// types they cover) and
// the page where editors declare event types (#/outbound/event-types).
import { h, append, clear, api, can, toast, showFormError, clearFormErrors, table, field, pageHeader, listAll } from "../app.js";

const KINDS = [
  ["alarm", "Alarms"],
  ["event", "Events"],
];

// typesOf reads the event types a textarea holds: one per line or comma
// separated.
export function typesOf(textarea) {
  return textarea.value
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

// A separator between two types in the box, spaces around it included.
const SEPARATOR = /(\s*[\n,][\s,]*)/;

// withType adds type to the box's text after what is there, with the
// separator the text already uses (a new line when it has none yet).
function withType(value, type) {
  const parts = value.split(SEPARATOR);
  const head = value.replace(/[\s,]+$/, "");
  return head ? head + (parts.length > 1 ? parts[1] : "\n") + type : type;
}

// withoutType takes type out of the box's text, leaving the rest as it
// was typed.
function withoutType(value, type) {
  const parts = value.split(SEPARATOR); // items at even indexes, separators between
  const out = [];
  for (let i = 0; i < parts.length; i += 2) {
    if (parts[i].trim() === type) continue;
    if (out.length) out.push(parts[i - 1]);
    out.push(parts[i]);
  }
  return out.join("");
}

// EXACT_ONLY are the types no wildcard subscribes to (notify.ExactOnly).
const EXACT_ONLY = new Set(["message.succeeded"]);

// coveringPattern answers the first wildcard among patterns that
// subscribes to type, as the server matches them: "*" stands for any run
// of characters, dots included.
function coveringPattern(patterns, type) {
  if (EXACT_ONLY.has(type)) return null;
  return (
    patterns.find((p) => {
      const re = p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
      return new RegExp(`^${re}$`).test(type);
    }) || null
  );
}

// eventTypePicker lists the catalogue under the endpoint form's event
// types box: a search box, then the types grouped by kind, each a
// checkbox that adds its type to the box or takes it out (the rest of
// the box is left as typed, and an added type uses the box's separator).
// The box stays the truth: what is typed there (wildcards such as
// alarm.* included) is what is saved, and the checkboxes follow it; a
// type a wildcard already covers is ticked, greyed out, and says which.
export function eventTypePicker(textarea, { disabled = false } = {}) {
  const search = h("input", {
    type: "search",
    name: "event_type_search",
    placeholder: "Search the catalogue by name, description or kind: host, alarm, synced…",
    autocomplete: "off",
    "aria-label": "Search the event type catalogue",
    disabled,
  });
  const list = h("div.ob-catalogue-list", { "aria-live": "polite" }, h("p.muted", "Loading the catalogue…"));
  const el = h(
    "div.ob-catalogue",
    { role: "group", "aria-label": "Event type catalogue" },
    h("div.ob-catalogue-head", search, can("edit") ? h("a", { href: "#/outbound/event-types" }, "Declare types") : null),
    list,
  );
  let entries = [];
  const boxes = new Map(); // type -> {box, note}

  function sync() {
    const typed = typesOf(textarea);
    const chosen = new Set(typed);
    const patterns = typed.filter((t) => t.includes("*"));
    for (const [type, { box, note }] of boxes) {
      const by = chosen.has(type) ? null : coveringPattern(patterns, type);
      box.checked = chosen.has(type) || !!by;
      box.disabled = disabled || !!by;
      note.textContent = by ? ` · covered by ${by}` : "";
    }
  }

  function toggle(type, on) {
    const v = textarea.value;
    textarea.value = on ? (typesOf(textarea).includes(type) ? v : withType(v, type)) : withoutType(v, type);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // matches: the search finds a type by its name, its description or
  // its kind ("alarm" or the group's title, "Alarms").
  function matches(e, q) {
    const kind = e.kind || "event";
    const title = (KINDS.find(([k]) => k === kind) || [kind, kind])[1];
    return [e.type, e.description || "", kind, title].some((s) => s.toLowerCase().includes(q));
  }

  function draw() {
    const q = search.value.trim().toLowerCase();
    const shown = entries.filter((e) => !q || matches(e, q));
    boxes.clear();
    clear(list);
    if (!entries.length) {
      list.append(h("p.muted", "The catalogue is empty."));
      return;
    }
    if (!shown.length) {
      list.append(h("p.muted", `No event type matches "${search.value.trim()}". You can still type it above.`));
      return;
    }
    for (const [kind, title] of KINDS) {
      const group = shown.filter((e) => (e.kind || "event") === kind);
      if (!group.length) continue;
      list.append(
        h(
          "section.ob-catalogue-group",
          { "data-kind": kind },
          h("h4.ob-h3", `${title} (${group.length})`),
          h(
            "ul.ob-catalogue-items",
            group.map((e) => {
              const box = h("input", { type: "checkbox", value: e.type, disabled, "data-event-type": e.type });
              const note = h("span.muted.ob-catalogue-covered");
              box.addEventListener("change", () => toggle(e.type, box.checked));
              boxes.set(e.type, { box, note });
              return h(
                "li",
                h(
                  "label.ob-check",
                  box,
                  h(
                    "span",
                    h("code", e.type),
                    e.source !== "declared" ? h("span.muted", ` · ${e.source}`) : null,
                    note,
                    e.description ? h("span.hint.ob-catalogue-desc", e.description) : null,
                  ),
                ),
              );
            }),
          ),
        ),
      );
    }
    sync();
  }

  search.addEventListener("input", draw);
  // Enter in the search box must not submit the endpoint form.
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") e.preventDefault();
  });
  textarea.addEventListener("input", sync);
  listAll("/event-types")
    .then((items) => {
      entries = items;
      draw();
    })
    .catch((err) => {
      clear(list).append(h("p.muted", `The catalogue is unavailable (${err.message}); type the event types above.`));
    });
  return el;
}

// ---------- #/outbound/event-types ----------

// renderCatalogue lists the catalogue; editors declare, change and
// delete types with the form beside it.
export async function renderCatalogue({ main }, subnav) {
  const entries = await listAll("/event-types");
  const editor = can("edit");
  const form = editor ? declareForm(() => renderAgain()) : null;
  const listBox = h("div");
  function renderAgain() {
    listAll("/event-types")
      .then((items) => drawList(items))
      .catch((err) => toast(err.message, "error"));
  }
  function drawList(items) {
    clear(listBox).append(
      table(
        [
          { title: "Type", cls: "mono", cell: (e) => e.type },
          { title: "Kind", cell: (e) => e.kind },
          { title: "Source", cell: (e) => (e.source === "seen" && e.last_seen ? `seen ${new Date(e.last_seen).toLocaleString()}` : e.source) },
          { title: "Description", cell: (e) => e.description || "" },
          { title: "Schema", cell: (e) => (e.schema ? "yes" : "") },
          {
            title: "",
            cell: (e) =>
              editor && e.source !== "system"
                ? h(
                    "span.ob-inline",
                    h("button.secondary", { type: "button", onclick: () => form.load(e) }, e.source === "declared" ? "Edit" : "Declare"),
                    e.source === "declared"
                      ? h(
                          "button.danger",
                          {
                            type: "button",
                            onclick: async () => {
                              if (!confirm(`Delete the declaration of ${e.type}? Its events will publish unchecked.`)) return;
                              try {
                                await api("DELETE", `/event-types/${encodeURIComponent(e.type)}`);
                                toast(`${e.type} deleted`);
                                renderAgain();
                              } catch (err) {
                                toast(err.message, "error");
                              }
                            },
                          },
                          "Delete",
                        )
                      : null,
                  )
                : "",
          },
        ],
        items,
        { empty: "No event types yet." },
      ),
    );
  }
  drawList(entries);
  append(
    main,
    pageHeader("Outbound"),
    subnav("event-types"),
    h(
      "p.muted",
      "The event types publishers use and endpoints subscribe to: Switchyard's own, the declared ones (a declared type's schema is checked on every publish) and the types seen in the last 7 days that nobody declared.",
    ),
    form ? form.el : null,
    h("h2", "Event types"),
    listBox,
  );
}

// declareForm is the form that declares (or re-declares) a type with
// PUT /event-types/{type}.
function declareForm(onSaved) {
  const type = h("input", { name: "type", required: true, maxlength: 200, spellcheck: "false", autocomplete: "off", placeholder: "alarm.host_lost" });
  const kind = h(
    "select",
    { name: "kind" },
    KINDS.map(([v, label]) => h("option", { value: v }, label.replace(/s$/, ""))),
  );
  kind.value = "event";
  const description = h("input", { name: "description", autocomplete: "off" });
  const example = h("textarea.ob-short", { name: "example", rows: 3, spellcheck: "false", placeholder: '{"severity": "critical", "host": "db-01"}' });
  const schema = h("textarea.ob-short", {
    name: "schema",
    rows: 5,
    spellcheck: "false",
    placeholder: '{"type": "object", "required": ["severity"], "properties": {"severity": {"enum": ["critical", "major", "minor"]}}}',
  });
  const submit = h("button", { type: "submit" }, "Save event type");
  const el = h(
    "form.card.ob-form",
    { novalidate: true, "aria-labelledby": "ob-declare-title" },
    h("h2#ob-declare-title.ob-first", "Declare an event type"),
    h("div.ob-row", field("Type", type, "No wildcards: alarm.host_lost, cloud.resource.synced"), field("Kind", kind)),
    field("Description", description),
    field("Example data", example, "Optional JSON object: what the events' data looks like."),
    field("Schema", schema, "Optional JSON Schema (2020-12) that every event's data must satisfy; it may refer only to its own parts."),
    h("div.actions.ob-submit", submit),
  );
  function parse(input, name) {
    const v = input.value.trim();
    if (!v) return null;
    try {
      return JSON.parse(v);
    } catch (e) {
      const err = new Error(`${name}: not JSON: ${e.message}`);
      err.field = name;
      throw err;
    }
  }
  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(el);
    const name = type.value.trim();
    let body;
    try {
      body = { kind: kind.value, description: description.value, example: parse(example, "example"), schema: parse(schema, "schema") };
    } catch (err) {
      showFormError(el, err);
      return;
    }
    if (!name) {
      showFormError(el, Object.assign(new Error("type is required"), { field: "type" }));
      return;
    }
    submit.disabled = true;
    try {
      await api("PUT", `/event-types/${encodeURIComponent(name)}`, body);
      toast(`${name} saved`);
      onSaved();
    } catch (err) {
      showFormError(el, err);
    } finally {
      submit.disabled = false;
    }
  });
  return {
    el,
    load(e) {
      type.value = e.type;
      kind.value = e.kind || "event";
      description.value = e.description || "";
      example.value = e.example ? JSON.stringify(e.example, null, 2) : "";
      schema.value = e.schema ? JSON.stringify(e.schema, null, 2) : "";
      type.focus();
    },
  };
}
