// X's Challenge-Response Check: GET ?crc_token=<token>, when the webhook
// is registered, hourly, and on demand. The answer is
// {"response_token": "sha256=<base64 HMAC-SHA256 of the token, keyed with
// the consumer secret>"}: only the holder of the secret can give it.
if (METHOD !== "GET") return;
const token = QUERY_PARAMS.crc_token;
if (!token || token.length > 4096) return;
RESPONSE.body = { response_token: "sha256=" + HMAC.sign("sha256", token, PROPERTIES.consumer_secret, "base64") };
