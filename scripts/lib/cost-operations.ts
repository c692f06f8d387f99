// `npm run cost`'s operations: what one lifecycle operation costs in billable units (alarm
// operations included), measured the way the per-event scenarios are (the server's own counters
// from the moment it is quiet before until it is quiet after), and what an entity's storage comes
// to after many events, with and without retention.
import type { Usage } from "../../src/usage.ts";
import type { Receiver } from "../receiver.ts";
import type { HttpClient } from "./load.ts";
import { price, settle, sum, takeUsage, type CpuMeter, type ScenarioCost } from "./metering.ts";
import { until } from "./poll.ts";
import { STORAGE_PER_GB_MONTH } from "./prices.ts";

const AUTH = { authorization: "Bearer dev_demo_key" };
const QUIET_MS = 1_000;
const TIMEOUT_MS = 120_000;

interface Context {
  client: HttpClient;
  receiver: Receiver;
  run: string;
}

interface Operation {
  name: string;
  /** Work before the measurement starts (events the operation acts on). */
  prepare?(ctx: Context): Promise<void>;
  /** The operation, and its wait for the effect a user would check. */
  perform(ctx: Context): Promise<void>;
  /** Work after the measurement (undoing what prepare set up). */
  cleanup?(ctx: Context): Promise<void>;
}

async function send(ctx: Context, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const answer = await ctx.client.send(method, path, body === undefined ? undefined : JSON.stringify(body), AUTH);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
}

/** Waits until the receiver has seen `count` successful calls matching `match`. */
function calls(ctx: Context, count: number, match: (headers: Record<string, string>) => boolean, what: string): Promise<void> {
  return until(`${what}: ${count} calls at the receiver`, () => ctx.receiver.calls.filter((c) => c.status < 300 && match(c.headers)).length >= count, TIMEOUT_MS, 100);
}

const updates = (lead: string, n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ id: `${lead}-${tag}${i}`, type: "lead.updated", data: { id: lead, step: `${tag}${i}` } }));

/** Posts events for one lead and waits until Slack has had every one. */
async function seed(ctx: Context, lead: string, n: number, tag = "s"): Promise<void> {
  const events = updates(lead, n, tag);
  for (let i = 0; i < events.length; i += 100) await send(ctx, "POST", "/v1/events/batch", { events: events.slice(i, i + 100) });
  await calls(ctx, n, (h) => h["edgeflow-handler"] === "slack" && h["edgeflow-entity"] === `lead/${lead}` && h["edgeflow-replay"] === undefined, `seeding ${lead}`);
}

