// Delivery control: how fast and how many at once a destination or an endpoint may be called,
// across every entity of the tenant (`"rateLimit": {"perSecond": n}`, `"maxConcurrency": n`).
// The gate (gate.ts) enforces them; this is their shape and validation.
import { integer, nullable, number, object, optional, size } from "superstruct";

/** Most calls a second a limit may allow: past this a limit is no limit, and the slot arithmetic stays exact. */
export const MAX_PER_SECOND = 1_000;
export const MAX_CONCURRENCY = 1_000;

const RateLimit = object({ perSecond: size(number(), 0.01, MAX_PER_SECOND) });

/** The fields a destination's or an endpoint's body may carry; null clears one (PATCH). */
export const DeliveryControlFields = {
  rateLimit: optional(nullable(RateLimit)),
  maxConcurrency: optional(nullable(size(integer(), 1, MAX_CONCURRENCY))),
};

export interface DeliveryControls {
  rateLimit: { perSecond: number } | null;
  maxConcurrency: number | null;
}

/**
 * The share of a rate limit edgeflow paces at. A call reaches the receiver some milliseconds after
 * it starts, and how many varies (a new connection, a busy machine); pacing 10% under the limit
 * leaves each interval room for that, so no second at the receiver goes over `perSecond + 1`.
 */
export const PACE = 0.9;

/** The rate calls are paced at for a limit of `perSecond`. */
export const pacedRate = (perSecond: number): number => perSecond * PACE;

/** Controls read back from stored JSON (a destination's): anything malformed counts as unset. */
export function controlsOf(value: { rateLimit?: unknown; maxConcurrency?: unknown } | undefined): DeliveryControls {
  const rate = value?.rateLimit as { perSecond?: unknown } | null | undefined;
  const perSecond = typeof rate?.perSecond === "number" && rate.perSecond > 0 ? Math.min(rate.perSecond, MAX_PER_SECOND) : null;
  const max = typeof value?.maxConcurrency === "number" && value.maxConcurrency >= 1 ? Math.floor(value.maxConcurrency) : null;
  return { rateLimit: perSecond === null ? null : { perSecond }, maxConcurrency: max };
}
