// edkeys.mjs makes a Standard Webhooks Ed25519 key pair with Node's crypto,
// for server/notify_npm_test.go: an implementation other than Go's decides
// what a "whsk_" key is.
//
// Standard input: ignored. Standard output:
//   {"secret": "whsk_<base64 of the 32-byte seed then the 32-byte public key>",
//    "public": "whpk_<base64 of the 32-byte public key>"}
// (the secret key as libsodium's crypto_sign_keypair writes it).

import { generateKeyPairSync } from "node:crypto";

const { privateKey } = generateKeyPairSync("ed25519");
const jwk = privateKey.export({ format: "jwk" }); // d: the seed, x: the public key
const seed = Buffer.from(jwk.d, "base64url");
const pub = Buffer.from(jwk.x, "base64url");
process.stdout.write(
  JSON.stringify({
    secret: "whsk_" + Buffer.concat([seed, pub]).toString("base64"),
    public: "whpk_" + pub.toString("base64"),
  }) + "\n",
);
