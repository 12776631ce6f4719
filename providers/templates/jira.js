// @name Jira
// @description Webhooks from Jira Cloud and Jira Data Center, signed with the
//   webhook's secret, or carrying a shared secret in the URL or a header.
// @property auth: signature (the webhook's Secret signs the body, in
//   X-Hub-Signature), query (the secret is a query parameter of the webhook's
//   URL) or header (the secret is a header's value) (one of signature, query, header) (default signature)
// @secret secret: the webhook's secret (required)
// @property query_param: the query parameter holding the secret, when auth is query (default secret)
// @property header: the header holding the secret, when auth is header (default X-Webhook-Secret)

// Every Jira webhook is JSON naming its event in webhookEvent
// (jira:issue_created, comment_created...). Checking it first keeps this
// provider from claiming other senders' webhooks: Bitbucket signs in
// X-Hub-Signature exactly as Jira does.
if (typeof PAYLOAD.webhookEvent !== "string") return false;
if (!PROPERTIES.secret) throw new TypeError('the secret "secret" is not set');

let ok;
if (PROPERTIES.auth === "query") {
  // The secret is in the URL, so it is also in every message's recorded
  // query: prefer a signature where Jira offers one.
  ok = HMAC.equals(QUERY_PARAMS[PROPERTIES.query_param] || "", PROPERTIES.secret);
} else if (PROPERTIES.auth === "header") {
  // HMAC.equals compares in constant time, unlike ===.
  ok = HMAC.equals(HTTP_HEADERS[PROPERTIES.header.toLowerCase()] || "", PROPERTIES.secret);
} else {
  // A webhook saved with a Secret (Jira Cloud admin webhooks, recent Jira
  // Data Center versions) sends X-Hub-Signature: "sha256=" and the
  // HMAC-SHA256 of the raw body, keyed with the secret.
  const want = "sha256=" + HMAC.sign("sha256", FLX_PRISTINE_PAYLOAD, PROPERTIES.secret, "hex");
  ok = HMAC.equals(HTTP_HEADERS["x-hub-signature"] || "", want);
}
// Say why in the message's log, never with the secret.
if (!ok) LOG.fine("Jira: the secret does not match (auth is " + PROPERTIES.auth + ")");
return ok;
