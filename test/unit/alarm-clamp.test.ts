import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { alarmMoves, alarmTime, MAX_ALARM_AHEAD_MS } from "../../actors/shared/alarm.ts";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { deliveries, eventually, leadActor, leadEvent, leadStub, uniqueId } from "./helpers.ts";

const settled = (status: string | undefined) => status === "succeeded" || status === "skipped" || status === "dead";

describe("alarm times", () => {
  it("clamps anything past a year ahead, and a non-finite time to now", () => {
    const now = Date.parse("2026-11-24T00:00:00Z");
    expect(alarmTime(now + 5, now)).toBe(now + 5);
    expect(alarmTime(now - 5, now)).toBe(now - 5);
    expect(alarmTime(1_732_400_000_000_000, now)).toBe(now + MAX_ALARM_AHEAD_MS);
    expect(alarmTime(Number.NaN, now)).toBe(now);
  });

  it("sets the alarm again only when it would wake at another time: never between two times already come", () => {
    const now = Date.parse("2026-11-29T00:00:00Z");
    expect(alarmMoves(null, now, now)).toBe(true);
    expect(alarmMoves(now + 10, now + 10, now)).toBe(false);
    // Both due: it fires at once either way, so the billed setAlarm is saved.
    expect(alarmMoves(now - 30, now - 5, now)).toBe(false);
    expect(alarmMoves(now - 5, now, now)).toBe(false);
    // Due now but wanted later (a backoff), or set for later but due now: moved.
    expect(alarmMoves(now - 5, now + 1_000, now)).toBe(true);
    expect(alarmMoves(now + 1_000, now, now)).toBe(true);
  });

  it("keeps an actor working when a stored timer is due far beyond what setAlarm accepts", async () => {
    const leadId = uniqueId();
    const stub = leadStub(leadId);
    const first = leadEvent(leadId, { type: "lead.updated", data: { id: leadId } });
    await leadActor(leadId).ingest("demo", [first]);
    await eventually(async () => (Object.values(await deliveries(leadId, first.id)).every((d) => settled(d.status)) ? true : undefined), "the first deliveries");
    // A timer in the year 56,867 (epoch microseconds read as ms), as a v1 actor could have stored.
    await runInDurableObject(stub, (_instance: EntityActor, state) => {
      state.storage.sql.exec(
        `UPDATE events SET data = json_set(data, '$.timers', json_array(json_object('id', 'far', 'type', 'lead.follow_up_due', 'at', ?, 'data', json('{}')))) WHERE seq = 0`,
        1_732_400_000_000_000,
      );
    });
    // A new instance reads the entity row as stored.
    await evictDurableObject(stub);
    // An alarm turn re-arms for the timer without throwing, clamped to a year from now.
    await runInDurableObject(stub, (instance: EntityActor) => instance.alarm());
    const clamped = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(clamped!).toBeGreaterThan(Date.now() + MAX_ALARM_AHEAD_MS - 60_000);
    // Ingest and fan-out go on as usual.
    const second = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro" } });
    await leadActor(leadId).ingest("demo", [second]);
    await eventually(async () => (Object.values(await deliveries(leadId, second.id)).every((d) => settled(d.status)) ? true : undefined), "the later deliveries");
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeGreaterThan(Date.now() + MAX_ALARM_AHEAD_MS - 60_000);
    expect(alarm!).toBeLessThanOrEqual(Date.now() + MAX_ALARM_AHEAD_MS);
    // The timer itself is untouched: it is simply not due.
    const timers = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<{ timers: string }>(`SELECT json_extract(data, '$.timers') AS timers FROM events WHERE seq = 0`).one().timers);
    expect(JSON.parse(timers)).toEqual([{ id: "far", type: "lead.follow_up_due", at: 1_732_400_000_000_000, data: {} }]);
  });
});
