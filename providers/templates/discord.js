// @name Discord
// @description Interactions from a Discord application (its Interactions
//   Endpoint URL), signed with Ed25519; the PING check is answered.
// @secret public_key: the application's Public Key (General Information), 64 hex digits (required)
// @property tolerance: how old, in seconds, an interaction may be before it is refused as a replay (default 300)

// Discord signs "<X-Signature-Timestamp><raw body>" with the application's
// Ed25519 private key and sends the hex signature in X-Signature-Ed25519.
// Only Discord sends that header: without it the request is another
// sender's, and DISCORD.verify would log a FINE line about it.
if (!HTTP_HEADERS["x-signature-ed25519"]) return false;
// Discord sends requests signed wrongly on purpose, to check that the
// endpoint refuses them: those are false here, and a FINE line says why.
return DISCORD.verify(PROPERTIES.public_key, PROPERTIES.tolerance);
