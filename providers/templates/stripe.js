// @name Stripe
// @description Events from a Stripe webhook endpoint, signed with the
//   endpoint's signing secret.
// @secret secret: the endpoint's Signing secret, "whsec_..." (required)
// @property tolerance: how old, in seconds, an event may be before it is refused as a replay (default 300)

// Stripe-Signature holds a timestamp and one or more signatures:
// "t=<timestamp>,v1=<hex>". Each v1 is the HMAC-SHA256 of
// "<timestamp>.<raw body>", keyed with the whole "whsec_..." secret. While
// a secret is being rolled, Stripe signs with the old and the new one: any
// v1 that matches is enough. Only Stripe sends Stripe-Signature, so no
// other check is needed to tell its events from other senders'.
return STRIPE.verify(PROPERTIES.secret, PROPERTIES.tolerance);
