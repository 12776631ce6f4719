// @name Standard Webhooks
// @description Webhooks from any sender that follows the Standard Webhooks
//   specification (standardwebhooks.com), signed with a "whsec_..." secret.
// @secret secret: the signing secret the sender gave you, "whsec_<base64>" (required)
// @property tolerance: how old, in seconds, a webhook may be before it is refused as a replay (default 300)

// The sender signs "<webhook-id>.<webhook-timestamp>.<raw body>" with
// HMAC-SHA256, keyed with the base64-decoded secret, and sends
// "v1,<base64>" in webhook-signature (several, space-separated, while a
// secret is being rolled). Any sender can follow the standard, so put a
// provider for a sender that also has its own template (GitLab with a
// signing token) before this one.
return STANDARD.verify(PROPERTIES.secret, PROPERTIES.tolerance);
