// @name Shopify
// @description Webhooks from a Shopify app or store, signed with the app's
//   client secret.
// @secret client_secret: the app's Client secret (or, for webhooks made in the store's admin, the key shown under Notifications, Webhooks) (required)

// Shopify signs the raw body with HMAC-SHA256 keyed with the client
// secret and sends it base64 in X-Shopify-Hmac-Sha256. Only Shopify sends
// that header: without it the request is another sender's.
const sig = HTTP_HEADERS["x-shopify-hmac-sha256"];
if (!sig) return false;
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig, HMAC.sign("sha256", FLX_PRISTINE_PAYLOAD, PROPERTIES.client_secret, "base64"))) {
  LOG.fine("x-shopify-hmac-sha256 does not match");
  return false;
}
return true;
