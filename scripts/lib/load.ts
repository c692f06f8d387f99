// One load generator for every measured target: the typed client (client/index.ts) over keep-alive
// HTTP/1.1 from node:http, which costs far less per request than fetch(), so the client is not
// what limits the figures.
import { Agent, request as httpRequest } from "node:http";
import { EdgeflowClient, type Transport } from "../../client/index.ts";

/** The typed client (client/index.ts) over keep-alive sockets; `send` answers whatever the status. */
export interface HttpClient {
  send: EdgeflowClient["send"];
  close(): void;
}

/**
 * Longest wait for one answer. Without it a request the server never answers (a stalled server)
 * hangs a run that prints nothing; with it the run fails saying which request it was.
 */
const ANSWER_TIMEOUT_MS = 60_000;

export function httpClient(baseUrl: string, sockets: number, answerTimeoutMs = ANSWER_TIMEOUT_MS): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  const transport: Transport = ({ method, url, headers, body }) =>
    new Promise((done, fail) => {
      const target = new URL(url);
      const req = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method,
          path: `${target.pathname}${target.search}`,
          headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", fail);
        },
      );
      req.on("error", fail);
      req.setTimeout(answerTimeoutMs, () => req.destroy(new Error(`no answer to ${method} ${target.pathname} within ${answerTimeoutMs} ms`)));
      req.end(body);
    });
  const api = new EdgeflowClient({ baseUrl, transport });
  return { send: (...args) => api.send(...args), close: () => agent.destroy() };
}

export interface Latencies {
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles, in milliseconds. */
export function latencies(samples: number[]): Latencies {
  if (samples.length === 0) return { p50: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(samples).sort();
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { p50: rank(0.5), p99: rank(0.99), max: sorted[sorted.length - 1]! };
}

export interface LoadResult extends Latencies {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Answers outside `expect`, by status (0 = connection error). */
  unexpected: Record<number, number>;
}

/**
 * Closed loop: `concurrency` workers each send, wait for the answer, and send again until the
 * duration is up. `next(i)` builds request i; answers outside `expect` are counted, not timed out.
 */
export async function closedLoop(options: {
  client: HttpClient;
  concurrency: number;
  durationMs: number;
  /** Stop after this many requests even if time remains. */
  maxRequests?: number;
  next: (i: number) => { method: string; path: string; body?: string; headers?: Record<string, string> };
  expect: (status: number) => boolean;
}): Promise<LoadResult> {
  const samples: number[] = [];
  const unexpected: Record<number, number> = {};
  let issued = 0;
  const started = performance.now();
  const endAt = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < endAt && issued < (options.maxRequests ?? Infinity)) {
      const spec = options.next(issued++);
      const sentAt = performance.now();
      let status = 0;
      try {
        status = (await options.client.send(spec.method, spec.path, spec.body, spec.headers)).status;
      } catch {
        status = 0;
      }
      samples.push(performance.now() - sentAt);
      if (!options.expect(status)) unexpected[status] = (unexpected[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { requests: samples.length, seconds, perSecond: samples.length / seconds, unexpected, ...latencies(samples) };
}

/** Open loop: starts `fire(i)` at a steady rate, whatever the answers, and waits for them all. */
export async function openLoop(ratePerSecond: number, durationMs: number, fire: (i: number) => Promise<void>): Promise<number> {
  const total = Math.round((ratePerSecond * durationMs) / 1000);
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(fire(i));
  }
  await Promise.all(pending);
  return total;
}
