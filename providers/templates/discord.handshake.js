// Discord checks an Interactions Endpoint URL (when it is saved, and now
// and then after) with a PING, {"type": 1}, which must be answered
// {"type": 1} as JSON. It also sends PINGs with a wrong signature, and
// removes the URL unless they are refused with a 401: the PONG is given
// only when the signature verifies. Every other request goes on to the
// match script.
if (!HTTP_HEADERS["x-signature-ed25519"] || METHOD !== "POST") return;
if (PAYLOAD === null || typeof PAYLOAD !== "object" || PAYLOAD.type !== 1) return;
if (!DISCORD.verify(PROPERTIES.public_key, PROPERTIES.tolerance)) {
  RESPONSE = { status: 401, body: "invalid request signature" };
  return;
}
RESPONSE.body = { type: 1 };
