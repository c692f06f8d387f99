import { describe, expect, it } from "vitest";
import { idempotencyKey } from "../../src/delivery/policy/keys.ts";
import { eventually, leadActor, leadEvent, leadKey, receiver, uniqueId } from "./helpers.ts";

const lead = (id: string) => ({ type: "lead", id });

describe("idempotency keys", () => {
  it("differ for every (tenant, entity, event, handler), even where the parts' own characters could blur them", async () => {
    const tuples: Array<[string, string, string, string]> = [
      ["a", "x", "e", "slack"],
      ["b", "x", "e", "slack"],
      ["a", "y", "e", "slack"],
      ["a", "x", "f", "slack"],
      ["a", "x", "e", "crm"],
      // Event ids may hold '/' and ':'; tenant, type and id hold no '/', handlers no ':'.
      ["a", "x", "e:slack", "crm"],
      ["a", "x", "e/slack", "crm"],
      ["a", "x:e", "slack", "crm"],
      ["a", "x", "y/e", "slack"],
    ];
    const keys = await Promise.all(tuples.map(([tenant, id, eventId, handler]) => idempotencyKey(tenant, lead(id), eventId, handler)));
    expect(new Set(keys).size).toBe(tuples.length);
    for (const key of keys) expect(key).toMatch(/^[\x21-\x7e]{1,255}$/);
    // Identical for the same delivery, every time.
    expect(await idempotencyKey("a", lead("x"), "e", "slack")).toBe(keys[0]);
    expect(keys[0]).toBe("a/lead/x/e:slack");
  });

  it("stay within 255 printable characters for the longest parts the schemas allow", async () => {
    const long = await idempotencyKey("t".repeat(64), { type: "l".repeat(64), id: "i".repeat(128) }, `edgeflow:${"e".repeat(200)}:follow-up`, "offer-analysis");
    expect(long).toMatch(/^sha256:[0-9a-f]{64}$/);
    const other = await idempotencyKey("t".repeat(64), { type: "l".repeat(64), id: "i".repeat(128) }, `edgeflow:${"e".repeat(199)}f:follow-up`, "offer-analysis");
    expect(other).not.toBe(long);
  });

  it("give the same event id and entity id under two tenants two different keys at the receiver", async () => {
    const leadId = uniqueId();
    const eventId = `evt_shared_${leadId}`;
    for (const tenant of ["demo", "lists"]) await leadActor(leadId, tenant).ingest(tenant, [leadEvent(leadId, { id: eventId, type: "lead.updated", data: { id: leadId } })]);
    const calls = await eventually(async () => {
      const slack = (await receiver.calls(`${eventId}:slack`)).filter((c) => c.status === 200);
      return slack.length === 2 ? slack : undefined;
    }, "both tenants' Slack calls");
    expect(calls.map((c) => c.headers["idempotency-key"]).sort()).toEqual([leadKey(leadId, eventId, "slack", "demo"), leadKey(leadId, eventId, "slack", "lists")]);
    expect(calls.map((c) => c.headers["edgeflow-tenant"]).sort()).toEqual(["demo", "lists"]);
  });
});
