// A turn asks every handler for its work in one synchronous pass, and most handlers' cursors sit at
// the same place: the log's page after that place is read once per pass (actors/entity/deliveries.ts),
// and never served stale once the log has grown.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import type { Deliveries } from "../../actors/entity/deliveries.ts";
import { appendEvents } from "../../actors/entity/log.ts";
import type { EntityStore } from "../../actors/entity/store.ts";
import { takeUsage } from "../../src/usage.ts";
import { leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

const updates = (leadId: string, n: number) => Array.from({ length: n }, (_, i) => leadEvent(leadId, { type: "lead.updated", data: { id: leadId, step: i } }));
const any = () => true;

describe("the log's page after a cursor", () => {
  it("is read once for every handler at the same cursor in one pass, and again once the log grows", async () => {
    const leadId = uniqueId();
    await leadActor(leadId).ingest("demo", updates(leadId, 3));
    await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
      const { store, deliveries } = instance as unknown as { store: EntityStore; deliveries: Deliveries };
      takeUsage();
      const first = deliveries.rangeAfter("slack", 0, 10, any);
      const read = takeUsage().entityRowsRead;
      expect(first.events.map((e) => Number(e.seq))).toEqual([1, 2, 3]);
      expect(read).toBeGreaterThanOrEqual(3);

      // Another handler at the same cursor, in the same pass: the same page, no read.
      const second = deliveries.rangeAfter("crm", 0, 10, any);
      expect(second.events.map((e) => Number(e.seq))).toEqual([1, 2, 3]);
      expect(takeUsage().entityRowsRead).toBe(0);

      // An append in the same pass: the next read sees it.
      appendEvents(store, "demo", updates(leadId, 1), Date.now());
      const grown = deliveries.rangeAfter("analytics", 0, 10, any);
      expect(grown.events.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4]);
      expect(takeUsage().entityRowsRead).toBeGreaterThanOrEqual(4);

      // A cursor at the log's end needs no query at all.
      expect(deliveries.rangeAfter("database", 4, 10, any).events).toEqual([]);
      expect(takeUsage().entityRowsRead).toBe(0);
    });
  });

  it("is not kept past the pass that read it", async () => {
    const leadId = uniqueId();
    await leadActor(leadId).ingest("demo", updates(leadId, 2));
    const deliveriesOf = (instance: EntityActor) => (instance as unknown as { deliveries: Deliveries }).deliveries;
    await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
      deliveriesOf(instance).rangeAfter("slack", 0, 10, any);
    });
    await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
      takeUsage();
      expect(deliveriesOf(instance).rangeAfter("slack", 0, 10, any).events).toHaveLength(2);
      expect(takeUsage().entityRowsRead).toBeGreaterThanOrEqual(2);
    });
  });
});
