// Starts edgeflow (or a bare Worker) the way production serves it, workerd through Miniflare with
// no dev proxy, in its own process group. The benchmark and the chaos run use it; the
// e2e tests keep `wrangler dev`, which is what `npm start` runs.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
export { freePort } from "./net.ts";

export const ROOT = resolve(import.meta.dirname, "../..");

let built: string | undefined;

/** Bundles the Worker exactly as `wrangler deploy` would, once per process. */
export function buildWorker(): string {
  if (built) return built;
  const outDir = mkdtempSync(join(tmpdir(), "edgeflow-build-"));
  const result = spawnSync(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outDir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
  });
  if (result.status !== 0) {
    rmSync(outDir, { recursive: true, force: true });
    throw new Error(`wrangler build failed:\n${result.stdout}\n${result.stderr}`);
  }
  built = outDir;
  // The servers read the bundle only while starting; nothing needs it once this process is done.
  process.once("exit", removeBuild);
  return outDir;
}

/** Deletes the bundle; it is rebuilt if needed. Runs at exit, and test files call it when done. */
export function removeBuild(): void {
  if (built) rmSync(built, { recursive: true, force: true });
  built = undefined;
}

export interface EdgeflowServerConfig {
  /** Extra or overriding vars (handler URLs, TENANTS, retry settings). */
  vars?: Record<string, string>;
  /** Per-tenant requests per 10 s. Load generators set it out of reach. */
  rateLimit?: number;
}

/** Miniflare options for edgeflow from wrangler.jsonc, with the built bundle as its modules. */
export function edgeflowOptions(config: EdgeflowServerConfig = {}): Record<string, unknown> {
  const outDir = buildWorker();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.jsonc"));
  const { modulesRules: _bundled, ...options } = workerOptions;
  const modules = readdirSync(outDir)
    .filter((name) => name.endsWith(".js") || name.endsWith(".sql"))
    .sort((a, b) => Number(b === "index.js") - Number(a === "index.js"))
    .map((name) => ({ type: name.endsWith(".js") ? "ESModule" : "Text", path: join(outDir, name) }));
  const ratelimits = config.rateLimit
    ? { ...(options.ratelimits as Record<string, unknown>), RATE_LIMITER: { namespace_id: "1001", simple: { limit: config.rateLimit, period: 10 } } }
    : options.ratelimits;
  return {
    ...options,
    rootPath: ROOT,
    modulesRoot: outDir,
    modules,
    // Load and chaos runs log warnings only: thousands of delivery lines would be CPU in the figures.
    // A local development server, as `npm start` serves: its receivers are on loopback.
    bindings: { ...(options.bindings as Record<string, unknown>), LOG_LEVEL: "warn", LOCAL_DEV: "1", ALLOW_PRIVATE_DESTINATIONS: "1", ...config.vars },
    ratelimits,
  };
}

/** The ceiling: a Worker that only answers 200, served the same way. */
export function bareOptions(): Record<string, unknown> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.jsonc"));
  return {
    compatibilityDate: workerOptions.compatibilityDate,
    modules: true,
    script: 'export default { fetch() { return new Response("ok"); } };',
  };
}

export interface RunningServer {
  url: string;
  pid: number;
  persistDir: string;
  output(): string;
  /** Resident memory of the server's whole process tree (Node supervisor and workerd), in bytes. */
  rss(): { supervisor: number; workerd: number };
  /** CPU time workerd has used so far (user + system), in ms. */
  workerdCpuMs(): number;
  /** Stops the server and keeps its state, to restart on it or read it offline. */
  stop(): Promise<void>;
  /** Stops the server and deletes its state directory (a bench's state reaches gigabytes). */
  discard(): Promise<void>;
  /** SIGKILL to the whole process group: no shutdown hooks, no flushes. */
  kill(): Promise<void>;
}

function children(pid: number): number[] {
  try {
    const direct = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    return direct.flatMap((child) => [child, ...children(child)]);
  } catch {
    return [];
  }
}

function cpuMsOf(pid: number): number {
  try {
    // Fields 14 and 15 of /proc/PID/stat (after the parenthesised name): utime and stime in ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Starts a server on `port` (0 picks one) with its state under `persistDir`, and waits until it serves. */
export async function startLocalServer(
  miniflareOptions: Record<string, unknown>,
  {
    port = 0,
    persistDir = mkdtempSync(join(tmpdir(), "edgeflow-state-")),
    inspectorPort,
  }: { port?: number; persistDir?: string; /** Opens workerd's V8 inspector, for scripts/profile.ts. */ inspectorPort?: number } = {},
): Promise<RunningServer> {
  const optionsDir = mkdtempSync(join(tmpdir(), "edgeflow-serve-"));
  const optionsFile = join(optionsDir, "options.json");
  writeFileSync(optionsFile, JSON.stringify({ shared: { host: "127.0.0.1", port, resourcePersistencePath: persistDir, inspectorPort }, worker: miniflareOptions }));
  const child = spawn(process.execPath, [join(ROOT, "scripts/lib/serve.ts"), optionsFile], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = await new Promise<string>((done, fail) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (http:\/\/\S+?)\/?\n/.exec(output);
      if (ready) done(ready[1]!);
    });
    child.once("exit", (code) => fail(new Error(`server exited (${code}) before it was ready:\n${output}`)));
  }).finally(() => rmSync(optionsDir, { recursive: true, force: true }));
  const pid = child.pid!;
  const signalGroup = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const workerd = children(pid);
    try {
      process.kill(-pid, signal);
    } catch {
      return;
    }
    await exited;
    // workerd must be gone too before anyone reads or reuses its files and port.
    const deadline = Date.now() + 10_000;
    while (workerd.some((p) => existsSync(`/proc/${p}`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  const stop = async () => {
    const timer = setTimeout(() => void signalGroup("SIGKILL"), 5_000);
    await signalGroup("SIGTERM");
    clearTimeout(timer);
  };
  return {
    url,
    pid,
    persistDir,
    output: () => output,
    rss: () => ({ supervisor: rssOf(pid), workerd: children(pid).reduce((sum, p) => sum + rssOf(p), 0) }),
    workerdCpuMs: () => children(pid).reduce((sum, p) => sum + cpuMsOf(p), 0),
    stop,
    discard: async () => {
      await stop();
      rmSync(persistDir, { recursive: true, force: true });
    },
    kill: () => signalGroup("SIGKILL"),
  };
}
