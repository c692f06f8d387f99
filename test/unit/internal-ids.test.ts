import { describe, expect, it } from "vitest";
import { eventually, leadActor, leadEvent, uniqueId } from "./helpers.ts";

describe("internal event ids", () => {
  it("cannot be pre-empted by a client: an event with the old follow-up id does not suppress the reminder", async () => {
    const leadId = uniqueId();
    const created = leadEvent(leadId);
    // v1 named the follow-up `{eventId}:follow-up`, an id any client could send first.
    await leadActor(leadId).ingest("demo", [created, leadEvent(leadId, { id: `${created.id}:follow-up`, type: "lead.updated", data: { id: leadId } })]);
    const due = await eventually(async () => {
      const page = await leadActor(leadId).listEvents(0, 50);
      return page?.events.find((e) => e.type === "lead.follow_up_due");
    }, "the follow-up event", 15_000);
    expect(due.id).toBe(`edgeflow:${created.id}:follow-up`);
    const slack = await eventually(async () => {
      const page = await leadActor(leadId).listEvents(0, 50);
      const d = page?.events.find((e) => e.type === "lead.follow_up_due")?.deliveries.find((x) => x.handler === "slack");
      return d?.status === "succeeded" ? d : undefined;
    }, "the reminder");
    expect(slack.status).toBe("succeeded");
  });
});
