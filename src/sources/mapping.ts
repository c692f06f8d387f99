import type { SourceMapping, Verified } from "./scheme.ts";
import { signatureScheme, type SchemeName } from "./schemes.ts";

export type { SourceMapping } from "./scheme.ts";

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
 * any other. Paths are dot-separated into the JSON payload ("" is the whole payload); the scheme
 * gives the defaults (its `mapping`) and the event id, which must come from signed bytes or a
 * captured body re-sent under a fresh delivery header would pass as a new event: the scheme's
 * `eventId`, else `sha256:` + the hex digest of the raw body (`bodySha256`).
 */
export function toEnvelope(
  schemeName: SchemeName,
  mapping: SourceMapping | undefined,
  payload: unknown,
  verified: Verified,
  bodySha256: string,
): Record<string, unknown> {
  const scheme = signatureScheme(schemeName);
  if (!scheme) throw new Error(`unknown scheme ${schemeName}`);
  const m = { ...scheme.mapping, ...mapping };
  const providerType = scheme.providerType && mapping?.type === undefined ? scheme.providerType(payload, verified) : at(payload, m.type);
  const type = typeof providerType === "string" && m.types && Object.hasOwn(m.types, providerType) ? m.types[providerType] : providerType;
  const rawData = at(payload, m.data);
  const data: Record<string, unknown> = typeof rawData === "object" && rawData !== null && !Array.isArray(rawData) ? { ...rawData } : {};
  if (m.id !== undefined) {
    const id = at(payload, m.id);
    if (typeof id === "string" || typeof id === "number") Object.defineProperty(data, "id", { value: String(id), enumerable: true, writable: true, configurable: true });
  }
  const envelope: Record<string, unknown> = { type, data, id: scheme.eventId(payload, verified) ?? `sha256:${bodySha256}` };
  const occurredAt = m.occurredAt === undefined ? undefined : toOccurredAt(at(payload, m.occurredAt));
  if (occurredAt !== undefined) envelope.occurredAt = occurredAt;
  return envelope;
}
