import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrate, SCHEMA_VERSION } from "../../actors/migrations";
import { Db, ENTITY_SQL } from "../../actors/sql";
import { leadActor, leadEvent, leadStub, uniqueId } from "./helpers";

describe("schema set-up", () => {
  it("is idempotent: re-running migrations changes nothing and data survives eviction", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    const stub = leadStub(leadId);
    await actor.ingest("demo", [leadEvent(leadId)]);

    await runInDurableObject(stub, (_instance, state) => {
      const tables = () =>
        state.storage.sql.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type IN ('table','index') ORDER BY name`).toArray();
      const before = tables();
      // It reports the version it found, which is already the latest.
      const db = new Db(state.storage.sql, ENTITY_SQL);
      expect(migrate(state.storage, db)).toBe(SCHEMA_VERSION);
      expect(migrate(state.storage, db)).toBe(SCHEMA_VERSION);
      expect(tables()).toEqual(before);
      const applied = state.storage.sql.exec<{ id: number }>(`SELECT id FROM _migrations ORDER BY id`).toArray();
      expect(applied.map((r) => r.id)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    });

    // A new instance runs the constructor's set-up again over the existing database.
    await evictDurableObject(stub);
    const view = await actor.getEntity();
    expect(view?.events.count).toBe(1);
    expect(view?.state.email).toBe("ada@example.com");
  });
});
