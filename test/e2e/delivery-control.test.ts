// Delivery control over real HTTP: a rate limit across a tenant's entities (5 a second, 100 events
// over 50 entities), a concurrency limit, and circuit breaking (a receiver that answers 503 for
// 60 s while 1,000 entities have deliveries due). Each receiver is a real local HTTP server.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, newTenant } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
// Retries come fast here (at most 5 s apart), so the budget is set to outlast the 60 s outage as
// the defaults' does (10 attempts over about 17 minutes): a retry that falls due while the circuit
// is open counts as an attempt (src/delivery/gate.ts), a first delivery held by it does not.
const local = serverWithReceiver({
  FOLLOW_UP_DELAY_MS: "600000",
  USAGE_ENDPOINT: "1",
  RETRY_BASE_MS: "500",
  RETRY_MAX_DELAY_MS: "5000",
  RETRY_MAX_ATTEMPTS: "50",
});

interface Hit {
  at: number;
  status: number;
  entity: string;
  seq: number;
  id: string;
}

/** A receiver for one endpoint: answers 503 while `down()` says so, else 200 (after `delayMs`); records each call. */
async function endpointReceiver(options: { down?: () => boolean; delayMs?: number } = {}) {
  const hits: Hit[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    // When the call arrived, not when its body was read: the latter adds this process's own delays.
    const at = Date.now();
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const status = options.down?.() ? 503 : 200;
      const payload = JSON.parse(body) as { data: { id: string; seq: number; entity: { type: string; id: string } } };
      hits.push({ at, status, entity: `${payload.data.entity.type}/${payload.data.entity.id}`, seq: payload.data.seq, id: payload.data.id });
      inFlight--;
      res.writeHead(status, { "content-type": "application/json" }).end(status === 200 ? '{"ok":true}' : '{"error":"down for maintenance"}');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    maxInFlight: () => maxInFlight,
    close: () => new Promise<void>((done) => (server.closeAllConnections(), server.close(() => done()))),
  };
}

/** The most calls any 1-second window holds. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Each entity's successful seqs, in the order the receiver took them. */
function seqsByEntity(hits: readonly Hit[]): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const hit of hits.filter((h) => h.status === 200)) by.set(hit.entity, [...(by.get(hit.entity) ?? []), hit.seq]);
  return by;
}

async function postBatches(url: string, key: string, events: object[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const answer = await call<{ results: Array<{ status?: string }> }>(url, key, "POST", "/v1/events/batch", { events: events.slice(i, i + 100) });
    expect(answer.status).toBe(207);
    expect(answer.body.results.every((r) => r.status === "accepted")).toBe(true);
  }
}

const usage = async () => (await (await fetch(`${local.server.url}/_usage`)).json()) as Record<string, number>;

