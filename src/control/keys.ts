// The credentials the control plane hands out. Each is returned once and kept only as a digest
// (API keys) or sealed (signing secrets).
import { bytesToBase64, bytesToHex, hexToBytes } from "../crypto.ts";
import { canSealNewSecrets, derivedMacKey, SecretsKeyRequired } from "./secrets.ts";

const TAG_PURPOSE = "api-key-tag";
const encoder = new TextEncoder();

/**
 * API keys of stored tenants: `ek_{tenant}_{32 hex random}{16 hex tag}`. The tenant is in the key
 * so the router looks up that tenant's configuration alone; the 128 random bits are what makes it
 * a secret; the tag (64 bits of an HMAC of the rest under a key derived from SECRETS_KEY) lets the
 * router refuse a forged key without any I/O. Keys issued before tags (0.4 and earlier) have the
 * same shape and no valid tag; the router still accepts them for the tenants stored back then.
 */
export async function newApiKey(env: Cloudflare.Env, tenant: string): Promise<string> {
  if (!canSealNewSecrets(env)) throw new SecretsKeyRequired();
  const body = `ek_${tenant}_${randomHex(16)}`;
  return `${body}${await keyTag(env, body)}`;
}

async function keyTag(env: Cloudflare.Env, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await derivedMacKey(env, TAG_PURPOSE), encoder.encode(body));
  return bytesToHex(mac.slice(0, 8));
}

/** Whether a stored tenant's key carries the tag this deployment gives its keys (checked in constant time). */
export async function hasValidTag(env: Cloudflare.Env, key: string): Promise<boolean> {
  if (tenantOfApiKey(key) === null) return false;
  const body = key.slice(0, -16);
  const tag = hexToBytes(key.slice(-16));
  if (!tag) return false;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await derivedMacKey(env, TAG_PURPOSE), encoder.encode(body))).slice(0, 8);
  // Compared without an early exit, so the time taken says nothing about where they differ.
  let diff = 0;
  for (let i = 0; i < 8; i++) diff |= mac[i]! ^ tag[i]!;
  return diff === 0;
}

/** The tenant a stored tenant's API key names, or null if the text is not such a key. */
export function tenantOfApiKey(key: string): string | null {
  return /^ek_([a-z0-9][a-z0-9_-]{0,63})_[0-9a-f]{48}$/.exec(key)?.[1] ?? null;
}

/** How a key is listed: everything but its last 42 hex digits (`ek_{tenant}_` and 6 more). */
export function keyPrefix(key: string): string {
  return key.slice(0, key.length - 42);
}

/** Random hex of `bytes` bytes (a tenant's incarnation, the tail of a record's id). */
export function randomHex(bytes: number): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A stored record's id: its kind's prefix and 16 random hex digits (`key_…`, `ep_…`, `sch_…`, `bf_…`). */
export function recordId(prefix: string): string {
  return `${prefix}_${randomHex(8)}`;
}

/** A new endpoint signing secret: `whsec_` and base64 of 24 random bytes (Standard Webhooks). */
export function newSigningSecret(): string {
  return `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}
