import { bytesToHex, hexToBytes, hmac, hmacKey, sameBytes, signedContent } from "../../crypto.ts";
import { defineScheme, payloadId, singleHeader } from "../scheme.ts";

async function signature(secret: string, body: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hmac(await hmacKey(secret), signedContent("", body));
}

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body. `X-GitHub-Delivery` and
 * `X-GitHub-Event` are not signed: kept as metadata and the provider type, never the event id.
 */
export const github = defineScheme({
  name: "github",
  async sign({ secret, body, id, event }) {
    return { "X-Hub-Signature-256": `sha256=${bytesToHex(await signature(secret, body))}`, "X-GitHub-Delivery": id, "X-GitHub-Event": event ?? "issues" };
  },
  async verify({ headers, body, secret }) {
    const header = singleHeader(headers, "x-hub-signature-256");
    const delivery = singleHeader(headers, "x-github-delivery");
    const given = header?.startsWith("sha256=") ? hexToBytes(header.slice("sha256=".length)) : null;
    if (!given || !delivery || !sameBytes(given, await signature(secret, body))) return null;
    return { deliveryId: delivery, eventType: singleHeader(headers, "x-github-event") ?? undefined };
  },
  mapping: { type: "", data: "" },
  eventId: (payload) => payloadId(payload),
  // `{X-GitHub-Event}.{action}`, e.g. issues.opened.
  providerType(payload, verified) {
    const action = typeof payload === "object" && payload !== null && Object.hasOwn(payload, "action") ? (payload as { action: unknown }).action : undefined;
    return verified.eventType && typeof action === "string" ? `${verified.eventType}.${action}` : verified.eventType;
  },
});
