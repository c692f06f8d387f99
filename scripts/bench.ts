// Measures edgeflow against a bare Worker on this machine, in one run, with one load generator.
//   npm run bench [-- --quick] [--phase-ms 10000] [--entities 10000] [--rate 200] [--fanout-ms 15000] [--json FILE]
// Both servers run as production serves them (workerd through Miniflare, no dev proxy).
import { cpus, totalmem } from "node:os";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bareOptions, edgeflowOptions, ROOT, startLocalServer, type RunningServer } from "./lib/local-server.ts";
import { closedLoop, httpClient, latencies, openLoop, type Latencies, type LoadResult } from "./lib/load.ts";
import { receiverVars, startReceiver } from "./receiver.ts";

export interface BenchOptions {
  phaseMs: number;
  warmupMs: number;
  concurrencies: number[];
  entities: number;
  batchSize: number;
  batchConcurrency: number;
  fanoutRate: number;
  fanoutMs: number;
}

export const FULL: BenchOptions = {
  phaseMs: 10_000,
  warmupMs: 1_000,
  concurrencies: [1, 10, 50],
  entities: 10_000,
  batchSize: 100,
  batchConcurrency: 10,
  fanoutRate: 200,
  fanoutMs: 15_000,
};

export const QUICK: BenchOptions = { ...FULL, phaseMs: 2_500, warmupMs: 300, fanoutMs: 4_000 };

type Phase = LoadResult & { concurrency: number; eventsPerSecond: number };

export interface BenchReport {
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; workerd: string };
  options: BenchOptions;
  bare: Phase[];
  hotEntity: Phase[];
  distinctEntities: Phase[];
  batch: Phase;
  fanout: { rate: number; events: number; missing: number; inline: Record<string, Latencies>; queued: Record<string, Latencies> };
  rss: { entitiesTouched: number; workerdPeakMiB: number; supervisorPeakMiB: number };
}

const AUTH = { authorization: "Bearer dev_demo_key" };
const MiB = 1024 * 1024;

function leadCreated(eventId: string, leadId: string) {
  return { id: eventId, type: "lead.created", data: { id: leadId, email: `${leadId.toLowerCase()}@example.com`, name: `Lead ${leadId}` } };
}

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

