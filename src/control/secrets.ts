// Secrets at rest: every stored secret (API keys for destinations, Slack URLs, endpoint signing
// secrets) is sealed with AES-256-GCM under SECRETS_KEY before it reaches storage, bound by its
// additional data to the tenant and the field it belongs to, so a sealed value copied to another
// tenant or field does not open.
import { logLine } from "../log.ts";
import { ConfigError } from "../config.ts";
import { base64ToBytes, bytesToBase64 } from "../crypto.ts";

import { isLocalDeployment } from "../local.ts";

const VERSION = "v1";
const IV_BYTES = 12;

/** Used when SECRETS_KEY is unset: a fixed key, published in this repository, so it protects nothing. */
const DEVELOPMENT_KEY_TEXT = "edgeflow development secrets key: set SECRETS_KEY";

let cached: { raw: string | undefined; bytes: Promise<Uint8Array<ArrayBuffer>>; keys: Map<string, Promise<CryptoKey>> } | undefined;
let warned = false;

/** Thrown when SECRETS_KEY is set but is not base64 of 32 bytes; the operator's mistake. */
class SecretsKeyError extends ConfigError {}

/** Whether the deployment set its own SECRETS_KEY. */
export function hasSecretsKey(env: Pick<Cloudflare.Env, "SECRETS_KEY">): boolean {
  return env.SECRETS_KEY !== undefined && env.SECRETS_KEY !== "";
}

/**
 * Whether new secrets may be sealed (and new API keys tagged) here: with the deployment's own
 * SECRETS_KEY, or in local development. Deployed without one, the development key would seal them
 * under a key anyone can read, so the writes are refused (503 configuration_error) instead.
 * Values sealed before still open with the development key, so a deployment upgrades in place.
 */
export function canSealNewSecrets(env: Pick<Cloudflare.Env, "SECRETS_KEY" | "LOCAL_DEV">): boolean {
  return hasSecretsKey(env) || isLocalDeployment(env);
}

/** Thrown by a write that needs SECRETS_KEY where it is unset (see canSealNewSecrets). */
export class SecretsKeyRequired extends ConfigError {
  constructor() {
    super("SECRETS_KEY is unset: set it (base64 of 32 random bytes) before storing secrets or creating API keys");
  }
}

function secretsKeyBytes(env: Cloudflare.Env): { bytes: Promise<Uint8Array<ArrayBuffer>>; keys: Map<string, Promise<CryptoKey>> } {
  const raw = env.SECRETS_KEY;
  if (cached && cached.raw === raw) return cached;
  let bytes: Promise<Uint8Array<ArrayBuffer>>;
  if (!hasSecretsKey(env)) {
    if (!warned) {
      warned = true;
      logLine(env, "warn", "SECRETS_KEY is unset: stored secrets are sealed with the development key; set it before deploying");
    }
    bytes = crypto.subtle.digest("SHA-256", new TextEncoder().encode(DEVELOPMENT_KEY_TEXT)).then((b) => new Uint8Array(b));
  } else {
    const decoded = base64ToBytes(raw!.trim());
    if (!decoded || decoded.length !== 32) throw new SecretsKeyError("SECRETS_KEY must be base64 of 32 random bytes");
    bytes = Promise.resolve(decoded);
  }
  cached = { raw, bytes, keys: new Map() };
  return cached;
}

function secretsKey(env: Cloudflare.Env): Promise<CryptoKey> {
  const entry = secretsKeyBytes(env);
  let key = entry.keys.get("seal");
  if (!key) {
    key = entry.bytes.then((b) => crypto.subtle.importKey("raw", b, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]));
    entry.keys.set("seal", key);
  }
  return key;
}

/**
 * An HMAC key for one purpose (API key tags, live tickets), derived from SECRETS_KEY so the
 * deployment has one secret to keep, and so a MAC made for one purpose means nothing for another.
 */
export function derivedMacKey(env: Cloudflare.Env, purpose: string): Promise<CryptoKey> {
  const entry = secretsKeyBytes(env);
  let key = entry.keys.get(`mac:${purpose}`);
  if (!key) {
    key = entry.bytes.then(async (b) => {
      const root = await crypto.subtle.importKey("raw", b, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const derived = await crypto.subtle.sign("HMAC", root, new TextEncoder().encode(`edgeflow/${purpose}`));
      return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    });
    entry.keys.set(`mac:${purpose}`, key);
  }
  return key;
}

/** `v1:{base64(iv ‖ ciphertext ‖ tag)}` of `plaintext`, bound to `context` (e.g. `acme/destination/crm`). */
export async function sealSecret(env: Cloudflare.Env, context: string, plaintext: string): Promise<string> {
  if (!canSealNewSecrets(env)) throw new SecretsKeyRequired();
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
