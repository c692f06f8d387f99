import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { describe, expect, it } from "vitest";
import type { SlowWorkMessage } from "../../src/queue";
import { Outbox, type OutboxRow } from "../../actors/outbox";
import { Db, ENTITY_SQL } from "../../actors/sql";
import { deliveries, eventually, leadActor, leadEvent, leadStub, receiver, uniqueId } from "./helpers";

/** Holds the lead's crm row in flight under `attempt`, as if a message had been sent and lost. */
async function strandCrm(leadId: string, attempt: number, leaseUntil: number): Promise<number> {
  return runInDurableObject(leadStub(leadId), (_instance, state) => {
    const row = state.storage.sql.exec<{ id: number }>(`SELECT id FROM outbox WHERE handler = 'crm'`).one();
    state.storage.sql.exec(`UPDATE outbox SET status = 'in_flight', attempts = ?, lease_until = ? WHERE id = ?`, attempt, leaseUntil, row.id);
    return row.id;
  });
}

async function ingestWithCrmHeld(leadId: string) {
  const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro" } });
  // Ingest and take the crm row in the same turn, before the alarm can send its message.
  const outboxId = await runInDurableObject(leadStub(leadId), async (instance: import("../../actors/entity-actor").EntityActor, state) => {
    await instance.ingest("demo", [event]);
    const row = state.storage.sql.exec<{ id: number }>(`SELECT id FROM outbox WHERE handler = 'crm'`).one();
    state.storage.sql.exec(`UPDATE outbox SET status = 'in_flight', attempts = 1, lease_until = ? WHERE id = ?`, Date.now() + 60_000, row.id);
    return row.id;
  });
  return { event, outboxId };
}

