import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors";
import { parseEnvelope } from "../../src/schemas/envelope";

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
];

describe("envelope validation", () => {
  it.each(rejected)("rejects %s", (_name, body, status, code, paths) => {
    let caught: unknown;
    try {
      parseEnvelope(body, { receivedAt });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const err = caught as ApiError;
    expect([err.status, err.code]).toEqual([status, code]);
    expect(err.issues?.map((i) => i.path)).toEqual(paths);
    for (const issue of err.issues ?? []) expect(issue.message.length).toBeGreaterThan(0);
  });

  it("derives the entity from the type prefix and data.id, and keeps extra data fields", () => {
    const event = parseEnvelope({ type: "offer.submitted", data: { ...offer, note: "vip" } }, { receivedAt });
    expect(event.entity).toEqual({ type: "offer", id: "O-1" });
    expect(event.data).toEqual({ ...offer, note: "vip" });
    expect(event.occurredAt).toBe(receivedAt);
    expect(event.id).toMatch(/^evt_[0-9a-f-]{36}$/);
  });

  it("prefers the envelope id, then the Idempotency-Key, and honours an explicit entity", () => {
    const withId = parseEnvelope({ id: "evt_9", type: "lead.created", data: lead }, { receivedAt, idempotencyKey: "k1" });
    expect(withId.id).toBe("evt_9");
    const withKey = parseEnvelope(
      { type: "lead.created", entity: { type: "contact", id: "C-7" }, occurredAt: "2026-11-23T10:00:00+01:00", data: lead },
      { receivedAt, idempotencyKey: "k1" },
    );
    expect(withKey.id).toBe("k1");
    expect(withKey.entity).toEqual({ type: "contact", id: "C-7" });
    expect(withKey.occurredAt).toBe(Date.parse("2026-11-23T09:00:00Z"));
    expect(parseEnvelope({ type: "lead.created", occurredAt: 1_700_000_000_000, data: lead }, { receivedAt }).occurredAt).toBe(1_700_000_000_000);
  });
});
