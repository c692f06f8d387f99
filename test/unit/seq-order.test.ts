import { describe, expect, it } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import { handlersFor } from "../../src/handlers/registry.ts";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { eventually, leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

describe("event log order", () => {
  it("assigns a gap-free increasing seq and pages through the log in that order", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    const ids: string[] = [];
    // Separate calls, interleaved with duplicates, so seq cannot simply mirror call count.
    for (let i = 0; i < 25; i++) {
      const event = leadEvent(leadId, { type: i === 0 ? "lead.created" : "lead.updated", data: { id: leadId, step: i } });
      ids.push(event.id);
      const [result] = await actor.ingest("demo", [event]);
      expect(result?.seq).toBe(i + 1);
      if (i % 5 === 0) expect((await actor.ingest("demo", [event]))[0]?.status).toBe("duplicate");
    }

    const seen: Array<{ id: string; seq: number }> = [];
    let after = 0;
    for (;;) {
      const page = await actor.listEvents(after, 10);
      if (!page) throw new Error("entity missing");
      seen.push(...page.events.map(({ id, seq }) => ({ id, seq })));
      if (!page.next) break;
      after = Number(page.next);
    }
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(seen.map((e) => e.id)).toEqual(ids);
  });

  it("marks the work due by appending alone: one delivery per handler of the type, in the contract's order", async () => {
    const leadId = uniqueId();
    // Read inside the actor right after the ingest: no alarm can run in between.
    const { page, tables } = await runInDurableObject(leadStub(leadId), async (instance: EntityActor, state) => {
      await instance.ingest("demo", [leadEvent(leadId)]);
      const tables = state.storage.sql.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).toArray();
      // _cf_ tables belong to the platform (the alarm's metadata), not to edgeflow's schema.
      return { page: await instance.listEvents(0, 10), tables: tables.map((t) => t.name).filter((name) => !name.startsWith("_cf_")) };
    });
    // A new entity has its log (whose row 0 is its head), and no table for exceptions until it has one.
    expect(tables).toEqual(["events"]);
    const list = page!.events[0]!.deliveries;
    expect(list.map((d) => d.handler)).toEqual(handlersFor("lead.created"));
    for (const d of list) expect(d).toMatchObject({ status: "pending", attempts: 0, lastError: null });
    // The unit tests leave AI_API_URL unset (vitest.config.ts): the first alarm settles it as skipped.
    await eventually(async () => {
      const d = (await leadActor(leadId).listEvents(0, 10))!.events[0]!.deliveries.find((x) => x.handler === "ai-analysis");
      return d?.status === "skipped" ? d : undefined;
    }, "ai-analysis to be skipped").then((d) => expect(d).toMatchObject({ attempts: 0, lastError: "not configured: AI_API_URL unset" }));
  });

  it("has no entity and no log before the first event", async () => {
    const actor = leadActor(uniqueId());
    expect(await actor.getEntity()).toBeNull();
    expect(await actor.listEvents(0, 10)).toBeNull();
  });
});
