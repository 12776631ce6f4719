// @name Sentry
// @description Webhooks from a Sentry integration (internal or public),
//   signed with the integration's client secret.
// @secret client_secret: the integration's Client Secret (Settings, Developer Settings, your integration, Credentials) (required)

// Sentry signs the raw body with HMAC-SHA256 keyed with the client secret
// and sends the hex in Sentry-Hook-Signature. Only Sentry sends that
// header: without it the request is another sender's.
const sig = HTTP_HEADERS["sentry-hook-signature"];
if (!sig) return false;
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig, HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.client_secret))) {
  LOG.fine("sentry-hook-signature does not match");
  return false;
}
return true;
