import { describe, expect, it } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import type { EntityActor } from "../../actors/entity-actor";
import { leadActor, leadEvent, leadStub, uniqueId } from "./helpers";

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

  it("writes one outbox row per handler of the type, in the contract's order; unconfigured ones settle as skipped at once", async () => {
    const leadId = uniqueId();
    // Read inside the actor right after the ingest: no alarm can run in between.
    const rows = await runInDurableObject(leadStub(leadId), async (instance: EntityActor, state) => {
      await instance.ingest("demo", [leadEvent(leadId)]);
      return state.storage.sql
        .exec<{ handler: string; status: string; attempts: number; last_error: string | null }>(`SELECT handler, status, attempts, last_error FROM outbox ORDER BY id`)
        .toArray();
    });
    expect(rows.map((r) => r.handler)).toEqual(["slack", "welcome-email", "crm", "ai-analysis", "database", "analytics", "follow-up"]);
    // The unit tests leave AI_API_URL unset (vitest.config.ts); every other handler is configured.
    for (const row of rows) {
      if (row.handler === "ai-analysis") expect(row).toEqual({ handler: "ai-analysis", status: "skipped", attempts: 0, last_error: "not configured: AI_API_URL unset" });
      else expect(row).toMatchObject({ status: "pending", attempts: 0, last_error: null });
    }
  });

  it("has no entity and no log before the first event", async () => {
    const actor = leadActor(uniqueId());
    expect(await actor.getEntity()).toBeNull();
    expect(await actor.listEvents(0, 10)).toBeNull();
  });
});
