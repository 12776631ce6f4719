// Zoom validates an endpoint (when it is saved, then every 72 hours) with
// a signed event "endpoint.url_validation" carrying payload.plainToken.
// The answer is the token and its HMAC-SHA256 (hex) keyed with the Secret
// Token. The request is signed like every Zoom event and is answered only
// when its signature and timestamp check out.
const ts = HTTP_HEADERS["x-zm-request-timestamp"];
const sig = HTTP_HEADERS["x-zm-signature"];
if (!ts || !sig || FLX_PRISTINE_PAYLOAD.indexOf("endpoint.url_validation") < 0) return;
if (PAYLOAD.event !== "endpoint.url_validation" || !PAYLOAD.payload || typeof PAYLOAD.payload.plainToken !== "string") return;
if (!(Math.abs(Date.now() / 1000 - Number(ts)) <= Number(PROPERTIES.tolerance))) return;
const want = "v0=" + HMAC.generateHmacSHA256("v0:" + ts + ":" + FLX_PRISTINE_PAYLOAD, PROPERTIES.secret_token);
if (!HMAC.equals(sig, want)) return;
const plainToken = PAYLOAD.payload.plainToken;
RESPONSE.body = { plainToken: plainToken, encryptedToken: HMAC.generateHmacSHA256(plainToken, PROPERTIES.secret_token) };
