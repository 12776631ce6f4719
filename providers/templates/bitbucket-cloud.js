// @name Bitbucket Cloud
// @description Webhooks from Bitbucket Cloud (bitbucket.org), signed with the
//   webhook's secret.
// @secret secret: the webhook's Secret, as set in Bitbucket (required)

// Bitbucket Cloud names the event in X-Event-Key (repo:push,
// pullrequest:created...) and the webhook in X-Hook-UUID. Bitbucket Data
// Center sends X-Event-Key but no X-Hook-UUID, so the two templates never
// claim each other's webhooks, nor any other sender's.
if (!HTTP_HEADERS["x-event-key"] || !HTTP_HEADERS["x-hook-uuid"]) return false;

// X-Hub-Signature is "sha256=" and the HMAC-SHA256 of the raw body, keyed
// with the secret. A webhook saved without a secret sends no signature,
// and this provider refuses it: set a secret in Bitbucket.
return BITBUCKET.verify(PROPERTIES.secret);
