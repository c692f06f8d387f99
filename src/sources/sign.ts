import { bytesToBase64, hmac, hmacKey, signedContent, standardWebhooksKey } from "./crypto";

/**
 * Standard Webhooks headers for an outbound call, so receivers can verify edgeflow:
 * `webhook-id` (the idempotency key), `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
 */
export async function signStandardWebhooks(secret: string, id: string, body: string, now = Date.now()): Promise<Record<string, string>> {
  const key = standardWebhooksKey(secret);
  if (!key) throw new Error("signingSecret must be a whsec_ base64 secret");
  const timestamp = String(Math.floor(now / 1000));
  const mac = await hmac(await hmacKey(key), signedContent(`${id}.${timestamp}.`, new TextEncoder().encode(body)));
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${bytesToBase64(mac)}` };
}
