// The globals of Switchyard's scripts (docs/scripts.md, scripting/globals.go)
// and of the JavaScript they are written in, for completion.

const fn = (name, detail, info) => ({ name, detail, info, type: "method" });

export const SCRIPT_GLOBALS = [
  { name: "FLX_MESSAGE_ID", detail: "string", info: "The message id (a UUIDv7 string)." },
  { name: "FLX_PRISTINE_PAYLOAD", detail: "string", info: "The raw body as a string; HMACs over it use the exact bytes received." },
  { name: "FLX_REMOTE_ADDR", detail: "string", info: "The client address." },
  { name: "FLX_REMOTE_HOST", detail: "string", info: "The client host (the address; no reverse DNS)." },
  { name: "HTTP_HEADERS", detail: "object", info: "The request headers: lower-case names, repeated headers joined with \", \"." },
  { name: "QUERY_PARAMS", detail: "object", info: "The query parameters, the first value of each." },
  { name: "PAYLOAD", detail: "object|string", info: "The body parsed: JSON, a form as an object, else the raw string." },
  { name: "URI", detail: "string", info: "The request's URI, e.g. git/push." },
  { name: "METHOD", detail: "string", info: "The request's method, e.g. POST." },
  { name: "PROPERTIES", detail: "object", info: "The provider's properties and secrets, as strings." },
  { name: "PATH_PARAMS", detail: "object", info: "Function scripts: the values of the {name} segments (and \"*\", the rest) of the function's uri pattern." },
  { name: "RESPONSE", detail: "object", info: "The HTTP answer to send instead of Switchyard's own (sync mode, or a handshake script): status, headers, body." },
  { name: "NET", detail: "object", info: "Network addresses.", members: [
    fn("inCIDR", "(ip, cidrs)", "true when ip is in one of cidrs (a CIDR or an array of them)."),
  ] },
  { name: "LOG", detail: "object", info: "Writes log lines.", members: [
    fn("info", "(...args)", "A line at level INFO."),
    fn("warning", "(...args)", "A line at level WARNING."),
    fn("warn", "(...args)", "A line at level WARNING."),
    fn("severe", "(...args)", "A line at level SEVERE."),
    fn("error", "(...args)", "A line at level SEVERE."),
    fn("fine", "(...args)", "A line at level FINE."),
    fn("debug", "(...args)", "A line at level FINE."),
    fn("finest", "(...args)", "A line at level FINE (FlexDeploy's FINEST)."),
    fn("finer", "(...args)", "A line at level FINE (FlexDeploy's FINER)."),
    fn("config", "(...args)", "A line at level FINE (FlexDeploy's CONFIG)."),
    fn("setMessage", "(text)", "Sets the message's one-line summary."),
  ] },
  { name: "console", detail: "object", info: "Writes LOG lines, as a browser's console.", members: [
    fn("log", "(...args)", "A line at level INFO; %s, %d, %f, %o in the first argument."),
    fn("info", "(...args)", "A line at level INFO."),
    fn("warn", "(...args)", "A line at level WARNING."),
    fn("error", "(...args)", "A line at level SEVERE."),
    fn("debug", "(...args)", "A line at level FINE."),
  ] },
  { name: "HMAC", detail: "object", info: "HMACs and constant-time comparison.", members: [
    fn("generateHmacSHA1", "(data, key)", "Lower-case hex HMAC-SHA1."),
    fn("generateHmacSHA256", "(data, key)", "Lower-case hex HMAC-SHA256."),
    fn("generateHmacSHA512", "(data, key)", "Lower-case hex HMAC-SHA512."),
    fn("sign", "(alg, data, key, encoding)", "alg: sha1, sha256 or sha512; encoding: hex (default) or base64."),
    fn("equals", "(a, b)", "true when the strings are equal, compared in constant time."),
  ] },
  { name: "GITHUB", detail: "object", info: "GitHub's signature and helpers.", members: [
    fn("verify", "(secret)", "true when X-Hub-Signature-256 (or X-Hub-Signature) is the body's HMAC."),
    fn("event", "()", "The X-GitHub-Event header, null when absent."),
    fn("deliveryId", "()", "The X-GitHub-Delivery header, null when absent."),
    fn("branch", "()", "The payload's ref without refs/heads/ or refs/tags/."),
    fn("changedFiles", "()", "The paths added, modified or removed by the payload's commits."),
  ] },
  { name: "GITLAB", detail: "object", info: "GitLab's token check.", members: [
    fn("verify", "(token)", "true when X-Gitlab-Token equals the token."),
  ] },
  { name: "BITBUCKET", detail: "object", info: "Bitbucket's signature.", members: [
    fn("verify", "(secret)", "true when X-Hub-Signature: sha256=<hex> is the body's HMAC."),
  ] },
  { name: "SLACK", detail: "object", info: "Slack's signature.", members: [
    fn("verify", "(signingSecret, toleranceSeconds)", "true when X-Slack-Signature is right and the timestamp fresh."),
  ] },
  { name: "STRIPE", detail: "object", info: "Stripe's signature.", members: [
    fn("verify", "(secret, toleranceSeconds)", "true when a Stripe-Signature v1 is right and the timestamp fresh."),
  ] },
  { name: "STANDARD", detail: "object", info: "Standard Webhooks' signature.", members: [
    fn("verify", "(secret, toleranceSeconds)", "true when a webhook-signature v1 (whsec_ secret) or v1a (whpk_ key) is right and the timestamp fresh."),
  ] },
  { name: "DISCORD", detail: "object", info: "Discord's Ed25519 signature.", members: [
    fn("verify", "(publicKey, toleranceSeconds)", "true when X-Signature-Ed25519 signs timestamp + body and the timestamp is fresh."),
  ] },
  { name: "SENDGRID", detail: "object", info: "SendGrid's ECDSA signature.", members: [
    fn("verify", "(publicKey, toleranceSeconds)", "true when X-Twilio-Email-Event-Webhook-Signature signs timestamp + body and the timestamp is fresh."),
  ] },
  { name: "CRYPTO", detail: "object", info: "Public-key signatures, hashes, UUIDs.", members: [
    fn("verify", "(alg, publicKey, signature, data)", "true when signature (hex or base64) is alg's signature of data: ed25519, ecdsa-p256-sha256, rsa-sha256, rsa-sha1, rsa-pss-sha256."),
    fn("sha1", "(data, encoding)", "The SHA-1 digest, hex (default) or base64."),
    fn("sha256", "(data, encoding)", "The SHA-256 digest, hex (default) or base64."),
    fn("sha512", "(data, encoding)", "The SHA-512 digest, hex (default) or base64."),
    fn("randomUUID", "()", "A random (version 4) UUID."),
  ] },
  { name: "JWT", detail: "object", info: "JSON Web Tokens.", members: [
    fn("verify", "(token, {secret | publicKey | jwksUrl, algorithms, issuer, audience, leewaySeconds})", "The token's claims; throws when the token is not right."),
  ] },
  { name: "HTTP", detail: "object", info: "Calls another system.", members: [
    fn("request", "({url, method, headers, body, timeout})", "Returns {status, headers, body}."),
  ] },
  { name: "DEDUPE", detail: "object", info: "Drops repeats.", members: [
    fn("first", "(key, ttlSeconds)", "true the first time this script sees key within the TTL."),
  ] },
  { name: "NOTIFY", detail: "object", info: "Outbound events and webhooks.", members: [
    fn("send", "(type, fields)", "Publishes an outbound event; returns its id."),
    fn("webhook", "({url, method, headers, cookies, auth, timeout, body})", "Queues one request; returns the delivery's id."),
  ] },
];

