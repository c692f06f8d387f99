import { bytesToBase64 } from "../crypto.ts";
import type { JsonValue } from "../types.ts";

/**
 * JSON with object keys sorted at every level, so two bodies that differ only in key order or
 * whitespace give the same text. Depth is already bounded by the body parser.
 */
function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(",")}}`;
}

/** SHA-256 of the canonical JSON, base64url without padding (43 characters). */
export async function fingerprint(value: JsonValue): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(value)));
  return bytesToBase64(digest).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
