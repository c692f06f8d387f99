// With its extension: scripts/sign.ts runs this file directly in Node, which resolves no bare paths.
import { standardWebhooks } from "./schemes/standard-webhooks.ts";

/**
 * Standard Webhooks headers for an outbound call, so receivers can verify edgeflow:
 * `webhook-id` (the idempotency key), `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`: the scheme's own `sign`.
 */
export function signStandardWebhooks(secret: string, id: string, body: string | Uint8Array, now = Date.now()): Promise<Record<string, string>> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return standardWebhooks.sign({ secret, id, body: bytes, now });
}
