import { bytesToHex, hexToBytes, hmac, hmacKey, sameBytes, signedContent } from "../../crypto.ts";
import { defineScheme, payloadId, withinTolerance } from "../scheme.ts";

const STRIPE_TOLERANCE_S = 300;

/** `v1` signature: hex HMAC-SHA256 of `{t}.{body}`. */
async function signature(secret: string, timestamp: string, body: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hmac(await hmacKey(secret), signedContent(`${timestamp}.`, body));
}

/** Stripe: `Stripe-Signature: t=…,v1=…[,v1=…]`; the event id is the payload's own (`evt_…`), which is signed. */
export const stripe = defineScheme({
  name: "stripe",
  async sign({ secret, body, now }) {
    const timestamp = String(Math.floor(now / 1000));
    return { "Stripe-Signature": `t=${timestamp},v1=${bytesToHex(await signature(secret, timestamp, body))}` };
  },
  async verify({ headers, body, secret, now }) {
    const header = headers.get("stripe-signature");
    if (!header) return null;
    const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
    const timestamps = parts.filter(([k]) => k === "t").map(([, v]) => v ?? "");
    if (timestamps.length !== 1 || !withinTolerance(timestamps[0]!, now, STRIPE_TOLERANCE_S)) return null;
    const expected = await signature(secret, timestamps[0]!, body);
    for (const [k, v] of parts) {
      const given = k === "v1" && v ? hexToBytes(v) : null;
      if (given && sameBytes(given, expected)) return {};
    }
    return null;
  },
  mapping: { type: "type", data: "data.object", occurredAt: "created" },
  eventId: (payload) => payloadId(payload),
});
