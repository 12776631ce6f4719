// @name Bitbucket Server
// @description Webhooks from Bitbucket Data Center and Bitbucket Server
//   (self-hosted), signed with the webhook's secret.
// @secret secret: the webhook's Secret, as set in Bitbucket (required)

// Bitbucket Data Center names the event in X-Event-Key (repo:refs_changed,
// pr:opened...). Bitbucket Cloud sends X-Event-Key too, with X-Hook-UUID,
// which Data Center never sends: its webhooks are the Bitbucket Cloud
// template's.
if (!HTTP_HEADERS["x-event-key"] || HTTP_HEADERS["x-hook-uuid"]) return false;

// X-Hub-Signature is "sha256=" and the HMAC-SHA256 of the raw body, keyed
// with the secret. HmacSHA256 is Bitbucket's default; a server set to
// another algorithm is refused, with a FINE log line naming it.
return BITBUCKET.verify(PROPERTIES.secret);
