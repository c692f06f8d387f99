import { tenantSpace } from "../../src/rpc/names.ts";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { TenantActor } from "../../actors/tenant-actor.ts";
import type { DeadLetters } from "../../actors/tenant/dead-letters.ts";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiRequest, deliveries, eventually, leadActor, leadEvent, leadKey, receiver, uniqueId } from "./helpers.ts";

// Each test uses its own tenant (see vitest.config.ts), since the dead-letter index is tenant-wide.
const api = async (tenant: string, path: string, init: RequestInit & { json?: unknown } = {}) => {
  const response = await exports.default.fetch(apiRequest(path, { ...init, headers: { authorization: `Bearer ${tenant}_key`, ...init.headers } }));
  return { status: response.status, body: await response.json<Record<string, unknown>>() };
};

interface DeadLetter {
  id: string;
  entity: { type: string; id: string };
  eventId: string;
  handler: string;
  attempts: number;
  lastError: string;
  deadAt: string;
}

async function killSlack(tenant: string, leadId: string, body = "gone") {
  const event = leadEvent(leadId, { type: "lead.updated", data: { id: leadId } });
  await receiver.script(`${event.id}:slack`, [{ status: 410, body }]);
  await leadActor(leadId, tenant).ingest(tenant, [event]);
  return event;
}

