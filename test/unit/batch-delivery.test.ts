import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventually, leadActor, leadEvent, leadStub, uniqueId } from "./helpers";

/** A handler's delivery attempts, as (event seq, batch size, outcome), in order. */
async function attemptsOf(leadId: string, handler = "database") {
  return runInDurableObject(leadStub(leadId), (_instance, state) =>
    state.storage.sql
      .exec<{ seq: number; batch_size: number; outcome: string }>(
        `SELECT o.event_seq AS seq, a.batch_size, a.outcome FROM attempts a JOIN outbox o ON o.id = a.outbox_id
         WHERE o.handler = ? ORDER BY o.event_seq, a.attempt`,
        handler,
      )
      .toArray(),
  );
}

describe("batched delivery", () => {
  it("sends an entity's due backlog to a batching handler (D1) in one call, in seq order, with the same result", async () => {
    const leadId = uniqueId();
    const statuses = ["new", "contacted", "qualified", "nurturing", "converted"];
    const base = Date.now();
    const events = [
      leadEvent(leadId, { occurredAt: base }),
      ...statuses.map((status, i) => leadEvent(leadId, { type: "lead.updated", occurredAt: base + i + 1, data: { id: leadId, status } })),
    ];
    // One ingest call: all six database rows are due when the alarm first runs.
    await leadActor(leadId).ingest("demo", events);

    const attempts = await eventually(async () => {
      const rows = await attemptsOf(leadId);
      return rows.length === 6 ? rows : undefined;
    }, "six database attempts");
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6].map((seq) => ({ seq, batch_size: 6, outcome: "succeeded" })));

    // D1 holds every event and the lead as of the last one, as six single calls would have left it.
    const mirrored = await env.DB!.prepare(`SELECT seq FROM events WHERE tenant = 'demo' AND entity_id = ? ORDER BY seq`).bind(leadId).all<{ seq: number }>();
    expect(mirrored.results.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const lead = await env.DB!.prepare(`SELECT status, last_event_seq FROM leads WHERE tenant = 'demo' AND id = ?`).bind(leadId).first();
    expect(lead).toEqual({ status: "converted", last_event_seq: 6 });

    // A lone later event goes singly.
    await leadActor(leadId).ingest("demo", [leadEvent(leadId, { type: "lead.updated", occurredAt: base + 10, data: { id: leadId, status: "closed" } })]);
    const later = await eventually(async () => {
      const rows = await attemptsOf(leadId);
      return rows.length === 7 ? rows[6] : undefined;
    }, "the seventh database attempt");
    expect(later).toEqual({ seq: 7, batch_size: 1, outcome: "succeeded" });
  });

  it("writes an entity's due backlog of Analytics Engine data points in one attempt", async () => {
    const leadId = uniqueId();
    const base = Date.now();
    const events = [
      leadEvent(leadId, { occurredAt: base }),
      ...[1, 2, 3, 4].map((i) => leadEvent(leadId, { type: "lead.updated", occurredAt: base + i, data: { id: leadId, status: "contacted" } })),
    ];
    await leadActor(leadId).ingest("demo", events);

    const attempts = await eventually(async () => {
      const rows = await attemptsOf(leadId, "analytics");
      return rows.length === 5 ? rows : undefined;
    }, "five analytics attempts");
    expect(attempts).toEqual([1, 2, 3, 4, 5].map((seq) => ({ seq, batch_size: 5, outcome: "succeeded" })));
  });
});
