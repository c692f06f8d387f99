import {
  base64ToBytes,
  hexToBytes,
  hmacKey,
  signedContent,
  standardWebhooksKey,
  verifyMac,
} from "./crypto";

export type Scheme = "standard-webhooks" | "stripe" | "github" | "hmac-sha256";

export interface SourceConfig {
  scheme: Scheme;
  secret: string;
  /** hmac-sha256 only: the header holding the hex signature (default `X-Signature`). */
  header?: string;
}

/** What a verified request tells us beyond its body. */
export interface Verified {
  /** The provider's delivery id, when the scheme carries one in a header. */
  deliveryId?: string;
  /** The provider's event type header (GitHub's `X-GitHub-Event`). */
  eventType?: string;
}

export const STANDARD_WEBHOOKS_TOLERANCE_S = 300;
export const STRIPE_TOLERANCE_S = 300;

// A header that arrives twice is joined with ", " by the Fetch API; every scheme here treats a
// joined value as malformed rather than guessing which copy to trust.
const single = (headers: Headers, name: string): string | null => {
  const value = headers.get(name);
  return value === null || value.includes(", ") ? null : value;
};

function withinTolerance(timestamp: string, now: number, toleranceS: number): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(now / 1000 - Number(timestamp)) <= toleranceS;
}

/** Standard Webhooks: `v1,<base64>` entries, space-separated, over `{id}.{timestamp}.{body}`. */
async function standardWebhooks(headers: Headers, body: Uint8Array, secret: string, now: number): Promise<Verified | null> {
  const id = single(headers, "webhook-id");
  const timestamp = single(headers, "webhook-timestamp");
  const signatures = headers.get("webhook-signature");
  const keyBytes = standardWebhooksKey(secret);
  if (!id || !timestamp || !signatures || !keyBytes) return null;
  if (!withinTolerance(timestamp, now, STANDARD_WEBHOOKS_TOLERANCE_S)) return null;
  const key = await hmacKey(keyBytes);
  const content = signedContent(`${id}.${timestamp}.`, body);
  // Space-separated per the spec; a second header (joined with ", ") is read the same way.
  for (const entry of signatures.split(/\s+/)) {
    const [version, value] = entry.replace(/,$/, "").split(",", 2);
    if (version !== "v1" || !value) continue;
    const mac = base64ToBytes(value);
    if (mac && (await verifyMac(key, mac, content))) return { deliveryId: id };
  }
  return null;
}

/** Stripe: `Stripe-Signature: t=…,v1=…[,v1=…]`, hex HMAC over `{t}.{body}`. */
async function stripe(headers: Headers, body: Uint8Array, secret: string, now: number): Promise<Verified | null> {
  const header = headers.get("stripe-signature");
  if (!header) return null;
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const timestamps = parts.filter(([k]) => k === "t").map(([, v]) => v ?? "");
  if (timestamps.length !== 1 || !withinTolerance(timestamps[0]!, now, STRIPE_TOLERANCE_S)) return null;
  const key = await hmacKey(secret);
  const content = signedContent(`${timestamps[0]}.`, body);
  for (const [k, v] of parts) {
    if (k !== "v1" || !v) continue;
    const mac = hexToBytes(v);
    if (mac && (await verifyMac(key, mac, content))) return {};
  }
  return null;
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body; dedupe on `X-GitHub-Delivery`. */
async function github(headers: Headers, body: Uint8Array, secret: string): Promise<Verified | null> {
  const header = single(headers, "x-hub-signature-256");
  const delivery = single(headers, "x-github-delivery");
  if (!header?.startsWith("sha256=") || !delivery) return null;
  const mac = hexToBytes(header.slice("sha256=".length));
  if (!mac || !(await verifyMac(await hmacKey(secret), mac, signedContent("", body)))) return null;
  return { deliveryId: delivery, eventType: single(headers, "x-github-event") ?? undefined };
}

/** Generic: hex HMAC-SHA256 of the body in a configurable header (an optional `sha256=` prefix). */
async function genericHmac(headers: Headers, body: Uint8Array, secret: string, headerName: string): Promise<Verified | null> {
  const header = single(headers, headerName);
  if (!header) return null;
  const mac = hexToBytes(header.startsWith("sha256=") ? header.slice(7) : header);
  if (!mac || !(await verifyMac(await hmacKey(secret), mac, signedContent("", body)))) return null;
  return { deliveryId: single(headers, "idempotency-key") ?? undefined };
}

/**
 * Verifies a request's signature over its raw bytes, before anything parses them.
 * Returns null on any failure; callers answer every failure the same way.
 */
export function verifySignature(source: SourceConfig, headers: Headers, body: Uint8Array, now = Date.now()): Promise<Verified | null> {
  switch (source.scheme) {
    case "standard-webhooks":
      return standardWebhooks(headers, body, source.secret, now);
    case "stripe":
      return stripe(headers, body, source.secret, now);
    case "github":
      return github(headers, body, source.secret);
    case "hmac-sha256":
      return genericHmac(headers, body, source.secret, source.header ?? "x-signature");
  }
}
