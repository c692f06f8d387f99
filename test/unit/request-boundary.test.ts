import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiRequest, leadActor, uniqueId } from "./helpers.ts";

const send = (path: string, body: string) =>
  exports.default.fetch(apiRequest(path, { method: "POST", body, headers: { "content-type": "application/json" } }));

async function expectError(response: Response, status: number, code: string, paths?: string[]) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; issues?: Array<{ path: string }> } };
  expect(body.error.code).toBe(code);
  if (paths) expect(body.error.issues?.map((i) => i.path)).toEqual(paths);
}

describe("the request boundary refuses what it cannot store faithfully, and stores nothing", () => {
  it("refuses numbers that overflow to Infinity on every JSON endpoint (I-JSON)", async () => {
    const leadId = uniqueId();
    const lead = `{"type":"lead.created","data":{"id":"${leadId}","email":"a@b.co","name":"A","amount":1e999}}`;
    await expectError(await send("/v1/events", lead), 400, "invalid_json");
    await expectError(await send("/v1/events", lead.replace("1e999", "-1e999")), 400, "invalid_json");
    await expectError(await send("/v1/events/batch", `[${lead}]`), 400, "invalid_json");
    await expectError(await send("/v1/dead-letters/replay", `{"ids":["x"],"n":1e400}`), 400, "invalid_json");
    // Large but finite numbers are kept as they are.
    expect((await send("/v1/events", lead.replace("1e999", "1e300"))).status).toBe(202);
    expect((await leadActor(leadId).getEntity())?.state.amount).toBe(1e300);
  });

  it("refuses event times that are impossible, before 1970 or over 24 h ahead, at the path occurredAt", async () => {
    const leadId = uniqueId();
    const at = (occurredAt: unknown) => JSON.stringify({ type: "lead.created", occurredAt, data: { id: leadId, email: "a@b.co", name: "A" } });
    // Epoch microseconds: the year 56,867, which would break the follow-up timer's alarm.
    await expectError(await send("/v1/events", at(1_732_400_000_000_000)), 400, "invalid_event", ["occurredAt"]);
    await expectError(await send("/v1/events", at("2026-02-30T00:00:00Z")), 400, "invalid_event", ["occurredAt"]);
    await expectError(await send("/v1/events", at(Date.now() + 25 * 3600_000)), 400, "invalid_event", ["occurredAt"]);
    expect(await leadActor(leadId).getEntity()).toBeNull();
    expect((await send("/v1/events", at(Date.now() + 23 * 3600_000))).status).toBe(202);
  });

  it("refuses an explicit entity of another type, so offer data never merges into a lead", async () => {
    const leadId = uniqueId();
    expect((await send("/v1/events", JSON.stringify({ type: "lead.created", data: { id: leadId, email: "lead@example.com", name: "L" } }))).status).toBe(202);
    const offer = { type: "offer.submitted", entity: { type: "lead", id: leadId }, data: { id: leadId, leadId, amount: 5, currency: "EUR", email: "attacker@example.com" } };
    await expectError(await send("/v1/events", JSON.stringify(offer)), 400, "invalid_event", ["entity.type"]);
    expect((await leadActor(leadId).getEntity())?.state.email).toBe("lead@example.com");
  });

  it("refuses the entity ids . and .., which a URL resolves as path segments", async () => {
    for (const id of [".", ".."]) {
      await expectError(await send("/v1/events", JSON.stringify({ type: "lead.updated", data: { id } })), 400, "invalid_event", ["data.id"]);
    }
  });

  it("refuses ids reserved for edgeflow's own events, from the envelope and from Idempotency-Key", async () => {
    const leadId = uniqueId();
    const body = { type: "lead.updated", data: { id: leadId } };
    await expectError(await send("/v1/events", JSON.stringify({ id: "edgeflow:follow-up:evt_1", ...body })), 400, "invalid_event", ["id"]);
    const viaHeader = await exports.default.fetch(apiRequest("/v1/events", { method: "POST", json: body, headers: { "idempotency-key": "edgeflow:x" } }));
    await expectError(viaHeader, 400, "invalid_event", ["Idempotency-Key"]);
  });

  it("gives each invalid batch item's issues the path events.N", async () => {
    const leadId = uniqueId();
    const response = await send(
      "/v1/events/batch",
      JSON.stringify({
        events: [
          { type: "lead.updated", data: { id: leadId } },
          { type: "lead.created", data: { id: leadId, email: "nope", name: "A" } },
          { type: "lead.updated", occurredAt: "2026-02-30T00:00:00Z", data: { id: leadId } },
          { type: "lead.gone", data: { id: leadId } },
        ],
      }),
    );
    expect(response.status).toBe(207);
    const { results } = (await response.json()) as { results: Array<{ status?: string; error?: { code: string; issues?: Array<{ path: string }> } }> };
    expect(results[0]?.status).toBe("accepted");
    expect(results.slice(1).map((r) => [r.error?.code, r.error?.issues?.map((i) => i.path)])).toEqual([
      ["invalid_event", ["events.1.data.email"]],
      ["invalid_event", ["events.2.occurredAt"]],
      ["unknown_event_type", ["events.3.type"]],
    ]);
  });
});
