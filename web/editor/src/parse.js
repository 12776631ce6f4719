// parseErrorLine finds the position in a message of the Switchyard server
// about a script. The server writes a syntax error (a 400 on save) as
//   "invalid: match_script: line 2, column 9: Unexpected token ;"
//   "invalid: script: line 4, column 1: Unexpected end of input"
// (scripting.CompileError, wrapped by providers and functions) and an
// uncaught exception at run time (an execution's error) as
//   "TypeError: x is not a function (line 3, column 7)"
// (scripting.ScriptError). Lines are 1-based; columns are 1-based and count
// UTF-8 bytes (setErrors converts them). It returns {line, column, message}
// (message without the position, and for a syntax error without the
// "invalid: script: " prefix), {line, column: null, message} when only a
// line is named, or null.
export function parseErrorLine(message) {
  if (message == null) return null;
  const s = String(message);
  // Run time: "MESSAGE (line N, column M)" at the end.
  let m = /^([\s\S]*?)\s*\(line (\d+), column (\d+)\)\s*$/.exec(s);
  if (m) return pos(m[2], m[3], m[1]);
  // Compile time: "[PREFIX: ]line N, column M: MESSAGE".
  m = /(?:^|[\s:])line (\d+), column (\d+): ([\s\S]*)$/.exec(s);
  if (m) return pos(m[1], m[2], m[3]);
  // Anything else naming a line.
  m = /\bline (\d+)\b/.exec(s);
  if (m) return pos(m[1], null, s);
  return null;
}

function pos(line, column, message) {
  const l = Number(line);
  if (!(l >= 1)) return null;
  const c = column == null ? null : Number(column);
  return { line: l, column: c >= 1 ? c : null, message: message.trim() };
}
