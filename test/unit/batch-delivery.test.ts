import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { forgetTenant } from "../../src/control/runtime.ts";
import { tenantActor } from "../../src/rpc/actors.ts";
import { deliveries, eventually, leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

/** Stores one lead and waits for its D1 mirror, so the isolate has applied the D1 schema. */
async function warmUp(): Promise<void> {
  const leadId = uniqueId();
  const event = leadEvent(leadId);
  await leadActor(leadId).ingest("demo", [event]);
  await eventually(async () => ((await deliveries(leadId, event.id)).database?.status === "succeeded" ? true : undefined), "the warm-up mirror");
}

/**
 * Gives one lead's actor a real D1 database and a real Analytics Engine dataset that record how
 * many events each call carried: a D1 `batch()` is one call; data points written in one synchronous
 * run (no await between them) are one call.
 */
async function recordCalls(leadId: string) {
  const d1Batches: number[] = [];
  const pointRuns: number[] = [];
  let run = -1;
  let open = false;
  await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
    const db = env.DB!;
    const dataset = env.ANALYTICS!;
    const DB = new Proxy(db, {
      get(target, prop) {
        if (prop === "batch") return (statements: D1PreparedStatement[]) => (d1Batches.push(statements.length), target.batch(statements));
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const ANALYTICS = {
      writeDataPoint(point?: AnalyticsEngineDataPoint) {
        if (!open) {
          open = true;
          run++;
          pointRuns.push(0);
          queueMicrotask(() => (open = false));
        }
        pointRuns[run]!++;
        dataset.writeDataPoint(point);
      },
    };
    Object.defineProperty(instance, "env", { value: { ...env, DB, ANALYTICS }, configurable: true });
  });
  return { d1Batches, pointRuns };
}

/** Sets the demo tenant's `mirror.events`, as PATCH /v1/settings does, and drops this isolate's cached copy. */
async function mirrorEvents(on: boolean): Promise<void> {
  await tenantActor(env, "demo").updateSettings("demo", { mirror: { events: on } });
  forgetTenant("demo");
}

describe("batched delivery", () => {
  it("sends an entity's due backlog to a batching handler (D1) in one call, in seq order, with the same result", async () => {
    await mirrorEvents(true);
    const leadId = uniqueId();
    const statuses = ["new", "contacted", "qualified", "nurturing", "converted"];
    const base = Date.now();
    const events = [
      leadEvent(leadId, { occurredAt: base }),
      ...statuses.map((status, i) => leadEvent(leadId, { type: "lead.updated", occurredAt: base + i + 1, data: { id: leadId, status } })),
    ];
    // The D1 schema is applied once per isolate, in a batch of its own: apply it first.
    await warmUp();
    const calls = await recordCalls(leadId);
    // One ingest call: all six database deliveries are due when the alarm first runs.
    await leadActor(leadId).ingest("demo", events);
    await eventually(async () => ((await deliveries(leadId, events[5]!.id)).database?.status === "succeeded" ? true : undefined), "the database deliveries");
    // One D1 batch: six event rows and one upsert of the lead.
    expect(calls.d1Batches).toEqual([7]);
    for (const e of events) expect((await deliveries(leadId, e.id)).database).toMatchObject({ status: "succeeded", attempts: 1 });

    // D1 holds every event (the tenant asked for them) and the lead as of the last one, as six single calls would have left it.
    const mirrored = await env.DB!.prepare(`SELECT seq FROM events WHERE tenant = 'demo' AND entity_id = ? ORDER BY seq`).bind(leadId).all<{ seq: number }>();
    expect(mirrored.results.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const lead = await env.DB!.prepare(`SELECT status, last_event_seq FROM leads WHERE tenant = 'demo' AND id = ?`).bind(leadId).first();
    expect(lead).toEqual({ status: "converted", last_event_seq: 6 });

    // A lone later event goes singly.
    await leadActor(leadId).ingest("demo", [leadEvent(leadId, { type: "lead.updated", occurredAt: base + 10, data: { id: leadId, status: "closed" } })]);
    await eventually(async () => (calls.d1Batches.length === 2 ? true : undefined), "the seventh event's D1 call");
    expect(calls.d1Batches).toEqual([7, 2]);
  });

  it("writes only the entity's state to D1 unless the tenant's settings ask for a row per event: one row for a burst", async () => {
    await mirrorEvents(false);
    const leadId = uniqueId();
    const base = Date.now();
    const events = [
      leadEvent(leadId, { occurredAt: base }),
      ...[1, 2, 3].map((i) => leadEvent(leadId, { type: "lead.updated", occurredAt: base + i, data: { id: leadId, status: `s${i}` } })),
    ];
    await warmUp();
    const calls = await recordCalls(leadId);
    await leadActor(leadId).ingest("demo", events);
    await eventually(async () => ((await deliveries(leadId, events[3]!.id)).database?.status === "succeeded" ? true : undefined), "the database deliveries");
    // One upsert of the lead for the whole burst, and no event rows.
    expect(calls.d1Batches).toEqual([1]);
    const mirrored = await env.DB!.prepare(`SELECT COUNT(*) AS n FROM events WHERE tenant = 'demo' AND entity_id = ?`).bind(leadId).first<{ n: number }>();
    expect(mirrored?.n).toBe(0);
    const lead = await env.DB!.prepare(`SELECT status, last_event_seq FROM leads WHERE tenant = 'demo' AND id = ?`).bind(leadId).first();
    expect(lead).toEqual({ status: "s3", last_event_seq: 4 });
  });

  it("writes an entity's due backlog of Analytics Engine data points in one attempt", async () => {
    const leadId = uniqueId();
    const base = Date.now();
    const events = [
      leadEvent(leadId, { occurredAt: base }),
      ...[1, 2, 3, 4].map((i) => leadEvent(leadId, { type: "lead.updated", occurredAt: base + i, data: { id: leadId, status: "contacted" } })),
    ];
    const calls = await recordCalls(leadId);
    await leadActor(leadId).ingest("demo", events);
    await eventually(async () => ((await deliveries(leadId, events[4]!.id)).analytics?.status === "succeeded" ? true : undefined), "the analytics deliveries");
    expect(calls.pointRuns).toEqual([5]);
  });
});
