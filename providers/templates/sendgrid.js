// @name SendGrid
// @description Events from a SendGrid (Twilio) Event Webhook with signature
//   verification on, signed with ECDSA.
// @secret verification_key: the webhook's Verification Key, base64 as SendGrid shows it (or PEM) (required)
// @property tolerance: how old, in seconds, a batch of events may be before it is refused as a replay (default 300)

// With "Signed Event Webhook Requests" on, SendGrid signs
// "<timestamp><raw body>" with ECDSA P-256 and SHA-256, and sends the base64
// DER signature in X-Twilio-Email-Event-Webhook-Signature and the
// timestamp in X-Twilio-Email-Event-Webhook-Timestamp. Only SendGrid sends
// that header: without it the request is another sender's, and
// SENDGRID.verify would log a FINE line about it.
if (!HTTP_HEADERS["x-twilio-email-event-webhook-signature"]) return false;
return SENDGRID.verify(PROPERTIES.verification_key, PROPERTIES.tolerance);
