// Measures edgeflow against a bare Worker on this machine, in one run, with one load generator.
//   npm run bench [-- --quick] [--phase-ms 10000] [--entities 10000] [--batch-size 100] [--rate 200,50]
//                 [--fanout-ms 15000] [--fanout-entities 1000] [--concurrency 1,10,50] [--json FILE]
//                 [--only bare,actor,ingest,fanout] [--state-dir /dev/shm]
// Both servers run as production serves them (workerd through Miniflare, no dev proxy).
import { cpus, totalmem } from "node:os";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, numberArg, numberListArg } from "./lib/args.ts";
import { bareOptions, edgeflowOptions, ROOT, startLocalServer, type RunningServer } from "./lib/local-server.ts";
import { closedLoop, httpClient, latencies, openLoop, type Latencies, type LoadResult } from "./lib/load.ts";
import { deliveryOf, receiverVars, startReceiver } from "./receiver.ts";

export interface BenchOptions {
  phaseMs: number;
  warmupMs: number;
  concurrencies: number[];
  entities: number;
  batchSize: number;
  batchConcurrency: number;
  /** Open-loop rates for the fan-out latency phase, each on a fresh server. */
  fanoutRates: number[];
  fanoutMs: number;
  fanoutEntities: number;
  /** Which parts to run: any of bare, actor, ingest, fanout. */
  only: string[];
  /** Where edgeflow's state goes (default: the OS temp dir, on disk). /dev/shm shows what fsync costs. */
  stateDir?: string;
}

export const FULL: BenchOptions = {
  phaseMs: 10_000,
  warmupMs: 1_000,
  concurrencies: [1, 10, 50],
  entities: 10_000,
  batchSize: 100,
  batchConcurrency: 10,
  // The target rate, and one this machine sustains without queueing, to show both.
  fanoutRates: [200, 50],
  fanoutMs: 15_000,
  fanoutEntities: 1_000,
  only: ["bare", "actor", "ingest", "fanout"],
};

/** Under a minute: shorter phases and 300 entities (creating 10,000 actors alone takes longer). */
export const QUICK: BenchOptions = { ...FULL, phaseMs: 1_000, warmupMs: 200, entities: 300, fanoutMs: 2_000, fanoutEntities: 100 };

export type Phase = LoadResult & { name: string; concurrency: number; eventsPerSecond: number; workerdCpuUsPerRequest: number };

export interface BenchReport {
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; workerd: string };
  options: BenchOptions;
  /** The ceiling: a Worker that answers 200. */
  bare: Phase[];
  /** The floor of any actor-per-entity design here: an RPC to an empty Durable Object. */
  emptyActor: Phase[];
  hotEntity: Phase[];
  /** The first event of each entity: every one creates an actor and its SQLite database. */
  newEntities: Phase;
  /** Events over entities that already exist. */
  distinctEntities: Phase[];
  batch: Phase;
  /** Every event of every batch for one entity: one actor call and one transaction a request. */
  hotBatch: Phase;
  fanout: Array<{
    rate: number;
    events: number;
    /** Events the server did not accept (overload answers), by status; they expect no calls. */
    refused: Record<number, number>;
    missing: number;
    inline: Record<string, Latencies>;
    queued: Record<string, Latencies>;
  }>;
  rss: {
    entitiesTouched: number;
    workerdPeakMiB: number;
    supervisorPeakMiB: number;
    /**
     * workerd's growth per actor over the new-entity phase, idle before and after, so neither the
     * hot-entity phases nor a fan-out backlog count.
     */
    perEntityKiB: number;
    /** The same for the empty actor: what workerd itself holds per live Durable Object. */
    perEmptyActorKiB: number;
  };
}

const AUTH = { authorization: "Bearer dev_demo_key" };
const MiB = 1024 * 1024;

function leadCreated(eventId: string, leadId: string) {
  return { id: eventId, type: "lead.created", data: { id: leadId, email: `${leadId.toLowerCase()}@example.com`, name: `Lead ${leadId}` } };
}

const STATUSES = ["new", "contacted", "qualified", "nurturing"];
function leadUpdated(eventId: string, leadId: string, n: number) {
  return { id: eventId, type: "lead.updated", data: { id: leadId, status: STATUSES[n % STATUSES.length]!, score: String(n % 100) } };
}

// One RPC per request to a Durable Object that does nothing: what workerd itself charges.
const EMPTY_ACTOR = `
import { DurableObject } from "cloudflare:workers";
export class Empty extends DurableObject { ping() { return 1; } }
export default {
  async fetch(request, env) {
    await env.EMPTY.getByName(new URL(request.url).pathname).ping();
    return new Response("ok", { status: 202 });
  },
};`;

