import { createExecutionContext, createMessageBatch, evictDurableObject, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { MAX_UNREPORTED_SENDS } from "../../actors/entity/queue-leases.ts";
import type { Lease } from "../../actors/entity/head.ts";
import worker from "../../src/index.ts";
import type { SlowWorkMessage } from "../../src/delivery/consumer.ts";
import { REPORT_SESSION_HOLD_MS } from "../../src/delivery/report-session.ts";
import { takeUsage } from "../../src/usage.ts";
import { deliveries, eventually, internals, leadActor, leadEvent, leadKey, leadStub, receiver, uniqueId } from "./helpers.ts";

const message = (leadId: string, token: string): SlowWorkMessage => ({ v: 2, tenant: "demo", entity: { type: "lead", id: leadId }, token });

/** Sets the lead's crm lease as if the alarm had sent its work under `token` (the message itself is up to the test). */
async function holdCrm(leadId: string, lease: Partial<Lease> & { token: string }): Promise<void> {
  await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
    const model = internals(instance).store.existingHead;
    model.progress.crm!.lease = { seqs: [model.lastSeq], exception: false, until: Date.now() + 60_000, claimed: false, lapses: 0, ...lease };
    internals(instance).fanOut.leases.issued.set(lease.token, Date.now());
    internals(instance).store.flush();
  });
}

/**
 * Ingests a lead.updated and leases its crm delivery under `token` in the same turn, before the
 * alarm can send a message of its own; the queue never saw this token.
 */
async function ingestWithCrmHeld(leadId: string, token = "t1") {
  const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, plan: "pro" } });
  await runInDurableObject(leadStub(leadId), async (instance: EntityActor) => {
    await instance.ingest("demo", [event]);
    const model = internals(instance).store.existingHead;
    model.progress.crm!.lease = { token, seqs: [model.lastSeq], exception: false, until: Date.now() + 60_000, claimed: false, lapses: 0 };
    internals(instance).fanOut.leases.issued.set(token, Date.now());
    internals(instance).store.touch();
  });
  return event;
}

/** Replaces the actor's queue producer with one that records messages and delivers none (a lost message). */
async function loseMessages(leadId: string, extraEnv: Record<string, unknown> = {}): Promise<SlowWorkMessage[]> {
  const sent: SlowWorkMessage[] = [];
  await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
    const SLOW_WORK = { send: async (body: SlowWorkMessage) => void sent.push(body) };
    Object.defineProperty(instance, "env", { value: { ...env, ...extraEnv, SLOW_WORK }, configurable: true });
  });
  return sent;
}

const leaseOf = (leadId: string, handler = "crm") =>
  runInDurableObject(leadStub(leadId), (instance: EntityActor) => internals(instance).store.existingHead.progress[handler]?.lease);

