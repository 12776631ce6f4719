// @name Twilio
// @description Webhooks from Twilio (Messaging, Voice, status callbacks),
//   signed with the account's Auth Token.
// @secret auth_token: the Auth Token of the account (or subaccount) that owns the number (required)
// @property public_url: the webhook's URL exactly as typed in Twilio, query string included (required)
//
// Twilio signs the URL it called and the POST parameters: the HMAC-SHA1,
// keyed with the Auth Token, of the full URL followed by every form
// parameter, sorted by name, each as name then value. The result is base64
// in X-Twilio-Signature. The URL is the one Twilio called, which this node
// cannot know behind a proxy or a load balancer: hence public_url.

// Only Twilio sends X-Twilio-Signature: without it the request is another
// sender's.
const sig = HTTP_HEADERS["x-twilio-signature"];
if (!sig) return false;
const url = PROPERTIES.public_url;
if (typeof url !== "string" || url === "") throw new TypeError("the property public_url is not set: it must be the webhook's URL as typed in Twilio");

// Twilio signs a POST's form parameters. Its other requests (GET, whose
// parameters are in the query string; a JSON body, covered by a
// bodySHA256 query parameter) sign a URL that changes with every request,
// which a fixed public_url cannot give: configure the webhook as POST.
if (METHOD !== "POST" || !/^application\/x-www-form-urlencoded/i.test(HTTP_HEADERS["content-type"] || "")) {
  LOG.fine("not a POST with a form body: set the webhook's method to HTTP POST in Twilio");
  return false;
}
const params = Array.from(new URLSearchParams(FLX_PRISTINE_PAYLOAD));
// Sorted by name, then (for a repeated name) by value, as Twilio's own
// libraries do; compared by UTF-16 code units, like their sort().
params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
let signed = url;
for (const [name, value] of params) signed += name + value;
// HMAC.equals compares in constant time: never compare signatures with ===.
if (!HMAC.equals(sig, HMAC.sign("sha1", signed, PROPERTIES.auth_token, "base64"))) {
  LOG.fine("x-twilio-signature does not match (is public_url exactly the URL typed in Twilio?)");
  return false;
}
return true;
