// `npm run cost`: billable units per event, counted from a real run. A production-style local
// server (workerd through Miniflare) with every handler pointed at a real local receiver gets a
// realistic set of each event type; once everything has settled, the units the run used are read
// from the server's own counters (`GET /_usage`: SQL rows from the one SQL helper, Durable Object
// requests, queue operations, D1 result meta, Analytics Engine points, Worker invocations) and
// workerd's CPU time, and priced at the Workers Paid list prices in scripts/lib/prices.ts.
import { readFileSync, writeFileSync } from "node:fs";
import type { Usage } from "../src/usage.ts";
import { cli, numberArg } from "./lib/args.ts";
import { edgeflowOptions, freePort, startLocalServer } from "./lib/local-server.ts";
import { httpClient, type HttpClient } from "./lib/load.ts";
import { formatBill, monthlyBill } from "./lib/bill.ts";
import { cpuMeter, price, settle, sum, takeUsage, type CpuMeter, type ScenarioCost } from "./lib/metering.ts";
import { formatOperations, formatStorage, runOperations, runStorage, type StorageFigure } from "./lib/cost-operations.ts";
export type { ScenarioCost, Units } from "./lib/metering.ts";
import { PRICE_PER_MILLION, PRICES_AS_OF, type PricedUnit } from "./lib/prices.ts";
import { deliveryOf, receiverVars, startReceiver, type Receiver } from "./receiver.ts";

const AUTH = { authorization: "Bearer dev_demo_key" };
/** src/control/runtime.ts: how long a router may take to learn that someone watches. */
const CONFIG_TTL_MS = 5_000;
const FOLLOW_UP_DELAY_MS = 2_000;

export interface CostOptions {
  /** Events per scenario. */
  events: number;
  /** Longest wait for a scenario to settle. */
  settleTimeoutMs: number;
  /** Also measure each lifecycle operation (cost-operations.ts). */
  operations?: boolean;
  /** Also measure storage per entity after this many events, with and without retention. */
  storageEvents?: number;
}

export interface CostReport {
  scenarios: ScenarioCost[];
  operations: ScenarioCost[];
  storage: StorageFigure[];
}

interface Scenario {
  name: string;
  /** Sent as a stored tenant with only a Slack destination (no deployment destinations inherited): every other handler is unconfigured. */
  slackOnly?: boolean;
  /** A live-feed watcher is open throughout (the dashboard's Live page), and events go at this many per second. */
  watched?: { eventsPerSecond: number };
  /**
   * Request bodies, each with the number of events it carries and the idempotency keys whose
   * receiver calls must have succeeded before the scenario counts as delivered.
   */
  requests(run: string, n: number): Array<{ path: string; body: unknown; events: number; keys: string[] }>;
}

const lead = (run: string, i: number) => `${run}-L${i}`;

