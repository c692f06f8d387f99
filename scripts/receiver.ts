// A real local HTTP receiver for edgeflow's outbound calls: Slack, email, CRM and an
// OpenAI-compatible model. It records every call, can fail a share of them, and can be scripted
// per idempotency key. Used by the tests and the benchmarks; run it by hand with
//   node scripts/receiver.ts --port 9000 [--fail-rate 0.2]
import { localSettings } from "./lib/registry.ts";
import { cli, numberArg } from "./lib/args.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface ReceivedCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  status: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

export interface Receiver {
  url: string;
  port: number;
  calls: ReceivedCall[];
  /** 2xx answers per idempotency key. More than one means a duplicate side effect. */
  successes: Map<string, number>;
  setFailRate(rate: number): void;
  /** The next calls whose idempotency key contains `match` (and, if given, to `path`) get these answers, in order. */
  script(match: string, responses: ScriptedResponse[], path?: string): void;
  /** Resolves with the receiver's own `Date.now()` of each call, for measuring latency. */
  onCall(listener: (call: ReceivedCall) => void): void;
  close(): Promise<void>;
}

/** Deterministic PRNG (mulberry32), so a failure pattern can be reproduced from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((done, fail) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
    req.on("error", fail);
  });

function modelReply(): string {
  return JSON.stringify({
    id: "chatcmpl-local",
    object: "chat.completion",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: '{"score": 72, "summary": "Promising lead from the local receiver."}' } }],
  });
}

export async function startReceiver(options: { port?: number; failRate?: number; seed?: number; log?: boolean } = {}): Promise<Receiver> {
  let failRate = options.failRate ?? 0;
  const random = seededRandom(options.seed ?? 42);
  const calls: ReceivedCall[] = [];
  const successes = new Map<string, number>();
  const scripts: Array<{ match: string; responses: ScriptedResponse[]; path?: string }> = [];
  const listeners: Array<(call: ReceivedCall) => void> = [];

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    // A caller that gives up mid-request (edgeflow's attempt timeout) aborts the body; that is the
    // caller's business, and must not take the receiver down.
    handle(req, res).catch(() => res.destroy());
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://receiver");
    // Control API, so tests running inside workerd can script this receiver over HTTP.
    if (url.pathname.startsWith("/_control/")) {
      const input = body ? JSON.parse(body) : {};
      if (url.pathname === "/_control/script") scripts.push({ match: input.match, responses: [...input.responses], ...(input.path ? { path: String(input.path) } : {}) });
      else if (url.pathname === "/_control/fail-rate") failRate = Number(input.rate);
      else if (url.pathname === "/_control/calls") {
        const match = url.searchParams.get("match") ?? "";
        return send(res, 200, JSON.stringify(calls.filter((c) => (c.headers["idempotency-key"] ?? "").includes(match) || c.body.includes(match))));
      }
      return send(res, 200, "{}");
    }
    const key = String(req.headers["idempotency-key"] ?? "");
    let answer: ScriptedResponse = { status: 200 };
    const scripted = scripts.find((s) => s.responses.length > 0 && key.includes(s.match) && (s.path === undefined || s.path === url.pathname));
    if (scripted) answer = scripted.responses.shift()!;
    else if (failRate > 0 && random() < failRate) answer = { status: 500, body: '{"error":"injected failure"}' };
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    const call: ReceivedCall = {
      method: req.method ?? "GET",
      path: url.pathname,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v ?? "")])),
      body,
      at: Date.now(),
      status: answer.status,
    };
    calls.push(call);
    if (answer.status >= 200 && answer.status < 300 && key) successes.set(key, (successes.get(key) ?? 0) + 1);
    for (const listener of listeners) listener(call);
    if (options.log) console.log(`${new Date(call.at).toISOString()} ${call.method} ${call.path} ${key} -> ${answer.status}`);
    const isModel = url.pathname.endsWith("/chat/completions");
    send(res, answer.status, answer.body ?? (answer.status < 300 && isModel ? modelReply() : '{"ok":true}'), answer.headers);
  };
  // Keep-alive connections from workerd must not hold close() open.
  server.keepAliveTimeout = 1000;

  // A port in use rejects here (EADDRINUSE), not as an uncaught 'error' event.
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", fail);
      done();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    successes,
    setFailRate: (rate) => (failRate = rate),
    script: (match, responses, path) => scripts.push({ match, responses: [...responses], ...(path ? { path } : {}) }),
    onCall: (listener) => listeners.push(listener),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * The `{eventId}:{handler}` part of an idempotency key (`{tenant}/{type}/{id}/{eventId}:{handler}`,
 * src/delivery/policy/keys.ts): tenant, type and id hold no '/', so it follows the third one. A hashed
 * key is returned as it is.
 */
export function deliveryOf(key: string): string {
  const parts = key.split("/");
  return parts.length >= 4 ? parts.slice(3).join("/") : key;
}

/** The settings that point every edgeflow handler at a receiver, as wrangler vars (from the destination kinds, src/handlers/kinds.ts). */
export function receiverVars(url: string): Record<string, string> {
  return localSettings(url);
}

if (import.meta.main) {
  const args = cli("npm run receiver -- [--port 9000] [--fail-rate 0.3]", { port: { type: "string", default: "9000" }, "fail-rate": { type: "string", default: "0" } });
  const receiver = await startReceiver({ port: numberArg(args.port, "port"), failRate: numberArg(args["fail-rate"], "fail-rate"), log: true });
  console.log(`receiver listening on ${receiver.url}`);
  console.log(`point edgeflow at it: npm start -- ${Object.entries(receiverVars(receiver.url)).map(([k, v]) => `--var ${k}:${v}`).join(" ")}`);
}
