import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appendEvents, appendScheduled } from "../../actors/entity/log.ts";
import { EntityStore, LOGGED_TAIL_MAX } from "../../actors/entity/store.ts";
import { Db, ENTITY_SQL } from "../../actors/shared/sql.ts";
import { takeUsage } from "../../src/usage.ts";
import type { IncomingEvent } from "../../src/types.ts";
import { leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

/** What row 0 says the log's end is: the head as last written. */
const headSeq = (storage: DurableObjectStorage) =>
  Number(storage.sql.exec<{ n: number }>(`SELECT json_extract(data, '$.lastSeq') AS n FROM events WHERE seq = 0`).one().n);

const open = (storage: DurableObjectStorage) => new EntityStore(storage, new Db(storage.sql, ENTITY_SQL));

/** Appends one event at its own receivedAt, returning the entity rows the call wrote. */
function append(store: EntityStore, event: IncomingEvent): number {
  takeUsage();
  appendEvents(store, "demo", [event], event.receivedAt);
  return takeUsage().entityRowsWritten;
}

describe("the head as a checkpoint of the log", () => {
  it("writes only the log row for an event of an existing entity; a new instance replays it into the same head", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      store.update(() => undefined);
      const update = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro", email: "new@example.com" }, occurredAt: Date.now() + 1 });
      expect(append(store, update)).toBe(1);
      expect(headSeq(state.storage)).toBe(1);

      const reopened = open(state.storage);
      expect(reopened.head).toEqual(store.head);
      expect(reopened.head).toMatchObject({ lastSeq: 2, version: 2 });
      expect(reopened.head!.state.plan![0]).toBe("pro");
      // The replayed event is no different from a stored one: its id is still a duplicate.
      expect(appendEvents(reopened, "demo", [update], Date.now())[0]).toMatchObject({ status: "duplicate", seq: 2 });
    });
  });

  it("writes a new entity's table and first row only, the row saying who the entity is; a reload seeds the head from it", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      const first = leadEvent(leadId);
      // Its table (2) and its event (1): no head row yet.
      expect(append(store, first)).toBe(3);
      expect(state.storage.sql.exec(`SELECT COUNT(*) AS n FROM events WHERE seq = 0`).one().n).toBe(0);
      expect(append(store, leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro" } }))).toBe(1);
      const reopened = open(state.storage);
      expect(reopened.head).toEqual(store.head);
      expect(reopened.head).toMatchObject({ tenant: "demo", entity: { type: "lead", id: leadId }, lastSeq: 2, version: 2 });
      expect(appendEvents(reopened, "demo", [first], Date.now())[0]).toMatchObject({ status: "duplicate", seq: 1 });
      // The first write of the reloaded head inserts row 0, and later loads read it.
      reopened.update(() => undefined);
      expect(headSeq(state.storage)).toBe(2);
      expect(open(state.storage).head).toEqual(reopened.head);
    });
  });

  it(`writes the head once the log is LOGGED_TAIL_MAX (${LOGGED_TAIL_MAX}) events past it, so a load replays no more`, async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      store.update(() => undefined);
      const written: number[] = [];
      for (let i = 0; i < LOGGED_TAIL_MAX + 2; i++) written.push(append(store, leadEvent(leadId, { type: "lead.updated", data: { id: leadId, step: i } })));
      // Every append is its row; the one that takes the tail to the bound writes the head too
      // (the log's id index, made at 32 events, adds its own rows to one of them).
      const withHead = written.map((rows, i) => (rows > 1 ? i : -1)).filter((i) => i >= 0);
      expect(withHead).toContain(LOGGED_TAIL_MAX - 1);
      expect(headSeq(state.storage)).toBe(LOGGED_TAIL_MAX + 1);
      expect(open(state.storage).head).toEqual(store.head);
    });
  });

  it("writes a scheduled event as a row of its own, never into the head, and the head at once for data kept in R2", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      store.update(() => undefined);
      const later = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "team" }, deliverAt: Date.now() + 3_600_000 });
      expect(append(store, later)).toBe(1);
      expect(headSeq(state.storage)).toBe(1);
      expect(open(state.storage).scheduled.list().map((e) => e.id)).toEqual([later.id]);
      const large = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, notes: "x".repeat(2_000) }, payload: { key: `demo/lead/${leadId}/large`, bytes: 2_100 } as IncomingEvent["payload"] });
      expect(append(store, large)).toBe(2);
      expect(headSeq(state.storage)).toBe(2);
    });
  });

  it("keeps the head small however much an entity has scheduled (0.5 kept it all inline: 80 events of 30 KiB made a 2.4 MB row)", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      for (let i = 0; i < 80; i++) {
        append(store, leadEvent(leadId, { type: "lead.updated", data: { id: leadId, notes: `${i}`.padEnd(30 * 1024, "x") }, deliverAt: Date.now() + 3_600_000 + i }));
      }
      store.update(() => undefined);
      const head = state.storage.sql.exec<{ n: number }>(`SELECT length(data) AS n FROM events WHERE seq = 0`).one().n;
      expect(head).toBeLessThan(8 * 1024);
      expect(open(state.storage).scheduled.count).toBe(80);
    });
  });

  it("refuses a scheduled event past the entity's bound, writing nothing", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      const at = Date.now() + 3_600_000;
      const schedule = (n: number) => appendEvents(store, "demo", [leadEvent(leadId, { id: `evt_s${n}`, type: "lead.updated", data: { id: leadId, n }, deliverAt: at + n })], Date.now(), { maxScheduled: 3 })[0]!;
      expect([1, 2, 3].map((n) => schedule(n).status)).toEqual(["scheduled", "scheduled", "scheduled"]);
      takeUsage();
      expect(schedule(4)).toMatchObject({ status: "limit", seq: 0 });
      expect(takeUsage().entityRowsWritten).toBe(0);
      // A repeat of one already waiting is still a duplicate, at the bound as below it.
      expect(schedule(2)).toMatchObject({ status: "duplicate" });
    });
  });

  it("appends at once a scheduled event whose time came on its way to the actor, received when the log took it", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      // The router saw deliverAt 40 ms ahead; the actor gets the event 50 ms later.
      const routed = Date.now();
      const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "team" }, receivedAt: routed, deliverAt: routed + 40 });
      const [result] = appendEvents(store, "demo", [event], routed + 50);
      expect(result).toMatchObject({ status: "accepted", seq: 2 });
      expect(store.existingHead.timers).toEqual([]);
      const stored = state.storage.sql.exec<{ received_at: number }>(`SELECT received_at FROM events WHERE seq = 2`).one();
      expect(stored.received_at).toBe(routed + 50);
    });
  });

  it("turns a due scheduled event's own row into the next event: one row written, and a reload has it in the log, not waiting", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      const later = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "team" }, deliverAt: Date.now() + 3_600_000 });
      append(store, later);
      // What the alarm does when it is due (EntityActor.fireTimers).
      takeUsage();
      const [entry] = store.scheduled.due(Date.now() + 3_600_000, 10);
      store.update(() => appendScheduled(store, store.existingHead, entry!, Date.now()), "unless-logged");
      expect(takeUsage().entityRowsWritten).toBe(1);
      const reopened = open(state.storage);
      expect(reopened.scheduled.count).toBe(0);
      expect(reopened.head).toEqual(store.head);
      expect(reopened.head).toMatchObject({ lastSeq: 2 });
      expect(reopened.head!.state.plan![0]).toBe("team");
      expect(appendEvents(reopened, "demo", [later], Date.now())[0]).toMatchObject({ status: "duplicate", seq: 2 });
    });
  });

  it("keeps an entity revived after erasure across an eviction (its new head row is inserted, not updated)", async () => {
    const leadId = uniqueId();
    await runInDurableObject(leadStub(leadId), async (_instance, state) => {
      const store = open(state.storage);
      append(store, leadEvent(leadId));
      append(store, leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro" } }));
      await store.eraseToTombstone({ tenant: "demo", space: "demo", entity: { type: "lead", id: leadId }, mirrorTables: [] }, Date.now());
      store.cleanedUp();
      expect(store.revive()).toBe(true);
      append(store, leadEvent(leadId, { data: { id: leadId, name: "Grace" } }));
      const reopened = open(state.storage).head;
      expect(reopened).toMatchObject({ lastSeq: 1, version: 1 });
      expect(reopened!.state.name![0]).toBe("Grace");
    });
  });

  it("answers for the replayed state after a real eviction of the actor", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    await actor.ingest("demo", [leadEvent(leadId)]);
    await actor.ingest("demo", [leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "enterprise" }, occurredAt: Date.now() + 1 })]);
    const before = await actor.getEntity();
    await evictDurableObject(leadStub(leadId));
    const after = await actor.getEntity();
    expect(after).toMatchObject({ version: before!.version, events: { lastSeq: 2 }, state: { plan: "enterprise" } });
  });
});
