// npm test (from web/editor), or node --test web/editor/test/parse.test.mjs:
// no npm install needed, it imports the built web/static/editor.js.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseErrorLine, diffLines } from "../../static/editor.js";

test("compile error, as the server answers a save (400)", () => {
  assert.deepEqual(parseErrorLine("invalid: match_script: line 2, column 9: Unexpected token ;"),
    { line: 2, column: 9, message: "Unexpected token ;" });
  assert.deepEqual(parseErrorLine("invalid: script: line 14, column 1: Unexpected end of input"),
    { line: 14, column: 1, message: "Unexpected end of input" });
  assert.deepEqual(parseErrorLine("line 3, column 5: Unexpected token )"),
    { line: 3, column: 5, message: "Unexpected token )" });
  assert.deepEqual(parseErrorLine("script: line 4, column 22: Unexpected token ;"),
    { line: 4, column: 22, message: "Unexpected token ;" });
});

test("run-time error", () => {
  assert.deepEqual(parseErrorLine("TypeError: x is not a function (line 3, column 7)"),
    { line: 3, column: 7, message: "TypeError: x is not a function" });
  assert.deepEqual(parseErrorLine("TypeError: Cannot read property 'boom' of null (line 3, column 3)"),
    { line: 3, column: 3, message: "TypeError: Cannot read property 'boom' of null" });
});

test("other messages", () => {
  assert.equal(parseErrorLine("script timed out after 1s"), null);
  assert.equal(parseErrorLine("invalid: name is required"), null);
  assert.equal(parseErrorLine(""), null);
  assert.equal(parseErrorLine(undefined), null);
  assert.deepEqual(parseErrorLine("error on line 7"), { line: 7, column: null, message: "error on line 7" });
  assert.equal(parseErrorLine("line 0, column 3: x"), null);
});

test("diffLines", () => {
  assert.deepEqual(diffLines(["a", "b", "c"], ["a", "x", "c", "d"]),
    [[" ", "a"], ["-", "b"], ["+", "x"], [" ", "c"], ["+", "d"]]);
  assert.deepEqual(diffLines([], ["a"]), [["+", "a"]]);
  assert.deepEqual(diffLines(["a"], ["a"]), [[" ", "a"]]);
  // a few changes in a long script: exact
  const big = Array.from({ length: 5000 }, (_, i) => "l" + i);
  const edited = big.map((l, i) => (i % 500 === 7 ? l + "!" : l));
  edited.splice(2500, 0, "new");
  let ops = diffLines(big, edited);
  assert.equal(ops.filter(([o]) => o === "-").length, 10);
  assert.equal(ops.filter(([o]) => o === "+").length, 11);
  assertEdits(big, edited, ops);
  // more changes than the cap: all old out, all new in, still a valid script
  const half = big.map((l, i) => (i % 2 ? l : l + "!"));
  ops = diffLines(big, half);
  assertEdits(big, half, ops);
  // random small cases against a brute-force LCS length
  let seed = 1;
  const rnd = (k) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % k);
  for (let t = 0; t < 300; t++) {
    const a = Array.from({ length: rnd(12) }, () => "abc"[rnd(3)]);
    const b = Array.from({ length: rnd(12) }, () => "abc"[rnd(3)]);
    const ops2 = diffLines(a, b);
    assertEdits(a, b, ops2);
    assert.equal(ops2.filter(([o]) => o === " ").length, lcs(a, b), JSON.stringify([a, b]));
  }
});

function assertEdits(a, b, ops) {
  assert.deepEqual(ops.filter(([o]) => o !== "+").map(([, l]) => l), a);
  assert.deepEqual(ops.filter(([o]) => o !== "-").map(([, l]) => l), b);
}

function lcs(a, b) {
  const L = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    }
  }
  return L[0][0];
}
