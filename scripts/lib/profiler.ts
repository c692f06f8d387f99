// V8's sampling profiler over workerd's inspector (Chrome DevTools Protocol), for
// scripts/profile.ts and the cost table's isolate CPU column (scripts/cost.ts).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The isolate that runs edgeflow's own code (router, queue consumer and every actor) under Miniflare. */
export const EDGEFLOW_ISOLATE = "core:user:edgeflow";

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function session(url: string) {
  const ws = new WebSocket(url);
  await new Promise((done, fail) => {
    ws.onopen = done;
    ws.onerror = fail;
  });
  let next = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.onmessage = (message) => {
    const data = JSON.parse(String(message.data));
    if (data.id && waiting.has(data.id)) waiting.get(data.id)!(data.result);
  };
  return {
    call: <T>(method: string, params: object = {}) =>
      new Promise<T>((done) => {
        const id = next++;
        waiting.set(id, done as (r: unknown) => void);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** The isolates workerd's inspector lists: `id` names the worker (EDGEFLOW_ISOLATE, Miniflare's stand-ins…). */
export async function isolates(inspectorPort: number): Promise<Array<{ id: string; webSocketDebuggerUrl: string }>> {
  return (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Array<{ id: string; webSocketDebuggerUrl: string }>;
}

/**
 * Milliseconds of samples per function ("name file:line"), V8's pseudo-frames included; with
 * `capUs`, each sample counts for at most that long (see runningMs).
 */
export function selfTimes(profile: Profile, capUs = Infinity): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const file = frame.url.split("/").pop() ?? "";
    const name = `${frame.functionName || "(anonymous)"}${file ? ` ${file}:${frame.lineNumber + 1}` : ""}`;
    totals.set(name, (totals.get(name) ?? 0) + Math.min(profile.timeDeltas[i] ?? 0, capUs) / 1000);
  });
  return totals;
}

/**
 * Pseudo-frames that are nobody's time in particular. workerd runs every isolate on one thread and
 * does not tell V8 when an isolate is idle, so a sample taken while another isolate ran lands in
 * "(program)".
 */
const NOT_RUNNING = new Set(["(program)", "(idle)"]);

/**
 * Each sample stands for the time since the one before, but at most twice the interval: a longer
 * delta spans a quiet spell, and the sampler thread, late on a busy machine, rarely ticks on time.
 * `npm run profile -- --check-sampler` checks this against a Worker that burns a known CPU time
 * (2 ms and 5 ms read as 2.01 and 5.02 at a 1 ms interval; BENCHMARKS.md).
 */
const sampleCapUs = (intervalUs: number) => 2 * intervalUs;

/**
 * The time an isolate spent running: its JavaScript, what that JavaScript called natively (SQLite
 * shows under `exec`), and its garbage collection.
 */
export function runningMs(profile: Profile, intervalUs: number): number {
  return runningFrames(profile, intervalUs).reduce((sum, [, ms]) => sum + ms, 0);
}

/** The isolate's running functions, busiest first, with their self time in ms. */
export function runningFrames(profile: Profile, intervalUs: number): Array<[string, number]> {
  return [...selfTimes(profile, sampleCapUs(intervalUs))].filter(([name]) => !NOT_RUNNING.has(name)).sort((a, b) => b[1] - a[1]);
}

/** Samples one isolate between start() and stop(); interval in µs (coarser costs less). */
export async function isolateSampler(inspectorPort: number, isolate: string, intervalUs: number) {
  const target = (await isolates(inspectorPort)).find((t) => t.id === isolate);
  if (!target) throw new Error(`the inspector lists no isolate ${isolate}`);
  const cdp = await session(target.webSocketDebuggerUrl);
  await cdp.call("Profiler.enable");
  await cdp.call("Profiler.setSamplingInterval", { interval: intervalUs });
  return {
    start: () => cdp.call("Profiler.start"),
    stop: async () => (await cdp.call<{ profile: Profile }>("Profiler.stop")).profile,
    close: () => cdp.close(),
  };
}
