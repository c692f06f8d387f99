import { base64ToBytes, bytesToBase64, hmac, hmacKey, sameBytes, signedContent, standardWebhooksKey } from "../../crypto.ts";
import { defineScheme, singleHeader, withinTolerance } from "../scheme.ts";

const STANDARD_WEBHOOKS_TOLERANCE_S = 300;

/** `v1` signature: base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed by the base64 after `whsec_`. */
async function signature(secret: string, id: string, timestamp: string, body: Uint8Array): Promise<Uint8Array<ArrayBuffer> | null> {
  const key = standardWebhooksKey(secret);
  return key ? hmac(await hmacKey(key), signedContent(`${id}.${timestamp}.`, body)) : null;
}

/** Standard Webhooks (Svix, Resend, …): `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` (space-separated). */
export const standardWebhooks = defineScheme({
  name: "standard-webhooks",
  async sign({ secret, body, id, now }) {
    const timestamp = String(Math.floor(now / 1000));
    const mac = await signature(secret, id, timestamp, body);
    if (!mac) throw new Error("a Standard Webhooks secret is whsec_ followed by base64");
    return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${bytesToBase64(mac)}` };
  },
  async verify({ headers, body, secret, now }) {
    const id = singleHeader(headers, "webhook-id");
    const timestamp = singleHeader(headers, "webhook-timestamp");
    const signatures = headers.get("webhook-signature");
    if (!id || !timestamp || !signatures || !withinTolerance(timestamp, now, STANDARD_WEBHOOKS_TOLERANCE_S)) return null;
    const expected = await signature(secret, id, timestamp, body);
    if (!expected) return null;
    // Space-separated per the spec; a second header (joined with ", ") is read the same way.
    for (const entry of signatures.split(/\s+/)) {
      const [version, value] = entry.replace(/,$/, "").split(",", 2);
      const given = version === "v1" && value ? base64ToBytes(value) : null;
      if (given && sameBytes(given, expected)) return { deliveryId: id };
    }
    return null;
  },
  mapping: { type: "type", data: "data", occurredAt: "timestamp" },
  // The webhook-id is signed.
  eventId: (_payload, verified) => verified.deliveryId,
});
