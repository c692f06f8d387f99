import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { deliveries, eventually, leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

/** Exception rows an actor holds for one handler (the table exists only once something needed it). */
function rowsOf(leadId: string, handler: string): Promise<number> {
  return runInDurableObject(leadStub(leadId), (_instance: EntityActor, state) => {
    const table = state.storage.sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'`).toArray();
    if (table.length === 0) return 0;
    return Number(state.storage.sql.exec(`SELECT COUNT(*) AS n FROM deliveries WHERE handler = ?`, handler).one().n);
  });
}

describe("an unconfigured handler", () => {
  it("costs no row: its deliveries show skipped with the reason, kept in the head", async () => {
    // The unit pool leaves AI_API_URL unset, so the AI handlers are not configured.
    const leadId = uniqueId();
    const events = Array.from({ length: 3 }, (_, i) => leadEvent(leadId, i === 0 ? {} : { type: "lead.updated", data: { id: leadId, n: i } }));
    await leadActor(leadId).ingest("demo", [events[0]!]);
    const skipped = await eventually(async () => {
      const found = (await deliveries(leadId, events[0]!.id))["ai-analysis"];
      return found?.status === "skipped" ? found : undefined;
    }, "the AI delivery to be skipped");
    expect(skipped).toMatchObject({ attempts: 0, lastError: "not configured: AI_API_URL unset" });
    await leadActor(leadId).ingest("demo", events.slice(1));
    await eventually(async () => ((await deliveries(leadId, events[2]!.id)).slack?.status === "succeeded" ? true : undefined), "the later events' deliveries");
    expect(await rowsOf(leadId, "ai-analysis")).toBe(0);
    // The entity's counts read the same runs.
    expect((await leadActor(leadId).getEntity())!.deliveries.skipped).toBeGreaterThanOrEqual(1);
  });
});

describe("a paused entity", () => {
  it("holds events at no row each: nothing in its exception tables, and no alarm for held work", async () => {
    const leadId = uniqueId();
    await leadActor(leadId).ingest("demo", [leadEvent(leadId, { type: "lead.updated", data: { id: leadId } })]);
    expect(await leadActor(leadId).pause()).toEqual(expect.arrayContaining(["slack"]));
    const held = Array.from({ length: 10 }, (_, i) => leadEvent(leadId, { type: "lead.updated", data: { id: leadId, n: i } }));
    await leadActor(leadId).ingest("demo", held);
    await eventually(async () => ((await deliveries(leadId, held[9]!.id)).slack?.status === "paused" ? true : undefined), "the held deliveries shown paused");
    for (const handler of ["slack", "crm", "database", "analytics"]) expect(await rowsOf(leadId, handler)).toBe(0);
    // The ingest's alarm runs, finds only held work, and is not set again.
    await eventually(async () => ((await runInDurableObject(leadStub(leadId), (_instance: EntityActor, state) => state.storage.getAlarm())) === null ? true : undefined), "the alarm to be cleared");
  });
});
