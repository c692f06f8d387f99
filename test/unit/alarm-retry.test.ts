import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EntityActor } from "../../actors/entity-actor.ts";
import { backoffCeiling } from "../../src/delivery/policy/retry.ts";
import { handlersFor } from "../../src/handlers/registry.ts";
import { deliveries, eventually, leadActor, leadEvent, leadKey, leadStub, receiver, uniqueId } from "./helpers.ts";

// Matches vitest.config.ts: RETRY_BASE_MS 40, RETRY_MAX_DELAY_MS 2000, RETRY_MAX_ATTEMPTS 4.
const POLICY = { retryBaseMs: 40, retryMaxDelayMs: 2000 };

interface AttemptRow extends Record<string, SqlStorageValue> {
  attempt: number;
  started_at: number;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  next_delay_ms: number | null;
}

/** One event's failed attempts for one handler: the only attempts the actor keeps a history of. */
async function failures(leadId: string, handler: string, eventId: string): Promise<AttemptRow[]> {
  return runInDurableObject(leadStub(leadId), (_instance, state) =>
    state.storage.sql
      .exec<AttemptRow>(
        `SELECT f.* FROM failures f JOIN events e ON e.seq = f.seq WHERE f.handler = ? AND e.id = ? ORDER BY f.rowid`,
        handler,
        eventId,
      )
      .toArray(),
  );
}

const settled = (status: string | undefined) => status === "succeeded" || status === "skipped" || status === "dead";

