// The checks of index.html (a file of its own, so that it runs under the
// UI's Content-Security-Policy, script-src 'self').
import { createEditor, diffView, parseErrorLine } from "../../static/editor.js";

const out = document.getElementById("results");
let failed = 0;
const check = (name, ok, extra = "") => {
  if (!ok) failed++;
  out.textContent += `${ok ? "PASS" : "FAIL"} ${name}${extra ? " " + extra : ""}\n`;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const key = (target, key, opts = {}) => {
  const e = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...opts,
    keyCode: opts.keyCode ?? (key.length === 1 ? key.toUpperCase().charCodeAt(0) : 0) });
  target.dispatchEvent(e);
  return e;
};

const script = `// a match script
var sig = HTTP_HEADERS["x-hub-signature-256"] || "";
if (!sig) {
  LOG.info("no signature");
  return false;
}
return HMAC.equals(sig, "sha256=" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret));
`;

try {
  const saved = [];
  const changes = [];
  const ed = createEditor(document.getElementById("ed"), {
    doc: script,
    onSave: (t) => saved.push(t),
    onChange: (t) => changes.push(t),
    globals: ["MY_GLOBAL", { name: "CUSTOM", members: ["alpha", "beta"] }],
  });
  const root = ed.view.dom;
  check("renders", root.classList.contains("cm-editor"));
  check("getValue", ed.getValue() === script);
  check("line numbers", root.querySelectorAll(".cm-lineNumbers .cm-gutterElement").length >= 7);
  const colored = [...root.querySelectorAll(".cm-content span")]
    .filter((s) => getComputedStyle(s).color !== getComputedStyle(ed.view.contentDOM).color);
  check("highlighting", colored.length > 5, `(${colored.length} coloured spans)`);
  const fs = parseFloat(getComputedStyle(ed.view.scrollDOM).fontSize);
  check("font size 13-14px", fs >= 13 && fs <= 14, `(${fs}px, ${getComputedStyle(ed.view.scrollDOM).fontFamily})`);
  check("fills width", Math.abs(root.getBoundingClientRect().width - document.getElementById("ed").getBoundingClientRect().width) < 1);
  check("min height ~20 lines", root.getBoundingClientRect().height >= 20 * ed.view.defaultLineHeight,
    `(${Math.round(root.getBoundingClientRect().height)}px)`);

  // errors: as the server answers a save
  const perr = parseErrorLine("invalid: match_script: line 2, column 5: Unexpected token ;");
  check("parseErrorLine", perr && perr.line === 2 && perr.column === 5);
  ed.setErrors([perr, { line: 4, message: "whole line" }]);
  await sleep(50);
  const ranges = root.querySelectorAll(".cm-lintRange-error");
  check("error underline", ranges.length >= 2, `(${[...ranges].map((r) => JSON.stringify(r.textContent)).join(", ")})`);
  check("error gutter marker", root.querySelectorAll(".cm-lint-marker-error").length === 2);

  // Ctrl-S
  const ev = key(ed.view.contentDOM, "s", { ctrlKey: true, keyCode: 83 });
  check("Ctrl-S calls onSave", saved.length === 1 && saved[0] === script);
  check("Ctrl-S prevents the browser's save", ev.defaultPrevented);

  // Tab indents
  ed.view.dispatch({ selection: { anchor: ed.view.state.doc.line(3).from } });
  key(ed.view.contentDOM, "Tab", { keyCode: 9 });
  check("Tab indents", ed.view.state.doc.line(3).text.startsWith("  if"), JSON.stringify(ed.view.state.doc.line(3).text));
  check("onChange", changes.length === 1);
  key(ed.view.contentDOM, "Escape", { keyCode: 27 });
  const tab = key(ed.view.contentDOM, "Tab", { keyCode: 9 });
  check("Escape then Tab leaves Tab to the browser", !tab.defaultPrevented && changes.length === 1);
  check("errors follow edits", root.querySelectorAll(".cm-lint-marker-error").length === 2);
  key(ed.view.contentDOM, "z", { ctrlKey: true, keyCode: 90 });
  check("undo", ed.getValue() === script);

  // search panel
  key(ed.view.contentDOM, "f", { ctrlKey: true, keyCode: 70 });
  await sleep(50);
  const panel = root.querySelector(".cm-search");
  check("Ctrl-F opens the search panel", !!panel);
  check("search panel has replace", !!(panel && panel.querySelector("[name=replace]")));
  key(document.activeElement, "Escape", { keyCode: 27 });
  await sleep(20);

  // completion after "LOG."
  const at = ed.view.state.doc.length;
  ed.view.focus();
  ed.view.dispatch({ selection: { anchor: at } });
  for (const ch of "LOG.") {
    const p = ed.view.state.selection.main.head;
    ed.view.dispatch({ changes: { from: p, insert: ch }, selection: { anchor: p + 1 }, userEvent: "input.type" });
  }
  await sleep(400);
  let labels = [...root.querySelectorAll(".cm-tooltip-autocomplete .cm-completionLabel")].map((e) => e.textContent);
  check("LOG. completes members", ["info", "warning", "severe", "setMessage"].every((l) => labels.includes(l)), `(${labels.join(" ")})`);
  // top-level names
  ed.setValue("var x = 1;\n");
  const p0 = ed.view.state.doc.length;
  ed.view.dispatch({ changes: { from: p0, insert: "GI" }, selection: { anchor: p0 + 2 }, userEvent: "input.type" });
  await sleep(400);
  labels = [...root.querySelectorAll(".cm-tooltip-autocomplete .cm-completionLabel")].map((e) => e.textContent);
  check("GI completes GITHUB", labels.includes("GITHUB"), `(${labels.join(" ")})`);
  ed.setValue("CUSTOM.");
  ed.view.dispatch({ changes: { from: 7, insert: "a" }, selection: { anchor: 8 }, userEvent: "input.type" });
  await sleep(400);
  labels = [...root.querySelectorAll(".cm-tooltip-autocomplete .cm-completionLabel")].map((e) => e.textContent);
  check("caller's globals complete", labels.includes("alpha"), `(${labels.join(" ")})`);
  ed.setValue("var s = \"LOG.");
  ed.view.dispatch({ changes: { from: ed.view.state.doc.length, insert: "i" }, selection: { anchor: ed.view.state.doc.length + 1 }, userEvent: "input.type" });
  await sleep(400);
  check("no completion in strings", !root.querySelector(".cm-tooltip-autocomplete"));
  check("setValue cleared errors", root.querySelectorAll(".cm-lint-marker-error").length === 0);

  // the final look: the script with errors and the completion open
  ed.setValue(script);
  ed.setErrors([{ line: 2, column: 5, message: "Unexpected token ;" }, { line: 7, message: "TypeError: boom" }]);
  const end = ed.view.state.doc.line(5).to;
  ed.view.dispatch({ changes: { from: end, insert: "\n  GITHUB." }, selection: { anchor: end + 10 }, userEvent: "input.type" });
  ed.view.dispatch({ changes: { from: end + 10, insert: "v" }, selection: { anchor: end + 11 }, userEvent: "input.type" });
  await sleep(400);
  labels = [...root.querySelectorAll(".cm-tooltip-autocomplete .cm-completionLabel")].map((e) => e.textContent);
  check("GITHUB.v completes verify", labels.includes("verify"), `(${labels.join(" ")})`);

  // hovering an error shows its message
  const hv = document.createElement("div");
  document.getElementById("ed").after(hv);
  const hed = createEditor(hv, { doc: "var a = 1;\nreturn a +;\n" });
  hed.setErrors([parseErrorLine("invalid: script: line 2, column 10: Unexpected token ;")]);
  await sleep(50);
  const r = hv.querySelector(".cm-lintRange-error").getBoundingClientRect();
  const mv = { bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 };
  hv.querySelector(".cm-content").dispatchEvent(new MouseEvent("mousemove", mv));
  await sleep(800);
  const tip = hv.querySelector(".cm-tooltip-lint");
  check("hover shows the message", !!tip && tip.textContent.includes("Unexpected token ;"), tip ? JSON.stringify(tip.textContent) : "");

  // a long script scrolls inside at most 70vh
  hed.setValue(Array.from({ length: 300 }, (_, i) => `LOG.info(${i});`).join("\n"));
  await sleep(50);
  const h = hed.view.dom.getBoundingClientRect().height;
  check("grows to ~70vh and scrolls", h <= innerHeight * 0.7 + 4 && hed.view.scrollDOM.scrollHeight > hed.view.scrollDOM.clientHeight,
    `(${Math.round(h)}px of ${innerHeight}px)`);
  hed.setValue("var a = 1;\nreturn a +;\n");

  // read-only
  const ro = document.createElement("div");
  const red = createEditor(ro, { doc: "return 1;", readOnly: true });
  document.body.appendChild(ro);
  check("readOnly", red.view.state.readOnly);
  red.destroy();
  ro.remove();

  // diff
  const d = diffView(script, script.replace("no signature", "unsigned request").replace("return false;", "return false;\n  // refused"));
  document.getElementById("diff").appendChild(d);
  check("diff is a pre", d.tagName === "PRE");
  check("diff add/del", d.querySelectorAll(".diff-add").length === 2 && d.querySelectorAll(".diff-del").length === 1,
    `(${d.querySelectorAll(".diff-add").length} add, ${d.querySelectorAll(".diff-del").length} del)`);
  check("diff prefixes", d.querySelector(".diff-add").textContent.startsWith("+ ") && d.querySelector(".diff-del").textContent.startsWith("- "));
  check("diff styled", getComputedStyle(d.querySelector(".diff-add")).backgroundColor !== "rgba(0, 0, 0, 0)");
  const long = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`);
  const d2 = diffView(long.join("\n"), long.map((l, i) => (i === 49 ? "changed" : l)).join("\n"));
  const d2lines = [...d2.children].map((e) => `${e.className}|${e.textContent}`);
  check("diff context and hunks", d2lines.length === 11 && d2lines[0] === "diff-skip|⋯ 46 unchanged lines"
    && d2lines[1] === "diff-hunk|@@ -47,7 +47,7 @@" && d2lines[10] === "diff-skip|⋯ 47 unchanged lines", JSON.stringify(d2lines));
  check("diff all context", diffView(long.join("\n"), "", { context: Infinity }).children.length === 100);
  check("no change", diffView("a\n", "a").textContent === "(no changes)");
} catch (e) {
  check("exception", false, String(e && e.stack || e));
}
document.body.dataset.done = failed ? "fail" : "pass";
out.textContent += failed ? `${failed} FAILED\n` : "ALL PASS\n";
