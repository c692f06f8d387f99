// Retention in the entity actor: settled events past a window are compacted away, state stays, and
// their ids still dedupe; what a handler has not settled (paused, pending, dead) stays whatever its age.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { offloadPayloads } from "../../src/payloads.ts";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { idHash, Retention } from "../../actors/entity/retention.ts";
import type { EntityStore } from "../../actors/entity/store.ts";
import type { TenantSettings } from "../../src/control/settings.ts";
import { eventually, leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

const DAY = 86_400_000;
const keepDays = (days: number): TenantSettings => ({ retention: { days, eventsPerEntity: null }, erasure: { allowRecreate: false }, mirror: { events: false } });

// Each a millisecond after the last, so the newest step wins the state merge.
const updates = (leadId: string, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => leadEvent(leadId, { type: "lead.updated", occurredAt: Date.now() + from + i, data: { id: leadId, step: from + i } }));

/** Runs a compaction as the alarm would, at `now`: how many events went, and how many are left. */
function compactAt(leadId: string, settings: TenantSettings, now: number): Promise<{ compacted: number; left: number }> {
  return runInDurableObject(leadStub(leadId), (instance: EntityActor, state) => {
    const store = (instance as unknown as { store: EntityStore }).store;
    const compacted = new Retention(store).compact(settings, now).events;
    const left = Number(state.storage.sql.exec(`SELECT COUNT(*) AS n FROM events WHERE seq > 0`).one().n);
    return { compacted, left };
  });
}

/** Runs a compaction at `now`: the R2 keys it releases. */
function unusedAt(leadId: string, settings: TenantSettings, now: number): Promise<string[]> {
  return runInDurableObject(leadStub(leadId), (instance: EntityActor) => new Retention((instance as unknown as { store: EntityStore }).store).compact(settings, now).unusedPayloads);
}

async function settled(leadId: string): Promise<void> {
  await eventually(async () => ((await leadActor(leadId).getEntity())?.deliveries.pending === 0 ? true : undefined), "every delivery settled");
}

describe("retention", () => {
  it("compacts settled events past the time window; state stays, and their ids are still duplicates", async () => {
    const leadId = uniqueId();
    const events = updates(leadId, 20);
    await leadActor(leadId).ingest("demo", events);
    await settled(leadId);
    // Inside the window: nothing goes.
    expect(await compactAt(leadId, keepDays(1), Date.now())).toEqual({ compacted: 0, left: 20 });
    expect(await compactAt(leadId, keepDays(1), Date.now() + 3 * DAY)).toEqual({ compacted: 20, left: 0 });

    const view = (await leadActor(leadId).getEntity())!;
    expect(view.state.step).toBe(19);
    expect(view.events).toEqual({ count: 0, lastSeq: 20, compacted: 20 });
    const [again] = await leadActor(leadId).ingest("demo", [events[3]!]);
    expect(again).toMatchObject({ status: "duplicate", seq: 0 });
    const [fresh] = await leadActor(leadId).ingest("demo", updates(leadId, 1, 100));
    expect(fresh).toMatchObject({ status: "accepted", seq: 21 });
    expect((await leadActor(leadId).exportHead())!.compacted).toBe(20);
  });

  it("keeps what a paused handler has not settled, and waits for a batch under the count window", async () => {
    const leadId = uniqueId();
    await leadActor(leadId).ingest("demo", updates(leadId, 4));
    await settled(leadId);
    await leadActor(leadId).pause("slack");
    await leadActor(leadId).ingest("demo", updates(leadId, 30, 4));
    await eventually(async () => ((await leadActor(leadId).getEntity())?.deliveries.pending === 30 ? true : undefined), "the held Slack deliveries");
    // Only the 4 Slack settled may go, and 4 is under the batch a count window waits for.
    const count = (n: number): TenantSettings => ({ retention: { days: null, eventsPerEntity: n }, erasure: { allowRecreate: false }, mirror: { events: false } });
    expect(await compactAt(leadId, count(1), Date.now())).toEqual({ compacted: 0, left: 34 });
    // Past the time window by more than the grace, they go however few.
    expect(await compactAt(leadId, keepDays(1), Date.now() + 2 * DAY)).toEqual({ compacted: 4, left: 30 });
    await leadActor(leadId).resume("slack");
    await settled(leadId);
    // 29 past a count window of 5 is under the batch of 64 it waits for; 70 more make it.
    expect(await compactAt(leadId, count(5), Date.now())).toEqual({ compacted: 0, left: 30 });
    await leadActor(leadId).ingest("demo", updates(leadId, 70, 100));
    await settled(leadId);
    expect(await compactAt(leadId, count(5), Date.now())).toEqual({ compacted: 95, left: 5 });
  });

  it("deletes a compacted event's object in R2, and keeps one a state value still points at until none does", async () => {
    const leadId = uniqueId();
    const large = (n: number, data: Record<string, string>) => leadEvent(leadId, { type: "lead.updated", occurredAt: Date.now() + n, data: { id: leadId, ...data } });
    // Both over the inline threshold; `doc` stays in the state, `blob` is overwritten by a small value.
    const events = await offloadPayloads(env, "demo", [large(0, { doc: "a".repeat(40_000) }), large(1, { blob: "b".repeat(40_000) }), large(2, { blob: "small" })]);
    const [docKey, blobKey] = [events[0]!.payload!.key, events[1]!.payload!.key];
    expect(events[2]!.payload).toBeUndefined();
    await leadActor(leadId).ingest("demo", events);
    await settled(leadId);
    const released = await unusedAt(leadId, keepDays(1), Date.now() + 3 * DAY);
    expect(released).toEqual([blobKey]);
    const view = (await leadActor(leadId).getEntity())!;
    expect(view.state.doc).toHaveLength(40_000);
    expect(view.state.blob).toBe("small");

    expect(await env.PAYLOADS.head(docKey)).not.toBeNull();

    // The pin is part of the head: it outlives the instance (0.5 kept it in memory only, so after a
    // restart the object was never deleted). Once the state no longer points at it, it goes.
    await evictDurableObject(leadStub(leadId));
    await leadActor(leadId).ingest("demo", [large(3, { doc: "short" })]);
    await settled(leadId);
    await eventually(async () => ((await env.PAYLOADS.head(docKey)) === null ? true : undefined), "the unpinned object deleted");
    expect((await leadActor(leadId).getEntity())!.state.doc).toBe("short");
  });

  it("hashes ids to 64 bits with no collision among a million", () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 1_000_000; i++) seen.add(idHash(`evt_${i}`));
    expect(seen.size).toBe(1_000_000);
    expect(idHash("a")).not.toBe(idHash("b"));
  });
});
