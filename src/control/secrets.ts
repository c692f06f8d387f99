// Secrets at rest: every stored secret (API keys for destinations, Slack URLs, endpoint signing
// secrets) is sealed with AES-256-GCM under SECRETS_KEY before it reaches storage, bound by its
// additional data to the tenant and the field it belongs to, so a sealed value copied to another
// tenant or field does not open.
import { ConfigError } from "../config";
import { base64ToBytes, bytesToBase64 } from "../sources/crypto";

const VERSION = "v1";
const IV_BYTES = 12;

/** Used when SECRETS_KEY is unset (local development): a fixed key, so it protects nothing deployed. */
const DEVELOPMENT_KEY_TEXT = "edgeflow development secrets key: set SECRETS_KEY";

let cached: { raw: string | undefined; key: Promise<CryptoKey> } | undefined;
let warned = false;

/** Thrown when SECRETS_KEY is set but is not base64 of 32 bytes; the operator's mistake. */
export class SecretsKeyError extends ConfigError {}

function secretsKey(env: Cloudflare.Env): Promise<CryptoKey> {
  const raw = env.SECRETS_KEY;
  if (cached && cached.raw === raw) return cached.key;
  let bytes: Promise<ArrayBuffer>;
  if (raw === undefined || raw === "") {
    if (!warned) {
      warned = true;
      console.warn(JSON.stringify({ level: "warn", msg: "SECRETS_KEY is unset: stored secrets are sealed with the development key; set it before deploying" }));
    }
    bytes = crypto.subtle.digest("SHA-256", new TextEncoder().encode(DEVELOPMENT_KEY_TEXT));
  } else {
    const decoded = base64ToBytes(raw.trim());
    if (!decoded || decoded.length !== 32) throw new SecretsKeyError("SECRETS_KEY must be base64 of 32 random bytes");
    bytes = Promise.resolve(decoded.buffer);
  }
  const key = bytes.then((b) => crypto.subtle.importKey("raw", b, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]));
  cached = { raw, key };
  return key;
}

/** `v1:{base64(iv ‖ ciphertext ‖ tag)}` of `plaintext`, bound to `context` (e.g. `acme/destination/crm`). */
export async function sealSecret(env: Cloudflare.Env, context: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    await secretsKey(env),
    new TextEncoder().encode(plaintext),
  );
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv, 0);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return `${VERSION}:${bytesToBase64(out)}`;
}

/** Opens what `sealSecret` sealed under the same context; throws if the key or context differ. */
export async function openSecret(env: Cloudflare.Env, context: string, sealed: string): Promise<string> {
  const bytes = sealed.startsWith(`${VERSION}:`) ? base64ToBytes(sealed.slice(VERSION.length + 1)) : null;
  if (!bytes || bytes.length <= IV_BYTES) throw new Error("not a sealed secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: new TextEncoder().encode(context) },
    await secretsKey(env),
    bytes.slice(IV_BYTES),
  );
  return new TextDecoder().decode(plain);
}

/** How a secret is shown once stored: `…` and its last 4 characters. */
export function maskSecret(secret: string): string {
  return `…${secret.slice(-4)}`;
}