/** Samples the server's memory until stopped; the peak is what the report shows. */
function rssSampler(server: RunningServer) {
  const peak = { workerd: 0, supervisor: 0 };
  const sample = () => {
    const now = server.rss();
    peak.workerd = Math.max(peak.workerd, now.workerd);
    peak.supervisor = Math.max(peak.supervisor, now.supervisor);
  };
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return peak;
    },
  };
}

type Next = Parameters<typeof closedLoop>[0]["next"];

const stateDirOf = (options: BenchOptions) => (options.stateDir ? { persistDir: mkdtempSync(join(options.stateDir, "edgeflow-bench-")) } : {});

/**
 * Waits until workerd is idle (under 10% of a core over 300 ms), so a phase does not pay for the
 * fan-out backlog the previous phase left behind. Gives up after a minute.
 */
async function quiesce(server: RunningServer): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const before = server.workerdCpuMs();
    await new Promise((r) => setTimeout(r, 300));
    if (server.workerdCpuMs() - before < 30) return;
    if (Date.now() > deadline) return;
  }
}

async function measure(
  server: RunningServer,
  name: string,
  concurrency: number,
  options: BenchOptions,
  next: Next,
  spec: { eventsPerRequest?: number; expect: (status: number) => boolean; maxRequests?: number; warmup?: boolean },
): Promise<Phase> {
  const client = httpClient(server.url, concurrency);
  try {
    await quiesce(server);
    if (spec.warmup !== false) await closedLoop({ client, concurrency, durationMs: options.warmupMs, next, expect: spec.expect });
    const cpuBefore = server.workerdCpuMs();
    const durationMs = spec.maxRequests ? 3_600_000 : options.phaseMs;
    const result = await closedLoop({ client, concurrency, durationMs, maxRequests: spec.maxRequests, next, expect: spec.expect });
    const cpu = server.workerdCpuMs() - cpuBefore;
    return {
      ...result,
      name,
      concurrency,
      eventsPerSecond: result.perSecond * (spec.eventsPerRequest ?? 1),
      workerdCpuUsPerRequest: (1000 * cpu) / Math.max(1, result.requests),
    };
  } finally {
    client.close();
  }
}

