import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiRequest, leadActor, uniqueId } from "./helpers.ts";

const post = (json: unknown, path = "/v1/events") => exports.default.fetch(apiRequest(path, { method: "POST", json }));

describe("an event id names one event", () => {
  it("answers a repeat with the same content 200 duplicate, and the same id with other content 409 id_conflict, storing nothing", async () => {
    const leadId = uniqueId();
    const event = { id: `evt_${leadId}`, type: "lead.created", data: { id: leadId, email: "ada@example.com", name: "Ada" } };
    const first = await post(event);
    expect(first.status).toBe(202);
    // The same event with keys in another order is the same content: an honest retry.
    const retry = await post({ data: { name: "Ada", id: leadId, email: "ada@example.com" }, type: "lead.created", id: event.id });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ id: event.id, status: "duplicate", seq: 1 });

    const reused = await post({ ...event, data: { ...event.data, name: "Eve" } });
    expect(reused.status).toBe(409);
    expect(await reused.json()).toEqual({
      error: { code: "id_conflict", message: expect.stringContaining(event.id), issues: [{ path: "id", message: expect.any(String) }] },
    });
    // A given occurredAt is part of the content too.
    expect((await post({ ...event, occurredAt: "2026-11-20T10:00:00Z" })).status).toBe(409);

    const view = await leadActor(leadId).getEntity();
    expect(view).toMatchObject({ state: { name: "Ada" }, events: { count: 1, lastSeq: 1 } });
  });

  it("answers a conflict inside a batch as that item's error, with its position", async () => {
    const leadId = uniqueId();
    const event = { id: `evt_${leadId}`, type: "lead.updated", data: { id: leadId, plan: "pro" } };
    expect((await post(event)).status).toBe(202);
    const response = await post({ events: [event, { ...event, data: { id: leadId, plan: "free" } }] }, "/v1/events/batch");
    expect(response.status).toBe(207);
    const { results } = (await response.json()) as { results: unknown[] };
    expect(results[0]).toMatchObject({ id: event.id, status: "duplicate" });
    expect(results[1]).toEqual({ error: { code: "id_conflict", message: expect.any(String), issues: [{ path: "events.1.id", message: expect.any(String) }] } });
    expect((await leadActor(leadId).getEntity())?.state).toMatchObject({ plan: "pro" });
  });
});