/** Scenarios run in order; the later ones use the leads the first creates. */
const SCENARIOS: Scenario[] = [
  {
    name: "lead.created (new lead, then its follow-up)",
    requests: (run, n) =>
      Array.from({ length: n }, (_, i) => ({
        path: "/v1/events",
        body: { id: `${run}-c${i}`, type: "lead.created", data: { id: lead(run, i), email: `l${i}@example.com`, name: `Lead ${i}` } },
        events: 1,
        // slack, welcome-email, crm, ai-analysis, and the follow-up's Slack reminder.
        keys: [...["slack", "welcome-email", "crm", "ai-analysis"].map((h) => `${run}-c${i}:${h}`), `edgeflow:${run}-c${i}:follow-up:slack`],
      })),
  },
  {
    name: "lead.updated (existing lead)",
    requests: (run, n) =>
      Array.from({ length: n }, (_, i) => ({
        path: "/v1/events",
        body: { id: `${run}-u${i}`, type: "lead.updated", data: { id: lead(run, i), status: "contacted" } },
        events: 1,
        keys: [`${run}-u${i}:slack`, `${run}-u${i}:crm`],
      })),
  },
  {
    name: "offer.submitted (new offer)",
    requests: (run, n) =>
      Array.from({ length: n }, (_, i) => ({
        path: "/v1/events",
        body: { id: `${run}-o${i}`, type: "offer.submitted", data: { id: `${run}-O${i}`, leadId: lead(run, i), amount: 100 + i, currency: "EUR" } },
        events: 1,
        keys: ["slack", "offer-email", "offer-analysis"].map((h) => `${run}-o${i}:${h}`),
      })),
  },
  {
    name: "lead.created, tenant with only Slack",
    slackOnly: true,
    requests: (run, n) =>
      Array.from({ length: n }, (_, i) => ({
        path: "/v1/events",
        body: { id: `${run}-sc${i}`, type: "lead.created", data: { id: `${lead(run, i)}-s`, email: `s${i}@example.com`, name: `Lead ${i}` } },
        events: 1,
        keys: [`${run}-sc${i}:slack`, `edgeflow:${run}-sc${i}:follow-up:slack`],
      })),
  },
  {
    name: "lead.updated, tenant with only Slack",
    slackOnly: true,
    requests: (run, n) =>
      Array.from({ length: n }, (_, i) => ({
        path: "/v1/events",
        body: { id: `${run}-su${i}`, type: "lead.updated", data: { id: `${lead(run, i)}-s`, status: "contacted" } },
        events: 1,
        keys: [`${run}-su${i}:slack`],
      })),
  },
  {
    name: "lead.updated, watched live, 100 events/s",
    watched: { eventsPerSecond: 100 },
    requests: (run, n) =>
      Array.from({ length: n }, (_, i) => ({
        path: "/v1/events",
        body: { id: `${run}-w${i}`, type: "lead.updated", data: { id: lead(run, i), status: "watched" } },
        events: 1,
        keys: [`${run}-w${i}:slack`, `${run}-w${i}:crm`],
      })),
  },
  {
    name: "lead.updated, batches of 10 over 10 leads",
    requests: (run, n) =>
      Array.from({ length: Math.ceil(n / 10) }, (_, b) => {
        const events = Array.from({ length: Math.min(10, n - b * 10) }, (_, j) => {
          const i = b * 10 + j;
          return { id: `${run}-b${i}`, type: "lead.updated", data: { id: lead(run, i), score: String(i) } };
        });
        return { path: "/v1/events/batch", body: { events }, events: events.length, keys: events.flatMap((e) => [`${e.id}:slack`, `${e.id}:crm`]) };
      }),
  },
  {
    name: "lead.updated, bursts of 10 for one lead",
    requests: (run, n) =>
      Array.from({ length: Math.ceil(n / 10) }, (_, b) => {
        const events = Array.from({ length: Math.min(10, n - b * 10) }, (_, j) => ({
          id: `${run}-h${b * 10 + j}`,
          type: "lead.updated",
          data: { id: lead(run, b), step: String(j) },
        }));
        // The CRM upserts the lead's current state: a burst is delivered by one call, for its newest event.
        return { path: "/v1/events/batch", body: { events }, events: events.length, keys: [...events.map((e) => `${e.id}:slack`), `${events[events.length - 1]!.id}:crm`] };
      }),
  },
];

/**
 * Sends one scenario and sums the usage it causes until it has settled: every expected receiver
 * call has arrived and the server has done nothing billable for a second (D1 and Analytics Engine
 * writes have no receiver to watch).
 */