const OPERATIONS: Operation[] = [
  {
    name: "a scheduled event (deliverAt 2 s ahead), appended and delivered",
    prepare: (ctx) => seed(ctx, `${ctx.run}-sched`, 1),
    async perform(ctx) {
      const id = `${ctx.run}-sched-later`;
      await send(ctx, "POST", "/v1/events", { id, type: "lead.updated", deliverAt: Date.now() + 2_000, data: { id: `${ctx.run}-sched`, step: "later" } });
      await calls(ctx, 2, (h) => h["edgeflow-event-id"] === id && ["slack", "crm"].includes(h["edgeflow-handler"] ?? ""), "the scheduled event");
    },
  },
  {
    name: "a schedule firing (every second, 5 firings; creation and deletion shared)",
    async perform(ctx) {
      const lead = `${ctx.run}-cron`;
      const created = (await send(ctx, "POST", "/v1/schedules", { everySeconds: 1, event: { type: "lead.updated", data: { id: lead, step: "tick" } } })).body as { id: string };
      await calls(ctx, 5, (h) => h["edgeflow-handler"] === "slack" && h["edgeflow-entity"] === `lead/${lead}`, "5 firings");
      await send(ctx, "DELETE", `/v1/schedules/${created.id}`);
    },
  },
  {
    name: "pause, 10 held events, resume (the events' own work included)",
    prepare: (ctx) => seed(ctx, `${ctx.run}-hold`, 1),
    async perform(ctx) {
      const lead = `${ctx.run}-hold`;
      await send(ctx, "POST", `/v1/entities/lead/${lead}/pause`, {});
      await send(ctx, "POST", "/v1/events/batch", { events: updates(lead, 10, "h") });
      await send(ctx, "POST", `/v1/entities/lead/${lead}/resume`, {});
      await calls(ctx, 10, (h) => h["edgeflow-handler"] === "slack" && (h["edgeflow-event-id"] ?? "").startsWith(`${lead}-h`), "the held events");
    },
  },
  {
    name: "an export (an entity of 20 events)",
    prepare: (ctx) => seed(ctx, `${ctx.run}-exp`, 20),
    perform: async (ctx) => void (await send(ctx, "GET", `/v1/entities/lead/${ctx.run}-exp/export`)),
  },
  {
    name: "an erasure (an entity of 20 events)",
    prepare: (ctx) => seed(ctx, `${ctx.run}-era`, 20),
    perform: async (ctx) => void (await send(ctx, "DELETE", `/v1/entities/lead/${ctx.run}-era`)),
  },
  {
    name: "a replay of 10 events to Slack",
    prepare: (ctx) => seed(ctx, `${ctx.run}-rep`, 10),
    async perform(ctx) {
      const lead = `${ctx.run}-rep`;
      await send(ctx, "POST", `/v1/entities/lead/${lead}/replay`, { handler: "slack" });
      await calls(ctx, 10, (h) => h["edgeflow-entity"] === `lead/${lead}` && h["edgeflow-replay"] === "true", "the replayed calls");
    },
  },
  {
    name: "a compaction of 100 events (eventsPerEntity 10; the event whose turn compacts included)",
    async prepare(ctx) {
      await seed(ctx, `${ctx.run}-cmp`, 110);
      // Every queued report in: a report after the settings change would compact before the measurement.
      await settle(ctx.client, QUIET_MS, TIMEOUT_MS);
      await send(ctx, "PATCH", "/v1/settings", { retention: { eventsPerEntity: 10 } });
      // Entities read the settings through a cache of a few seconds.
      await new Promise((r) => setTimeout(r, 6_000));
    },
    async perform(ctx) {
      const lead = `${ctx.run}-cmp`;
      await send(ctx, "POST", "/v1/events", { id: `${lead}-last`, type: "lead.updated", data: { id: lead, step: "last" } });
      const compacted = async () => ((await send(ctx, "GET", `/v1/entities/lead/${lead}`)).body as { events: { compacted: number } }).events.compacted;
      await until("the compaction", async () => (await compacted()) >= 100, TIMEOUT_MS, 200);
      await send(ctx, "PATCH", "/v1/settings", { retention: { eventsPerEntity: null } });
    },
  },
  {
    name: "a large event (900 KB of data, kept in R2), appended and delivered",
    prepare: (ctx) => seed(ctx, `${ctx.run}-big`, 1),
    async perform(ctx) {
      const id = `${ctx.run}-big-event`;
      await send(ctx, "POST", "/v1/events", { id, type: "lead.updated", data: { id: `${ctx.run}-big`, notes: "n".repeat(900_000) } });
      await calls(ctx, 2, (h) => h["edgeflow-event-id"] === id && ["slack", "crm"].includes(h["edgeflow-handler"] ?? ""), "the large event");
    },
  },
  {
    name: "20 offers to an endpoint rate-limited to 10/s (each offer's own work included)",
    async prepare(ctx) {
      const endpoint = (await send(ctx, "POST", "/v1/endpoints", { url: `${ctx.receiver.url}/limited`, eventTypes: ["offer.submitted"], rateLimit: { perSecond: 10 } })).body as { id: string };
      limitedEndpoint = endpoint.id;
    },
    async perform(ctx) {
      const events = Array.from({ length: 20 }, (_, i) => ({ id: `${ctx.run}-lim-${i}`, type: "offer.submitted", data: { id: `${ctx.run}-lim-${i}`, leadId: "L-1", amount: 10, currency: "EUR" } }));
      await send(ctx, "POST", "/v1/events/batch", { events });
      await calls(ctx, 20, (h) => (h["edgeflow-handler"] ?? "").startsWith("endpoint:") && (h["edgeflow-event-id"] ?? "").startsWith(`${ctx.run}-lim-`), "the limited endpoint");
    },
    async cleanup(ctx) {
      if (limitedEndpoint) await send(ctx, "DELETE", `/v1/endpoints/${limitedEndpoint}`);
    },
  },
];
let limitedEndpoint: string | null = null;

