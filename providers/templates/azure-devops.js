// @name Azure DevOps
// @description Service hooks (Web Hooks) from Azure DevOps Services and Azure
//   DevOps Server, with basic authentication or a shared header.
// @property auth: how the service hook proves it is yours: basic (its Basic
//   authentication username and password) or header (a header in its HTTP
//   headers) (one of basic, header) (default basic)
// @secret username: the service hook's Basic authentication username (required when auth is basic)
// @secret password: the service hook's Basic authentication password (required when auth is basic)
// @property header: the name of the header, when auth is header (default X-Webhook-Token)
// @secret header_value: the value of the header, when auth is header (required when auth is header)
//
// Azure DevOps does not sign its service hooks: they carry a shared
// credential, so use an https:// URL.

// base64 of a string's UTF-8 bytes, as in "Basic <base64>" (scripts have
// no btoa).
function base64(s) {
  const bytes = unescape(encodeURIComponent(s)); // one character per byte
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = bytes.charCodeAt(i) << 16 | (bytes.charCodeAt(i + 1) || 0) << 8 | (bytes.charCodeAt(i + 2) || 0);
    out += abc[n >> 18 & 63] + abc[n >> 12 & 63] +
      (i + 1 < bytes.length ? abc[n >> 6 & 63] : "=") +
      (i + 2 < bytes.length ? abc[n & 63] : "=");
  }
  return out;
}

// Every service hook event is JSON with an eventType (git.push,
// build.complete...) and a publisherId (tfs, rm...). Checking them first
// keeps this provider from claiming other senders' webhooks.
if (typeof PAYLOAD.eventType !== "string" || typeof PAYLOAD.publisherId !== "string") return false;

let ok;
if (PROPERTIES.auth === "header") {
  if (!PROPERTIES.header_value) throw new TypeError('auth is header, but the secret "header_value" is not set');
  // HMAC.equals compares in constant time: a plain === would let an
  // attacker guess the value one character at a time from response times.
  ok = HMAC.equals(HTTP_HEADERS[PROPERTIES.header.toLowerCase()] || "", PROPERTIES.header_value);
} else {
  // Basic authentication: "Authorization: Basic <base64 of username:password>".
  if (!PROPERTIES.username || !PROPERTIES.password) throw new TypeError('auth is basic, but the secret "username" or "password" is not set');
  const credentials = (HTTP_HEADERS["authorization"] || "").replace(/^basic\s+/i, "");
  ok = HMAC.equals(credentials, base64(PROPERTIES.username + ":" + PROPERTIES.password));
}
// Say why in the message's log, never with the credentials.
if (!ok) LOG.fine("Azure DevOps: the " + (PROPERTIES.auth === "header" ? PROPERTIES.header : "basic authentication") + " does not match");
return ok;