async function runScenario(cpu: CpuMeter, url: string, client: HttpClient, receiver: Receiver, scenario: Scenario, run: string, options: CostOptions, slackOnlyKey: string): Promise<ScenarioCost> {
  const auth = scenario.slackOnly ? { authorization: `Bearer ${slackOnlyKey}` } : AUTH;
  // Whatever earlier work left behind is not this scenario's.
  await settle(client, 1_000, options.settleTimeoutMs);
  const callsBefore = receiver.calls.length;
  const requests = scenario.requests(run, options.events);
  const events = requests.reduce((n, r) => n + r.events, 0);
  const watcher = scenario.watched ? await watchLive(url) : null;
  let usage = await takeUsage(client);
  const cpuSpan = await cpu.begin();
  const send = async (request: (typeof requests)[number]) => {
    const answer = await client.send("POST", request.path, JSON.stringify(request.body), auth);
    if (answer.status !== 202 && answer.status !== 207) throw new Error(`${scenario.name}: ${request.path} answered ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  if (scenario.watched) {
    // Paced: one request every 1/rate seconds, whatever the last one's latency.
    const sent: Array<Promise<void>> = [];
    const gap = 1_000 / scenario.watched.eventsPerSecond;
    const start = Date.now();
    for (const [i, request] of requests.entries()) {
      const due = start + i * gap;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      sent.push(send(request));
    }
    await Promise.all(sent);
  } else {
    for (const request of requests) await send(request);
  }
  const missing = new Set(requests.flatMap((r) => r.keys));
  const deadline = Date.now() + options.settleTimeoutMs;
  let seen = callsBefore;
  for (;;) {
    for (; seen < receiver.calls.length; seen++) {
      const call = receiver.calls[seen]!;
      if (call.status < 300) missing.delete(deliveryOf(call.headers["idempotency-key"] ?? ""));
    }
    if (missing.size === 0) break;
    if (Date.now() > deadline) throw new Error(`${scenario.name}: ${missing.size} expected receiver calls never arrived, e.g. ${[...missing][0]}`);
    // The receiver is watched, not the server: reading /_usage here would add its own CPU to the event's.
    await new Promise((r) => setTimeout(r, 100));
  }
  usage = sum(usage, await settle(client, 1_000, options.settleTimeoutMs));
  watcher?.close();
  return price(scenario.name, events, usage, await cpuSpan());
}

/**
 * Opens the live feed as the dashboard does (a ticket, then the WebSocket), and waits out the
 * configuration cache's TTL so every isolate knows someone watches before the scenario starts.
 */
async function watchLive(url: string): Promise<WebSocket> {
  const answer = await fetch(`${url}/v1/live/ticket`, { method: "POST", headers: AUTH });
  if (answer.status !== 200) throw new Error(`POST /v1/live/ticket answered ${answer.status}`);
  const { ticket } = (await answer.json()) as { ticket: string };
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/v1/live`, ["edgeflow.live", `ticket.${ticket}`]);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve());
    socket.addEventListener("error", () => reject(new Error("the live feed refused the watcher")));
  });
  await new Promise((r) => setTimeout(r, CONFIG_TTL_MS + 500));
  return socket;
}

/** A stored tenant whose only destination is Slack, over the admin API (the local development admin key); its API key. */
async function slackOnlyTenant(client: HttpClient, receiverUrl: string, run: string): Promise<string> {
  const admin = { authorization: "Bearer dev_admin_key" };
  const name = `slackonly-${run}`.toLowerCase().slice(0, 60);
  const created = await client.send("POST", "/v1/admin/tenants", JSON.stringify({ name }), admin);
  if (created.status !== 201) throw new Error(`creating the Slack-only tenant answered ${created.status} ${created.body}`);
  const key = await client.send("POST", `/v1/admin/tenants/${name}/keys`, "{}", admin);
  if (key.status !== 201) throw new Error(`its key answered ${key.status} ${key.body}`);
  const { key: apiKey } = key.body as { key: string };
  const slack = await client.send("PUT", "/v1/destinations/slack", JSON.stringify({ url: `${receiverUrl}/slack` }), { authorization: `Bearer ${apiKey}` });
  if (slack.status !== 200) throw new Error(`its Slack destination answered ${slack.status} ${slack.body}`);
  return apiKey;
}

