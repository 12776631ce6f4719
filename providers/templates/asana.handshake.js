// When a webhook is created, Asana POSTs a request with an X-Hook-Secret
// header and wants it back in the answer's X-Hook-Secret, with a 200. The
// secret then signs every event (X-Hook-Signature). Switchyard shows
// credential-like headers as [redacted], so the secret is written in this
// message's log, once, for an operator to copy into the provider's secret
// hook_secret.
const secret = HTTP_HEADERS["x-hook-secret"];
if (!secret || HTTP_HEADERS["x-hook-signature"]) return;
if (secret !== PROPERTIES.hook_secret) LOG.info("Asana's X-Hook-Secret, to set as the secret hook_secret: " + secret);
RESPONSE.headers = { "X-Hook-Secret": secret };
RESPONSE.status = 200;