const m = (names) => names.split(" ").map((n) => ({ name: n, type: "method" }));

// JS_GLOBALS are the standard JavaScript names a script commonly uses
// (keywords come from @codemirror/lang-javascript).
export const JS_GLOBALS = [
  { name: "JSON", type: "namespace", members: m("parse stringify") },
  { name: "Math", type: "namespace", members: m("abs ceil floor round trunc max min pow sqrt random sign log") },
  { name: "Object", type: "class", members: m("keys values entries assign fromEntries freeze") },
  { name: "Array", type: "class", members: m("isArray from of") },
  { name: "String", type: "class", members: m("fromCharCode") },
  { name: "Number", type: "class", members: m("isInteger isFinite isNaN parseFloat parseInt") },
  { name: "Date", type: "class", members: m("now parse UTC") },
  ...["Boolean", "RegExp", "Error", "TypeError", "RangeError", "Map", "Set", "Symbol", "Promise",
    "Uint8Array", "ArrayBuffer", "URL", "URLSearchParams", "TextEncoder", "TextDecoder"].map((name) => ({ name, type: "class" })),
  ...["parseInt", "parseFloat", "isNaN", "isFinite", "encodeURIComponent", "decodeURIComponent",
    "encodeURI", "decodeURI", "atob", "btoa"].map((name) => ({ name, type: "function" })),
  ...["undefined", "null", "NaN", "Infinity"].map((name) => ({ name, type: "keyword" })),
];