export async function runBench(options: BenchOptions, log: (line: string) => void = console.log): Promise<BenchReport> {
  const run = Date.now().toString(36);
  const report: Partial<BenchReport> = {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      workerd: JSON.parse(readFileSync(join(ROOT, "node_modules/workerd/package.json"), "utf8")).version,
    },
    options,
  };
  const ok200 = (s: number) => s === 200;
  const ok202 = (s: number) => s === 202;
  const c50 = Math.max(...options.concurrencies);

  const part = (name: string) => options.only.includes(name);
  let emptyActorKiB = NaN;
  if (part("bare")) {
    log("bare Worker …");
    const bare = await startLocalServer(bareOptions());
    try {
      report.bare = [];
      for (const c of options.concurrencies) report.bare.push(await measure(bare, "bare Worker (200)", c, options, () => ({ method: "GET", path: "/" }), { expect: ok200 }));
    } finally {
      await bare.discard();
    }
  }
  if (part("actor")) {
    log("empty actor …");
    const compatibilityDate = (bareOptions() as { compatibilityDate: string }).compatibilityDate;
    const empty = await startLocalServer({ compatibilityDate, modules: true, script: EMPTY_ACTOR, durableObjects: { EMPTY: { className: "Empty", useSQLite: true } } });
    try {
      let i = 0;
      const hot = await measure(empty, "empty actor RPC, 1 hot", c50, options, () => ({ method: "GET", path: "/hot" }), { expect: ok202 });
      const before = empty.rss().workerd;
      const fresh = await measure(empty, "empty actor RPC, new actor each", c50, options, () => ({ method: "GET", path: `/a${i++}` }), { expect: ok202 });
      emptyActorKiB = (empty.rss().workerd - before) / 1024 / Math.max(1, i);
      // The floor for ingest over existing entities: an RPC to one of as many existing actors,
      // each created first, then visited round robin as the ingest phase visits its entities.
      let made = 0;
      await measure(empty, "(creating the existing actors)", c50, options, () => ({ method: "GET", path: `/e${made++}` }), { expect: ok202, maxRequests: options.entities, warmup: false });
      let visit = 0;
      const existing = await measure(empty, `empty actor RPC, ${fmt(options.entities)} existing`, c50, options, () => ({ method: "GET", path: `/e${visit++ % options.entities}` }), { expect: ok202 });
      report.emptyActor = [hot, fresh, existing];
    } finally {
      await empty.discard();
    }
  }
  if (part("ingest")) {
    log("edgeflow ingest …");
    const server = await startLocalServer(edgeflowOptions({ rateLimit: 1_000_000_000 }), stateDirOf(options));
    const sampler = rssSampler(server);
    let touched = 0;
    let perEntityKiB = NaN;
    try {
      let n = 0;
      const single = (event: (id: string) => object) => () => ({ method: "POST", path: "/v1/events", body: JSON.stringify(event(`bench-${run}-${n++}`)), headers: AUTH });
      report.hotEntity = [];
      for (const c of options.concurrencies) {
        report.hotEntity.push(await measure(server, "ingest, 1 hot entity", c, options, single((id) => leadUpdated(id, "HOT", n)), { expect: ok202 }));
      }

      // Every entity's first event, in batches: this creates the actors the next phases use.
      let created = 0;
      const batchOf = (event: (id: string) => object) => () => {
        const events = Array.from({ length: options.batchSize }, () => event(`bench-${run}-${n++}`));
        return { method: "POST", path: "/v1/events/batch", body: JSON.stringify({ events }), headers: AUTH };
      };
      const requests = Math.ceil(options.entities / options.batchSize);
      await quiesce(server);
      const idleRss = server.rss().workerd;
      report.newEntities = await measure(server, `batch, first event of ${fmt(options.entities)} new entities`, options.batchConcurrency, options, batchOf((id) => leadCreated(id, `L-${created++ % options.entities}`)), {
        eventsPerRequest: options.batchSize,
        expect: (s) => s === 207,
        maxRequests: requests,
        warmup: false,
      });
      touched = Math.min(created, options.entities);
      await quiesce(server);
      perEntityKiB = (server.rss().workerd - idleRss) / 1024 / Math.max(1, touched);

      let entity = 0;
      const nextEntity = () => `L-${entity++ % options.entities}`;
      report.distinctEntities = [];
      for (const c of options.concurrencies) {
        report.distinctEntities.push(await measure(server, `ingest, ${fmt(options.entities)} entities`, c, options, single((id) => leadUpdated(id, nextEntity(), n)), { expect: ok202 }));
      }
      report.batch = await measure(server, `batch (${options.batchSize}/request), ${fmt(options.entities)} entities`, options.batchConcurrency, options, batchOf((id) => leadUpdated(id, nextEntity(), n)), {
        eventsPerRequest: options.batchSize,
        expect: (s) => s === 207,
      });
      // Last: its alarm backlog (D1, Analytics Engine) is the largest, and nothing runs after it.
      report.hotBatch = await measure(server, `batch (${options.batchSize}/request), 1 hot entity`, options.batchConcurrency, options, batchOf((id) => leadUpdated(id, "HOT", n)), {
        eventsPerRequest: options.batchSize,
        expect: (s) => s === 207,
      });
    } finally {
      const peak = sampler.stop();
      report.rss = {
        entitiesTouched: touched,
        workerdPeakMiB: peak.workerd / MiB,
        supervisorPeakMiB: peak.supervisor / MiB,
        perEntityKiB,
        perEmptyActorKiB: emptyActorKiB,
      };
      await server.discard();
    }
  }
  if (part("fanout")) {
    log("edgeflow fan-out …");
    report.fanout = [];
    for (const rate of options.fanoutRates) report.fanout.push(await measureFanout(options, rate, `${run}-${rate}`));
  }
  return report as BenchReport;
}

/**
 * POST → receiver latency per handler, at a steady open-loop rate of `lead.updated` events over
 * a pool of existing leads (created first, and their fan-out drained, before the clock starts).
 */
