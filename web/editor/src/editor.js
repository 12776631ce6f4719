// The script editor of Switchyard's admin UI: CodeMirror 6, bundled by
// esbuild into web/static/editor.js (see ../README.md). It exports
// createEditor, diffView and parseErrorLine; nothing else of CodeMirror is
// part of the contract.

import { EditorState, Compartment, Prec } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  highlightSpecialChars, drawSelection, dropCursor, rectangularSelection, crosshairCursor,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, indentUnit,
  foldGutter, foldKeymap,
} from "@codemirror/language";
import { javascript, javascriptLanguage, completionPath } from "@codemirror/lang-javascript";
import { search, searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import {
  autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap,
} from "@codemirror/autocomplete";
import { setDiagnostics, lintGutter, lintKeymap } from "@codemirror/lint";

export { parseErrorLine } from "./parse.js";
import { SCRIPT_GLOBALS, JS_GLOBALS } from "./globals.js";

// ---------------------------------------------------------------------------
// Completion

// toOption turns a global's description into a completion option.
function toOption(g, type) {
  if (typeof g === "string") return { label: g, type };
  const o = { label: g.name ?? g.label, type: g.type ?? type };
  if (g.detail) o.detail = g.detail;
  if (g.info) o.info = g.info;
  return o;
}

// globalsCompletion is a completion source for the script globals: names
// at the top level, and after `NAME.` the members of NAME. `extra` are
// the caller's globals: strings, or {name, detail?, info?, members?}
// where members are strings or {name, detail?, info?}.
function globalsCompletion(extra) {
  const top = new Map();   // label -> option
  const members = new Map(); // object name -> options
  const add = (g, type) => {
    const o = toOption(g, type);
    if (!o.label) return;
    top.set(o.label, o);
    if (typeof g === "object" && Array.isArray(g.members)) {
      members.set(o.label, g.members.map((m) => toOption(m, "method")));
    }
  };
  for (const g of JS_GLOBALS) add(g, "variable");
  for (const g of SCRIPT_GLOBALS) add(g, "constant");
  for (const g of extra) add(g, "constant");
  const topOptions = [...top.values()];
  const word = /^[\w$\xa1-\uffff]*$/;

  return (context) => {
    const p = completionPath(context);
    if (!p) return null;
    const from = context.pos - p.name.length;
    if (p.path.length === 0) {
      if (!p.name && !context.explicit) return null;
      return { from, options: topOptions, validFor: word };
    }
    if (p.path.length === 1 && members.has(p.path[0])) {
      return { from, options: members.get(p.path[0]), validFor: word };
    }
    return null;
  };
}

// ---------------------------------------------------------------------------
// Errors

// byteColumnToOffset maps the server's 1-based column, counted in UTF-8
// bytes (goja counts bytes), to a 0-based offset in the JavaScript string
// text (UTF-16 code units).
function byteColumnToOffset(text, column) {
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < column - 1) {
    const c = text.codePointAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += c >= 0x10000 ? 2 : 1;
  }
  return i;
}

