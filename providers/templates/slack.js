// @name Slack
// @description Requests from a Slack app (Events API, slash commands,
//   interactivity), signed with the app's Signing Secret.
// @secret signing_secret: the app's Signing Secret (Basic Information, App Credentials) (required)
// @property tolerance: how old, in seconds, a request may be before it is refused as a replay (default 300)

// Slack signs "v0:<timestamp>:<raw body>" with HMAC-SHA256 and sends the
// result in X-Slack-Signature, the timestamp in X-Slack-Request-Timestamp.
// Only Slack sends those headers, so no other check is needed to tell its
// requests from other senders'. A request older (or further in the future)
// than the tolerance is refused: a captured request cannot be replayed
// later.
// Only Slack sends X-Slack-Signature: without it, the request is another
// sender's, and SLACK.verify would log a FINE line about a missing header.
if (!HTTP_HEADERS["x-slack-signature"]) return false;
return SLACK.verify(PROPERTIES.signing_secret, PROPERTIES.tolerance);
