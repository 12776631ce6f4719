// When a subscription is created, Graph POSTs to the notification URL
// with ?validationToken=<token> and wants the token back as text/plain
// within 10 seconds. The token is not secret and carries no signature, so
// any request with it is answered; as plain text that is never sniffed as
// HTML, the echo cannot be used against a browser.
const token = QUERY_PARAMS.validationToken;
if (!token || token.length > 4096) return;
// Graph's validation request has an empty body: one with a body is not
// it (and is not kept as a handshake, whose payload would outlive
// --unmatched and --retention-unmatched).
if (FLX_PRISTINE_PAYLOAD.length > 0) return;
RESPONSE.headers = { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" };
RESPONSE.body = token;
