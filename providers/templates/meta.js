// @name Meta (WhatsApp, Messenger, Instagram)
// @description Webhooks from a Meta app (WhatsApp Business, Messenger,
//   Instagram, Pages), signed with the App Secret; the subscription's
//   verification request is answered.
// @secret app_secret: the app's App Secret (App settings, Basic) (required)
// @secret verify_token: the Verify token typed in the app's Webhooks settings (required)

// Meta signs the raw body with HMAC-SHA256 keyed with the App Secret and
// sends "sha256=<hex>" in X-Hub-Signature-256. GitHub signs the same way,
// so the body's shape is checked first: every Meta notification is
// {"object": "<product>", "entry": [...]}.
const sig = HTTP_HEADERS["x-hub-signature-256"];
if (!sig) return false;
if (typeof PAYLOAD !== "object" || PAYLOAD === null || typeof PAYLOAD.object !== "string" || !Array.isArray(PAYLOAD.entry)) return false;
const want = "sha256=" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.app_secret);
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig.toLowerCase(), want)) {
  LOG.fine("X-Hub-Signature-256 does not match");
  return false;
}
return true;