/** Units per operation, each measured alone on a quiet server. */
export async function runOperations(cpu: CpuMeter, client: HttpClient, receiver: Receiver, run: string, log: (line: string) => void): Promise<ScenarioCost[]> {
  const ctx: Context = { client, receiver, run };
  const results: ScenarioCost[] = [];
  for (const op of OPERATIONS) {
    log(`  ${op.name} …`);
    await op.prepare?.(ctx);
    await settle(client, QUIET_MS, TIMEOUT_MS);
    let usage: Usage = await takeUsage(client);
    const cpuSpan = await cpu.begin();
    await op.perform(ctx);
    usage = sum(usage, await settle(client, QUIET_MS, TIMEOUT_MS));
    results.push(price(op.name, 1, usage, await cpuSpan()));
    await op.cleanup?.(ctx);
  }
  return results;
}

export interface StorageFigure {
  name: string;
  events: number;
  bytesPerEntity: number;
  dollarsPerMillionEntitiesMonth: number;
}

/**
 * Bytes per entity after `events` lead.updated events each (the entity's SQLite database size, as
 * storage is billed), for 5 leads: without retention, and with eventsPerEntity 20.
 */
export async function runStorage(client: HttpClient, receiver: Receiver, run: string, events: number, log: (line: string) => void): Promise<StorageFigure[]> {
  const ctx: Context = { client, receiver, run };
  const figures: StorageFigure[] = [];
  for (const [name, retention] of [
    ["no retention", null],
    ["retention: 20 events per entity", 20],
  ] as const) {
    log(`  storage, ${name} …`);
    await send(ctx, "PATCH", "/v1/settings", { retention: { eventsPerEntity: retention } });
    await new Promise((r) => setTimeout(r, 6_000));
    const leads = Array.from({ length: 5 }, (_, i) => `${run}-store${retention ?? 0}-${i}`);
    for (const lead of leads) await seed(ctx, lead, events);
    // A last event each: its turn compacts what the seeding left past the window.
    for (const lead of leads) await send(ctx, "POST", "/v1/events", { id: `${lead}-end`, type: "lead.updated", data: { id: lead, step: "end" } });
    await settle(client, QUIET_MS, TIMEOUT_MS);
    let bytes = 0;
    for (const lead of leads) bytes += ((await send(ctx, "GET", `/v1/entities/lead/${lead}`)).body as { storageBytes: number }).storageBytes;
    const bytesPerEntity = bytes / leads.length;
    figures.push({ name, events: events + 1, bytesPerEntity, dollarsPerMillionEntitiesMonth: (bytesPerEntity * 1_000_000 * STORAGE_PER_GB_MONTH) / 1e9 });
  }
  await send(ctx, "PATCH", "/v1/settings", { retention: { eventsPerEntity: null } });
  return figures;
}

export function formatOperations(results: ScenarioCost[]): string {
  const lines = ["Billable units per operation (alarm operations included in rows written)", ""];
  const width = Math.max(...results.map((r) => r.name.length));
  const head = ["DO rows written", "of which alarm ops", "DO requests", "of which limiter", "queue ops", "D1 rows written", "R2 ops (A+B)", "Worker invocations", "$ per M operations"];
  lines.push(`${"".padEnd(width)}  ${head.join(" | ")}`);
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  for (const r of results) {
    const cells = [
      fmt(r.perEvent.doRowsWritten),
      fmt(r.counters.entityKvWrites + r.counters.tenantKvWrites),
      fmt(r.perEvent.doRequests),
      fmt(r.counters.limiterRequests),
      fmt(r.perEvent.queueOperations),
      fmt(r.perEvent.d1RowsWritten),
      `${fmt(r.perEvent.r2ClassA)}+${fmt(r.perEvent.r2ClassB)}`,
      fmt(r.perEvent.workerInvocations),
      `$${r.dollarsPerMillion.total.toFixed(2)}`,
    ];
    lines.push(`${r.name.padEnd(width)}  ${cells.map((c, i) => c.padStart(head[i]!.length)).join(" | ")}`);
  }
  return lines.join("\n");
}

export function formatStorage(figures: StorageFigure[]): string {
  const lines = [`Storage per entity (SQLite database size; $${STORAGE_PER_GB_MONTH} per GB-month, allowance ignored)`, ""];
  for (const f of figures) {
    lines.push(`${f.name.padEnd(34)} after ${f.events} events: ${(f.bytesPerEntity / 1024).toFixed(1)} KiB per entity, $${f.dollarsPerMillionEntitiesMonth.toFixed(2)} per million entities a month`);
  }
  return lines.join("\n");
}
