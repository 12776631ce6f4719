// @name Zoom
// @description Webhooks from a Zoom app's Event Subscriptions, signed with
//   the app's Secret Token; the endpoint's URL validation is answered.
// @secret secret_token: the app's Secret Token (Features, Access, Secret Token) (required)
// @property tolerance: how old, in seconds, a request may be before it is refused as a replay (default 300)

// Zoom signs "v0:<x-zm-request-timestamp>:<raw body>" with HMAC-SHA256
// keyed with the Secret Token and sends "v0=<hex>" in x-zm-signature. Only
// Zoom sends those headers: without them the request is another sender's.
const ts = HTTP_HEADERS["x-zm-request-timestamp"];
const sig = HTTP_HEADERS["x-zm-signature"];
if (!ts || !sig) return false;

// A timestamp far from now is a captured request sent again.
const age = Math.abs(Date.now() / 1000 - Number(ts));
if (!(age <= Number(PROPERTIES.tolerance))) {
  LOG.fine("x-zm-request-timestamp is " + Math.round(age) + " s away from now, over the tolerance");
  return false;
}
const want = "v0=" + HMAC.generateHmacSHA256("v0:" + ts + ":" + FLX_PRISTINE_PAYLOAD, PROPERTIES.secret_token);
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig, want)) {
  LOG.fine("x-zm-signature does not match");
  return false;
}
return true;
