import { base64ToBytes, bytesToBase64, hmac, hmacKey, sameBytes, signedContent } from "../../crypto.ts";
import { defineScheme, singleHeader } from "../scheme.ts";

/** `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body, keyed by the app's client secret. */
async function signature(secret: string, body: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hmac(await hmacKey(secret), signedContent("", body));
}

/**
 * Shopify webhooks. Only the body is signed: `X-Shopify-Topic` (e.g. `customers/create`) is the
 * provider type and `X-Shopify-Webhook-Id` metadata, and the payload's `id` is the resource's
 * (a customer updated twice keeps it), so the event id is the digest of the signed body.
 */
export const shopify = defineScheme({
  name: "shopify",
  async sign({ secret, body, id, event }) {
    return {
      "X-Shopify-Hmac-Sha256": bytesToBase64(await signature(secret, body)),
      "X-Shopify-Topic": event ?? "customers/create",
      "X-Shopify-Webhook-Id": id,
    };
  },
  async verify({ headers, body, secret }) {
    const value = singleHeader(headers, "x-shopify-hmac-sha256");
    const given = value ? base64ToBytes(value) : null;
    if (!given || !sameBytes(given, await signature(secret, body))) return null;
    return { deliveryId: singleHeader(headers, "x-shopify-webhook-id") ?? undefined, eventType: singleHeader(headers, "x-shopify-topic") ?? undefined };
  },
  mapping: { type: "", data: "", id: "id", occurredAt: "updated_at" },
  eventId: () => undefined,
  providerType: (_payload, verified) => verified.eventType,
});
