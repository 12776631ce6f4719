// @name Dropbox
// @description Webhooks from a Dropbox app, signed with the App secret;
//   the verification request is answered.
// @secret app_secret: the app's App secret (App Console, Settings) (required)

// Dropbox signs the raw body with HMAC-SHA256 keyed with the App secret
// and sends the hex in X-Dropbox-Signature. Only Dropbox sends that header.
const sig = HTTP_HEADERS["x-dropbox-signature"];
if (!sig) return false;
const want = HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.app_secret);
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig.toLowerCase(), want)) {
  LOG.fine("X-Dropbox-Signature does not match");
  return false;
}
return true;
