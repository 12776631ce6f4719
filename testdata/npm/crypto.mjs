// crypto.mjs makes public keys, signatures and JWTs with independent
// implementations, for scripting/crypto_test.go: Node's crypto for
// CRYPTO.verify, Discord, SendGrid and Standard Webhooks v1a, and jose for
// JWT.verify.
//
// Standard input: {"data": "<base64>", "now": <unix s>, "id": "msg_..."}.
// Standard output: one JSON object, described by the Go test's nodeCrypto.
//
// The sender schemes follow the senders' documentation:
//   - Discord ("Interactions", security and authorization): X-Signature-Ed25519
//     is the hex Ed25519 signature of X-Signature-Timestamp + body; the
//     application's public key is 64 hex digits.
//   - SendGrid ("Event Webhook Security Features"): the ECDSA P-256 SHA-256
//     signature of X-Twilio-Email-Event-Webhook-Timestamp + body, base64 DER,
//     in X-Twilio-Email-Event-Webhook-Signature; the verification key is the
//     base64 DER (SubjectPublicKeyInfo) of the P-256 key.
//   - Standard Webhooks (spec, "Signature scheme", asymmetric): webhook-signature
//     holds "v1a,<base64 Ed25519 signature of id.timestamp.body>"; the public
//     key is "whpk_" + base64 of its 32 bytes. The standardwebhooks npm
//     package signs only v1 (HMAC), hence Node's crypto here.

import { createHmac, generateKeyPairSync, sign, constants } from "node:crypto";
import * as jose from "jose";

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const input = await readStdin();
const data = Buffer.from(input.data, "base64");
const out = { keys: {}, sigs: {} };

const spki = (k) => k.export({ type: "spki", format: "pem" });
const ed = generateKeyPairSync("ed25519");
const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const edRaw = ed.publicKey.export({ format: "jwk" }).x; // base64url of the 32 bytes
const edBytes = Buffer.from(edRaw, "base64url");

out.keys = {
  ed25519_pem: spki(ed.publicKey),
  ed25519_hex: edBytes.toString("hex"),
  ed25519_base64: edBytes.toString("base64"),
  p256_pem: spki(p256.publicKey),
  p256_der_base64: p256.publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  rsa_pem: spki(rsa.publicKey),
  rsa_pkcs1_pem: rsa.publicKey.export({ type: "pkcs1", format: "pem" }),
};
out.sigs = {
  ed25519_hex: sign(null, data, ed.privateKey).toString("hex"),
  ed25519_base64: sign(null, data, ed.privateKey).toString("base64"),
  ecdsa_der_base64: sign("sha256", data, p256.privateKey).toString("base64"),
  ecdsa_der_hex: sign("sha256", data, p256.privateKey).toString("hex"),
  ecdsa_raw_base64: sign("sha256", data, { key: p256.privateKey, dsaEncoding: "ieee-p1363" }).toString("base64"),
  rsa_sha256: sign("sha256", data, rsa.privateKey).toString("base64"),
  rsa_sha1: sign("sha1", data, rsa.privateKey).toString("base64"),
  rsa_pss_sha256: sign("sha256", data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING }).toString("base64"),
  rsa_pss_sha256_hash_salt: sign("sha256", data, {
    key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
  }).toString("hex"),
};

const ts = String(input.now);
out.discord = {
  public_key: out.keys.ed25519_hex,
  headers: {
    "x-signature-ed25519": sign(null, Buffer.concat([Buffer.from(ts), data]), ed.privateKey).toString("hex"),
    "x-signature-timestamp": ts,
  },
};
out.sendgrid = {
  public_key: out.keys.p256_der_base64,
  headers: {
    "x-twilio-email-event-webhook-signature": sign("sha256", Buffer.concat([Buffer.from(ts), data]), p256.privateKey).toString("base64"),
    "x-twilio-email-event-webhook-timestamp": ts,
  },
};
out.standard = {
  public_key: "whpk_" + out.keys.ed25519_base64,
  headers: {
    "webhook-id": input.id,
    "webhook-timestamp": ts,
    "webhook-signature": "v1a," + sign(null, Buffer.concat([Buffer.from(`${input.id}.${ts}.`), data]), ed.privateKey).toString("base64"),
  },
};

// JWTs, signed by jose. Each algorithm has its own key pair; the JWKS
// holds every public key under its kid.
const claims = { sub: "user-1", iss: "https://issuer.example", aud: "switchyard", scope: "hooks", n: [1, { deep: true }] };
const now = input.now;
const secret = "a shared secret of thirty-two bytes!";
const jwt = { secret, tokens: {}, public_keys: {}, jwks: { keys: [] }, bad: {} };
async function token(alg, key, header = {}, over = {}) {
  return new jose.SignJWT({ ...claims, ...over })
    .setProtectedHeader({ alg, ...header })
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(key);
}
const hmacKey = new TextEncoder().encode(secret);
for (const alg of ["HS256", "HS384", "HS512"]) jwt.tokens[alg] = await token(alg, hmacKey);
for (const alg of ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const kid = "key-" + alg;
  jwt.tokens[alg] = await token(alg, privateKey, { kid });
  jwt.public_keys[alg] = await jose.exportSPKI(publicKey);
  jwt.jwks.keys.push({ ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" });
  if (alg === "RS256") {
    jwt.bad.expired = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid }).setExpirationTime(now - 120).sign(privateKey);
    jwt.bad.not_yet = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid }).setNotBefore(now + 120).sign(privateKey);
    jwt.bad.unknown_kid = await token(alg, privateKey, { kid: "rotated-in" });
    jwt.bad.no_kid = await token(alg, privateKey);
    // The classic confusion: HS256 keyed with the RSA public key's PEM.
    const pem = jwt.public_keys[alg];
    const h = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const p = Buffer.from(JSON.stringify({ ...claims, exp: now + 600 })).toString("base64url");
    jwt.bad.hs256_with_public_key = `${h}.${p}.` + createHmac("sha256", pem).update(`${h}.${p}`).digest("base64url");
    const none = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    jwt.bad.alg_none = `${none}.${p}.`;
  }
}
out.jwt = jwt;
out.claims = claims;
process.stdout.write(JSON.stringify(out));
