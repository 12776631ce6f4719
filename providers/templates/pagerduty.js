// @name PagerDuty
// @description V3 webhook subscriptions from PagerDuty, signed with the
//   subscription's secret.
// @secret secret: the subscription's Secret, shown once when it is created (required)

// PagerDuty signs the raw body with HMAC-SHA256 keyed with the secret and
// sends "v1=<hex>" in X-PagerDuty-Signature. While a secret is rotated the
// header holds several, comma-separated: any one that matches is enough.
// Only PagerDuty sends that header: without it the request is another
// sender's.
const header = HTTP_HEADERS["x-pagerduty-signature"];
if (!header) return false;
const want = "v1=" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret);
// HMAC.equals compares in constant time: never compare signatures with ===.
// Every entry is compared, so the time taken does not say which matched.
let ok = false;
for (const sig of header.split(",").slice(0, 16)) {
  if (HMAC.equals(sig.trim(), want)) ok = true;
}
if (!ok) LOG.fine("no signature of x-pagerduty-signature matches");
return ok;
