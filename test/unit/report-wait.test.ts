// An alarm turn that sends queued work waits for its report (actors/entity/fan-out.ts, awaitReport),
// so an event with a queued handler costs one alarm operation instead of three. The test delivers
// each captured queue message itself, so when (and whether) the report comes is the test's choice.
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { REPORT_WAIT_PAYS_MS } from "../../actors/entity/queue-leases.ts";
import worker from "../../src/index.ts";
import type { SlowWorkMessage } from "../../src/delivery/consumer.ts";
import { takeUsage } from "../../src/usage.ts";
import { deliveries, eventually, internals, leadActor, leadEvent, leadStub, receiver, uniqueId } from "./helpers.ts";

/** The actor's queue sends, recorded instead of delivered: the test consumes each (or loses it). */
async function captureSends(leadId: string): Promise<SlowWorkMessage[]> {
  const sent: SlowWorkMessage[] = [];
  await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
    const SLOW_WORK = { send: async (body: SlowWorkMessage) => void sent.push(body) };
    Object.defineProperty(instance, "env", { value: { ...env, SLOW_WORK }, configurable: true });
  });
  return sent;
}

async function consume(messages: SlowWorkMessage[]) {
  const batch = createMessageBatch<unknown>(
    "edgeflow-slow-work",
    messages.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  await worker.queue(batch, env);
  return getQueueResult(batch, createExecutionContext());
}

type Waiting = { fanOut: { endWait: unknown }; pointing: Promise<void> };
const waitingOf = (instance: EntityActor) => (instance as unknown as Waiting).fanOut.endWait !== null;

/** Until the alarm, its turn done, is waiting for the report. */
async function whileWaiting(leadId: string): Promise<void> {
  await eventually(() => runInDurableObject(leadStub(leadId), (instance: EntityActor) => (waitingOf(instance) ? true : undefined)), "the alarm to wait for the report");
}

/** Once the alarm is not waiting and its last pointing of the alarm is done: the alarm's time. */
async function alarmAfterTheWait(leadId: string): Promise<number | null> {
  await eventually(() => runInDurableObject(leadStub(leadId), (instance: EntityActor) => (waitingOf(instance) ? undefined : true)), "the alarm's wait to end");
  return runInDurableObject(leadStub(leadId), async (instance: EntityActor, state) => {
    await (instance as unknown as Waiting).pointing;
    return state.storage.getAlarm();
  });
}

/** Until the alarm is set again: a turn that closed with work still out re-arms it. */
const rearmed = (leadId: string) => eventually(() => runInDurableObject(leadStub(leadId), async (_i, state) => (await state.storage.getAlarm()) ?? undefined), "the alarm to be re-armed");

const updated = (leadId: string, status: string) => leadEvent(leadId, { type: "lead.updated", data: { id: leadId, status } });
const allSettled = (d: Record<string, { status: string }>) => ["slack", "crm", "database", "analytics"].every((h) => d[h] && d[h]!.status !== "pending");

describe("an alarm that waits for its queued report", () => {
  it("costs an event with a queued handler one alarm operation when the report comes during the wait, and ends with no alarm", async () => {
    const leadId = uniqueId();
    const sent = await captureSends(leadId);
    takeUsage();
    const event = updated(leadId, "hot");
    await leadActor(leadId).ingest("demo", [event]);
    await whileWaiting(leadId);
    expect(sent).toHaveLength(1);
    expect((await consume([sent[0]!])).explicitAcks).toEqual(["msg-0"]);
    expect(await alarmAfterTheWait(leadId)).toBeNull();
    await eventually(async () => (allSettled(await deliveries(leadId, event.id)) ? true : undefined), "every handler to settle");
    const usage = takeUsage();
    // The ingest's setAlarm only: no re-arm for the lease's end, no deleteAlarm when the report came.
    expect(usage.entityKvWrites).toBe(1);
    // The wait kept the actor active: billed as duration, so counted.
    expect(usage.entityHeldMs).toBeGreaterThan(0);
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("stops waiting when a new event arrives, so the new event's handlers do not wait for the earlier report", async () => {
    const leadId = uniqueId();
    const sent = await captureSends(leadId);
    const first = updated(leadId, "warm");
    await leadActor(leadId).ingest("demo", [first]);
    await whileWaiting(leadId);
    takeUsage();
    const second = updated(leadId, "cold");
    await leadActor(leadId).ingest("demo", [second]);
    await eventually(async () => ((await receiver.calls(`${second.id}:slack`)).length > 0 ? true : undefined), "the second event's Slack call");
    await alarmAfterTheWait(leadId);
    // The first event's report never came, yet the wait ended at the ingest, short of its bound.
    expect(takeUsage().entityHeldMs).toBeLessThan(REPORT_WAIT_PAYS_MS);
    expect(sent).toHaveLength(1);
    expect((await deliveries(leadId, first.id)).crm?.status).toBe("in_flight");
  });

  it("re-arms for the lease's end when the report does not come in time, and stops waiting once waiting has not paid", async () => {
    const leadId = uniqueId();
    const sent = await captureSends(leadId);
    for (const status of ["a", "b"]) {
      const event = updated(leadId, status);
      await leadActor(leadId).ingest("demo", [event]);
      await whileWaiting(leadId);
      // The wait runs to its bound with no report: the alarm is set again, for the flush or the lease's end.
      await rearmed(leadId);
      const lease = await runInDurableObject(leadStub(leadId), (instance: EntityActor) => internals(instance).store.existingHead.progress.crm?.lease);
      expect(lease?.token).toBe(sent[0]!.token);
      // Delivered late, the report settles the work and the alarm goes.
      await consume([sent.shift()!]);
      expect(await alarmAfterTheWait(leadId)).toBeNull();
      expect((await deliveries(leadId, event.id)).crm?.status).toBe("succeeded");
    }
    // Two reports in a row came too late to pay for the wait: the next turn closes at once.
    takeUsage();
    const third = updated(leadId, "c");
    await leadActor(leadId).ingest("demo", [third]);
    await eventually(() => (sent.length > 0 ? true : undefined), "the third queue message");
    await rearmed(leadId);
    expect(takeUsage().entityHeldMs).toBe(0);
    await consume([sent.shift()!]);
    await eventually(async () => ((await deliveries(leadId, third.id)).crm?.status === "succeeded" ? true : undefined), "the third crm delivery");
  });
});