function batchOf(messages: unknown[]) {
  return createMessageBatch<unknown>(
    "edgeflow-slow-work",
    messages.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
}

describe("queue consumer", () => {
  it("runs a leased delivery, reports it to the actor and acks each message on its own", async () => {
    const leadId = uniqueId();
    const { event, outboxId } = await ingestWithCrmHeld(leadId);
    const good: SlowWorkMessage = { tenant: "demo", entity: { type: "lead", id: leadId }, outboxId, attempt: 1 };
    const stale: SlowWorkMessage = { ...good, attempt: 7 };
    const batch = batchOf([good, stale, { nonsense: true }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["msg-0", "msg-1", "msg-2"]);
    expect(result.retryMessages).toEqual([]);

    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
    // The stale message ran nothing: one CRM call in all.
    const calls = await receiver.calls(`${event.id}:crm`);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.path).toBe(`/crm/contacts/${leadId}`);
    expect(JSON.parse(calls[0]!.body)).toMatchObject({ plan: "pro" });
  });

  it("acks, and never runs the call again, when the outcome cannot be reported: a re-delivered message claims nothing", async () => {
    const leadId = uniqueId();
    const { event, outboxId } = await ingestWithCrmHeld(leadId);
    // A real storage fault in the actor while it records the outcome.
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      state.storage.sql.exec(`CREATE TRIGGER fail_attempts BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
    });
    const message = { tenant: "demo", entity: { type: "lead", id: leadId }, outboxId, attempt: 1 } satisfies SlowWorkMessage;
    const first = batchOf([message]);
    await worker.queue(first, env);
    const firstResult = await getQueueResult(first, createExecutionContext());
    expect(firstResult.explicitAcks).toEqual(["msg-0"]);
    expect(firstResult.retryMessages).toEqual([]);
    // Still leased; no attempt has reported, so none is counted yet.
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "in_flight", attempts: 0 });
    await runInDurableObject(leadStub(leadId), (_instance, state) => state.storage.sql.exec(`DROP TRIGGER fail_attempts`));

    // The queue delivers the same message again (at-least-once): the attempt is already claimed.
    const again = batchOf([message]);
    await worker.queue(again, env);
    expect((await getQueueResult(again, createExecutionContext())).explicitAcks).toEqual(["msg-0"]);
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(1);
  });

  it("grants one claim per attempt: a second claim of a live lease is refused", async () => {
    const leadId = uniqueId();
    const { outboxId } = await ingestWithCrmHeld(leadId);
    const actor = leadActor(leadId);
    expect(await actor.claimDelivery(outboxId, 1)).toMatchObject({ outboxId, attempt: 1, handler: "crm" });
    expect(await actor.claimDelivery(outboxId, 1)).toBeNull();
    // Two consumers holding copies of one message at once: exactly one runs the call.
    const twice = batchOf([
      { tenant: "demo", entity: { type: "lead", id: leadId }, outboxId, attempt: 1 },
      { tenant: "demo", entity: { type: "lead", id: leadId }, outboxId, attempt: 1 },
    ]);
    await worker.queue(twice, env);
    await getQueueResult(twice, createExecutionContext());
    const claims = await runInDurableObject(leadStub(leadId), (_instance, state) =>
      state.storage.sql.exec<{ claimed_attempt: number }>(`SELECT claimed_attempt FROM outbox WHERE id = ?`, outboxId).one().claimed_attempt,
    );
    expect(claims).toBe(1);
  });

  it("a claim made by the lost first consumer blocks the duplicate message, so the call runs once", async () => {
    const leadId = uniqueId();
    const { event, outboxId } = await ingestWithCrmHeld(leadId);
    const message = { tenant: "demo", entity: { type: "lead", id: leadId }, outboxId, attempt: 1 } satisfies SlowWorkMessage;
    const batch = batchOf([message, message]);
    await worker.queue(batch, env);
    await getQueueResult(batch, createExecutionContext());
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(1);
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("counts a queued attempt that never reports against the budget, so it ends as a dead letter", async () => {
    const leadId = uniqueId();
    const { event, outboxId } = await ingestWithCrmHeld(leadId);
    // Every consumer dies before it can claim: a real storage fault on the claim itself.
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      state.storage.sql.exec(
        `CREATE TRIGGER fail_claims BEFORE UPDATE OF claimed_attempt ON outbox BEGIN SELECT RAISE(ABORT, 'consumer died'); END`,
      );
    });
    // Each turn: the lease lapses (or the backoff ends) and the alarm runs, as time would make it.
    const crm = await eventually(
      async () => {
        await runInDurableObject(leadStub(leadId), (_instance, state) => {
          state.storage.sql.exec(`UPDATE outbox SET lease_until = 0 WHERE id = ? AND status = 'in_flight'`, outboxId);
          state.storage.sql.exec(`UPDATE outbox SET next_attempt_at = 0 WHERE id = ? AND status = 'pending'`, outboxId);
        });
        await runDurableObjectAlarm(leadStub(leadId));
        const d = (await deliveries(leadId, event.id)).crm;
        return d?.status === "dead" ? d : undefined;
      },
      "the never-reporting crm delivery to go dead",
      20_000,
    );
    // RETRY_MAX_ATTEMPTS is 4 here: four tries, each made of MAX_UNREPORTED_SENDS lapsed sends.
    expect(crm.attempts).toBe(4);
    expect(crm.lastError).toMatch(/no outcome reported after 3 queue sends/);
    const sends = await runInDurableObject(leadStub(leadId), (_instance, state) =>
      state.storage.sql.exec<{ attempts: number }>(`SELECT attempts FROM outbox WHERE id = ?`, outboxId).one().attempts,
    );
    expect(sends).toBe(4 * 3);
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(0);
    await runInDurableObject(leadStub(leadId), (_instance, state) => state.storage.sql.exec(`DROP TRIGGER fail_claims`));
  });

  it("re-sends a queued delivery whose lease lapsed (the message was lost)", async () => {
    const leadId = uniqueId();
    const { event, outboxId } = await ingestWithCrmHeld(leadId);
    await eventually(async () => {
      const d = await deliveries(leadId, event.id);
      return Object.values(d).filter((x) => x.handler !== "crm").every((x) => x.status === "succeeded" || x.status === "skipped") ? true : undefined;
    }, "the inline handlers");
    expect((await receiver.calls(`${event.id}:crm`)).length).toBe(0);

    // The lease lapses with no outcome: the next alarm must send the delivery again, under lease
    // token 2. The lapsed send never ran, so only one attempt counts against the retry budget.
    await strandCrm(leadId, 1, Date.now() - 1);
    await runDurableObjectAlarm(leadStub(leadId));
    const crm = await eventually(async () => {
      const d = (await deliveries(leadId, event.id)).crm;
      return d?.status === "succeeded" ? d : undefined;
    }, "the re-sent crm delivery");
    expect(crm.attempts).toBe(1);
    const token = await runInDurableObject(leadStub(leadId), (_instance, state) =>
      state.storage.sql.exec<{ attempts: number }>(`SELECT attempts FROM outbox WHERE id = ?`, outboxId).one().attempts,
    );
    expect(token).toBe(2);
    const calls = await receiver.calls(`${event.id}:crm`);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers["idempotency-key"]).toBe(`${event.id}:crm`);
    expect(outboxId).toBeGreaterThan(0);
  });

  it("counts only attempts that ran against the retry budget, not sends whose lease lapsed", async () => {
    const leadId = uniqueId();
    const { event, outboxId } = await ingestWithCrmHeld(leadId);
    // Lease token 9: eight sends lapsed in a slow queue, more than RETRY_MAX_ATTEMPTS (4) here.
    await strandCrm(leadId, 9, Date.now() + 60_000);
    await receiver.script(`${event.id}:crm`, [{ status: 500 }]);
    const batch = batchOf([{ tenant: "demo", entity: { type: "lead", id: leadId }, outboxId, attempt: 9 } satisfies SlowWorkMessage]);
    await worker.queue(batch, env);
    await getQueueResult(batch, createExecutionContext());
    // The first attempt that ran failed: a retry, not a dead letter.
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "pending", attempts: 1 });
  });

  it("counts the sends whose lease lapsed since the last reported attempt, which sets how long the next lease is", async () => {
    const leadId = uniqueId();
    const { outboxId } = await ingestWithCrmHeld(leadId);
    const lapsed = await runInDurableObject(leadStub(leadId), (_instance, state) => {
      const outbox = new Outbox(new Db(state.storage.sql, ENTITY_SQL));
      const row = () => state.storage.sql.exec<OutboxRow>(`SELECT * FROM outbox WHERE id = ?`, outboxId).one();
      // Attempt 2 reported; attempts 3, 4 and 5 were sent and never heard of.
      state.storage.sql.exec(`INSERT INTO attempts (outbox_id, attempt, started_at, duration_ms, outcome) VALUES (?, 2, 0, 0, 'retry')`, outboxId);
      state.storage.sql.exec(`UPDATE outbox SET attempts = 5 WHERE id = ?`, outboxId);
      const afterThree = outbox.lapsedSends(row());
      state.storage.sql.exec(`INSERT INTO attempts (outbox_id, attempt, started_at, duration_ms, outcome) VALUES (?, 5, 0, 0, 'retry')`, outboxId);
      return [afterThree, outbox.lapsedSends(row())];
    });
    expect(lapsed).toEqual([3, 0]);
  });

  it("delivers queued work end to end through the real local queue", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    await leadActor(leadId).ingest("demo", [event]);
    await eventually(async () => ((await deliveries(leadId, event.id)).crm?.status === "succeeded" ? true : undefined), "crm via the queue", 15_000);
    expect((await receiver.calls(`${event.id}:crm`)).map((c) => c.status)).toEqual([200]);
  });
});
