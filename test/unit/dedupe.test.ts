import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiRequest, leadActor, leadEvent, uniqueId } from "./helpers.ts";

describe("dedupe", () => {
  it("stores an event id once and answers repeats as duplicates with the same shape", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    const actor = leadActor(leadId);

    const [first] = await actor.ingest("demo", [event]);
    const [again] = await actor.ingest("demo", [{ ...event, data: { ...event.data, name: "Changed" } }]);

    expect(first).toEqual({ id: event.id, entity: { type: "lead", id: leadId }, status: "accepted", seq: 1 });
    expect(again).toEqual({ ...first, status: "duplicate" });
    const view = await actor.getEntity();
    expect(view?.events.count).toBe(1);
    // The repeat's different payload must not have touched the state.
    expect(view?.state.name).toBe("Ada");
  });

  it("answers 202 then 200 over HTTP, with the Idempotency-Key header as the id", async () => {
    const leadId = uniqueId();
    const send = () =>
      exports.default.fetch(
        apiRequest("/v1/events", {
          method: "POST",
          headers: { "idempotency-key": `key-${leadId}` },
          json: { type: "lead.created", data: { id: leadId, email: "ada@example.com", name: "Ada" } },
        }),
      );
    const first = await send();
    const second = await send();
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    const a = await first.json<Record<string, unknown>>();
    const b = await second.json<Record<string, unknown>>();
    expect(a).toMatchObject({ id: `key-${leadId}`, status: "accepted", seq: 1 });
    expect(b).toEqual({ ...a, status: "duplicate" });
  });

  it("dedupes repeats inside one batch call", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    const results = await leadActor(leadId).ingest("demo", [event, event, leadEvent(leadId)]);
    expect(results.map((r) => [r.status, r.seq])).toEqual([
      ["accepted", 1],
      ["duplicate", 1],
      ["accepted", 2],
    ]);
  });
});
