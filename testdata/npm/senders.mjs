// senders.mjs signs and verifies webhook requests the way each sender does,
// for scripting/senders_test.go.
//
// Standard input: a JSON array of operations. Standard output: a JSON array
// with one result per operation, in the same order.
//
//   {"op": "sign", "sender": "github"|"gitlab"|"bitbucket"|"slack"|"stripe"|"standard",
//    "secret": "...", "body": "<base64 of the raw body>", "timestamp": <unix s>, "id": "msg_..."}
//     -> {"headers": {"<lower-case name>": "<value>", ...}}
//
//   {"op": "verify", "sender": "github"|"stripe"|"standard", "secret": "...",
//    "body": "<base64>", "headers": {...}, "now": <unix s>, "tolerance": <s>}
//     -> {"ok": true} or {"ok": false, "error": "<the library's message>"}
//
// GitHub, Stripe and Standard Webhooks signatures come from the senders' own
// libraries (@octokit/webhooks-methods, stripe, standardwebhooks). Those
// libraries take the payload as a string (they UTF-8 encode it, or decode a
// Buffer as UTF-8 first), so bodies given to them must be valid UTF-8.
//
// GitLab, Bitbucket and Slack publish no signing library in this set: their
// headers are computed here with node:crypto from the vendors' documentation,
// over the raw body bytes:
//   - GitLab: X-Gitlab-Token is the webhook's secret token itself (GitLab
//     docs, "Webhooks", secret token).
//   - Bitbucket Cloud and Data Center: X-Hub-Signature: sha256=<hex HMAC-SHA256
//     of the body, keyed with the secret> (Atlassian docs: Bitbucket Cloud
//     "Manage webhooks"; Bitbucket Data Center "Event payload", HTTP headers).
//   - Slack: X-Slack-Request-Timestamp: <unix s>, X-Slack-Signature:
//     v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>", keyed with the signing
//     secret> (Slack docs, "Verifying requests from Slack").

import { createHmac } from "node:crypto";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";

const stripe = new Stripe("sk_test_unused"); // webhooks helpers only: no request is made

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

// withClock runs f with Date.now() returning now (unix seconds), so that the
// libraries' timestamp checks use the test's clock.
function withClock(now, f) {
  const real = Date.now;
  if (typeof now === "number") Date.now = () => now * 1000;
  try {
    return f();
  } finally {
    Date.now = real;
  }
}

async function sign(op) {
  const raw = Buffer.from(op.body, "base64");
  const text = raw.toString("utf8");
  switch (op.sender) {
    case "github":
      return { "x-hub-signature-256": await octokitSign(op.secret, text) };
    case "gitlab":
      return { "x-gitlab-token": op.secret };
    case "bitbucket":
      return { "x-hub-signature": "sha256=" + createHmac("sha256", op.secret).update(raw).digest("hex") };
    case "slack": {
      const ts = String(op.timestamp);
      const base = Buffer.concat([Buffer.from(`v0:${ts}:`), raw]);
      return {
        "x-slack-request-timestamp": ts,
        "x-slack-signature": "v0=" + createHmac("sha256", op.secret).update(base).digest("hex"),
      };
    }
    case "stripe":
      return {
        "stripe-signature": stripe.webhooks.generateTestHeaderString({
          payload: text,
          secret: op.secret,
          timestamp: op.timestamp,
        }),
      };
    case "standard":
      return {
        "webhook-id": op.id,
        "webhook-timestamp": String(op.timestamp),
        "webhook-signature": new Webhook(op.secret).sign(op.id, new Date(op.timestamp * 1000), text),
      };
  }
  throw new Error(`sign: unknown sender ${op.sender}`);
}

async function verify(op) {
  const text = Buffer.from(op.body, "base64").toString("utf8");
  const h = op.headers;
  switch (op.sender) {
    case "github":
      return octokitVerify(op.secret, text, h["x-hub-signature-256"]);
    case "stripe":
      withClock(op.now, () => stripe.webhooks.constructEvent(text, h["stripe-signature"], op.secret, op.tolerance));
      return true;
    case "standard":
      withClock(op.now, () => new Webhook(op.secret).verify(text, h, { jsonParse: false }));
      return true;
  }
  throw new Error(`verify: unknown sender ${op.sender}`);
}

const out = [];
for (const op of await readStdin()) {
  if (op.op === "sign") {
    out.push({ headers: await sign(op) });
  } else if (op.op === "verify") {
    try {
      const ok = await verify(op);
      out.push(ok ? { ok: true } : { ok: false, error: "signature does not match" });
    } catch (e) {
      out.push({ ok: false, error: String(e.message || e).split("\n")[0] });
    }
  } else {
    throw new Error(`unknown op ${op.op}`);
  }
}
process.stdout.write(JSON.stringify(out));
