// Where an ingest's CPU goes: samples every JS isolate in the local server with V8's profiler
// while a closed-loop ingest load runs, then prints self time per isolate and per function.
//   npm run profile [-- --entities hot|distinct] [--batch 100] [--concurrency 50] [--ms 5000] [--top 25]
//                   [--without RATE_LIMITER,DB,ANALYTICS] [--no-sampling] [--state-dir DIR]
//                   [--isolate core:user:edgeflow] [--interval 200]
//   npm run profile -- --check-sampler   (the sampler against a Worker burning a known CPU time)
// --no-sampling skips V8's profiler and reports only workerd's CPU time per event, which the
// sampler itself inflates.
import { mkdtempSync } from "node:fs";
import { cli, numberArg } from "./lib/args.ts";
import { edgeflowOptions, freePort, startLocalServer } from "./lib/local-server.ts";
import { closedLoop, httpClient } from "./lib/load.ts";
import { EDGEFLOW_ISOLATE, isolates, isolateSampler, runningMs, selfTimes } from "./lib/profiler.ts";

const args = cli("npm run profile -- [--entities hot|distinct] [--concurrency N] [--ms N] [--top N] [--batch N] [--without RATE_LIMITER,DB,ANALYTICS] [--state-dir DIR] [--no-sampling] [--isolate core:user:edgeflow] [--interval µs] [--check-sampler]", {
  entities: { type: "string", default: "distinct" },
  concurrency: { type: "string", default: "50" },
  ms: { type: "string", default: "5000" },
  top: { type: "string", default: "25" },
  batch: { type: "string", default: "1" },
  without: { type: "string", default: "" },
  "state-dir": { type: "string", default: "" },
  "no-sampling": { type: "boolean", default: false },
  "check-sampler": { type: "boolean", default: false },
  isolate: { type: "string", default: "" },
  interval: { type: "string", default: "200" },
});
const hot = args.entities === "hot";
const concurrency = numberArg(args.concurrency, "concurrency")!;
const durationMs = numberArg(args.ms, "ms")!;
const top = numberArg(args.top, "top")!;
// --batch N sends N events a request to /v1/events/batch instead of one to /v1/events.
const batch = numberArg(args.batch, "batch")!;

if (args["check-sampler"]) {
  await checkSampler();
  process.exit(0);
}

/**
 * How far to trust the cost table's CPU column: a Worker that burns a known CPU time per request,
 * measured by the same sampler (runningMs) and by /proc for the whole workerd beside it.
 */
async function checkSampler(): Promise<void> {
  const inspectorPort = await freePort();
  const script = `export default { fetch(request) {
    const ms = Number(new URL(request.url).searchParams.get("ms"));
    const end = performance.now() + ms;
    let n = 0;
    while (performance.now() < end) n++;
    return new Response(String(n));
  } }`;
  const server = await startLocalServer({ name: "edgeflow", modules: true, script, compatibilityDate: "2025-09-01" }, { inspectorPort });
  const intervalUs = 1_000;
  const requests = 100;
  for (const burnMs of [0, 2, 5]) {
    const sampler = await isolateSampler(inspectorPort, EDGEFLOW_ISOLATE, intervalUs);
    await fetch(`${server.url}/?ms=0`);
    const before = server.workerdCpuMs();
    await sampler.start();
    for (let i = 0; i < requests; i++) await (await fetch(`${server.url}/?ms=${burnMs}`)).text();
    const profile = await sampler.stop();
    const workerd = (server.workerdCpuMs() - before) / requests;
    sampler.close();
    console.log(`burning ${burnMs} ms a request: sampled ${(runningMs(profile, intervalUs) / requests).toFixed(2)} ms, all of workerd ${workerd.toFixed(2)} ms`);
  }
  await server.discard();
}

const inspectorPort = await freePort();
// --without RATE_LIMITER,DB,ANALYTICS drops bindings, to see what edgeflow itself costs apart
// from Miniflare's JavaScript stand-ins for them.
const without = args.without.split(",").filter(Boolean);
const options = edgeflowOptions({ rateLimit: 1_000_000_000 });
const bindingGroups: Record<string, string> = { RATE_LIMITER: "ratelimits", DB: "d1Databases", ANALYTICS: "analyticsEngineDatasets" };
for (const name of without) delete (options[bindingGroups[name] ?? name] as Record<string, unknown> | undefined)?.[name];
// --state-dir /dev/shm/x puts the SQLite files on tmpfs, to see what disk commits cost.
const stateDir = args["state-dir"];
const server = await startLocalServer(options, { inspectorPort, ...(stateDir ? { persistDir: mkdtempSync(stateDir) } : {}) });
// --isolate samples one isolate only (edgeflow's is core:user:edgeflow): each sampled isolate
// costs the thread they all share, so one sampler inflates the figures least.
const targets = (await isolates(inspectorPort)).filter((t) => !args.isolate || t.id === args.isolate);
const sampling = !args["no-sampling"];
const interval = numberArg(args.interval, "interval")!;
const samplers = sampling ? await Promise.all(targets.map(async (t) => ({ id: t.id, sampler: await isolateSampler(inspectorPort, t.id, interval) }))) : [];
for (const { sampler } of samplers) await sampler.start();
const client = httpClient(server.url, concurrency);
const cpuBefore = server.workerdCpuMs();
let n = 0;
const run = Date.now().toString(36);
// As in the bench: updates to one hot lead, or the first event of a new lead each time.
const nextEvent = () => {
  const i = n++;
  const event = hot
    ? { type: "lead.updated", data: { id: "HOT", status: ["new", "contacted", "qualified"][i % 3], score: String(i % 100) } }
    : { type: "lead.created", data: { id: `L-${i}`, email: "p@example.com", name: "P" } };
  return { id: `prof-${run}-${i}`, ...event };
};
const result = await closedLoop({
  client,
  concurrency,
  durationMs,
  expect: (s) => s === (batch > 1 ? 207 : 202),
  next: () => ({
    method: "POST",
    path: batch > 1 ? "/v1/events/batch" : "/v1/events",
    headers: { authorization: "Bearer dev_demo_key" },
    body: JSON.stringify(batch > 1 ? { events: Array.from({ length: batch }, nextEvent) } : nextEvent()),
  }),
});
const events = result.requests * batch;
const cpuPerEvent = (1000 * (server.workerdCpuMs() - cpuBefore)) / Math.max(1, events);
console.log(
  `${events} events in ${result.seconds.toFixed(1)} s: ${(events / result.seconds).toFixed(0)}/s${batch > 1 ? ` in batches of ${batch}` : ""}, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms; ` +
    `workerd CPU ${cpuPerEvent.toFixed(0)} µs per event${without.length ? ` (without ${without.join(", ")})` : ""}\n`,
);
for (const { id, sampler } of samplers) {
  const profile = await sampler.stop();
  sampler.close();
  const times = selfTimes(profile);
  const idle = times.get("(idle)") ?? 0;
  const busy = [...times.values()].reduce((a, b) => a + b, 0) - idle;
  if (busy < 50) continue;
  const running = runningMs(profile, interval);
  console.log(`isolate ${id}: ${busy.toFixed(0)} ms busy, ${running.toFixed(0)} ms of it running (${((1000 * running) / Math.max(1, events)).toFixed(0)} µs per event)`);
  for (const [name, ms] of [...times].filter(([name]) => name !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  }
  console.log("");
}
client.close();
await server.discard();
