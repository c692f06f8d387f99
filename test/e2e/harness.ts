import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { freePort } from "../../scripts/lib/net.ts";
import { receiverVars, startReceiver, type Receiver } from "../../scripts/receiver.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** Polls `probe` until it returns true or the deadline passes. */
export async function waitFor(probe: () => Promise<boolean> | boolean, what: string | (() => string), timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // Not ready yet (connection refused and the like); keep polling until the deadline.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Origins of the edgeflow servers started in this process: the answers setup.ts checks against openapi.json. */
export const servedUrls = new Set<string>();

export interface LocalServer {
  url: string;
  persistDir: string;
  /** Everything the server printed, for failure messages. */
  output(): string;
  /** Stops the server and keeps its state, to restart on it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the server and deletes its state. */
  discard(): Promise<void>;
}

export interface ServerOptions {
  persistDir?: string;
  vars?: Record<string, string>;
}

/**
 * Starts edgeflow with `npm start -- --port P --persist-to DIR --var NAME:VALUE …`, exactly as the
 * README tells a user to (wrangler dev over local workerd, its flags passed through), on a free
 * port with its own persisted state, and resolves once `/healthz` answers.
 */
export async function startServer(options: ServerOptions = {}): Promise<LocalServer> {
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "edgeflow-e2e-"));
  // A free port can be taken by another test file's server between freePort() and wrangler's bind
  // (files run in parallel): wrangler then says so and waits, so try again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, persistDir);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortTaken)) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(options: ServerOptions, persistDir: string): Promise<LocalServer> {
  const port = await freePort();
  const inspector = await freePort();
  const args = ["start", "--", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", persistDir];
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);
  const child: ChildProcess = spawn("npm", args, {
    cwd: ROOT,
    // Its own process group, so stopping it also stops the wrangler and workerd that npm spawns.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, signal);
    } catch {
      return;
    }
    const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
    if (!killed) {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
      await exited;
    }
  };

  try {
    // waitFor keeps polling through a probe's errors, so the ones that end the wait are kept here.
    let ended: Error | null = null;
    await waitFor(async () => {
      if (child.exitCode !== null) ended = new Error(`server exited early:\n${output}`);
      else if (output.includes("Address already in use")) ended = new PortTaken(`a port was taken before wrangler could bind it:\n${output}`);
      return ended !== null || (await fetch(`${url}/healthz`)).ok;
    }, "the local server to answer /healthz", 90_000, 100);
    if (ended) throw ended;
  } catch (err) {
    await stop("SIGKILL");
    if (err instanceof PortTaken) throw err;
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server output ---\n${output}`);
  }
  servedUrls.add(url);
  const discard = async () => {
    await stop();
    rmSync(persistDir, { recursive: true, force: true });
  };
  return { url, persistDir, output: () => output, stop, discard };
}

/**
 * For a test file: a real receiver, and a server with every handler pointed at it (plus `vars`),
 * started before the file's tests and discarded after them. Read `.server` and `.receiver` in tests.
 */
export function serverWithReceiver(vars: Record<string, string> = {}): { server: LocalServer; receiver: Receiver } {
  const started = {} as { server: LocalServer; receiver: Receiver };
  beforeAll(async () => {
    started.receiver = await startReceiver();
    started.server = await startServer({ vars: { ...receiverVars(started.receiver.url), ...vars } });
  });
  afterAll(async () => {
    await started.server?.discard();
    await started.receiver?.close();
  });
  return started;
}