async function listAll(tenant: string, limit = 2): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  let cursor = "";
  for (;;) {
    const page = await api(tenant, `/v1/dead-letters?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page.status).toBe(200);
    all.push(...(page.body.deadLetters as DeadLetter[]));
    if (!page.body.next) return all;
    cursor = String(page.body.next);
  }
}

describe("dead letters", () => {
  it("are listed tenant-wide, page by page", async () => {
    const leads = [uniqueId(), uniqueId(), uniqueId()];
    const events = await Promise.all(leads.map((l) => killSlack("lists", l)));
    const listed = await eventually(async () => {
      const all = await listAll("lists");
      return all.length === 3 ? all : undefined;
    }, "three dead letters");
    expect(listed.map((d) => d.eventId).sort()).toEqual(events.map((e) => e.id).sort());
    for (const d of listed) {
      expect(d).toMatchObject({ handler: "slack", attempts: 1, lastError: "HTTP 410: gone", entity: { type: "lead" } });
      // Which delivery it is: the event's seq in its entity's log, and the handler.
      expect(d.id).toBe(`lead/${d.entity.id}/1:slack`);
      expect(Date.parse(d.deadAt)).toBeGreaterThan(0);
    }
    // Another tenant sees none of them.
    expect((await api("replay", "/v1/dead-letters")).body.deadLetters).toEqual([]);
  });

  it("replay by id, handler or entity, keeping the idempotency key, and drop out of the list", async () => {
    const [a, b, c] = [uniqueId(), uniqueId(), uniqueId()];
    const [ea, eb, ec] = [await killSlack("replay", a), await killSlack("replay", b), await killSlack("replay", c)];
    const listed = await eventually(async () => {
      const all = await listAll("replay", 100);
      return all.length === 3 ? all : undefined;
    }, "three dead letters");

    const byId = await api("replay", "/v1/dead-letters/replay", { method: "POST", json: { ids: [listed.find((d) => d.entity.id === a)!.id] } });
    expect(byId).toEqual({ status: 202, body: { replayed: 1 } });
    const byEntity = await api("replay", "/v1/dead-letters/replay", { method: "POST", json: { entity: { type: "lead", id: b } } });
    expect(byEntity.body).toEqual({ replayed: 1 });
    const noMatch = await api("replay", "/v1/dead-letters/replay", { method: "POST", json: { handler: "crm" } });
    expect(noMatch.body).toEqual({ replayed: 0 });
    const rest = await api("replay", "/v1/dead-letters/replay", { method: "POST" });
    expect(rest.body).toEqual({ replayed: 1 });

    for (const [lead, event] of [[a, ea], [b, eb], [c, ec]] as const) {
      await eventually(async () => ((await deliveries(lead, event.id, "replay")).slack?.status === "succeeded" ? true : undefined), `replayed ${lead}`);
      const calls = await receiver.calls(`${event.id}:slack`);
      expect(calls.map((x) => [x.status, x.headers["idempotency-key"]])).toEqual([
        [410, leadKey(lead, event.id, "slack", "replay")],
        [200, leadKey(lead, event.id, "slack", "replay")],
      ]);
    }
    expect(await listAll("replay")).toEqual([]);
    const bad = await api("replay", "/v1/dead-letters/replay", { method: "POST", json: { ids: "all" } });
    expect(bad.status).toBe(400);
  });

  it("raise one Slack alert at once and summarise the rest after the interval", async () => {
    // The receiver's answer ends up in the alert: it is escaped like any other text for Slack.
    await killSlack("alerts", uniqueId(), "<!channel> gone");
    const alertCalls = async () => (await receiver.calls("alert:alerts:")).filter((c) => c.path === "/slack");
    const first = await eventually(async () => ((await alertCalls()).length === 1 ? await alertCalls() : undefined), "the first alert");
    expect(JSON.parse(first[0]!.body).text).toMatch(/slack delivery for lead .* is dead after 1 attempts: HTTP 410: &lt;!channel&gt; gone/);
    // The same alert reaches every chat service the tenant has a destination for, each escaping it its own way.
    const otherAlerts = async () => (await receiver.calls("alert:alerts:")).filter((c) => c.path === "/discord" || c.path === "/teams");
    const others = await eventually(async () => ((await otherAlerts()).length === 2 ? await otherAlerts() : undefined), "the Discord and Teams alerts");
    const discord = JSON.parse(others.find((c) => c.path === "/discord")!.body) as { content: string; allowed_mentions: unknown };
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(discord.content).toContain("\\<!channel\\> gone");
    const teams = JSON.parse(others.find((c) => c.path === "/teams")!.body) as { type: string; attachments: Array<{ content: { body: Array<{ text?: string }> } }> };
    expect(teams.type).toBe("message");
    expect(teams.attachments[0]!.content.body[0]!.text).toBe("🚨 Dead letter");

    await killSlack("alerts", uniqueId());
    await killSlack("alerts", uniqueId());
    await eventually(async () => ((await listAll("alerts", 100)).length === 3 ? true : undefined), "three dead letters");
    // ALERT_INTERVAL_MS is 60 s in the tests: nothing more is sent meanwhile...
    expect(await alertCalls()).toHaveLength(1);
    // ...not even from an alarm that fires early for other work...
    const tenant = env.TENANT.getByName("alerts");
    await runInDurableObject(tenant, async (_instance, state) => {
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(tenant)).toBe(true);
    expect(await alertCalls()).toHaveLength(1);
    // ...and once the interval has gone by, one summary covers both.
    await runInDurableObject(tenant, (_instance, state) => {
      state.storage.sql.exec(`UPDATE alert_state SET last_alert_at = last_alert_at - 60000`);
    });
    expect(await runDurableObjectAlarm(tenant)).toBe(true);
    const all = await alertCalls();
    expect(all).toHaveLength(2);
    expect(JSON.parse(all[1]!.body).text).toMatch(/2 deliveries went dead since the last alert \(slack: 2\)/);
  });
});

describe("the dead-letter index under replay", () => {
  const entry = (entityId: string, seq: number, handler = "slack", attempts = 1) => ({
    id: `lead/${entityId}/${seq}:${handler}`,
    entity: { type: "lead", id: entityId },
    eventId: `evt_${entityId}_${seq}`,
    handler,
    attempts,
    lastError: "HTTP 410: gone",
    deadAt: new Date().toISOString(),
  });

  it("keeps a dead letter that died again and was re-indexed while the replay was still forgetting the old entry", async () => {
    const stub = env.TENANT.getByName(`interleave-${crypto.randomUUID()}`);
    const listed = await runInDurableObject(stub, async (instance: TenantActor) => {
      const space = storedSpace(instance);
      await instance.recordDeadLetters(space, [entry("L-1", 7)]);
      // The replay reads its page and hands it to the entity...
      const deadLetters = (instance as unknown as { deadLetters: DeadLetters }).deadLetters;
      const page = deadLetters.matchingPage({}, 0, Number.MAX_SAFE_INTEGER, 100);
      // ...whose replayed delivery dies again at once and is reported before the replay forgets the page.
      await instance.recordDeadLetters(space, [entry("L-1", 7, "slack", 2)]);
      deadLetters.forgetReplayed(page);
      return instance.listDeadLetters(100, 0).deadLetters;
    });
    expect(listed).toEqual([expect.objectContaining({ id: "lead/L-1/7:slack", attempts: 2 })]);
  });

  it("replays page by page, matching the filter on every page, and leaves the rest", async () => {
    const stub = env.TENANT.getByName(`paged-${crypto.randomUUID()}`);
    const remaining = await runInDurableObject(stub, async (instance: TenantActor) => {
      // 450 entries over three entities whose actors hold no such rows: each replay takes none back.
      const entries = Array.from({ length: 450 }, (_, i) => entry(`L-${i % 3}`, i, i % 2 === 0 ? "slack" : "crm"));
      await instance.recordDeadLetters(storedSpace(instance), entries);
      expect(await instance.replay({ handler: "crm" })).toBe(0);
      return instance.listDeadLetters(500, 0).deadLetters;
    });
    expect(remaining).toHaveLength(225);
    expect(new Set(remaining.map((d) => d.handler))).toEqual(new Set(["slack"]));
  });
});

/** Stores the tenant the instance stands for and returns the space its writes are addressed to. */
function storedSpace(instance: TenantActor): string {
  const record = instance.createTenant();
  if (!record) throw new Error("tenant exists already");
  return tenantSpace(record.name, record);
}

describe("alerts per chat service", () => {
  it("sends each alert once to each service: a 4xx ends it there, a failure is retried there alone, with a backoff", async () => {
    const tenant = env.TENANT.getByName("t19");
    const calls = async (path: string) => (await receiver.calls("alert:t19:")).filter((c) => c.path === path);
    await receiver.script("alert:t19:", [{ status: 410, body: "channel archived" }], "/slack");
    await receiver.script("alert:t19:", [{ status: 503 }], "/discord");
    // A TENANTS tenant: its chat services are the deployment's (the local receiver's).
    await runInDurableObject(tenant, async (instance: TenantActor) => {
      await instance.recordDeadLetters("t19", [
        { id: "lead/L-alert/1:crm", entity: { type: "lead", id: "L-alert" }, eventId: "evt_alert", handler: "crm", attempts: 3, lastError: "HTTP 500", deadAt: new Date().toISOString() },
      ]);
    });
    await runDurableObjectAlarm(tenant);
    // Slack refused it (410) and Teams took it: neither is sent it again. Discord failed (503).
    expect([(await calls("/slack")).length, (await calls("/discord")).length, (await calls("/teams")).length]).toEqual([1, 1, 1]);
    const retryAt = await runInDurableObject(tenant, (_instance, state) =>
      state.storage.sql.exec<{ next_at: number }>(`SELECT next_at FROM alert_channels WHERE channel = 'discord'`).one().next_at,
    );
    expect(retryAt).toBeGreaterThan(Date.now() + 5_000);
    // An alarm before the backoff ends sends nothing.
    await runInDurableObject(tenant, async (_instance, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(tenant);
    expect((await calls("/discord")).length).toBe(1);
    // Once it ends, Discord alone is tried again, under the same idempotency key; then the alert is done.
    await runInDurableObject(tenant, (_instance, state) => {
      state.storage.sql.exec(`UPDATE alert_channels SET next_at = 0`);
    });
    await runInDurableObject(tenant, async (_instance, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(tenant);
    const discord = await calls("/discord");
    expect(discord.map((c) => c.status)).toEqual([503, 200]);
    expect(discord[0]!.headers["idempotency-key"]).toBe(discord[1]!.headers["idempotency-key"]);
    expect([(await calls("/slack")).length, (await calls("/teams")).length]).toEqual([1, 1]);
    const left = await runInDurableObject(tenant, (_instance, state) => state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM alert_outbox`).one().n);
    expect(left).toBe(0);
  });
});