function batchOf(messages: unknown[]) {
  return createMessageBatch<unknown>(
    "edgeflow-slow-work",
    messages.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
}

async function consume(messages: unknown[]) {
  const batch = batchOf(messages);
  await worker.queue(batch, env);
  return getQueueResult(batch, createExecutionContext());
}

describe("queue consumer", () => {
  it("runs leased work, reports it to the actor and acks each message on its own", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    const result = await consume([message(leadId, "t1"), message(leadId, "t0"), { nonsense: true }, { tenant: "demo", outboxId: 3, attempt: 1 }]);
    // The stale token, the malformed body and a pre-v2 message are acked and run nothing.
    expect(result.explicitAcks.sort()).toEqual(["msg-0", "msg-1", "msg-2", "msg-3"]);
    expect(result.retryMessages).toEqual([]);

    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
    const calls = await receiver.calls(`${event.id}:crm`);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.path).toBe(`/crm/contacts/${leadId}`);
    expect(JSON.parse(calls[0]!.body)).toMatchObject({ plan: "pro" });
  });

  it("acks, and never runs the call again, when the outcome cannot be reported: a re-delivered message claims nothing", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    // A real storage fault in the actor when it records the outcome (the write that drops the
    // lease); the claim, which keeps the lease, still writes.
    await runInDurableObject(leadStub(leadId), (_instance, state) => {
      state.storage.sql.exec(`CREATE TRIGGER fail_reports BEFORE UPDATE ON events WHEN NEW.seq = 0 AND NEW.data NOT LIKE '%"t1"%' BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
      // A new entity's head may not have its row yet: its first write is an insert.
      state.storage.sql.exec(`CREATE TRIGGER fail_first_report BEFORE INSERT ON events WHEN NEW.seq = 0 AND NEW.data NOT LIKE '%"t1"%' BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
    });
    const first = await consume([message(leadId, "t1")]);
    expect(first.explicitAcks).toEqual(["msg-0"]);
    expect(first.retryMessages).toEqual([]);
    // Still leased and claimed; no attempt has reported, so none is counted.
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "in_flight", attempts: 0 });
    await runInDurableObject(leadStub(leadId), (_instance, state) => state.storage.sql.exec(`DROP TRIGGER fail_reports; DROP TRIGGER fail_first_report`));

    // The queue delivers the same message again (at-least-once): the work is already claimed.
    const again = await consume([message(leadId, "t1")]);
    expect(again.explicitAcks).toEqual(["msg-0"]);
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(1);
  });

  it("grants one claim per lease: a second claim, or a copy of the message, gets nothing", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    const actor = leadActor(leadId);
    const claimed = (await actor.claimWork("t1"))?.work;
    expect(claimed).toEqual([expect.objectContaining({ handler: "crm", jobs: [expect.objectContaining({ handler: "crm", attempt: 1, idempotencyKey: leadKey(leadId, event.id, "crm") })] })]);
    expect(await actor.claimWork("t1")).toBeNull();
    // Two consumers holding copies of the message: neither runs the call.
    await consume([message(leadId, "t1"), message(leadId, "t1")]);
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(0);
    expect(await leaseOf(leadId)).toMatchObject({ token: "t1", claimed: true });
  });

  it("reports on the claim's session: one billed request for the claim and the report", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    // The ingest's alarm runs its other handlers now, so it cannot run (and count) during the consume.
    await runDurableObjectAlarm(leadStub(leadId));
    takeUsage();
    await consume([message(leadId, "t1")]);
    const used = takeUsage();
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(used.entityRequests).toBe(1);
    expect(used.entityReportRequests).toBe(0);
    // Held for the call and the report only, inside the hold time.
    expect(used.entityHeldMs).toBeLessThan(REPORT_SESSION_HOLD_MS);
  });

  it("lets the actor go when the call outlasts the session's hold, and reports with a request of its own", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    await runDurableObjectAlarm(leadStub(leadId));
    await receiver.script(`${event.id}:crm`, [{ status: 200, delayMs: REPORT_SESSION_HOLD_MS + 400 }]);
    takeUsage();
    await consume([message(leadId, "t1")]);
    const used = takeUsage();
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(1);
    expect(used.entityRequests).toBe(1);
    expect(used.entityReportRequests).toBe(1);
    // Held for the hold time, not for the whole call.
    expect(used.entityHeldMs).toBeGreaterThanOrEqual(REPORT_SESSION_HOLD_MS - 5);
    expect(used.entityHeldMs).toBeLessThan(REPORT_SESSION_HOLD_MS + 400);

    // Its runs are slow now: the next claim of this kind lets the actor go at once.
    const next = await ingestWithCrmHeld(uniqueId(), "t2");
    await runDurableObjectAlarm(leadStub(next.entity.id));
    await receiver.script(`${next.id}:crm`, [{ status: 200, delayMs: REPORT_SESSION_HOLD_MS + 400 }]);
    takeUsage();
    await consume([message(next.entity.id, "t2")]);
    const after = takeUsage();
    expect((await deliveries(next.entity.id, next.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(after.entityReportRequests).toBe(1);
    expect(after.entityHeldMs).toBeLessThan(REPORT_SESSION_HOLD_MS / 2);
  });

  it("runs and reports the work of an actor still on the code before report sessions (a deploy under way)", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    await runDurableObjectAlarm(leadStub(leadId));
    // 0.9's claimWork answered with the work alone. RPC reaches methods of the class, not of the
    // instance, so the class's method stands in for this one consume.
    const proto = await runInDurableObject(leadStub(leadId), (instance: EntityActor) => Object.getPrototypeOf(instance) as EntityActor);
    const current = proto.claimWork;
    Object.defineProperty(proto, "claimWork", {
      value(this: EntityActor, token: string) {
        return internals(this).fanOut.claim(token, Date.now());
      },
      configurable: true,
      writable: true,
    });
    takeUsage();
    const result = await consume([message(leadId, "t1")]).finally(() => Object.defineProperty(proto, "claimWork", { value: current, configurable: true, writable: true }));
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(1);
    expect(takeUsage().entityReportRequests).toBe(1);
  });

  it("runs the call once for two copies of one message in a batch", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    await consume([message(leadId, "t1"), message(leadId, "t1")]);
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(1);
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("counts a queued delivery that never reports against the budget, so it ends as a dead letter", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    // Every consumer runs the call and dies before its report lands: the report RPC fails.
    await runInDurableObject(leadStub(leadId), (instance: EntityActor) => {
      Object.defineProperty(instance, "reportWork", { value: () => Promise.reject(new Error("consumer died")), configurable: true });
    });
    // Each turn: the lease lapses (or the backoff ends) and the alarm runs, as time would make it.
    // A turn that sends may wait for its report (REPORT_WAIT_PAYS_MS) until waiting stops paying.
    const crm = await eventually(
      async () => {
        await runInDurableObject(leadStub(leadId), (instance: EntityActor, state) => {
          const lease = internals(instance).store.existingHead.progress.crm!.lease;
          if (lease) lease.until = 0;
          if (state.storage.sql.exec(`SELECT 1 FROM sqlite_master WHERE name = 'deliveries'`).toArray().length > 0) {
            state.storage.sql.exec(`UPDATE deliveries SET next_attempt_at = 0 WHERE handler = 'crm' AND status = 'pending'`);
          }
        });
        await runDurableObjectAlarm(leadStub(leadId));
        const d = (await deliveries(leadId, event.id)).crm;
        return d?.status === "dead" ? d : undefined;
      },
      "the never-reporting crm delivery to go dead",
      30_000,
    );
    // RETRY_MAX_ATTEMPTS is 4 here: four tries, each made of MAX_UNREPORTED_SENDS lapsed sends.
    expect(crm.attempts).toBe(4);
    expect(crm.lastError).toMatch(new RegExp(`no outcome reported after ${MAX_UNREPORTED_SENDS} queue sends`));
    const failures = await runInDurableObject(leadStub(leadId), (_instance, state) =>
      state.storage.sql.exec<{ attempt: number }>(`SELECT attempt FROM failures WHERE handler = 'crm' ORDER BY rowid`).toArray(),
    );
    expect(failures.map((f) => f.attempt)).toEqual([1, 2, 3, 4]);
    // Never more calls than sends, all under the delivery's one key.
    const calls = await receiver.calls(`${event.id}:crm`);
    expect(calls.length).toBeLessThanOrEqual(4 * MAX_UNREPORTED_SENDS);
    for (const call of calls) expect(call.headers["idempotency-key"]).toBe(leadKey(leadId, event.id, "crm"));
  }, 30_000);

  it("grants claims only on tokens this instance issued: after a restart, old messages claim nothing", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    // The lease is written with the next write (here, a flush) and survives the restart; the token does not.
    await runInDurableObject(leadStub(leadId), (instance: EntityActor) => internals(instance).store.flush());
    await evictDurableObject(leadStub(leadId));
    expect(await leadActor(leadId).claimWork("t1")).toBeNull();
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(0);
  });

  it("re-sends queued work whose lease lapsed (the message was lost), under a new token and the same key", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId);
    await eventually(async () => {
      const d = await deliveries(leadId, event.id);
      return Object.values(d).filter((x) => x.handler !== "crm").every((x) => x.status === "succeeded" || x.status === "skipped") ? true : undefined;
    }, "the inline handlers");
    expect(await receiver.calls(`${event.id}:crm`)).toHaveLength(0);

    // The lease lapses with no outcome: the next alarm sends the work again. The lapsed send never
    // ran, so no attempt counts against the retry budget.
    await holdCrm(leadId, { token: "t1", until: Date.now() - 1 });
    await runDurableObjectAlarm(leadStub(leadId));
    const crm = await eventually(async () => {
      const d = (await deliveries(leadId, event.id)).crm;
      return d?.status === "succeeded" ? d : undefined;
    }, "the re-sent crm delivery");
    expect(crm.attempts).toBe(1);
    const calls = await receiver.calls(`${event.id}:crm`);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers["idempotency-key"]).toBe(leadKey(leadId, event.id, "crm"));
    // The old token claims nothing now.
    expect(await leadActor(leadId).claimWork("t1")).toBeNull();
  });

  it("counts only attempts that ran against the retry budget, not sends whose lease lapsed", async () => {
    const leadId = uniqueId();
    const event = await ingestWithCrmHeld(leadId, "t9");
    // Two earlier sends lapsed in a slow queue; this one runs and fails.
    await holdCrm(leadId, { token: "t9", lapses: 2 });
    await receiver.script(`${event.id}:crm`, [{ status: 500 }]);
    await consume([message(leadId, "t9")]);
    // The first attempt that ran failed: a retry, not a dead letter.
    expect((await deliveries(leadId, event.id)).crm).toMatchObject({ status: "pending", attempts: 1 });
  });

  it("doubles the lease for each send that lapsed before, so a slow queue's backlog is not multiplied", async () => {
    const leadId = uniqueId();
    await ingestWithCrmHeld(leadId);
    const sent = await loseMessages(leadId);
    await holdCrm(leadId, { token: "t1", until: 0, lapses: 1 });
    const before = Date.now();
    await runDurableObjectAlarm(leadStub(leadId));
    expect(sent).toHaveLength(1);
    const lease = await leaseOf(leadId);
    // QUEUE_LEASE_MS is 120 s by default; this is the third send (lapses 2): 4 × 120 s.
    expect(lease).toMatchObject({ token: sent[0]!.token, lapses: 2, claimed: false });
    expect(lease!.until).toBeGreaterThanOrEqual(before + 4 * 120_000);
    expect(lease!.until).toBeLessThan(Date.now() + 4 * 120_000 + 1000);
  });

  it("sends every queued handler's due work of one turn in one message", async () => {
    const leadId = uniqueId();
    // AI is unset in the unit tests; this actor gets it, and a queue that keeps what it is sent.
    const sent = await loseMessages(leadId, { AI_API_URL: `${receiver.url()}/ai`, AI_API_KEY: "k" });
    const event = leadEvent(leadId);
    await leadActor(leadId).ingest("demo", [event]);
    await eventually(async () => (sent.length > 0 ? true : undefined), "the alarm's message");
    expect(sent).toHaveLength(1);
    expect(await leaseOf(leadId, "crm")).toMatchObject({ token: sent[0]!.token });
    expect(await leaseOf(leadId, "ai-analysis")).toMatchObject({ token: sent[0]!.token });
    // Claiming that one message's token hands the consumer both handlers' work.
    const claimed = (await leadActor(leadId).claimWork(sent[0]!.token))?.work;
    expect(claimed?.map((c) => c.handler).sort()).toEqual(["ai-analysis", "crm"]);
    expect(claimed?.every((c) => c.jobs.length === 1 && c.jobs[0]!.event.id === event.id)).toBe(true);
  });

  it("delivers queued work end to end through the real local queue", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    await leadActor(leadId).ingest("demo", [event]);
    await eventually(async () => ((await deliveries(leadId, event.id)).crm?.status === "succeeded" ? true : undefined), "crm via the queue", 15_000);
    expect((await receiver.calls(`${event.id}:crm`)).map((c) => c.status)).toEqual([200]);
  });
});
