import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

const count = (storage: DurableObjectStorage, table: string) =>
  Number(storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n);

describe("ingest transaction", () => {
  it("leaves no partial rows and no changed state when a write fails mid-transaction, and a retry then succeeds once", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    const stub = leadStub(leadId);
    await actor.ingest("demo", [leadEvent(leadId)]);
    const batch = [
      leadEvent(leadId, { type: "lead.updated", data: { id: leadId, email: "new@example.com" } }),
      leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro" } }),
    ];

    // A real SQLite failure on the last write of the transaction (the second event's log row; the
    // head, row 0, is not written: the rows say what changed in it), after the first event was
    // appended to the log and merged into the state inside it.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(`CREATE TRIGGER fail_head BEFORE INSERT ON events WHEN NEW.seq = 3 BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
    });
    const failure = await actor.ingest("demo", batch).then(
      () => null,
      (err: unknown) => err,
    );
    expect(String(failure)).toMatch(/injected fault/);

    // Neither the log nor the state (in storage or in the actor's memory) took any of it.
    await runInDurableObject(stub, (_instance, state) => {
      // The first event alone.
      expect(count(state.storage, "events WHERE seq > 0")).toBe(1);
      state.storage.sql.exec(`DROP TRIGGER fail_head`);
    });
    const view = await actor.getEntity();
    expect(view).toMatchObject({ version: 1, events: { count: 1, lastSeq: 1 }, state: { email: "ada@example.com" } });
    expect(view?.state.plan).toBeUndefined();

    const retry = await actor.ingest("demo", batch);
    const again = await actor.ingest("demo", batch);
    expect(retry.map((r) => [r.status, r.seq])).toEqual([["accepted", 2], ["accepted", 3]]);
    expect(again.map((r) => [r.status, r.seq])).toEqual([["duplicate", 2], ["duplicate", 3]]);
    expect((await actor.getEntity())?.state).toMatchObject({ email: "new@example.com", plan: "pro" });
  });
});