/** Runs every scenario (and, if asked, every operation and the storage figures) against one fresh server and receiver. */
export async function runCost(options: CostOptions, log: (line: string) => void = () => {}): Promise<CostReport> {
  const receiver = await startReceiver();
  const inspectorPort = await freePort();
  const server = await startLocalServer(
    edgeflowOptions({ vars: { ...receiverVars(receiver.url), USAGE_ENDPOINT: "1", FOLLOW_UP_DELAY_MS: String(FOLLOW_UP_DELAY_MS), SCHEDULE_MIN_INTERVAL_SECONDS: "1" }, rateLimit: 1_000_000 }),
    { inspectorPort },
  );
  const client = httpClient(server.url, 8);
  const cpu = await cpuMeter(server, inspectorPort);
  const run = `cost${Date.now().toString(36)}`;
  try {
    const slackOnlyKey = await slackOnlyTenant(client, receiver.url, run);
    await warmUp(client, run);
    const results: ScenarioCost[] = [];
    for (const scenario of SCENARIOS) {
      log(`  ${scenario.name} …`);
      results.push(await runScenario(cpu, server.url, client, receiver, scenario, run, options, slackOnlyKey));
    }
    const operations = options.operations ? await runOperations(cpu, client, receiver, run, log) : [];
    const storage = options.storageEvents ? await runStorage(client, receiver, run, options.storageEvents, log) : [];
    return { scenarios: results, operations, storage };
  } finally {
    cpu.close();
    client.close();
    await server.discard();
    await receiver.close();
  }
}

/**
 * One event before anything is measured: the D1 mirror's schema is applied on the database
 * handler's first use (src/handlers/d1-schema.ts), once per deployment, not per event, and the
 * first scenario's own settling waits its work out.
 */
async function warmUp(client: HttpClient, run: string): Promise<void> {
  const answer = await client.send("POST", "/v1/events", JSON.stringify({ type: "lead.updated", data: { id: `${run}-warm-up` } }), AUTH);
  if (answer.status !== 202) throw new Error(`warm-up event answered ${answer.status} ${JSON.stringify(answer.body)}`);
}

const fmt = (n: number, digits = 2) => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

export function formatCost(results: ScenarioCost[]): string {
  const columns: Array<[string, (r: ScenarioCost) => string]> = [
    ["events", (r) => String(r.events)],
    ["DO rows written", (r) => fmt(r.perEvent.doRowsWritten)],
    ["of which alarm ops", (r) => fmt(r.counters.entityKvWrites + r.counters.tenantKvWrites)],
    ["DO rows read", (r) => fmt(r.perEvent.doRowsRead, 1)],
    ["DO requests", (r) => fmt(r.perEvent.doRequests)],
    ["of which live feed", (r) => fmt(r.counters.liveRequests)],
    // Report sessions keep an actor active instead of costing a request (src/delivery/consumer.ts).
    ["DO held ms", (r) => fmt(r.counters.entityHeldMs, 1)],
    ["queue ops", (r) => fmt(r.perEvent.queueOperations)],
    ["D1 rows written", (r) => fmt(r.perEvent.d1RowsWritten)],
    ["D1 rows read", (r) => fmt(r.perEvent.d1RowsRead, 1)],
    ["AE points", (r) => fmt(r.perEvent.analyticsPoints)],
    ["Worker invocations", (r) => fmt(r.perEvent.workerInvocations)],
    ["CPU ms", (r) => fmt(r.perEvent.workerCpuMs)],
    ["workerd CPU ms", (r) => (r.workerdCpuMs === undefined ? "" : fmt(r.workerdCpuMs))],
    ["$ per M events", (r) => `$${r.dollarsPerMillion.total.toFixed(2)}`],
    ["of which DO rows written", (r) => `$${r.dollarsPerMillion.doRowsWritten.toFixed(2)}`],
  ];
  const lines = [`Billable units per event (Workers Paid list prices of ${PRICES_AS_OF}, allowances ignored)`, ""];
  const width = Math.max(...results.map((r) => r.name.length));
  lines.push(`${"".padEnd(width)}  ${columns.map(([h]) => h).join(" | ")}`);
  for (const r of results) lines.push(`${r.name.padEnd(width)}  ${columns.map(([h, f]) => f(r).padStart(h.length)).join(" | ")}`);
  return lines.join("\n");
}

