// Reading the server's own usage counters (`GET /_usage`, on with USAGE_ENDPOINT) and pricing
// them: shared by the per-event scenarios and the per-operation ones of `npm run cost`.
import { EDGEFLOW_ISOLATE, isolateSampler, runningFrames } from "./profiler.ts";
import type { RunningServer } from "./local-server.ts";
import type { Usage } from "../../src/usage.ts";
import type { HttpClient } from "./load.ts";
import { DO_BILLED_GB, PRICE_PER_MILLION, type PricedUnit } from "./prices.ts";

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
  /**
   * The whole local workerd process's CPU per event: edgeflow's isolate plus Miniflare's routing
   * workers and its JavaScript stand-ins for D1, Analytics Engine, Queues and the rate limiter,
   * none of which production bills as the Worker's CPU. Not priced; `perEvent.workerCpuMs` is
   * edgeflow's own isolate.
   */
  workerdCpuMs?: number;
  /** Edgeflow's isolate's busiest functions, self time per event (V8 samples; shares, not exact figures). */
  topFrames?: Array<{ frame: string; msPerEvent: number }>;
}

export const sum = (a: Usage, b: Usage): Usage => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + b[k as keyof Usage]])) as unknown as Usage;

export async function takeUsage(client: HttpClient): Promise<Usage> {
  const answer = await client.send("GET", "/_usage");
  if (answer.status !== 200) throw new Error(`GET /_usage answered ${answer.status}: is USAGE_ENDPOINT set?`);
  return answer.body as Usage;
}

/** Durable Object requests of every actor class: RPC calls (claims, reports apart) and alarms. */
const doRequests = (u: Usage) => u.entityRequests + u.entityReportRequests + u.tenantRequests + u.directoryRequests + u.limiterRequests + u.liveRequests;

export const busy = (u: Usage) => doRequests(u) + u.workerInvocations + u.queueReads > 0;

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

/** CPU milliseconds of a measured span: edgeflow's isolate (priced) and, when measured, all of workerd. */
export interface CpuSpan {
  isolateMs: number;
  workerdMs?: number;
  /** The isolate's busiest functions in the span (ms of self time), for `npm run cost -- --top N`. */
  top?: Array<[string, number]>;
}

export function price(name: string, events: number, usage: Usage, cpu: CpuSpan): ScenarioCost {
  const per = (n: number) => n / events;
  const perEvent: Units = {
    workerInvocations: per(usage.workerInvocations),
    workerCpuMs: per(cpu.isolateMs),
    doRequests: per(doRequests(usage)),
    doRowsRead: per(usage.entityRowsRead + usage.tenantRowsRead),
    // Alarm operations (setAlarm, deleteAlarm) and deleteAll are billed as rows written.
    doRowsWritten: per(usage.entityRowsWritten + usage.tenantRowsWritten + usage.entityKvWrites + usage.tenantKvWrites),
    doDurationGbS: per((usage.entityHeldMs / 1000) * DO_BILLED_GB),
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
  return {
    name,
    events,
    perEvent,
    dollarsPerMillion: { ...dollars, total },
    counters,
    ...(cpu.workerdMs === undefined ? {} : { workerdCpuMs: per(cpu.workerdMs) }),
    ...(cpu.top ? { topFrames: cpu.top.slice(0, 40).map(([frame, ms]) => ({ frame, msPerEvent: per(ms) })) } : {}),
  };
}

/**
 * Measures CPU over spans of a run: edgeflow's own isolate, from V8's samples of it (what
 * production bills as CPU time: the router's, the consumer's and the actors' JavaScript with the
 * storage calls it makes), and the whole workerd process from /proc. Sampling every millisecond
 * keeps the sampler's own cost small beside what it measures.
 */
export async function cpuMeter(server: RunningServer, inspectorPort: number) {
  const intervalUs = 1_000;
  const sampler = await isolateSampler(inspectorPort, EDGEFLOW_ISOLATE, intervalUs);
  return {
    async begin(): Promise<() => Promise<CpuSpan>> {
      const workerdBefore = server.workerdCpuMs();
      await sampler.start();
      return async () => {
        const workerdMs = server.workerdCpuMs() - workerdBefore;
        const top = runningFrames(await sampler.stop(), intervalUs);
        return { isolateMs: top.reduce((sum, [, ms]) => sum + ms, 0), workerdMs, top };
      };
    },
    close: () => sampler.close(),
  };
}
export type CpuMeter = Awaited<ReturnType<typeof cpuMeter>>;