// toDiagnostics turns [{line, column?, message, severity?}] (1-based) into
// CodeMirror diagnostics: the word at the column, a point at the end of
// the line, or the whole line when there is no column.
function toDiagnostics(doc, errors) {
  const out = [];
  for (const e of errors || []) {
    let n = Math.floor(Number(e.line));
    if (!Number.isFinite(n) || n < 1) n = 1;
    if (n > doc.lines) n = doc.lines;
    const line = doc.line(n);
    let from = line.from;
    let to = line.to;
    if (e.column != null && Number(e.column) >= 1) {
      from = line.from + byteColumnToOffset(line.text, Number(e.column));
      const rest = line.text.slice(from - line.from);
      const m = /^[\w$\xa1-\uffff]+/.exec(rest);
      to = from + (m ? m[0].length : Math.min(1, rest.length));
    } else {
      from += /^\s*/.exec(line.text)[0].length; // the line but its indentation
      if (from === to) from = line.from; // a blank line: a point at its start
    }
    out.push({
      from, to,
      severity: e.severity || "error",
      message: String(e.message ?? "error"),
      source: e.source,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Theme

const LINE_HEIGHT = 1.45;

const theme = EditorView.theme({
  "&": {
    fontSize: "13px",
    backgroundColor: "#fff",
    color: "#1f2328",
    border: "1px solid #c8ccd1",
    borderRadius: "4px",
    width: "100%",
    boxSizing: "border-box",
  },
  "&.cm-focused": { outline: "2px solid #4c8bf5", outlineOffset: "-1px" },
  ".cm-scroller": {
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace',
    lineHeight: String(LINE_HEIGHT),
    maxHeight: "70vh",
    overflow: "auto",
  },
  ".cm-content, .cm-gutter": { minHeight: `calc(20 * ${LINE_HEIGHT}em + 8px)` },
  ".cm-gutters": { backgroundColor: "#f6f8fa", color: "#57606a", borderRight: "1px solid #e1e4e8" }, // 5.9:1 on the gutter (WCAG AA)
  ".cm-activeLine": { backgroundColor: "#f3f7ff" },
  ".cm-activeLineGutter": { backgroundColor: "#e6edf9", color: "#1f2328" },
  "&.cm-focused .cm-matchingBracket": { backgroundColor: "#c8e6c9", outline: "1px solid #81c784" },
  "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "#ffcdd2" },
  ".cm-tooltip": { fontFamily: "system-ui, sans-serif", fontSize: "13px" },
  ".cm-tooltip.cm-tooltip-autocomplete > ul": { fontFamily: "inherit" },
  ".cm-panels": { fontFamily: "system-ui, sans-serif", fontSize: "13px" },
  "&.sy-readonly": { backgroundColor: "#f1f3f6" },
  "&.sy-readonly .cm-cursor": { display: "none" },
}, { dark: false });

// ---------------------------------------------------------------------------
// Editor

/**
 * Creates an editor in `parent`.
 *
 * @param {HTMLElement} parent
 * @param {object} [options]
 * @param {string} [options.doc] the initial text
 * @param {(text: string) => void} [options.onSave] called on Ctrl/Cmd-S (not when read-only)
 * @param {(text: string) => void} [options.onChange] called after each user edit
 * @param {boolean} [options.readOnly]
 * @param {Array<string|{name: string, detail?: string, info?: string, members?: Array<string|{name: string, detail?: string, info?: string}>}>} [options.globals]
 *   extra names to complete, besides the built-in script globals
 * @returns {{view: EditorView, getValue(): string, setValue(text: string): void,
 *   setErrors(errors: Array<{line: number, column?: number, message: string, severity?: string}>): void,
 *   setReadOnly(readOnly: boolean): void, focus(): void, destroy(): void}}
 */
export function createEditor(parent, { doc = "", onSave, onChange, readOnly = false, globals = [] } = {}) {
  const readOnlyConf = new Compartment();
  const readOnlyExt = (ro) => [
    EditorState.readOnly.of(ro),
    // Read only is not editable either: no caret, not in the tab order
    // (the text can still be selected and copied with the mouse).
    EditorView.editable.of(!ro),
    ro ? EditorView.editorAttributes.of({ class: "sy-readonly" }) : [],
  ];
  let isReadOnly = !!readOnly;

  const saveKeymap = Prec.highest(keymap.of([{
    key: "Mod-s",
    preventDefault: true,
    run: (view) => { // the browser's "save page" never opens from the editor
      if (onSave && !isReadOnly) onSave(view.state.doc.toString());
      return true;
    },
  }]));

  const extensions = [
    saveKeymap,
    lineNumbers(),
    foldGutter(),
    lintGutter(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    indentUnit.of("  "),
    EditorState.tabSize.of(2),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    closeBrackets(),
    autocompletion({ activateOnTyping: true }),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    search({ top: true }),
    javascript(),
    javascriptLanguage.data.of({ autocomplete: globalsCompletion(globals) }),
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...foldKeymap,
      ...completionKeymap,
      ...lintKeymap,
      indentWithTab, // Escape then Tab (or Ctrl-M) moves focus out
    ]),
    theme,
    EditorView.contentAttributes.of({ "aria-label": "Script editor" }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged && onChange) onChange(u.state.doc.toString());
    }),
  ];

  const makeState = (text) => EditorState.create({
    doc: text,
    extensions: [extensions, readOnlyConf.of(readOnlyExt(isReadOnly))],
  });

  const view = new EditorView({ state: makeState(String(doc ?? "")), parent });

  return {
    view,
    getValue: () => view.state.doc.toString(),
    // Replaces the text, the undo history and the errors: loading another
    // script. It does not call onChange.
    setValue(text) {
      view.setState(makeState(String(text ?? "")));
    },
    setErrors(errors) {
      view.dispatch(setDiagnostics(view.state, toDiagnostics(view.state.doc, errors)));
    },
    setReadOnly(ro) {
      isReadOnly = !!ro;
      view.dispatch({ effects: readOnlyConf.reconfigure(readOnlyExt(isReadOnly)) });
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}

// ---------------------------------------------------------------------------
// Diff

// DIFF_CSS styles diffView's output. It is put first in <head>, so that
// any stylesheet of the page overrides it.
const DIFF_CSS = `
.sy-diff {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
  font-size: 13px; line-height: 1.45; margin: 0; padding: 4px 0;
  border: 1px solid #c8ccd1; border-radius: 4px; background: #fff; color: #1f2328;
  overflow: auto; max-height: 70vh; white-space: pre;
}
.sy-diff > span { display: block; padding: 0 8px; min-height: 1.45em; }
.sy-diff > .diff-add { background: #e6ffec; color: #116329; }
.sy-diff > .diff-del { background: #ffebe9; color: #82071e; }
.sy-diff > .diff-hunk { background: #ddf4ff; color: #57606a; }
.sy-diff > .diff-skip, .sy-diff > .diff-same { color: #6e7781; font-style: italic; }
`;

function mountDiffStyle(doc) {
  if (doc.getElementById("sy-diff-style")) return;
  const style = doc.createElement("style");
  style.id = "sy-diff-style";
  style.textContent = DIFF_CSS;
  doc.head.insertBefore(style, doc.head.firstChild);
}

function splitLines(text) {
  const s = String(text ?? "");
  if (s === "") return [];
  const lines = s.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop(); // a final newline ends the last line
  return lines;
}

// MAX_EDITS caps the work of the diff (Myers' O((N+M)·D) algorithm, whose
// trace takes about D² ints: 16 MB at the cap). When the old and new
// texts differ by more lines than that, the changed region is shown as all
// of its old lines removed and all of its new lines added.
const MAX_EDITS = 2000;

// diffLines returns a shortest edit script from line array a to b, as
// [[op, text]] with op " " (both), "-" (a only) or "+" (b only).
export function diffLines(a, b) {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const out = [];
  for (let i = 0; i < pre; i++) out.push([" ", a[i]]);
  const mid = myers(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf), MAX_EDITS);
  for (const op of mid) out.push(op);
  for (let i = a.length - suf; i < a.length; i++) out.push([" ", a[i]]);
  return out;
}

function myers(A, B, maxD) {
  const n = A.length;
  const m = B.length;
  const all = () => [...A.map((l) => ["-", l]), ...B.map((l) => ["+", l])];
  if (n === 0 || m === 0) return all();
  const limit = Math.min(maxD, n + m);
  const off = limit + 1;
  const V = new Int32Array(2 * limit + 3);
  const trace = []; // trace[d][k + d]: V at the start of step d
  for (let d = 0; d <= limit; d++) {
    trace.push(V.slice(off - d, off + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && V[off + k - 1] < V[off + k + 1]) ? V[off + k + 1] : V[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) { x++; y++; }
      V[off + k] = x;
      if (x >= n && y >= m) return backtrack(A, B, trace, d);
    }
  }
  return all();
}

function backtrack(A, B, trace, D) {
  const rev = [];
  let x = A.length;
  let y = B.length;
  for (let d = D; d > 0; d--) {
    const v = trace[d];
    const at = (k) => v[k + d];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) rev.push([" ", A[--x]]), y--;
    if (x === prevX) rev.push(["+", B[--y]]);
    else rev.push(["-", A[--x]]);
  }
  while (x > 0 && y > 0) rev.push([" ", A[--x]]), y--;
  return rev.reverse();
}

/**
 * A unified line diff of two texts as a `<pre class="sy-diff">`: added
 * lines are `<span class="diff-add">+ …</span>`, removed ones
 * `<span class="diff-del">- …</span>`, unchanged ones `<span
 * class="diff-ctx">  …</span>`. Unchanged runs longer than 2*context are
 * cut to `context` lines each side, with `@@ -a,b +c,d @@` hunk headers
 * (class diff-hunk). With no change, one line of class diff-same.
 *
 * @param {string} oldText
 * @param {string} newText
 * @param {{context?: number}} [options] lines of context (Infinity: all)
 * @returns {HTMLElement}
 */
export function diffView(oldText, newText, { context = 3 } = {}) {
  mountDiffStyle(document);
  const pre = document.createElement("pre");
  pre.className = "sy-diff";
  const line = (cls, text) => {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    pre.appendChild(s);
  };
  const ops = diffLines(splitLines(oldText), splitLines(newText));
  if (!ops.some(([op]) => op !== " ")) {
    line("diff-same", "(no changes)");
    return pre;
  }
  // Line numbers (1-based) in the old and new text before each op.
  const pos = [];
  let oa = 1;
  let nb = 1;
  for (const [op] of ops) {
    pos.push([oa, nb]);
    if (op !== "+") oa++;
    if (op !== "-") nb++;
  }
  // Keep the ops within `context` of a change, grouped in hunks.
  const keep = new Uint8Array(ops.length);
  const ctx = Math.max(0, context);
  ops.forEach(([op], k) => {
    if (op === " ") return;
    const lo = Math.max(0, k - ctx);
    const hi = Math.min(ops.length - 1, k + ctx);
    for (let x = lo; x <= hi; x++) keep[x] = 1;
  });
  const showAll = !Number.isFinite(ctx) || keep.every((x) => x);
  let k = 0;
  while (k < ops.length) {
    if (!keep[k]) {
      let e = k;
      while (e < ops.length && !keep[e]) e++;
      line("diff-skip", `⋯ ${e - k} unchanged line${e - k === 1 ? "" : "s"}`);
      k = e;
      continue;
    }
    let e = k;
    while (e < ops.length && keep[e]) e++;
    if (!showAll) {
      let oldCount = 0;
      let newCount = 0;
      for (let x = k; x < e; x++) {
        if (ops[x][0] !== "+") oldCount++;
        if (ops[x][0] !== "-") newCount++;
      }
      const [o0, n0] = pos[k];
      line("diff-hunk", `@@ -${oldCount ? o0 : o0 - 1},${oldCount} +${newCount ? n0 : n0 - 1},${newCount} @@`);
    }
    for (let x = k; x < e; x++) {
      const [op, text] = ops[x];
      line(op === "+" ? "diff-add" : op === "-" ? "diff-del" : "diff-ctx", `${op} ${text}`);
    }
    k = e;
  }
  return pre;
}