describe("alarm-driven delivery", () => {
  it("fans a lead.created out to every handler, skipping the unconfigured ones with a reason", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    await leadActor(leadId).ingest("demo", [event]);
    const byHandler = await eventually(async () => {
      const d = await deliveries(leadId, event.id);
      return Object.values(d).length === handlersFor("lead.created").length && Object.values(d).every((x) => settled(x.status)) ? d : undefined;
    }, "all deliveries to settle");
    expect(byHandler.slack?.status).toBe("succeeded");
    expect(byHandler.discord?.status).toBe("succeeded");
    expect(byHandler["welcome-email"]?.status).toBe("succeeded");
    expect(byHandler.crm?.status).toBe("succeeded");
    expect(byHandler.database?.status).toBe("succeeded");
    expect(byHandler.analytics?.status).toBe("succeeded");
    expect(byHandler["follow-up"]?.status).toBe("succeeded");
    // AI_API_URL is deliberately unset in the unit-test configuration.
    expect(byHandler["ai-analysis"]).toMatchObject({ status: "skipped", lastError: "not configured: AI_API_URL unset" });

    const calls = await receiver.calls(event.id);
    const slack = calls.find((c) => c.path === "/slack" && c.headers["idempotency-key"] === leadKey(leadId, event.id, "slack"));
    expect(slack?.headers["user-agent"]).toMatch(/^edgeflow\//);
    expect(JSON.parse(slack!.body).text).toContain("Ada");
    const email = calls.find((c) => c.path === "/email");
    expect(JSON.parse(email!.body)).toMatchObject({ from: "edgeflow@example.com", to: "ada@example.com", subject: expect.any(String) });
    expect(email?.headers.authorization).toBe("Bearer test-email-key");
    const crm = calls.find((c) => c.path === `/crm/contacts/${leadId}`);
    expect(crm?.headers["idempotency-key"]).toBe(leadKey(leadId, event.id, "crm"));
    // Every call says what its key stands for.
    expect(crm?.headers).toMatchObject({ "edgeflow-tenant": "demo", "edgeflow-entity": `lead/${leadId}`, "edgeflow-event-id": event.id, "edgeflow-handler": "crm", "edgeflow-seq": "1" });
    expect(JSON.parse(crm!.body)).toMatchObject({ id: leadId, email: "ada@example.com", name: "Ada" });
  });

  it("backs off with full jitter within the policy's bounds, then succeeds", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    await receiver.script(`${event.id}:slack`, [{ status: 500 }, { status: 502 }, { status: 429 }]);
    await leadActor(leadId).ingest("demo", [event]);
    await eventually(async () => ((await deliveries(leadId, event.id)).slack?.status === "succeeded" ? true : undefined), "slack to succeed");

    const rows = await failures(leadId, "slack", event.id);
    expect(rows.map((r) => [r.attempt, r.outcome, r.status_code])).toEqual([
      [1, "retry", 500],
      [2, "retry", 502],
      [3, "retry", 429],
    ]);
    const calls = await receiver.calls(`${event.id}:slack`);
    expect(calls.map((c) => c.status)).toEqual([500, 502, 429, 200]);
    expect(await deliveries(leadId, event.id)).toMatchObject({ slack: { status: "succeeded", attempts: 4, lastError: expect.stringContaining("429") } });
    for (const [i, row] of rows.entries()) {
      expect(row.next_delay_ms).toBeGreaterThanOrEqual(0);
      expect(row.next_delay_ms).toBeLessThanOrEqual(backoffCeiling(row.attempt, POLICY));
      // The next attempt never reaches the receiver before its scheduled time.
      expect(calls[i + 1]!.at).toBeGreaterThanOrEqual(row.started_at + row.duration_ms + row.next_delay_ms! - 2);
    }
  });

  it("honours Retry-After as a floor for the next attempt", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    await receiver.script(`${event.id}:welcome-email`, [{ status: 503, headers: { "retry-after": "1" } }]);
    await leadActor(leadId).ingest("demo", [event]);
    await eventually(
      async () => ((await deliveries(leadId, event.id))["welcome-email"]?.status === "succeeded" ? true : undefined),
      "welcome-email to succeed",
    );
    const [first] = await failures(leadId, "welcome-email", event.id);
    expect(first?.next_delay_ms).toBeGreaterThanOrEqual(1000);
    const calls = await receiver.calls(`${event.id}:welcome-email`);
    expect(calls.map((c) => c.status)).toEqual([503, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it("makes a permanent 4xx dead at once, and an exhausted retryable one dead after the last attempt", async () => {
    const leadId = uniqueId();
    const event = leadEvent(leadId);
    await receiver.script(`${event.id}:slack`, [{ status: 404, body: "no such channel" }]);
    await receiver.script(`${event.id}:welcome-email`, [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
    await leadActor(leadId).ingest("demo", [event]);
    const d = await eventually(async () => {
      const byHandler = await deliveries(leadId, event.id);
      return byHandler.slack?.status === "dead" && byHandler["welcome-email"]?.status === "dead" ? byHandler : undefined;
    }, "both deliveries to go dead");
    expect(d.slack).toMatchObject({ attempts: 1, lastError: "HTTP 404: no such channel" });
    expect(d["welcome-email"]?.attempts).toBe(4);
    expect(d["welcome-email"]?.lastError).toMatch(/gave up after 4 attempts/);
    expect((await receiver.calls(`${event.id}:slack`)).length).toBe(1);
    expect((await receiver.calls(`${event.id}:welcome-email`)).length).toBe(4);
  });

  it("keeps each handler's order by seq under failures, without delaying the other handlers", async () => {
    const leadId = uniqueId();
    const first = leadEvent(leadId);
    const second = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, status: "hot" } });
    const third = leadEvent(leadId, { type: "lead.updated", data: { id: leadId, status: "warm" } });
    await receiver.script(`${first.id}:slack`, [{ status: 500 }, { status: 500 }]);
    await leadActor(leadId).ingest("demo", [first]);
    await leadActor(leadId).ingest("demo", [second, third]);
    await eventually(async () => ((await deliveries(leadId, third.id)).slack?.status === "succeeded" ? true : undefined), "the third slack delivery");

    const slackCalls = (await receiver.calls(leadId)).filter((c) => c.path === "/slack");
    const successes = slackCalls.filter((c) => c.status === 200).map((c) => c.headers["idempotency-key"]);
    expect(successes).toEqual([first, second, third].map((e) => leadKey(leadId, e.id, "slack")));
    const firstOk = slackCalls.find((c) => c.status === 200)!.at;
    for (const later of slackCalls.filter((c) => c.headers["idempotency-key"] !== leadKey(leadId, first.id, "slack"))) expect(later.at).toBeGreaterThanOrEqual(firstOk);
    // The welcome email did not wait for Slack's retries.
    const email = (await receiver.calls(`${first.id}:welcome-email`))[0]!;
    expect(email.at).toBeLessThan(firstOk);
  });

  it("re-arms the alarm while work remains and deletes it when idle", async () => {
    const leadId = uniqueId();
    const stub = leadStub(leadId);
    const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId } });
    await receiver.script(`${event.id}:slack`, [{ status: 503, headers: { "retry-after": "30" } }]);
    await leadActor(leadId).ingest("demo", [event]);
    const retryAt = await eventually(async () => {
      const slack = (await deliveries(leadId, event.id)).slack;
      return slack?.status === "pending" && slack.attempts === 1 ? Date.parse(slack.nextAttemptAt!) : undefined;
    }, "the first slack failure");
    await eventually(async () => {
      const d = await deliveries(leadId, event.id);
      return Object.values(d).filter((x) => x.handler !== "slack").every((x) => settled(x.status)) ? true : undefined;
    }, "other handlers to settle");
    // Retry-After 30 s is capped at RETRY_MAX_DELAY_MS (2 s): the alarm points at that retry.
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBe(retryAt);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await eventually(async () => ((await deliveries(leadId, event.id)).slack?.status === "succeeded" ? true : undefined), "slack to succeed");
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("re-arms itself on wake-up when work is due but the alarm was lost", async () => {
    const leadId = uniqueId();
    const stub = leadStub(leadId);
    const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId } });
    // Store the event and lose the alarm in one go, before any delivery ran.
    const before = await runInDurableObject(stub, async (instance: EntityActor, state) => {
      await instance.ingest("demo", [event]);
      await state.storage.deleteAlarm();
      return instance.listEvents(0, 10);
    });
    expect(before?.events[0]?.deliveries).toHaveLength(handlersFor("lead.updated").length);
    for (const d of before!.events[0]!.deliveries) expect(d).toMatchObject({ status: "pending", attempts: 0 });
    await evictDurableObject(stub);
    // Any request wakes the actor; its constructor sees due rows and no alarm.
    await leadActor(leadId).getEntity();
    await eventually(async () => {
      const d = await deliveries(leadId, event.id);
      return Object.values(d).every((x) => settled(x.status)) ? true : undefined;
    }, "the stranded deliveries to run");
  });

  it("emits lead.follow_up_due after FOLLOW_UP_DELAY_MS, and skips the reminder for a converted lead", async () => {
    const open = uniqueId();
    const converted = uniqueId();
    const now = Date.now();
    await leadActor(open).ingest("demo", [leadEvent(open, { occurredAt: now })]);
    await leadActor(converted).ingest("demo", [
      leadEvent(converted, { occurredAt: now }),
      leadEvent(converted, { type: "lead.updated", occurredAt: now + 1, data: { id: converted, status: "converted" } }),
    ]);
    const reminder = async (leadId: string) => {
      const page = await leadActor(leadId).listEvents(0, 50);
      const due = page?.events.find((e) => e.type === "lead.follow_up_due");
      const slack = due?.deliveries.find((d) => d.handler === "slack");
      const discord = due?.deliveries.find((d) => d.handler === "discord");
      return slack && discord && settled(slack.status) && settled(discord.status) ? { due, slack, discord } : undefined;
    };
    const a = await eventually(() => reminder(open), "the open lead's reminder");
    const b = await eventually(() => reminder(converted), "the converted lead's reminder");
    expect(a.slack.status).toBe("succeeded");
    expect(Date.parse(a.due!.occurredAt)).toBe(now + 300);
    expect(b.slack).toMatchObject({ status: "skipped", lastError: "lead is converted; no reminder needed" });
    // The rule is the event type's, so every notification handler keeps it.
    expect(a.discord.status).toBe("succeeded");
    expect(b.discord).toMatchObject({ status: "skipped", lastError: "lead is converted; no reminder needed" });
    // Exactly one follow-up event per lead, however often the alarm ran.
    const page = await leadActor(open).listEvents(0, 50);
    expect(page?.events.filter((e) => e.type === "lead.follow_up_due")).toHaveLength(1);
  });
});
