// @name Asana
// @description Webhooks from Asana, signed with the secret Asana gives in
//   its handshake; the handshake is answered.
// @secret hook_secret: the X-Hook-Secret of the webhook's handshake, copied from that message's headers (set it after the handshake)

// Asana signs the raw body with HMAC-SHA256 keyed with the secret it sent
// in the handshake's X-Hook-Secret, and sends the hex in X-Hook-Signature.
// Only Asana sends that header.
const sig = HTTP_HEADERS["x-hook-signature"];
if (!sig) return false;
if (!PROPERTIES.hook_secret) {
  // The provider was made before the handshake: the secret is in the
  // headers of the message "handshake answered by ..." (x-hook-secret).
  // Thrown, so the message's log says it loudly.
  throw new TypeError("hook_secret is not set: copy the x-hook-secret header of the handshake's message into the provider's secret hook_secret");
}
const want = HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.hook_secret);
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig.toLowerCase(), want)) {
  LOG.fine("X-Hook-Signature does not match");
  return false;
}
return true;
