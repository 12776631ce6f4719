// Dropbox verifies a webhook URI with GET ?challenge=<text> and wants the
// text back as it is, as text/plain with X-Content-Type-Options: nosniff
// (so that the echo cannot be read as HTML by a browser).
if (METHOD !== "GET" || FLX_PRISTINE_PAYLOAD.length > 0) return; // Dropbox's check is a GET without a body
const challenge = QUERY_PARAMS.challenge;
if (!challenge || challenge.length > 4096) return;
RESPONSE.headers = { "Content-Type": "text/plain", "X-Content-Type-Options": "nosniff" };
RESPONSE.body = challenge;
