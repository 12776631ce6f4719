// Slack's Event Subscriptions check a Request URL before they send any
// event: a signed JSON request {"type": "url_verification", "challenge":
// "..."} whose challenge must come back in the answer. It is answered only
// when Slack's signature verifies, so nobody else can make this URL answer
// for the app. Every other request goes on to the match script: the cheap
// checks come first, because this runs for every request Switchyard gets.
if (!HTTP_HEADERS["x-slack-signature"]) return;
if (FLX_PRISTINE_PAYLOAD.indexOf("url_verification") < 0) return;
if (PAYLOAD.type !== "url_verification" || typeof PAYLOAD.challenge !== "string") return;
if (!SLACK.verify(PROPERTIES.signing_secret, PROPERTIES.tolerance)) return;
RESPONSE.body = { challenge: PAYLOAD.challenge };
