// The credentials the control plane hands out. Each is returned once and kept only as a digest
// (API keys) or sealed (signing secrets).
import { bytesToBase64, bytesToHex } from "../sources/crypto";

/**
 * API keys of stored tenants: `ek_{tenant}_{48 hex}`. The tenant is in the key so the router looks
 * up that tenant's configuration alone; the 192 random bits are what makes it a secret.
 */
export function newApiKey(tenant: string): string {
  return `ek_${tenant}_${bytesToHex(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/** The tenant a stored tenant's API key names, or null if the text is not such a key. */
export function tenantOfApiKey(key: string): string | null {
  return /^ek_([a-z0-9][a-z0-9_-]{0,63})_[0-9a-f]{48}$/.exec(key)?.[1] ?? null;
}

/** How a key is listed: everything but its last 42 hex digits (`ek_{tenant}_` and 6 more). */
export function keyPrefix(key: string): string {
  return key.slice(0, key.length - 42);
}

/** A new endpoint signing secret: `whsec_` and base64 of 24 random bytes (Standard Webhooks). */
export function newSigningSecret(): string {
  return `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}
