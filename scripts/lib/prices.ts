// Workers Paid list prices, per million units, as published on 2026-11-24. Marginal prices: the
// monthly allowances included in the plan are ignored, so the figures are what each further
// million events costs. Sources:
//   Workers (requests, CPU):          https://developers.cloudflare.com/workers/platform/pricing/
//   Durable Objects (requests, rows): https://developers.cloudflare.com/durable-objects/platform/pricing/
//   Queues (operations per 64 KB):    https://developers.cloudflare.com/queues/platform/pricing/
//   D1 (rows read and written):       https://developers.cloudflare.com/d1/platform/pricing/
//   Workers Analytics Engine:         https://developers.cloudflare.com/analytics/analytics-engine/pricing/
//   R2 (class A and class B operations): https://developers.cloudflare.com/r2/pricing/
// Durable Object duration (GB-s while an actor is active) is counted only where edgeflow chooses
// to keep an actor active for a saving elsewhere: the queue consumer's report sessions
// (src/delivery/consumer.ts) and an alarm's wait for its queued report (actors/entity/fan-out.ts). The rest
// depends on wall time in production, which a local run cannot stand in for.

export const PRICES_AS_OF = "2026-11-24";

/** Dollars per million units. */
export const PRICE_PER_MILLION = {
  workerInvocations: 0.3,
  workerCpuMs: 0.02,
  doRequests: 0.15,
  doRowsRead: 0.001,
  doRowsWritten: 1.0,
  /** Per million GB-s; an actor is billed at 128 MB. */
  doDurationGbS: 12.5,
  queueOperations: 0.4,
  d1RowsRead: 0.001,
  d1RowsWritten: 1.0,
  analyticsPoints: 0.25,
  r2ClassA: 4.5,
  r2ClassB: 0.36,
} as const;

/** The memory a Durable Object is billed at, in GB: duration is wall time × this. */
export const DO_BILLED_GB = 0.125;

export type PricedUnit = keyof typeof PRICE_PER_MILLION;

/** Durable Objects SQLite storage, dollars per GB-month (5 GB-month included in the plan). */
export const STORAGE_PER_GB_MONTH = 0.2;
