// @name Linear
// @description Webhooks from Linear, signed with the webhook's signing
//   secret.
// @secret signing_secret: the webhook's Signing secret, "lin_wh_..." (required)
// @property tolerance: how far, in seconds, webhookTimestamp may be from now before the webhook is refused as a replay (default 60)

// Linear signs the raw body with HMAC-SHA256 keyed with the signing secret
// and sends the hex in Linear-Signature. Only Linear sends that header:
// without it the request is another sender's.
const sig = HTTP_HEADERS["linear-signature"];
if (!sig) return false;
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig, HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.signing_secret))) {
  LOG.fine("linear-signature does not match");
  return false;
}
// The signed body carries webhookTimestamp (Unix milliseconds): a webhook
// sent long ago is a captured one sent again. Linear asks for a minute.
const ts = PAYLOAD !== null && typeof PAYLOAD === "object" ? PAYLOAD.webhookTimestamp : undefined;
const age = Math.abs(Date.now() - Number(ts)) / 1000;
if (typeof ts !== "number" || !(age <= Number(PROPERTIES.tolerance))) {
  LOG.fine("webhookTimestamp is " + (typeof ts === "number" ? Math.round(age) + " s away from now, over the tolerance" : "missing"));
  return false;
}
return true;
