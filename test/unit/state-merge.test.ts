import { describe, expect, it } from "vitest";
import type { IncomingEvent } from "../../src/types.ts";
import { leadActor, leadEvent, uniqueId } from "./helpers.ts";

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe("state merge", () => {
  it("gives the same state for every arrival order (per-field last writer by occurredAt, ties by id)", async () => {
    const t = Date.parse("2026-11-23T10:00:00Z");
    // e3 and e4 share a timestamp, so their `status` conflict is decided by id ("evt_d" > "evt_c").
    const spec = (id: string, occurredAt: number, data: Record<string, unknown>, type = "lead.updated") => ({ id, type, occurredAt, data });
    const specs = [
      spec("evt_a", t, { email: "first@example.com", name: "Ada", status: "new" }, "lead.created"),
      spec("evt_b", t + 2000, { name: "Ada Lovelace", company: { name: "Engines" } }),
      spec("evt_c", t + 5000, { status: "qualified", score: 3 }),
      spec("evt_d", t + 5000, { status: "contacted", email: "late@example.com" }),
      spec("evt_e", t + 1000, { score: 9, name: "Old name" }),
    ];
    const expected = {
      company: { name: "Engines" },
      email: "late@example.com",
      name: "Ada Lovelace",
      score: 3,
      status: "contacted",
    };

    const orders = permutations(specs);
    expect(orders).toHaveLength(120);
    const states = await Promise.all(
      orders.map(async (order) => {
        const leadId = uniqueId();
        const actor = leadActor(leadId);
        for (const s of order) {
          const event: IncomingEvent = leadEvent(leadId, { ...s, data: { id: leadId, ...s.data } });
          await actor.ingest("demo", [event]);
        }
        const view = await actor.getEntity();
        const { id, ...state } = view?.state ?? {};
        expect(id).toBe(leadId);
        return state;
      }),
    );
    for (const state of states) expect(state).toEqual(expected);
  });

  it("keeps fields named __proto__ or constructor as plain data", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    const data = JSON.parse(`{"id":"${leadId}","email":"a@example.com","name":"A","__proto__":{"polluted":true},"constructor":"x"}`);
    await actor.ingest("demo", [leadEvent(leadId, { data })]);
    const view = await actor.getEntity();
    expect(Object.getPrototypeOf(view?.state)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(view?.state, "__proto__")?.value).toEqual({ polluted: true });
    expect(view?.state.constructor).toBe("x");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
