// When a callback URL is saved, Meta sends
// GET ?hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=<n>
// and expects the challenge back, as it is. It is answered only when the
// verify token is the one set in the provider: anyone else gets no echo.
if (METHOD !== "GET" || QUERY_PARAMS["hub.mode"] !== "subscribe") return;
const token = QUERY_PARAMS["hub.verify_token"];
const challenge = QUERY_PARAMS["hub.challenge"];
if (!token || !challenge || !HMAC.equals(token, PROPERTIES.verify_token)) return;
RESPONSE.headers = { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" };
RESPONSE.body = challenge;
