/**
 * Billable units used in this isolate since the last `takeUsage()`: what Cloudflare bills for,
 * counted where it happens (the SQL helper, the actors' entry points, the queue producer and
 * consumer, the D1 and Analytics Engine handlers). Counting only adds numbers to this record; it
 * never changes the work that is counted. `npm run cost` reads it through `GET /_usage`, which
 * exists only where `USAGE_ENDPOINT` is "1".
 */
export interface Usage {
  /** Worker invocations: HTTP requests to the router and queue-consumer batches. */
  workerInvocations: number;
  /** Durable Object requests: every RPC call and every alarm, per actor class. */
  entityRequests: number;
  /**
   * Milliseconds edgeflow kept entity actors active to save a request or rows: the queue consumer
   * holding a claim's report session (src/delivery/consumer.ts), and an alarm waiting for its queued report
   * (actors/entity/fan-out.ts). Billed as Durable Object duration; the rest of it is not counted.
   */
  entityHeldMs: number;
  /** Reports made as requests of their own, after the claim's session was let go (`reportWork`); apart from `entityRequests`. */
  entityReportRequests: number;
  tenantRequests: number;
  /** The deployment's one tenant directory: admin listings, and the router's once-a-minute read of legacy-key tenants. */
  directoryRequests: number;
  /** Grants from the delivery limiters (actors/limiter-actor.ts): batches of call slots and permits, only for limited destinations. */
  limiterRequests: number;
  /** SQLite rows in Durable Objects, per actor class. */
  entityRowsRead: number;
  entityRowsWritten: number;
  tenantRowsRead: number;
  tenantRowsWritten: number;
  /**
   * Key-value storage writes, per actor class: `setAlarm`, `deleteAlarm` and `deleteAll`, each
   * billed as one row written (actors/alarm.ts is the one place they are made).
   */
  entityKvWrites: number;
  tenantKvWrites: number;
  /** Queue operations, per 64 KB of message: writes (sends), reads (deliveries), deletes (acks). */
  queueWrites: number;
  queueReads: number;
  queueDeletes: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  analyticsPoints: number;
  /** R2 operations on PAYLOADS (large event data): class A (put, list) and class B (get). Deletes are free. */
  r2ClassA: number;
  r2ClassB: number;
  /**
   * Metrics flushes, kept apart from the rest: they are periodic (at most one per isolate and
   * tenant every 10 s, src/metrics/record.ts), never per event, so they are no part of an event's cost.
   */
  metricsRequests: number;
  /** Messages to a tenant's live watchers: sent only while a dashboard or `edgeflow tail` is open. */
  liveRequests: number;
  metricsRowsRead: number;
  metricsRowsWritten: number;
}

export type UsageKey = keyof Usage;

const empty = (): Usage => ({
  workerInvocations: 0,
  entityRequests: 0,
  entityHeldMs: 0,
  entityReportRequests: 0,
  tenantRequests: 0,
  directoryRequests: 0,
  limiterRequests: 0,
  entityRowsRead: 0,
  entityRowsWritten: 0,
  tenantRowsRead: 0,
  tenantRowsWritten: 0,
  entityKvWrites: 0,
  tenantKvWrites: 0,
  queueWrites: 0,
  queueReads: 0,
  queueDeletes: 0,
  d1RowsRead: 0,
  d1RowsWritten: 0,
  analyticsPoints: 0,
  r2ClassA: 0,
  r2ClassB: 0,
  metricsRequests: 0,
  liveRequests: 0,
  metricsRowsRead: 0,
  metricsRowsWritten: 0,
});

let usage = empty();

export function addUsage(key: UsageKey, amount = 1): void {
  usage[key] += amount;
}

/** Returns the units counted since the last call, and starts counting again from zero. */
export function takeUsage(): Usage {
  const taken = usage;
  usage = empty();
  return taken;
}

/** Queue operations one message costs per operation: one per started 64 KB. */
export function queueUnits(bodyBytes: number): number {
  return Math.max(1, Math.ceil(bodyBytes / (64 * 1024)));
}
