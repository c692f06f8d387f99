// Reading the server's own usage counters (`GET /_usage`, on with USAGE_ENDPOINT) and pricing
// them: shared by the per-event scenarios and the per-operation ones of `npm run cost`.
import type { Usage } from "../../src/usage.ts";
import type { HttpClient } from "./load.ts";
import { PRICE_PER_MILLION, type PricedUnit } from "./prices.ts";

/** Units per event, as Cloudflare bills them. */
export type Units = Record<PricedUnit, number>;

export interface ScenarioCost {
  name: string;
  events: number;
  /** Units per event (or per operation). */
  perEvent: Units;
  /** Dollars per million events, per unit and in all. */
  dollarsPerMillion: Record<PricedUnit, number> & { total: number };
  /** The raw counters, per event, for the finer split (entity vs tenant actor). */
  counters: Usage;
}

export const sum = (a: Usage, b: Usage): Usage => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + b[k as keyof Usage]])) as unknown as Usage;

export async function takeUsage(client: HttpClient): Promise<Usage> {
  const answer = await client.send("GET", "/_usage");
  if (answer.status !== 200) throw new Error(`GET /_usage answered ${answer.status}: is USAGE_ENDPOINT set?`);
  return answer.body as Usage;
}

export const busy = (u: Usage) => u.entityRequests + u.tenantRequests + u.directoryRequests + u.limiterRequests + u.liveRequests + u.workerInvocations + u.queueReads > 0;

/** Polls until nothing billable happened for `quietMs`; returns what happened meanwhile. */
export async function settle(client: HttpClient, quietMs: number, timeoutMs: number): Promise<Usage> {
  let total = await takeUsage(client);
  let quietSince = Date.now();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() - quietSince < quietMs) {
    if (Date.now() > deadline) throw new Error("the server did not settle");
    await new Promise((r) => setTimeout(r, 200));
    const delta = await takeUsage(client);
    if (busy(delta)) quietSince = Date.now();
    total = sum(total, delta);
  }
  return total;
}

export function price(name: string, events: number, usage: Usage, cpuMs: number): ScenarioCost {
  const per = (n: number) => n / events;
  const perEvent: Units = {
    workerInvocations: per(usage.workerInvocations),
    workerCpuMs: per(cpuMs),
    doRequests: per(usage.entityRequests + usage.tenantRequests + usage.directoryRequests + usage.limiterRequests + usage.liveRequests),
    doRowsRead: per(usage.entityRowsRead + usage.tenantRowsRead),
    // Alarm operations (setAlarm, deleteAlarm) and deleteAll are billed as rows written.
    doRowsWritten: per(usage.entityRowsWritten + usage.tenantRowsWritten + usage.entityKvWrites + usage.tenantKvWrites),
    queueOperations: per(usage.queueWrites + usage.queueReads + usage.queueDeletes),
    d1RowsRead: per(usage.d1RowsRead),
    d1RowsWritten: per(usage.d1RowsWritten),
    analyticsPoints: per(usage.analyticsPoints),
    r2ClassA: per(usage.r2ClassA),
    r2ClassB: per(usage.r2ClassB),
  };
  const dollars = Object.fromEntries(Object.entries(perEvent).map(([unit, n]) => [unit, n * PRICE_PER_MILLION[unit as PricedUnit]])) as Record<PricedUnit, number>;
  const total = Object.values(dollars).reduce((a, b) => a + b, 0);
  const counters = Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, per(v)])) as unknown as Usage;
  return { name, events, perEvent, dollarsPerMillion: { ...dollars, total }, counters };
}

