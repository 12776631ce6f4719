// receiver.mjs is a webhook receiver that checks Standard Webhooks
// signatures, for server/notify_npm_test.go: v1 (HMAC) with the
// standardwebhooks library, v1a (Ed25519) with Node's own crypto (the
// library signs and verifies only v1).
//
//   node receiver.mjs <secret>      (or the secret in RECEIVER_SECRET)
//   RECEIVER_PUBLIC_KEY=whpk_... node receiver.mjs
//
// With RECEIVER_PUBLIC_KEY ("whpk_" + base64 of the 32 bytes of an Ed25519
// public key) it verifies v1a: one "v1a,<base64>" entry of webhook-signature
// must be the Ed25519 signature of "<webhook-id>.<webhook-timestamp>.<body>"
// (crypto.verify with a KeyObject made from the key as a JWK), and the
// timestamp within 5 minutes, as the library checks for v1.
//
// It listens on 127.0.0.1 on a free port and prints {"port": <n>} as the
// first line of its standard output. Then, for every request, it verifies
// the signature, answers 204 when it verifies and 401 otherwise, and prints
// one JSON line:
//
//   {"verified": true|false, "id": "<webhook-id>", "event": "<x-switchyard-event>",
//    "signature": "<webhook-signature>",
//    "body": <the body, parsed as JSON when it is JSON>, "error": "<why not verified>"}
//
// The line is written before the answer is sent, so a sender that has its
// answer can count on the line being out. The receiver exits when its
// standard input ends, so it never outlives the test that started it.

import { createServer } from "node:http";
import { createPublicKey, verify as edVerify } from "node:crypto";
import { Webhook } from "standardwebhooks";

const publicKey = process.env.RECEIVER_PUBLIC_KEY;
const secret = process.argv[2] || process.env.RECEIVER_SECRET;
if (!secret && !publicKey) {
  process.stderr.write("usage: node receiver.mjs <whsec_...> (or RECEIVER_SECRET, or RECEIVER_PUBLIC_KEY=whpk_...)\n");
  process.exit(2);
}

// v1a: the Standard Webhooks asymmetric scheme, checked with Node's crypto.
function v1aVerifier(whpk) {
  if (!whpk.startsWith("whpk_")) throw new Error("RECEIVER_PUBLIC_KEY must start with whpk_");
  const raw = Buffer.from(whpk.slice(5), "base64");
  if (raw.length !== 32) throw new Error(`the public key is ${raw.length} bytes, want 32`);
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  return {
    verify(_text, headers, bytes) {
      const id = headers["webhook-id"];
      const ts = headers["webhook-timestamp"];
      const sigs = headers["webhook-signature"];
      if (!id || !ts || !sigs) throw new Error("Missing required headers");
      const now = Math.floor(Date.now() / 1000);
      if (!/^[0-9]+$/.test(ts) || Math.abs(now - Number(ts)) > 5 * 60) throw new Error("Message timestamp too old or too new");
      const content = Buffer.concat([Buffer.from(`${id}.${ts}.`, "utf8"), bytes]); // the body's bytes as sent
      for (const entry of sigs.split(" ")) {
        const [version, sig] = entry.split(",");
        if (version !== "v1a" || !sig) continue;
        if (edVerify(null, content, key, Buffer.from(sig, "base64"))) return;
      }
      throw new Error("No matching v1a signature found");
    },
  };
}

const wh = publicKey ? v1aVerifier(publicKey) : new Webhook(secret);

function line(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const bytes = Buffer.concat(chunks);
    const raw = bytes.toString("utf8");
    let body = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // not JSON: keep the text
    }
    const out = {
      verified: false,
      id: req.headers["webhook-id"] ?? null,
      event: req.headers["x-switchyard-event"] ?? null,
      signature: req.headers["webhook-signature"] ?? null,
      body,
    };
    try {
      wh.verify(raw, req.headers, bytes);
      out.verified = true;
    } catch (e) {
      out.error = String((e && e.message) || e);
    }
    line(out);
    res.writeHead(out.verified ? 204 : 401);
    res.end();
  });
});

server.listen(0, "127.0.0.1", () => {
  line({ port: server.address().port });
});

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
