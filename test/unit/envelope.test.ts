import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api/errors.ts";
import { parseEnvelope } from "../../src/events/envelope.ts";

const lead = { id: "L-1", email: "ada@example.com", name: "Ada" };
const offer = { id: "O-1", leadId: "L-1", amount: 120.5, currency: "EUR" };
const receivedAt = Date.parse("2026-11-24T00:00:00Z");

// One row per case: input, then the expected status, code and issue paths (or the parsed fields).
const rejected: Array<[string, unknown, number, string, string[]]> = [
  ["not an object", [1, 2], 400, "invalid_event", [""]],
  ["missing type", { data: lead }, 400, "invalid_event", ["type"]],
  ["missing data", { type: "lead.created" }, 400, "invalid_event", ["data"]],
  ["data not an object", { type: "lead.created", data: "x" }, 400, "invalid_event", ["data"]],
  ["unknown top-level key", { type: "lead.created", data: lead, extra: 1 }, 400, "invalid_event", ["extra"]],
  ["unregistered type", { type: "lead.deleted", data: lead }, 422, "unknown_event_type", ["type"]],
  ["internal type", { type: "lead.follow_up_due", data: { id: "L-1" } }, 422, "unknown_event_type", ["type"]],
  ["bad email", { type: "lead.created", data: { ...lead, email: "ada@" } }, 400, "invalid_event", ["data.email"]],
  ["missing name", { type: "lead.created", data: { id: "L-1", email: "a@b.co" } }, 400, "invalid_event", ["data.name"]],
  ["id with slash", { type: "lead.created", data: { ...lead, id: "a/b" } }, 400, "invalid_event", ["data.id"]],
  ["numeric id", { type: "lead.updated", data: { id: 42 } }, 400, "invalid_event", ["data.id"]],
  ["zero amount", { type: "offer.submitted", data: { ...offer, amount: 0 } }, 400, "invalid_event", ["data.amount"]],
  ["string amount", { type: "offer.submitted", data: { ...offer, amount: "5" } }, 400, "invalid_event", ["data.amount"]],
  ["bad currency", { type: "offer.submitted", data: { ...offer, currency: "EURO" } }, 400, "invalid_event", ["data.currency"]],
  ["lower-case currency", { type: "offer.submitted", data: { ...offer, currency: "eur" } }, 400, "invalid_event", ["data.currency"]],
  ["bad occurredAt", { type: "lead.created", occurredAt: "yesterday", data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["occurredAt without zone", { type: "lead.created", occurredAt: "2026-11-23T10:00:00", data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["negative epoch", { type: "lead.created", occurredAt: -1, data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["empty id", { id: "", type: "lead.created", data: lead }, 400, "invalid_event", ["id"]],
  ["id with space", { id: "evt 1", type: "lead.created", data: lead }, 400, "invalid_event", ["id"]],
  ["entity with bad type", { type: "lead.created", entity: { type: "Lead!", id: "x" }, data: lead }, 400, "invalid_event", ["entity.type"]],
  // Event times: real calendar dates, not before 1970, at most 24 h ahead of receipt.
  ["30 February", { type: "lead.created", occurredAt: "2026-02-30T00:00:00Z", data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["29 February of a common year", { type: "lead.created", occurredAt: "2025-02-29T12:00:00Z", data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["hour 24", { type: "lead.created", occurredAt: "2026-11-23T24:00:00Z", data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["month 13", { type: "lead.created", occurredAt: "2026-13-01T00:00:00Z", data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["epoch microseconds", { type: "lead.created", occurredAt: 1732400000000000, data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["before 1970", { type: "lead.created", occurredAt: "1969-12-31T23:59:59Z", data: lead }, 400, "invalid_event", ["occurredAt"]],
  ["more than 24 h ahead", { type: "lead.created", occurredAt: receivedAt + 86_400_001, data: lead }, 400, "invalid_event", ["occurredAt"]],
  // Entity ids a URL would resolve as path segments.
  ["entity id ..", { type: "lead.created", data: { ...lead, id: ".." } }, 400, "invalid_event", ["data.id"]],
  ["entity id .", { type: "lead.updated", data: { id: "." } }, 400, "invalid_event", ["data.id"]],
  ["offer's lead id ..", { type: "offer.submitted", data: { ...offer, leadId: ".." } }, 400, "invalid_event", ["data.leadId"]],
  // Ids edgeflow keeps for its own events.
  ["reserved id prefix", { id: "edgeflow:follow-up:evt_1", type: "lead.created", data: lead }, 400, "invalid_event", ["id"]],
  // An explicit entity must be the one the type and data.id name.
  ["entity of another type", { type: "offer.submitted", entity: { type: "lead", id: "O-1" }, data: offer }, 400, "invalid_event", ["entity.type"]],
  ["entity id other than data.id", { type: "lead.updated", entity: { type: "lead", id: "L-2" }, data: { id: "L-1" } }, 400, "invalid_event", ["entity.id"]],
];

describe("envelope validation", () => {
  it.each(rejected)("rejects %s", async (_name, body, status, code, paths) => {
    let caught: unknown;
    try {
      await parseEnvelope(body, { receivedAt });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const err = caught as ApiError;
    expect([err.status, err.code]).toEqual([status, code]);
    expect(err.issues?.map((i) => i.path)).toEqual(paths);
    for (const issue of err.issues ?? []) expect(issue.message.length).toBeGreaterThan(0);
  });

  it("accepts the edges of the time bounds and real dates", async () => {
    const at = async (occurredAt: unknown) => (await parseEnvelope({ type: "lead.created", occurredAt, data: lead }, { receivedAt })).occurredAt;
    expect(await at(receivedAt + 86_400_000)).toBe(receivedAt + 86_400_000);
    expect(await at(0)).toBe(0);
    expect(await at("1970-01-01T00:00:00Z")).toBe(0);
    expect(await at("2024-02-29T23:59:59.123456789Z")).toBe(Date.parse("2024-02-29T23:59:59.123Z"));
    expect(await at("2026-11-24T00:30:00+01:00")).toBe(Date.parse("2026-11-23T23:30:00Z"));
  });

  it("fingerprints what the client sent: key order does not matter; content and a given occurredAt do", async () => {
    const print = async (body: unknown) => (await parseEnvelope(body, { receivedAt })).fingerprint;
    const base = await print({ id: "e1", type: "lead.created", data: lead });
    expect(base).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await print({ data: { name: "Ada", email: "ada@example.com", id: "L-1" }, type: "lead.created", id: "e1" })).toBe(base);
    // A missing occurredAt is not the receipt time: an honest retry received later still matches.
    expect((await parseEnvelope({ id: "e1", type: "lead.created", data: lead }, { receivedAt: receivedAt + 5000 })).fingerprint).toBe(base);
    expect(await print({ id: "e1", type: "lead.created", data: lead, entity: { type: "lead", id: "L-1" } })).toBe(base);
    expect(await print({ id: "e1", type: "lead.created", occurredAt: receivedAt, data: lead })).not.toBe(base);
    expect(await print({ id: "e1", type: "lead.created", data: { ...lead, name: "Eve" } })).not.toBe(base);
    expect(await print({ id: "e1", type: "lead.updated", data: lead })).not.toBe(base);
  });

  it("derives the entity from the type prefix and data.id, and keeps extra data fields", async () => {
    const event = await parseEnvelope({ type: "offer.submitted", data: { ...offer, note: "vip" } }, { receivedAt });
    expect(event.entity).toEqual({ type: "offer", id: "O-1" });
    expect(event.data).toEqual({ ...offer, note: "vip" });
    expect(event.occurredAt).toBe(receivedAt);
    expect(event.id).toMatch(/^evt_[0-9a-f-]{36}$/);
  });

  it("prefers the envelope id, then the Idempotency-Key, and accepts an explicit entity that matches", async () => {
    const withId = await parseEnvelope({ id: "evt_9", type: "lead.created", data: lead }, { receivedAt, idempotencyKey: "k1" });
    expect(withId.id).toBe("evt_9");
    const withKey = await parseEnvelope(
      { type: "lead.created", entity: { type: "lead", id: "L-1" }, occurredAt: "2026-11-23T10:00:00+01:00", data: lead },
      { receivedAt, idempotencyKey: "k1" },
    );
    expect(withKey.id).toBe("k1");
    expect(withKey.entity).toEqual({ type: "lead", id: "L-1" });
    expect(withKey.occurredAt).toBe(Date.parse("2026-11-23T09:00:00Z"));
    expect((await parseEnvelope({ type: "lead.created", occurredAt: 1_700_000_000_000, data: lead }, { receivedAt })).occurredAt).toBe(1_700_000_000_000);
  });
});
