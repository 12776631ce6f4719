// @name X (Twitter)
// @description Account Activity webhooks from X (Twitter), signed with the
//   app's API Key Secret; the CRC check is answered.
// @secret consumer_secret: the app's API Key Secret (consumer secret) (required)

// X signs the raw body with HMAC-SHA256 keyed with the consumer secret
// and sends "sha256=<base64>" in x-twitter-webhooks-signature. Only X
// sends that header.
const sig = HTTP_HEADERS["x-twitter-webhooks-signature"];
if (!sig) return false;
// Every X event is a JSON object; the CRC handshake signs only tokens that
// cannot start one, so its answers cannot pass for an event's signature.
if (!/^\s*\{/.test(FLX_PRISTINE_PAYLOAD)) return false;
const want = "sha256=" + HMAC.sign("sha256", FLX_PRISTINE_PAYLOAD, PROPERTIES.consumer_secret, "base64");
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig, want)) {
  LOG.fine("x-twitter-webhooks-signature does not match");
  return false;
}
return true;
