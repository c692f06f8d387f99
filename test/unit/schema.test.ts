import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { migrateLegacy } from "../../actors/entity/legacy-migrations.ts";
import { EntityStore } from "../../actors/entity/store.ts";
import { DEDUPE_INDEX_AFTER } from "../../actors/entity/schema.ts";
import { takeUsage } from "../../src/usage.ts";
import { Db, ENTITY_SQL } from "../../actors/shared/sql.ts";
import { deliveries, eventually, internals, leadActor, leadEvent, leadStub, receiver, uniqueId } from "./helpers.ts";

/** The actor's own tables (the platform keeps `_cf_` ones beside them). */
const tablesOf = (storage: DurableObjectStorage) =>
  storage.sql
    .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name`)
    .toArray()
    .map((r) => r.name)
    .filter((name) => !name.startsWith("_cf_"));

describe("schema set-up", () => {
  it("creates nothing until the first event, then only the log; re-opening changes nothing", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    const stub = leadStub(leadId);
    expect(await actor.getEntity()).toBeNull();
    expect(await runInDurableObject(stub, (_instance, state) => tablesOf(state.storage))).toEqual([]);

    await actor.ingest("demo", [leadEvent(leadId)]);
    await runInDurableObject(stub, async (instance: EntityActor, state) => {
      const before = tablesOf(state.storage);
      expect(before).toEqual(["events"]);
      // Opening the store again over the same database (what a new instance does) changes nothing.
      const store = new EntityStore(state.storage, new Db(state.storage.sql, ENTITY_SQL));
      expect(tablesOf(state.storage)).toEqual(before);
      expect(store.head?.entity).toEqual({ type: "lead", id: leadId });
      expect((await instance.getEntity())?.events.count).toBe(1);
    });

    await evictDurableObject(stub);
    const view = await actor.getEntity();
    expect(view?.events.count).toBe(1);
    expect(view?.state.email).toBe("ada@example.com");
  });

  it("makes the log's id index in the ingest that takes the log to DEDUPE_INDEX_AFTER events, and dedupes the same before and after", async () => {
    const leadId = uniqueId();
    const actor = leadActor(leadId);
    const stub = leadStub(leadId);
    const first = leadEvent(leadId);
    await actor.ingest("demo", [first]);
    const more = Array.from({ length: DEDUPE_INDEX_AFTER - 2 }, () => leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro" } }));
    await actor.ingest("demo", more);
    // One event short: still no index, and a repeat is still found (by a scan).
    expect(await runInDurableObject(stub, (_instance, state) => tablesOf(state.storage))).toEqual(["events"]);
    expect((await actor.ingest("demo", [first]))[0]).toMatchObject({ status: "duplicate", seq: 1 });
    const written = await runInDurableObject(stub, async (instance: EntityActor, state) => {
      // Whether an alarm turn has written the head yet or not, it is written now: what follows
      // counts the crossing alone.
      internals(instance).store.update(() => undefined);
      takeUsage();
      await instance.ingest("demo", [leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "team" } }), more[3]!]);
      expect(tablesOf(state.storage)).toEqual(["events", "events_by_id"]);
      return takeUsage().entityRowsWritten;
    });
    // The event (1), the index (1) and its entries for the log's 32 events; the head's changes
    // are in the event's row (log.ts).
    expect(written).toBe(2 + DEDUPE_INDEX_AFTER);
    expect((await actor.ingest("demo", [more[5]!]))[0]).toMatchObject({ status: "duplicate", seq: 7 });
    // An entity made before 0.10 already has the index: crossing the mark leaves it as it is.
    const older = uniqueId();
    await leadActor(older).ingest("demo", [leadEvent(older)]);
    await runInDurableObject(leadStub(older), (_instance, state) => state.storage.sql.exec(`CREATE UNIQUE INDEX events_by_id ON events (id) WHERE seq > 0`));
    const results = await leadActor(older).ingest("demo", Array.from({ length: DEDUPE_INDEX_AFTER }, () => leadEvent(older, { type: "lead.updated", data: { id: older } })));
    expect(results.every((r) => r.status === "accepted")).toBe(true);
    expect(await runInDurableObject(leadStub(older), (_instance, state) => tablesOf(state.storage))).toEqual(["events", "events_by_id"]);
  });

  it("converts a pre-v2 actor in place: its log, state, timer, and every delivery as it stood", async () => {
    const leadId = uniqueId();
    const stub = leadStub(leadId);
    const now = Date.now();
    const [a, b] = [`evt_a_${leadId}`, `evt_b_${leadId}`];
    // The database the row-per-delivery engine left behind, built with its own migrations.
    const deadOutboxId = await runInDurableObject(stub, (_instance, state) => {
      const db = new Db(state.storage.sql, ENTITY_SQL);
      migrateLegacy(state.storage, db, 4);
      const sql = state.storage.sql;
      sql.exec(`INSERT INTO entity (singleton, tenant, type, id, version, created_at, updated_at) VALUES (1, 'demo', 'lead', ?, 2, ?, ?)`, leadId, now, now);
      sql.exec(`INSERT INTO events (seq, id, type, occurred_at, received_at, data) VALUES (1, ?, 'lead.created', ?, ?, ?)`, a, now, now, JSON.stringify({ id: leadId, email: "ada@example.com", name: "Ada" }));
      sql.exec(`INSERT INTO events (seq, id, type, occurred_at, received_at, data) VALUES (2, ?, 'lead.updated', ?, ?, ?)`, b, now + 1, now, JSON.stringify({ id: leadId, plan: "pro" }));
      for (const [field, value, at, by] of [["id", leadId, now, a], ["email", "ada@example.com", now, a], ["name", "Ada", now, a], ["plan", "pro", now + 1, b]]) {
        sql.exec(`INSERT INTO state_fields (field, value, occurred_at, event_id) VALUES (?, ?, ?, ?)`, field, JSON.stringify(value), at, by);
      }
      const row = (seq: number, handler: string, status: string, tries: number, extra: Record<string, unknown> = {}) => {
        const r = { last_error: null, next_attempt_at: null, completed_at: status === "succeeded" || status === "skipped" ? now : null, dead_at: null, dead_reported: null, attempts: tries, ...extra };
        return Number(
          sql
            .exec<{ id: number }>(
              `INSERT INTO outbox (event_seq, handler, status, attempts, tries, last_error, next_attempt_at, completed_at, dead_at, dead_reported, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
              seq, handler, status, r.attempts, tries, r.last_error, r.next_attempt_at, r.completed_at, r.dead_at, r.dead_reported, now,
            )
            .one().id,
        );
      };
      row(1, "slack", "succeeded", 1);
      const dead = row(1, "welcome-email", "dead", 4, { last_error: "HTTP 410: gone (gave up after 4 attempts)", dead_at: now, dead_reported: 1 });
      for (let attempt = 1; attempt <= 4; attempt++) {
        sql.exec(`INSERT INTO attempts (outbox_id, attempt, started_at, duration_ms, outcome, status_code, error) VALUES (?, ?, ?, 5, ?, 410, 'HTTP 410: gone')`, dead, attempt, now, attempt < 4 ? "retry" : "dead");
      }
      row(1, "crm", "succeeded", 1);
      row(1, "ai-analysis", "skipped", 0, { last_error: "not configured: AI_API_URL unset" });
      row(1, "database", "succeeded", 1);
      row(1, "analytics", "succeeded", 1);
      row(1, "follow-up", "succeeded", 1);
      row(2, "slack", "pending", 2, { last_error: "HTTP 503", next_attempt_at: now });
      row(2, "crm", "in_flight", 0, { attempts: 1 });
      row(2, "database", "pending", 0, { next_attempt_at: now });
      row(2, "analytics", "pending", 0, { next_attempt_at: now });
      sql.exec(`INSERT INTO timers (id, type, due_at, data) VALUES (?, 'lead.follow_up_due', ?, ?)`, `edgeflow:${a}:follow-up`, now + 200, JSON.stringify({ id: leadId }));
      return dead;
    });

    // The next instance converts it, and its alarm (lost with the old code) is pointed again.
    await evictDurableObject(stub);
    const actor = leadActor(leadId);
    const view = await actor.getEntity();
    expect(view).toMatchObject({ version: 2, events: { count: 2, lastSeq: 2 }, state: { email: "ada@example.com", name: "Ada", plan: "pro" } });
    const first = await deliveries(leadId, a);
    expect(first.slack).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(first["welcome-email"]).toMatchObject({ status: "dead", attempts: 4, lastError: expect.stringContaining("410") });
    expect(first["ai-analysis"]).toMatchObject({ status: "skipped", lastError: "not configured: AI_API_URL unset" });

    // What was open is delivered, once; what was delivered is not delivered again.
    await eventually(async () => {
      const second = await deliveries(leadId, b);
      return ["slack", "crm", "database", "analytics"].every((h) => second[h]?.status === "succeeded") ? second : undefined;
    }, "the open deliveries");
    expect((await deliveries(leadId, b)).slack).toMatchObject({ attempts: 3, lastError: "HTTP 503" });
    expect(await receiver.calls(`${b}:slack`)).toHaveLength(1);
    expect(await receiver.calls(`${a}:slack`)).toHaveLength(0);
    // The old timer fires as the reminder event.
    await eventually(async () => ((await actor.listEvents(0, 10))?.events.some((e) => e.id === `edgeflow:${a}:follow-up`) ? true : undefined), "the reminder");

    // A dead letter the tenant's index holds under its old outbox id still replays.
    expect(await actor.replay([{ legacyOutboxId: deadOutboxId }])).toBe(1);
    await eventually(async () => ((await deliveries(leadId, a))["welcome-email"]?.status === "succeeded" ? true : undefined), "the replayed welcome email");
    expect(await receiver.calls(`${a}:welcome-email`)).toHaveLength(1);
  });
});
