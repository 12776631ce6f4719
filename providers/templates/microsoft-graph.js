// @name Microsoft Graph
// @description Change notifications from Microsoft Graph subscriptions
//   (Outlook, Teams, OneDrive, Entra ID), checked by their clientState;
//   the subscription's validation request is answered.
// @secret client_state: the clientState given when the subscription was created (required)

// Graph does not sign notifications: it sends back, in every one, the
// clientState secret the subscription was created with. A notification
// is {"value": [{..., "clientState": "..."}, ...]}; every item must carry
// the secret, or the request is refused.
if (typeof PAYLOAD !== "object" || PAYLOAD === null || !Array.isArray(PAYLOAD.value) || PAYLOAD.value.length === 0) return false;
// Without the secret every notification would be refused without a word.
if (!PROPERTIES.client_state) throw new TypeError("the secret client_state is not set");
for (const n of PAYLOAD.value) {
  // HMAC.equals compares in constant time: never compare secrets with ===.
  if (n === null || typeof n.clientState !== "string" || !HMAC.equals(n.clientState, PROPERTIES.client_state)) {
    LOG.fine("a notification's clientState does not match");
    return false;
  }
}
return true;
