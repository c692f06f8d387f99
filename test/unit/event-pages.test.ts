import { describe, expect, it } from "vitest";
import { MAX_PAGE_BYTES } from "../../actors/entity/views.ts";
import { leadActor, leadEvent, uniqueId } from "./helpers.ts";

describe("pages of an entity's log", () => {
  it("end early once they hold MAX_PAGE_BYTES of event data, and still reach every event", async () => {
    const leadId = uniqueId();
    // 40 events of 200 KB: 8 MB in all, twice the byte budget of one page.
    const blob = "x".repeat(200_000);
    const events = Array.from({ length: 40 }, (_, i) => leadEvent(leadId, { type: "lead.updated", data: { id: leadId, [`note${i}`]: blob } }));
    for (let i = 0; i < events.length; i += 10) await leadActor(leadId).ingest("demo", events.slice(i, i + 10));

    const seen: string[] = [];
    let after = 0;
    let pages = 0;
    for (;;) {
      const page = (await leadActor(leadId).listEvents(after, 500))!;
      pages++;
      const bytes = page.events.reduce((sum, e) => sum + JSON.stringify(e.data).length, 0);
      expect(page.events.length).toBeGreaterThan(0);
      expect(bytes).toBeLessThanOrEqual(MAX_PAGE_BYTES);
      seen.push(...page.events.map((e) => e.id));
      if (!page.next) break;
      after = Number(page.next);
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual(events.map((e) => e.id));
  });

  it("always hold at least one event, however large", async () => {
    const leadId = uniqueId();
    await leadActor(leadId).ingest("demo", [leadEvent(leadId, { type: "lead.updated", data: { id: leadId, note: "y".repeat(MAX_PAGE_BYTES + 10) } })]);
    const page = (await leadActor(leadId).listEvents(0, 10))!;
    expect(page.events).toHaveLength(1);
    expect(page.next).toBeNull();
  });
});
