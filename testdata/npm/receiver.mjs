// receiver.mjs is a webhook receiver that checks Standard Webhooks
// signatures with the standardwebhooks library, for
// server/notify_npm_test.go.
//
//   node receiver.mjs <secret>      (or the secret in RECEIVER_SECRET)
//
// It listens on 127.0.0.1 on a free port and prints {"port": <n>} as the
// first line of its standard output. Then, for every request, it verifies
// the signature with new Webhook(secret).verify(body, headers), answers 204
// when it verifies and 401 otherwise, and prints one JSON line:
//
//   {"verified": true|false, "id": "<webhook-id>", "event": "<x-switchyard-event>",
//    "body": <the body, parsed as JSON when it is JSON>, "error": "<why not verified>"}
//
// The line is written before the answer is sent, so a sender that has its
// answer can count on the line being out. The receiver exits when its
// standard input ends, so it never outlives the test that started it.

import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const secret = process.argv[2] || process.env.RECEIVER_SECRET;
if (!secret) {
  process.stderr.write("usage: node receiver.mjs <whsec_...> (or RECEIVER_SECRET)\n");
  process.exit(2);
}
const wh = new Webhook(secret);

function line(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks).toString("utf8");
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
      body,
    };
    try {
      wh.verify(raw, req.headers);
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
