// With its extension: scripts/sign.ts runs this file directly in Node, which resolves no bare paths.
import { bytesToBase64, hmac, hmacKey, signedContent, standardWebhooksKey } from "./crypto.ts";

/**
 * Standard Webhooks headers for an outbound call, so receivers can verify edgeflow:
 * `webhook-id` (the idempotency key), `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
 */
export async function signStandardWebhooks(secret: string, id: string, body: string | Uint8Array, now = Date.now()): Promise<Record<string, string>> {
  const key = standardWebhooksKey(secret);
  if (!key) throw new Error("a Standard Webhooks secret is whsec_ followed by base64");
  const timestamp = String(Math.floor(now / 1000));
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const mac = await hmac(await hmacKey(key), signedContent(`${id}.${timestamp}.`, bytes));
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${bytesToBase64(mac)}` };
}
