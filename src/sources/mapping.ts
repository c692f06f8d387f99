import type { Scheme, Verified } from "./verify";

/**
 * How a provider's payload becomes an edgeflow envelope. Paths are dot-separated into the JSON
 * payload ("" is the whole payload). Every field is optional; the defaults per scheme are below.
 */
export interface SourceMapping {
  /** Path of the provider's event type (GitHub: the X-GitHub-Event header, plus `.action`). */
  type?: string;
  /** Provider type → edgeflow type. A provider type not listed is used as it is. */
  types?: Record<string, string>;
  /** Path of the object that becomes `data`. */
  data?: string;
  /** Path of the value that becomes `data.id` (and so the entity id), as a string. */
  id?: string;
  /** Path of the event time (ISO string, epoch ms, or epoch seconds). */
  occurredAt?: string;
}

const DEFAULTS: Record<Scheme, Required<Pick<SourceMapping, "type" | "data">> & SourceMapping> = {
  "standard-webhooks": { type: "type", data: "data", occurredAt: "timestamp" },
  stripe: { type: "type", data: "data.object", occurredAt: "created" },
  github: { type: "", data: "" },
  "hmac-sha256": { type: "type", data: "data", occurredAt: "occurredAt" },
};

/** Reads a dotted path through own properties only, so `__proto__` and friends lead nowhere. */
export function at(value: unknown, path: string): unknown {
  if (path === "") return value;
  let current = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function toOccurredAt(value: unknown): string | number | undefined {
  if (typeof value === "string") return value;
  // Providers use epoch seconds (Stripe's `created`); anything that small cannot be epoch ms.
  if (typeof value === "number" && Number.isFinite(value)) return value < 1e11 ? Math.round(value * 1000) : Math.round(value);
  return undefined;
}

/**
 * Builds the edgeflow envelope for a verified provider payload; the envelope is then validated like
 * any other. The event id must come from signed bytes, or a captured body re-sent under a fresh
 * delivery header would pass as a new event: Standard Webhooks signs its `webhook-id`; otherwise the
 * payload's own `id` (Stripe's event id), else `sha256:` + the hex digest of the raw body
 * (`bodySha256`). GitHub's `X-GitHub-Delivery` and an `Idempotency-Key` are unsigned, so they are
 * kept as metadata only.
 */
export function toEnvelope(
  scheme: Scheme,
  mapping: SourceMapping | undefined,
  payload: unknown,
  verified: Verified,
  bodySha256: string,
): Record<string, unknown> {
  const m = { ...DEFAULTS[scheme], ...mapping };
  let providerType: unknown;
  if (scheme === "github" && mapping?.type === undefined) {
    const action = at(payload, "action");
    providerType = verified.eventType && typeof action === "string" ? `${verified.eventType}.${action}` : verified.eventType;
  } else {
    providerType = at(payload, m.type);
  }
  const type = typeof providerType === "string" && m.types && Object.hasOwn(m.types, providerType) ? m.types[providerType] : providerType;
  const rawData = at(payload, m.data);
  const data: Record<string, unknown> = typeof rawData === "object" && rawData !== null && !Array.isArray(rawData) ? { ...rawData } : {};
  if (m.id !== undefined) {
    const id = at(payload, m.id);
    if (typeof id === "string" || typeof id === "number") Object.defineProperty(data, "id", { value: String(id), enumerable: true, writable: true, configurable: true });
  }
  const envelope: Record<string, unknown> = { type, data };
  const payloadId = at(payload, "id");
  const signedDeliveryId = scheme === "standard-webhooks" ? verified.deliveryId : undefined;
  envelope.id = signedDeliveryId ?? (typeof payloadId === "string" ? payloadId : `sha256:${bodySha256}`);
  const occurredAt = m.occurredAt === undefined ? undefined : toOccurredAt(at(payload, m.occurredAt));
  if (occurredAt !== undefined) envelope.occurredAt = occurredAt;
  return envelope;
}
