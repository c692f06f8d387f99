import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { ingestGrouped } from "../../src/router/group-commit.ts";
import type { IncomingEvent } from "../../src/types.ts";
import { leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

/** The demo tenant is a TENANTS tenant: its space is its name. */
const DEMO = { tenant: "demo", space: "demo" };

/**
 * Counts one lead actor's ingest RPCs and the events each carried. RPC methods live on the class,
 * so the count wraps the prototype's method for that one instance.
 */
async function countIngests(leadId: string): Promise<number[]> {
  const calls: number[] = [];
  await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
    const proto = Object.getPrototypeOf(instance) as { ingest(this: EntityActor, tenant: string, events: IncomingEvent[]): Promise<unknown> };
    const original = proto.ingest;
    proto.ingest = function (this: EntityActor, tenant: string, events: IncomingEvent[]) {
      if (this === instance) calls.push(events.length);
      return original.call(this, tenant, events);
    };
  });
  return calls;
}

describe("group commit at the router", () => {
  it("sends concurrent events for one entity in few RPCs, and answers each caller with its own result", async () => {
    const leadId = uniqueId();
    const calls = await countIngests(leadId);
    const first = leadEvent(leadId, { id: `evt_first_${leadId}`, fingerprint: "fp-first" });
    await leadActor(leadId).ingest("demo", [first]);
    calls.length = 0;
    const events = Array.from({ length: 30 }, (_, i) => leadEvent(leadId, { id: `evt_${i}_${leadId}`, type: "lead.updated", data: { id: leadId, n: i } }));
    // Among them, a repeat of a stored event and a conflicting re-use of its id.
    const requests = [...events, first, { ...first, data: { ...first.data, name: "Other" }, fingerprint: "different" }];
    const results = await Promise.all(requests.map((e) => ingestGrouped(env, DEMO, e.entity, [e])));

    expect(results.map((r) => r.length)).toEqual(requests.map(() => 1));
    expect(results.slice(0, 30).map(([r]) => [r!.id, r!.status])).toEqual(events.map((e) => [e.id, "accepted"]));
    expect(new Set(results.slice(0, 30).map(([r]) => r!.seq)).size).toBe(30);
    expect(results[30]![0]).toMatchObject({ id: first.id, status: "duplicate", seq: 1 });
    expect(results[31]![0]).toMatchObject({ id: first.id, status: "conflict" });
    // The first goes at once; everything that arrived while it was in flight shares the next call.
    expect(calls.reduce((a, b) => a + b, 0)).toBe(32);
    expect(calls.length).toBeLessThan(32);
    expect(calls[0]).toBe(1);
    expect((await leadActor(leadId).getEntity())?.events.count).toBe(31);
  });

  it("sends a lone event at once, on its own", async () => {
    const leadId = uniqueId();
    const calls = await countIngests(leadId);
    const [result] = await ingestGrouped(env, DEMO, { type: "lead", id: leadId }, [leadEvent(leadId)]);
    expect(result).toMatchObject({ status: "accepted", seq: 1 });
    expect(calls).toEqual([1]);
  });

  it("keeps one caller's failure its own: the others in its group are stored by their own calls", async () => {
    const leadId = uniqueId();
    const calls = await countIngests(leadId);
    const ref = { type: "lead", id: leadId };
    const good = Array.from({ length: 5 }, (_, i) => leadEvent(leadId, { id: `evt_good_${i}_${leadId}` }));
    // An event whose entity is not the actor it is routed to: the actor refuses the whole call.
    const poison = leadEvent(leadId, { entity: { type: "lead", id: `${leadId}-other` } });
    const outcomes = await Promise.allSettled([ingestGrouped(env, DEMO, ref, [good[0]!]), ...[...good.slice(1), poison].map((e) => ingestGrouped(env, DEMO, ref, [e]))]);
    expect(outcomes.slice(0, 5).map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(outcomes[5]).toMatchObject({ status: "rejected" });
    expect((await leadActor(leadId).getEntity())?.events.count).toBe(5);
    expect(calls.length).toBeGreaterThan(1);
  });
});

describe("group commit when a sender never comes back", () => {
  it("resets the lane once a waiter times out, so later requests for the entity go at once", async () => {
    const leadId = uniqueId();
    const ref = { type: "lead", id: leadId };
    const sent: string[][] = [];
    // The first call is an RPC whose request was cancelled mid-call: it never settles.
    const send = (events: IncomingEvent[]) => {
      sent.push(events.map((e) => e.id));
      if (sent.length === 1) return new Promise<never>(() => undefined);
      return leadActor(leadId).ingest("demo", events);
    };
    const waitMs = 2_000;
    const [a, b, c] = [0, 1, 2].map((i) => leadEvent(leadId, { id: `evt_lane_${i}_${leadId}` }));
    void ingestGrouped(env, DEMO, ref, [a!], { send, waitMs });
    // Gathers behind the stuck call, waits its bound, then sends its own events.
    const second = await ingestGrouped(env, DEMO, ref, [b!], { send, waitMs });
    expect(second[0]).toMatchObject({ id: b!.id, status: "accepted" });
    // The lane was reset: this one is sent at once, not after another full wait behind the stuck call.
    const started = Date.now();
    const third = await ingestGrouped(env, DEMO, ref, [c!], { send, waitMs });
    expect(third[0]).toMatchObject({ id: c!.id, status: "accepted" });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sent).toEqual([[a!.id], [b!.id], [c!.id]]);
  });
});