async function measureFanout(options: BenchOptions, rate: number, run: string): Promise<BenchReport["fanout"][number]> {
  const receiver = await startReceiver();
  const server = await startLocalServer(edgeflowOptions({ rateLimit: 1_000_000_000, vars: receiverVars(receiver.url) }), stateDirOf(options));
  const sentAt = new Map<string, number>();
  const seen = new Map<string, number[]>();
  // The CRM coalesces: one call, under the newest event's key, delivers every earlier event of
  // that lead still waiting. Per lead, the events sent and not yet delivered to it, in order.
  const leadOf = new Map<string, string>();
  const waitingForCrm = new Map<string, string[]>();
  let warmCalls = 0;
  const record = (handler: string, start: number) => {
    const list = seen.get(handler) ?? [];
    list.push(performance.now() - start);
    seen.set(handler, list);
  };
  receiver.onCall((call) => {
    const delivery = deliveryOf(call.headers["idempotency-key"] ?? "");
    const eventId = delivery.slice(0, delivery.lastIndexOf(":"));
    const handler = delivery.slice(delivery.lastIndexOf(":") + 1);
    const start = sentAt.get(eventId ?? "");
    if (start === undefined || !handler) {
      warmCalls++;
      return;
    }
    if (handler !== "crm") return record(handler, start);
    const waiting = waitingForCrm.get(leadOf.get(eventId!)!) ?? [];
    const upTo = waiting.indexOf(eventId!);
    for (const id of waiting.splice(0, upTo + 1)) record(handler, sentAt.get(id)!);
  });
  const client = httpClient(server.url, 256);
  const refused: Record<number, number> = {};
  try {
    for (let first = 0; first < options.fanoutEntities; first += options.batchSize) {
      const events = Array.from({ length: Math.min(options.batchSize, options.fanoutEntities - first) }, (_, k) => leadCreated(`fan-${run}-new-${first + k}`, `F-${first + k}`));
      await client.send("POST", "/v1/events/batch", JSON.stringify({ events }), AUTH);
    }
    // lead.created reaches the receiver through slack, welcome-email, crm and ai-analysis.
    const settle = Date.now() + 120_000;
    while (warmCalls < options.fanoutEntities * 4 && Date.now() < settle) await new Promise((r) => setTimeout(r, 100));
    // And the rest of their fan-out (D1, timers, queue acks), so the clock starts on an idle server.
    await quiesce(server);

    const sent = await openLoop(rate, options.fanoutMs, async (i) => {
      const id = `fan-${run}-${i}`;
      const lead = `F-${i % options.fanoutEntities}`;
      sentAt.set(id, performance.now());
      leadOf.set(id, lead);
      waitingForCrm.set(lead, [...(waitingForCrm.get(lead) ?? []), id]);
      const body = JSON.stringify(leadUpdated(id, lead, i));
      const status = await client.send("POST", "/v1/events", body, AUTH).then((a) => a.status, () => 0);
      if (status !== 202) refused[status] = (refused[status] ?? 0) + 1;
    });
    const events = sent - Object.values(refused).reduce((a, b) => a + b, 0);
    // lead.updated goes to slack (inline) and crm (queued) over HTTP.
    const handlers = { inline: ["slack"], queued: ["crm"] };
    const all = [...handlers.inline, ...handlers.queued];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && all.some((h) => (seen.get(h)?.length ?? 0) < events)) await new Promise((r) => setTimeout(r, 100));
    const missing = all.reduce((sum, h) => sum + Math.max(0, events - (seen.get(h)?.length ?? 0)), 0);
    const pick = (names: string[]) => Object.fromEntries(names.map((h) => [h, latencies(seen.get(h) ?? [])]));
    return { rate, events, refused, missing, inline: pick(handlers.inline), queued: pick(handlers.queued) };
  } finally {
    client.close();
    await server.discard();
    await receiver.close();
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a");

/** The one table: every figure, every throughput also as a share of the bare Worker's. */
export function formatReport(report: BenchReport): string {
  // A partial run (--only) leaves parts out; show what ran.
  const r: BenchReport = {
    ...report,
    bare: report.bare ?? [],
    emptyActor: report.emptyActor ?? [],
    hotEntity: report.hotEntity ?? [],
    distinctEntities: report.distinctEntities ?? [],
    fanout: report.fanout ?? [],
    rss: report.rss ?? { entitiesTouched: 0, workerdPeakMiB: NaN, supervisorPeakMiB: NaN, perEntityKiB: NaN, perEmptyActorKiB: NaN },
  };
  const bareAt = (c: number) => r.bare.find((p) => p.concurrency === c)?.perSecond ?? NaN;
  const rows: string[][] = [["target", "conc.", "req/s", "events/s", "p50 ms", "p99 ms", "max ms", "CPU µs/req", "vs bare"]];
  const phase = (p: Phase) => {
    const errors = Object.entries(p.unexpected).map(([s, n]) => `${n}×${s}`).join(" ");
    rows.push([
      p.name,
      String(p.concurrency),
      fmt(p.perSecond),
      fmt(p.eventsPerSecond),
      fmt(p.p50, 2),
      fmt(p.p99, 2),
      fmt(p.max, 1),
      fmt(p.workerdCpuUsPerRequest),
      `${Number.isFinite(bareAt(p.concurrency)) ? `${fmt((100 * p.eventsPerSecond) / bareAt(p.concurrency))}%` : ""}${errors ? `  (unexpected: ${errors})` : ""}`,
    ]);
  };
  [...r.bare, ...r.emptyActor, ...r.hotEntity, r.newEntities, ...r.distinctEntities, r.batch, r.hotBatch].filter((p) => p !== undefined).forEach(phase);
  for (const f of r.fanout) {
    for (const [kind, group] of [["inline", f.inline], ["queued", f.queued]] as const) {
      for (const [handler, l] of Object.entries(group)) {
        rows.push([`fan-out → ${handler} (${kind})`, `${f.rate}/s`, "", "", fmt(l.p50, 1), fmt(l.p99, 1), fmt(l.max, 1), "", ""]);
      }
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const lines = rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return [
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, workerd ${r.machine.workerd}`,
    `phases: ${r.options.phaseMs / 1000} s each after ${r.options.warmupMs / 1000} s warm-up; "vs bare" = events/s over the bare Worker's req/s at the same concurrency;`,
    `CPU µs/req = workerd's CPU time over the phase divided by requests`,
    "",
    ...lines,
    "",
    ...r.fanout.map(
      (f) =>
        `fan-out at ${f.rate}/s: ${f.events} lead.updated events accepted over ${fmt(r.options.fanoutEntities)} leads${Object.keys(f.refused).length ? ` (refused: ${JSON.stringify(f.refused)})` : ""}, ${f.missing} handler calls missing after the deadline`,
    ),
...(report.rss
      ? [
          `server RSS peak (${fmt(r.rss.entitiesTouched)} entities touched): workerd ${fmt(r.rss.workerdPeakMiB)} MiB, Miniflare's Node supervisor ${fmt(r.rss.supervisorPeakMiB)} MiB`,
          `workerd growth per actor created: edgeflow ${fmt(r.rss.perEntityKiB)} KiB per new entity; an empty Durable Object ${fmt(r.rss.perEmptyActorKiB)} KiB`,
        ]
      : []),
  ].join("\n");
}

const USAGE =
  "npm run bench -- [--quick] [--phase-ms N] [--warmup-ms N] [--concurrency 1,10,50] [--entities N] [--batch-size N] " +
  "[--batch-concurrency N] [--rate 200,50] [--fanout-ms N] [--fanout-entities N] [--only bare,actor,ingest,fanout] [--state-dir DIR] [--json FILE]";

function benchArgs(): { options: BenchOptions; json?: string } {
  const v = cli(USAGE, {
    quick: { type: "boolean" },
    "phase-ms": { type: "string" },
    "warmup-ms": { type: "string" },
    concurrency: { type: "string" },
    entities: { type: "string" },
    "batch-size": { type: "string" },
    "batch-concurrency": { type: "string" },
    rate: { type: "string" },
    "fanout-ms": { type: "string" },
    "fanout-entities": { type: "string" },
    only: { type: "string" },
    "state-dir": { type: "string" },
    json: { type: "string" },
  });
  const base = v.quick ? QUICK : FULL;
  const options: BenchOptions = {
    ...base,
    phaseMs: numberArg(v["phase-ms"], "phase-ms") ?? base.phaseMs,
    warmupMs: numberArg(v["warmup-ms"], "warmup-ms") ?? base.warmupMs,
    concurrencies: numberListArg(v.concurrency, "concurrency") ?? base.concurrencies,
    entities: numberArg(v.entities, "entities") ?? base.entities,
    batchSize: numberArg(v["batch-size"], "batch-size") ?? base.batchSize,
    batchConcurrency: numberArg(v["batch-concurrency"], "batch-concurrency") ?? base.batchConcurrency,
    fanoutRates: numberListArg(v.rate, "rate") ?? base.fanoutRates,
    fanoutMs: numberArg(v["fanout-ms"], "fanout-ms") ?? base.fanoutMs,
    fanoutEntities: numberArg(v["fanout-entities"], "fanout-entities") ?? base.fanoutEntities,
    only: v.only?.split(",") ?? base.only,
    ...(v["state-dir"] ? { stateDir: v["state-dir"] } : {}),
  };
  return { options, json: v.json };
}

if (import.meta.main) {
  const { options, json } = benchArgs();
  const started = Date.now();
  const report = await runBench(options, (line) => console.error(line));
  console.log(formatReport(report));
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
}
