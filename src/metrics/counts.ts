// What edgeflow counts about itself, as plain data that merges by addition: counters by series,
// the ingest-to-delivery latency histogram per handler, and events per minute by type (the
// dashboard's chart). The same shape is a delta in an isolate's buffer (./buffer.ts) and the
// running total in the tenant's actor (actors/tenant/metrics-store.ts).

/** Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied. */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600] as const;

/** Minutes of per-type event counts kept. */
const MINUTES_KEPT = 60;

interface Histogram {
  /** Observations per bucket, not cumulative; the last entry is the +Inf bucket. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * A customer endpoint's recent outcomes, as an isolate saw them: when it last succeeded, and when
 * the failures after that began (null: none since). Merged by time, whatever the order.
 */
export interface EndpointHealth {
  lastSuccessAt: number | null;
  failingSince: number | null;
}

export interface Counts {
  /** Series key (`name` plus its labels, see `seriesKey`) → count. */
  counters: Record<string, number>;
  /** Endpoint handler (`endpoint:{id}`) → its outcomes' times; taken off by the tenant's actor, never kept in the totals. */
  health?: Record<string, EndpointHealth>;
  /** Handler → ingest-to-delivery latency of its succeeded deliveries. */
  latency: Record<string, Histogram>;
  /** Minute (epoch ms, floored) → event type → events accepted. */
  minutes: Record<string, Record<string, number>>;
}

export const emptyCounts = (): Counts => ({ counters: {}, latency: {}, minutes: {} });

const emptyHistogram = (): Histogram => ({ buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 });

export function isEmpty(counts: Counts): boolean {
  return Object.keys(counts.counters).length === 0 && Object.keys(counts.latency).length === 0 && Object.keys(counts.minutes).length === 0;
}

/** A label value as Prometheus text writes it. */
const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** `name{a="x",b="y"}`: the exposition's own spelling, so rendering needs no parsing. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(",")}}`;
}

export function addCounter(counts: Counts, key: string, amount = 1): void {
  counts.counters[key] = (counts.counters[key] ?? 0) + amount;
}

export function observeLatency(counts: Counts, handler: string, seconds: number): void {
  const h = (counts.latency[handler] ??= emptyHistogram());
  const i = LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
  h.buckets[i < 0 ? LATENCY_BUCKETS.length : i]! += 1;
  h.sum += seconds;
  h.count += 1;
}

export function countMinute(counts: Counts, at: number, type: string, amount = 1): void {
  const minute = String(at - (at % 60_000));
  const byType = (counts.minutes[minute] ??= {});
  byType[type] = (byType[type] ?? 0) + amount;
}

/** Merges two views of an endpoint's outcomes: the later success, and the first failure after it. */
export function mergeHealth(a: EndpointHealth | undefined, b: EndpointHealth): EndpointHealth {
  const lastSuccessAt = Math.max(a?.lastSuccessAt ?? -1, b.lastSuccessAt ?? -1);
  const since = [a?.failingSince ?? null, b.failingSince].filter((t): t is number => t !== null && t > lastSuccessAt);
  return { lastSuccessAt: lastSuccessAt < 0 ? null : lastSuccessAt, failingSince: since.length === 0 ? null : Math.min(...since) };
}

/** Adds `delta` into `into`; minutes older than MINUTES_KEPT before `now` are dropped. */
export function mergeCounts(into: Counts, delta: Counts, now = Date.now()): Counts {
  for (const [key, n] of Object.entries(delta.counters)) addCounter(into, key, n);
  for (const [handler, h] of Object.entries(delta.latency)) {
    const target = (into.latency[handler] ??= emptyHistogram());
    h.buckets.forEach((n, i) => (target.buckets[i] = (target.buckets[i] ?? 0) + n));
    target.sum += h.sum;
    target.count += h.count;
  }
  const oldest = now - MINUTES_KEPT * 60_000;
  for (const [minute, byType] of Object.entries(delta.minutes)) {
    if (Number(minute) < oldest) continue;
    for (const [type, n] of Object.entries(byType)) countMinute(into, Number(minute), type, n);
  }
  for (const minute of Object.keys(into.minutes)) if (Number(minute) < oldest) delete into.minutes[minute];
  for (const [handler, h] of Object.entries(delta.health ?? {})) (into.health ??= {})[handler] = mergeHealth(into.health?.[handler], h);
  return into;
}

/** The q-quantile (0–1) of a histogram, interpolated within its bucket, in seconds; null if empty. */
export function quantile(h: Histogram, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  let seen = 0;
  for (let i = 0; i < h.buckets.length; i++) {
    const n = h.buckets[i]!;
    if (seen + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!;
      const upper = LATENCY_BUCKETS[i] ?? lower;
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
}