async function measure(url: string, concurrency: number, options: BenchOptions, next: Parameters<typeof closedLoop>[0]["next"], eventsPerRequest: number, expect: (s: number) => boolean): Promise<Phase> {
  const client = httpClient(url, concurrency);
  try {
    await closedLoop({ client, concurrency, durationMs: options.warmupMs, next, expect });
    const result = await closedLoop({ client, concurrency, durationMs: options.phaseMs, next, expect });
    return { ...result, concurrency, eventsPerSecond: result.perSecond * eventsPerRequest };
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

  log("bare Worker …");
  const bare = await startLocalServer(bareOptions());
  try {
    report.bare = [];
    for (const c of options.concurrencies) {
      report.bare.push(await measure(bare.url, c, options, () => ({ method: "GET", path: "/" }), 1, (s) => s === 200));
    }
  } finally {
    await bare.stop();
  }

  log("edgeflow ingest …");
  const server = await startLocalServer(edgeflowOptions({ rateLimit: 1_000_000_000 }));
  const sampler = rssSampler(server);
  let touched = 0;
  try {
    let n = 0;
    const post = (leadId: string) => () => {
      const body = JSON.stringify(leadCreated(`bench-${run}-${n++}`, leadId));
      return { method: "POST", path: "/v1/events", body, headers: AUTH };
    };
    const accepted = (s: number) => s === 202;
    report.hotEntity = [];
    for (const c of options.concurrencies) report.hotEntity.push(await measure(server.url, c, options, post("HOT"), 1, accepted));

    let entity = 0;
    const nextEntity = () => `L-${entity++ % options.entities}`;
    report.distinctEntities = [];
    for (const c of options.concurrencies) {
      report.distinctEntities.push(await measure(server.url, c, options, () => post(nextEntity())(), 1, accepted));
    }
    report.batch = await measure(
      server.url,
      options.batchConcurrency,
      options,
      () => {
        const events = Array.from({ length: options.batchSize }, () => leadCreated(`bench-${run}-${n++}`, nextEntity()));
        return { method: "POST", path: "/v1/events/batch", body: JSON.stringify({ events }), headers: AUTH };
      },
      options.batchSize,
      (s) => s === 207,
    );
    touched = Math.min(entity, options.entities);
  } finally {
    const peak = sampler.stop();
    report.rss = { entitiesTouched: touched, workerdPeakMiB: peak.workerd / MiB, supervisorPeakMiB: peak.supervisor / MiB };
    await server.stop();
  }

  log("edgeflow fan-out …");
  report.fanout = await measureFanout(options, run);
  return report as BenchReport;
}

/** POST → receiver latency for each handler, at a steady open-loop rate over fresh entities. */
async function measureFanout(options: BenchOptions, run: string): Promise<BenchReport["fanout"]> {
  const receiver = await startReceiver();
  const server = await startLocalServer(edgeflowOptions({ rateLimit: 1_000_000_000, vars: receiverVars(receiver.url) }));
  const sentAt = new Map<string, number>();
  const seen = new Map<string, number[]>();
  receiver.onCall((call) => {
    const [eventId, handler] = (call.headers["idempotency-key"] ?? "").split(":");
    const start = sentAt.get(eventId ?? "");
    if (start === undefined || !handler) return;
    const list = seen.get(handler) ?? [];
    list.push(performance.now() - start);
    seen.set(handler, list);
  });
  const client = httpClient(server.url, 64);
  try {
    const events = await openLoop(options.fanoutRate, options.fanoutMs, async (i) => {
      const id = `fan-${run}-${i}`;
      sentAt.set(id, performance.now());
      const answer = await client.send("POST", "/v1/events", JSON.stringify(leadCreated(id, `F-${i}`)), AUTH);
      if (answer.status !== 202) throw new Error(`fan-out event ${id} got ${answer.status}: ${answer.body}`);
    });
    const handlers = { inline: ["slack", "welcome-email"], queued: ["crm", "ai-analysis"] };
    const all = [...handlers.inline, ...handlers.queued];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && all.some((h) => (seen.get(h)?.length ?? 0) < events)) await new Promise((r) => setTimeout(r, 100));
    const missing = all.reduce((sum, h) => sum + Math.max(0, events - (seen.get(h)?.length ?? 0)), 0);
    const pick = (names: string[]) => Object.fromEntries(names.map((h) => [h, latencies(seen.get(h) ?? [])]));
    return { rate: options.fanoutRate, events, missing, inline: pick(handlers.inline), queued: pick(handlers.queued) };
  } finally {
    client.close();
    await server.stop();
    await receiver.close();
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a");

/** The one table: every figure, every throughput also as a share of the bare Worker's. */
export function formatReport(r: BenchReport): string {
  const bareAt = (c: number) => r.bare.find((p) => p.concurrency === c)?.perSecond ?? NaN;
  const rows: string[][] = [["target", "conc.", "req/s", "events/s", "p50 ms", "p99 ms", "max ms", "vs bare"]];
  const phase = (name: string, p: Phase) => {
    const errors = Object.entries(p.unexpected).map(([s, n]) => `${n}×${s}`).join(" ");
    rows.push([name, String(p.concurrency), fmt(p.perSecond), fmt(p.eventsPerSecond), fmt(p.p50, 2), fmt(p.p99, 2), fmt(p.max, 1), `${fmt((100 * p.eventsPerSecond) / bareAt(p.concurrency))}%${errors ? `  (unexpected: ${errors})` : ""}`]);
  };
  for (const p of r.bare) phase("bare Worker (200)", p);
  for (const p of r.hotEntity) phase("ingest, 1 hot entity", p);
  for (const p of r.distinctEntities) phase(`ingest, ${fmt(r.options.entities)} entities`, p);
  phase(`batch ingest (${r.options.batchSize}/request)`, r.batch);
  for (const [kind, group] of [["inline", r.fanout.inline], ["queued", r.fanout.queued]] as const) {
    for (const [handler, l] of Object.entries(group)) {
      rows.push([`fan-out → ${handler} (${kind})`, `${r.fanout.rate}/s`, "", "", fmt(l.p50, 1), fmt(l.p99, 1), fmt(l.max, 1), ""]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const lines = rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return [
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, workerd ${r.machine.workerd}`,
    `phases: ${r.options.phaseMs / 1000} s each after ${r.options.warmupMs / 1000} s warm-up; "vs bare" compares events/s with the bare Worker's req/s at the same concurrency`,
    "",
    ...lines,
    "",
    `fan-out: ${r.fanout.events} events at ${r.fanout.rate}/s, ${r.fanout.missing} handler calls missing after the deadline`,
    `server RSS peak (${fmt(r.rss.entitiesTouched)} entities touched): workerd ${fmt(r.rss.workerdPeakMiB)} MiB, Miniflare's Node supervisor ${fmt(r.rss.supervisorPeakMiB)} MiB`,
  ].join("\n");
}

function parseArgs(argv: string[]): { options: BenchOptions; json?: string } {
  const options = { ...(argv.includes("--quick") ? QUICK : FULL) };
  let json: string | undefined;
  const numeric: Record<string, keyof BenchOptions> = {
    "--phase-ms": "phaseMs",
    "--warmup-ms": "warmupMs",
    "--entities": "entities",
    "--batch-size": "batchSize",
    "--batch-concurrency": "batchConcurrency",
    "--rate": "fanoutRate",
    "--fanout-ms": "fanoutMs",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--quick") continue;
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--json") json = value;
    else if (flag === "--concurrency") options.concurrencies = value.split(",").map(Number);
    else if (numeric[flag]) (options[numeric[flag]] as number) = Number(value);
    else throw new Error(`unknown flag ${flag}; see the top of scripts/bench.ts`);
  }
  return { options, json };
}

if (import.meta.main) {
  const { options, json } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const report = await runBench(options, (line) => console.error(line));
  console.log(formatReport(report));
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
}
