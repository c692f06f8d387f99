// Counting, in the isolate that sees it happen, and handing the counts to the tenant's actor in
// batches: no count ever adds a row write or a Durable Object request to the event it counts.
// An isolate flushes a tenant's counts at most every FLUSH_INTERVAL_MS, from work it is doing
// anyway (a request, an alarm, a queue batch); a scrape flushes the isolate that serves it.
import { tenantActor } from "../rpc/actors.ts";
import { addCounter, countMinute, emptyCounts, isEmpty, mergeCounts, mergeHealth, observeLatency, seriesKey, type Counts } from "./counts.ts";
import { endpointIdOf } from "../rpc/names.ts";

const FLUSH_INTERVAL_MS = 10_000;

/** Labels are bounded sets: a client's string never becomes a label value. */
type ReceivedOutcome = "accepted" | "duplicate" | "rejected";
export type AttemptStatus = "succeeded" | "retry" | "dead" | "skipped";

const buffers = new Map<string, { counts: Counts; since: number }>();

function bufferOf(tenant: string): Counts {
  let buffer = buffers.get(tenant);
  if (!buffer) buffers.set(tenant, (buffer = { counts: emptyCounts(), since: Date.now() }));
  return buffer.counts;
}

/** One event received: its registered type (or "unknown"), its outcome and, when rejected, the error code. */
export function countReceived(tenant: string, type: string, outcome: ReceivedOutcome, code?: string): void {
  const counts = bufferOf(tenant);
  addCounter(counts, seriesKey("edgeflow_events_received_total", outcome === "rejected" ? { type, outcome, code: code ?? "unknown" } : { type, outcome }));
  if (outcome === "accepted") countMinute(counts, Date.now(), type);
}

/**
 * One attempt's outcome. Succeeded, dead and skipped also settle the delivery; a success records
 * its latency from the event's arrival.
 */
export function countAttempt(tenant: string, handler: string, outcome: AttemptStatus, receivedAt?: number, events = 1): void {
  const counts = bufferOf(tenant);
  addCounter(counts, seriesKey("edgeflow_delivery_attempts_total", { handler, outcome }), events);
  // A customer endpoint's health (status, lastSuccessAt, failingSince) is derived from these, in its tenant's actor.
  if (outcome !== "skipped" && endpointIdOf(handler) !== null) {
    const now = Date.now();
    (counts.health ??= {})[handler] = mergeHealth(counts.health?.[handler], outcome === "succeeded" ? { lastSuccessAt: now, failingSince: null } : { lastSuccessAt: null, failingSince: now });
  }
  if (outcome === "retry") return;
  addCounter(counts, seriesKey("edgeflow_deliveries_total", { handler, outcome }), events);
  if (outcome === "succeeded" && receivedAt !== undefined) observeLatency(counts, handler, Math.max(0, Date.now() - receivedAt) / 1000);
}

/** Queue messages sent by actors and acknowledged by the consumer: their difference is the backlog. */
export function countQueue(tenant: string, what: "sent" | "acked"): void {
  addCounter(bufferOf(tenant), `edgeflow_queue_messages_${what}_total`);
}

/**
 * Takes this isolate's buffered counts of the tenant (null when there are none); the tenant's
 * actor also takes those of its own isolate at a scrape.
 */
export function takeLocalCounts(tenant: string): Counts | null {
  const buffer = buffers.get(tenant);
  buffers.delete(tenant);
  return buffer && !isEmpty(buffer.counts) ? buffer.counts : null;
}

/**
 * Sends the tenant's counts to its actor when they are FLUSH_INTERVAL_MS old (or now, with
 * `force`). Never throws: counts that could not be sent wait for the next flush.
 */
export async function flushMetrics(env: Cloudflare.Env, tenant: string, force = false): Promise<void> {
  const buffer = buffers.get(tenant);
  if (!buffer || (!force && Date.now() - buffer.since < FLUSH_INTERVAL_MS)) return;
  const counts = takeLocalCounts(tenant);
  if (!counts) return;
  try {
    // Counted where it is billed: in the tenant's actor.
    await tenantActor(env, tenant).recordMetrics(counts);
  } catch {
    // Back into the buffer: the next flush carries them.
    mergeCounts(bufferOf(tenant), counts);
  }
}

/** Flushes every tenant with counts due (for contexts that serve many tenants: the queue consumer). */
export async function flushAllMetrics(env: Cloudflare.Env): Promise<void> {
  await Promise.all([...buffers.keys()].map((tenant) => flushMetrics(env, tenant)));
}