describe("delivery control", () => {
  const receivers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const r of receivers) await r.close();
  });

  it("holds an endpoint to 5 calls a second across 50 entities, delivers all 100 events, each entity's in order, with few limiter requests", async () => {
    const receiver = await endpointReceiver();
    receivers.push(receiver);
    // A tenant of its own, with only this endpoint: the calls measured are all the server makes.
    const key = await newTenant(local.server.url, "limited");
    const api = <T>(method: string, path: string, body?: unknown) => call<T>(local.server.url, key, method, path, body);
    const created = await api<{ id: string; rateLimit: unknown; maxConcurrency: unknown }>("POST", "/v1/endpoints", { url: receiver.url, eventTypes: ["lead.updated"], rateLimit: { perSecond: 5 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ rateLimit: { perSecond: 5 }, maxConcurrency: null });
    expect((await api("GET", `/v1/endpoints/${created.body.id}`)).body).toMatchObject({ rateLimit: { perSecond: 5 } });
    await usage();

    const events = Array.from({ length: 100 }, (_, n) => ({ id: `rl-${n}`, type: "lead.updated", data: { id: `RL-${n % 50}`, step: Math.floor(n / 50) + 1 } }));
    await postBatches(local.server.url, key, events);
    await waitFor(() => receiver.hits.filter((h) => h.status === 200).length >= 100, () => `100 calls (got ${receiver.hits.length})`, 120_000, 200);

    expect(busiestSecond(receiver.hits.map((h) => h.at))).toBeLessThanOrEqual(6);
    expect(new Set(receiver.hits.map((h) => h.id)).size).toBe(100);
    expect(receiver.hits.length).toBe(100);
    for (const [entity, seqs] of seqsByEntity(receiver.hits)) expect(seqs, entity).toEqual([...seqs].sort((a, b) => a - b));
    // Slots come in batches of ten or more: at most one limiter request per ten calls, and a first one.
    const used = await usage();
    expect(used.limiterRequests).toBeGreaterThan(0);
    expect(used.limiterRequests).toBeLessThanOrEqual(12);
    console.log(`rate limit: 100 calls, busiest second ${busiestSecond(receiver.hits.map((h) => h.at))}, limiter requests ${used.limiterRequests}`);

    // A limit can be changed and cleared.
    const changed = await api("PATCH", `/v1/endpoints/${created.body.id}`, { rateLimit: null, maxConcurrency: 2 });
    expect(changed.body).toMatchObject({ rateLimit: null, maxConcurrency: 2 });
    expect((await api("PATCH", `/v1/endpoints/${created.body.id}`, { rateLimit: { perSecond: 0 } })).status).toBe(400);
    expect((await api("DELETE", `/v1/endpoints/${created.body.id}`)).status).toBe(204);
  }, 180_000);

  it("keeps at most maxConcurrency calls in flight to a slow endpoint", async () => {
    const receiver = await endpointReceiver({ delayMs: 300 });
    receivers.push(receiver);
    const api = <T>(method: string, path: string, body?: unknown) => call<T>(local.server.url, KEY, method, path, body);
    const created = await api<{ id: string }>("POST", "/v1/endpoints", { url: receiver.url, eventTypes: ["offer.submitted"], maxConcurrency: 3 });
    expect(created.status).toBe(201);
    const events = Array.from({ length: 30 }, (_, n) => ({ id: `mc-${n}`, type: "offer.submitted", data: { id: `MC-${n}`, leadId: "L-1", amount: 10, currency: "EUR" } }));
    await postBatches(local.server.url, KEY, events);
    await waitFor(() => receiver.hits.length >= 30, () => `30 calls (got ${receiver.hits.length})`, 60_000, 100);
    expect(receiver.maxInFlight()).toBeLessThanOrEqual(3);
    expect(receiver.maxInFlight()).toBeGreaterThan(1);
    expect((await api("DELETE", `/v1/endpoints/${created.body.id}`)).status).toBe(204);
  }, 90_000);

  it("holds a queued destination (the CRM) to its rate limit too, without using attempts", async () => {
    const api = <T>(method: string, path: string, body?: unknown) => call<T>(local.server.url, KEY, method, path, body);
    const put = await api<Record<string, unknown>>("PUT", "/v1/destinations/crm", { url: `${local.receiver.url}/crm`, apiKey: "test-crm-key", rateLimit: { perSecond: 2 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ rateLimit: { perSecond: 2 }, apiKey: expect.stringMatching(/^…/) });
    expect((await api<{ destinations: Record<string, unknown> }>("GET", "/v1/destinations")).body.destinations.crm).toMatchObject({ rateLimit: { perSecond: 2 } });
    const since = Date.now();
    const events = Array.from({ length: 12 }, (_, n) => ({ id: `qrl-${n}`, type: "lead.updated", data: { id: `QRL-${n}`, step: 1 } }));
    await postBatches(local.server.url, KEY, events);
    const crmCalls = () => local.receiver.calls.filter((c) => c.path.startsWith("/crm/contacts/QRL-") && c.at >= since);
    await waitFor(() => new Set(crmCalls().map((c) => c.path)).size >= 12, () => `12 CRM calls (got ${crmCalls().length})`, 60_000, 200);
    expect(busiestSecond(crmCalls().map((c) => c.at))).toBeLessThanOrEqual(3);
    // Held calls are not attempts: each delivery succeeded at its first.
    const page = await api<{ events: Array<{ deliveries: Array<{ handler: string; status: string; attempts: number }> }> }>("GET", "/v1/entities/lead/QRL-11/events");
    expect(page.body.events[0]!.deliveries.find((d) => d.handler === "crm")).toMatchObject({ status: "succeeded", attempts: 1 });
    expect((await api("DELETE", "/v1/destinations/crm")).status).toBe(204);
  }, 90_000);

  describe("circuit breaking", () => {
    let recoverAt = 0;
    let tenantKey = "";
    let receiver: Awaited<ReturnType<typeof endpointReceiver>>;
    beforeAll(async () => {
      receiver = await endpointReceiver({ down: () => Date.now() < recoverAt });
      receivers.push(receiver);
      // A tenant of its own, with only this endpoint: no other handler has a destination.
      tenantKey = await newTenant(local.server.url, "breaker");
    });

    it("stops calling a destination that answers 503 for 60 s across 1,000 entities, and drains everything in order within a minute of recovery", async () => {
      const api = <T>(method: string, path: string, body?: unknown) => call<T>(local.server.url, tenantKey, method, path, body);
      expect((await api("POST", "/v1/endpoints", { url: receiver.url, eventTypes: ["lead.updated"] })).status).toBe(201);
      recoverAt = Date.now() + 60_000;
      // 1,000 entities with one event each; the first 20 get two more, to check order.
      const events = [
        ...Array.from({ length: 1000 }, (_, n) => ({ id: `cb-${n}`, type: "lead.updated", data: { id: `CB-${n}`, step: 1 } })),
        ...Array.from({ length: 40 }, (_, n) => ({ id: `cb-more-${n}`, type: "lead.updated", data: { id: `CB-${n % 20}`, step: 2 + Math.floor(n / 20) } })),
      ];
      await postBatches(local.server.url, tenantKey, events);

      await waitFor(() => Date.now() >= recoverAt, "the outage to end", 70_000, 500);
      const duringOutage = receiver.hits.filter((h) => h.at < recoverAt).length;
      await waitFor(
        () => new Set(receiver.hits.filter((h) => h.status === 200).map((h) => h.id)).size >= events.length,
        () => `all ${events.length} delivered (got ${new Set(receiver.hits.filter((h) => h.status === 200).map((h) => h.id)).size})`,
        60_000,
        500,
      );
      const drainedIn = Math.max(...receiver.hits.map((h) => h.at)) - recoverAt;
      console.log(`circuit: ${duringOutage} calls during the 60 s outage; all ${events.length} drained ${drainedIn} ms after recovery`);
      // The bound (src/delivery/gate.ts): one call first (nothing heard from the destination yet),
      // then one at a time while it fails, CIRCUIT_FAILURES (5) in all, then one probe per
      // cool-down (5, 10, 20, 20 s: at most 5 in 60 s). Per isolate; this server runs one.
      expect(duringOutage).toBeLessThanOrEqual(12);
      expect(drainedIn).toBeLessThan(60_000);
      for (const [entity, seqs] of seqsByEntity(receiver.hits)) expect(seqs, entity).toEqual([...seqs].sort((a, b) => a - b));
      expect([...seqsByEntity(receiver.hits).values()].filter((seqs) => seqs.length === 3)).toHaveLength(20);
      const dead = await api<{ deadLetters: unknown[] }>("GET", "/v1/dead-letters");
      expect(dead.body.deadLetters).toEqual([]);
    }, 200_000);
  });
});
