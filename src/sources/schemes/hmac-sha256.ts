import { bytesToHex, hexToBytes, hmac, hmacKey, sameBytes, signedContent } from "../../crypto.ts";
import { defineScheme, payloadId, singleHeader } from "../scheme.ts";

async function signature(secret: string, body: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hmac(await hmacKey(secret), signedContent("", body));
}

/** Generic: hex HMAC-SHA256 of the body in a header the source chooses (an optional `sha256=` prefix). */
export const hmacSha256 = defineScheme({
  name: "hmac-sha256",
  defaultHeader: "X-Signature",
  async sign({ secret, body, header }) {
    return { [header ?? "X-Signature"]: bytesToHex(await signature(secret, body)) };
  },
  async verify({ headers, body, secret, header }) {
    const value = singleHeader(headers, header ?? "x-signature");
    const given = value ? hexToBytes(value.startsWith("sha256=") ? value.slice(7) : value) : null;
    if (!given || !sameBytes(given, await signature(secret, body))) return null;
    // Unsigned: metadata only.
    return { deliveryId: singleHeader(headers, "idempotency-key") ?? undefined };
  },
  mapping: { type: "type", data: "data", occurredAt: "occurredAt" },
  eventId: (payload) => payloadId(payload),
});
