// @name GitLab
// @description Webhooks from GitLab.com and self-managed GitLab, checked with
//   the webhook's secret token or signing token.
// @property auth: what GitLab sends to prove the request is from it: token
//   (the webhook's Secret token) or signing (the webhook's Signing token)
//   (one of token, signing) (default token)
// @secret token: the webhook's Secret token (required when auth is token)
// @secret signing_token: the webhook's Signing token, "whsec_..." (required when auth is signing)

// Every GitLab webhook names its event in X-Gitlab-Event ("Push Hook",
// "Merge Request Hook"...). Checking it first keeps this provider from
// claiming other senders' webhooks.
if (!HTTP_HEADERS["x-gitlab-event"]) return false;

if (PROPERTIES.auth === "signing") {
  // A signing token signs the delivery id, a timestamp and the body the
  // Standard Webhooks way (webhook-id, webhook-timestamp,
  // webhook-signature): it proves the body is GitLab's, unchanged, and
  // less than 5 minutes old.
  return STANDARD.verify(PROPERTIES.signing_token);
}

// A secret token travels as it is, in X-Gitlab-Token: it proves who sent
// the request but does not cover the body. Use HTTPS, or a signing token.
return GITLAB.verify(PROPERTIES.token);