/** Where each scenario's CPU went in edgeflow's isolate: its `top` busiest functions, µs of self time per event. */
export function formatTopFrames(results: ScenarioCost[], top: number): string {
  return results
    .map((r) => [`${r.name}: ${fmt(r.perEvent.workerCpuMs)} ms per event`, ...(r.topFrames ?? []).slice(0, top).map((f) => `  ${(1000 * f.msPerEvent).toFixed(0).padStart(6)} µs  ${f.frame}`)].join("\n"))
    .join("\n\n");
}

/** The scenarios a `--mix` names: one per event type, as a client sends it. */
const MIX_SCENARIOS: Record<string, string> = {
  created: "lead.created (new lead, then its follow-up)",
  updated: "lead.updated (existing lead)",
  offer: "offer.submitted (new offer)",
};

function parseMix(text: string): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const part of text.split(",")) {
    const [name, share] = part.split("=");
    if (!name || !(name in MIX_SCENARIOS) || share === undefined || !(Number(share) >= 0)) {
      throw new Error(`--mix takes name=share pairs of ${Object.keys(MIX_SCENARIOS).join(", ")}, e.g. created=40,updated=40,offer=20`);
    }
    mix[name] = Number(share);
  }
  return mix;
}

if (import.meta.main) {
  const values = cli("npm run cost -- [--events N (per scenario, default 50)] [--no-operations] [--storage-events N (default 500)] [--json FILE] [--top N (edgeflow's busiest functions per scenario)] [--monthly EVENTS [--mix created=40,updated=40,offer=20] [--from FILE]]", {
    events: { type: "string", default: "50" },
    "no-operations": { type: "boolean", default: false },
    "storage-events": { type: "string", default: "500" },
    json: { type: "string" },
    monthly: { type: "string", multiple: true },
    mix: { type: "string", default: "created=40,updated=40,offer=20" },
    from: { type: "string" },
    top: { type: "string", default: "0" },
  });
  const events = numberArg(values.events, "events")!;
  if (!Number.isInteger(events) || events < 1) throw new Error("--events takes a whole number ≥ 1");
  const monthly = (values.monthly ?? []).map((m) => numberArg(m, "monthly")!);
  const mix = parseMix(values.mix);
  let results: ScenarioCost[];
  if (values.from) {
    // A run saved with --json: the bill without measuring again.
    results = (JSON.parse(readFileSync(values.from, "utf8")) as { results: ScenarioCost[] }).results;
  } else {
    console.error(`measuring ${SCENARIOS.length} scenarios of ${events} events …`);
    const storageEvents = numberArg(values["storage-events"], "storage-events")!;
    const report = await runCost({ events, settleTimeoutMs: 120_000, operations: !values["no-operations"], storageEvents }, (line) => console.error(line));
    results = report.scenarios;
    console.log(formatCost(results));
    const top = numberArg(values.top, "top")!;
    if (top > 0) console.log(`\n${formatTopFrames(results, top)}`);
    if (report.operations.length > 0) console.log(`\n${formatOperations(report.operations)}`);
    if (report.storage.length > 0) console.log(`\n${formatStorage(report.storage)}`);
    // Periodic, not per event (src/metrics/record.ts): shown apart so their independence of the event count is visible.
    const flushes = results.map((r) => `${r.name}: ${(r.counters.metricsRequests * r.events).toFixed(0)} requests, ${(r.counters.metricsRowsWritten * r.events).toFixed(0)} rows`);
    console.log(`\nMetrics flushes in each scenario (at most one per isolate and tenant every 10 s, whatever the events):\n  ${flushes.join("\n  ")}`);
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ pricesAsOf: PRICES_AS_OF, pricePerMillion: PRICE_PER_MILLION, results, operations: report.operations, storage: report.storage }, null, 2)}\n`);
  }
  const perEvent = Object.fromEntries(Object.entries(MIX_SCENARIOS).map(([name, scenario]) => [name, results.find((r) => r.name === scenario)!.perEvent]));
  for (const n of monthly) console.log(`\n${formatBill(monthlyBill(n, mix, perEvent), PRICES_AS_OF)}`);
}
