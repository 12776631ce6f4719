// @name GitHub
// @description Webhooks from GitHub.com and GitHub Enterprise Server, signed
//   with the webhook's secret.
// @secret secret: the webhook's Secret, as typed in GitHub (required)
//
// GitHub signs every delivery: X-Hub-Signature-256 is "sha256=" and the
// HMAC-SHA256 of the raw body, keyed with the secret. (Older GitHub
// Enterprise Server versions send only X-Hub-Signature, with SHA-1;
// GITHUB.verify accepts that too.)

// Every GitHub delivery names its event in X-GitHub-Event (push,
// pull_request, ping...). Checking it first keeps this provider from
// claiming other senders' webhooks, even one signed with the same secret
// (Bitbucket and Jira sign the same way, in X-Hub-Signature), and keeps
// their messages' logs free of this provider's "no signature" lines.
if (!GITHUB.event()) return false;

// true when the signature is right. When it is missing or wrong, false,
// and a FINE line in the message's log says why.
return GITHUB.verify(PROPERTIES.secret);
