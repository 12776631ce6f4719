// Runs scripts (function bodies) with Node.js's own URL, URLSearchParams,
// TextEncoder, TextDecoder, atob and btoa, for the scripting package's
// tests to compare Switchyard's with. Input: a JSON array of sources;
// output: a JSON array of {value} or {error: "<name>"}.
import { readFileSync } from "node:fs";

const sources = JSON.parse(readFileSync(0, "utf8"));
const out = sources.map((src) => {
  try {
    return { value: new Function(src)() };
  } catch (e) {
    return { error: e.name };
  }
});
process.stdout.write(JSON.stringify(out));
