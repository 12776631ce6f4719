// X's Challenge-Response Check: GET ?crc_token=<token>, when the webhook
// is registered, hourly, and on demand. The answer is
// {"response_token": "sha256=<base64 HMAC-SHA256 of the token, keyed with
// the consumer secret>"}: only the holder of the secret can give it.
if (METHOD !== "GET") return;
const token = QUERY_PARAMS.crc_token;
// The answer is the signature X would send for a body equal to the token,
// so a token is answered only when it cannot be a body: X's tokens are
// base64-like text, and every X event is a JSON object (the match script
// requires one). Without this, anyone could have a forged event signed.
if (typeof token !== "string" || !/^[A-Za-z0-9+\/=_-]{1,1024}$/.test(token)) return;
RESPONSE.body = { response_token: "sha256=" + HMAC.sign("sha256", token, PROPERTIES.consumer_secret, "base64") };
