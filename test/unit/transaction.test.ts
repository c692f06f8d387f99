import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { leadActor, leadEvent, leadStub, uniqueId } from "./helpers";

const count = (storage: DurableObjectStorage, table: string) =>
  Number(storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n);

describe("ingest transaction", () => {
  it("leaves no partial rows when a write fails mid-transaction, and a retry then succeeds once", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    const stub = leadStub(leadId);
    const event = leadEvent(leadId);

    // A real SQLite failure on the last write of the transaction (the outbox rows), after the
    // event row, the state fields and the entity row were already written inside it.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        `CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox WHEN NEW.handler = 'follow-up' BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
      );
    });
    const failure = await actor.ingest("demo", [event]).then(
      () => null,
      (err: unknown) => err,
    );
    expect(String(failure)).toMatch(/injected fault/);

    await runInDurableObject(stub, (_instance, state) => {
      for (const table of ["entity", "events", "state_fields", "outbox"]) expect(count(state.storage, table)).toBe(0);
      state.storage.sql.exec(`DROP TRIGGER fail_outbox`);
    });

    const [retry] = await actor.ingest("demo", [event]);
    const [again] = await actor.ingest("demo", [event]);
    expect(retry).toMatchObject({ status: "accepted", seq: 1 });
    expect(again).toMatchObject({ status: "duplicate", seq: 1 });
    await runInDurableObject(stub, (_instance, state) => {
      expect(count(state.storage, "events")).toBe(1);
      expect(count(state.storage, "outbox")).toBe(7);
    });
  });
});
