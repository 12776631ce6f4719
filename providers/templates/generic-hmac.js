// @name Generic HMAC
// @description Webhooks from any sender that signs the raw body with an HMAC
//   of a shared secret and sends it in a header; the algorithm, header,
//   prefix and encoding are properties.
// @secret secret: the shared secret, as given to the sender (required)
// @property algorithm: the HMAC's hash (one of sha1, sha256, sha512) (default sha256)
// @property header: the header carrying the signature (default X-Signature)
// @property prefix: text before the signature in the header, such as "sha256="
// @property encoding: how the signature is written (one of hex, base64) (default hex)
//
// For a sender that also signs a timestamp (Slack, Stripe, Standard
// Webhooks), use its own template: this one does not refuse replays.

const got = HTTP_HEADERS[PROPERTIES.header.toLowerCase()];
// No such header: another sender's webhook, not a bad signature.
if (!got) return false;

const want = (PROPERTIES.prefix || "") +
  HMAC.sign(PROPERTIES.algorithm, FLX_PRISTINE_PAYLOAD, PROPERTIES.secret, PROPERTIES.encoding);
// Senders write hex digits in either case; base64 is case-sensitive.
// HMAC.equals compares in constant time: never compare signatures with ===.
const ok = PROPERTIES.encoding === "hex"
  ? HMAC.equals(got.trim().toLowerCase(), want.toLowerCase())
  : HMAC.equals(got.trim(), want);
// Say why in the message's log, never with the expected signature.
if (!ok) LOG.fine(PROPERTIES.header + " does not match");
return ok;
