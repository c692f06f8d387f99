// Bounds on everything a tenant can store or make the deployment do, over real HTTP, each a
// defect a hostile-tenant audit of 0.5.0 found: counts refused with 409 limit_exceeded, sizes with
// 400, the tenant still fully usable at its limits; schedules no faster than the deployment allows;
// a slow rate limit that still delivers; a path that cannot be decoded; one tenant's slow CRM that
// held every other tenant's queued calls.
import { describe, expect, it } from "vitest";
import { call, d1RowsOfEntity, newTenant } from "./control.ts";
import { d1Rows } from "./local-files.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
// Small counts so the tests reach them; the defaults (100 endpoints, 50 sources, 1,000 scheduled
// events per entity) are the same code with other numbers.
const local = serverWithReceiver({ MAX_ENDPOINTS: "3", MAX_SOURCES: "2", MAX_SCHEDULED_PER_ENTITY: "3", D1_TENANT_BUDGET_BYTES: "4000", FOLLOW_UP_DELAY_MS: "600000" });
const api = <T = { error: { code: string; issues?: Array<{ path: string }> } }>(method: string, path: string, body?: unknown, key = KEY) => call<T>(local.server.url, key, method, path, body);
const codeOf = async (answer: Promise<{ status: number; body: unknown }>) => {
  const { status, body } = await answer;
  return [status, (body as { error?: { code: string } }).error?.code ?? null];
};

describe("counts and sizes a tenant is held to", () => {
  it("refuses a fourth endpoint with 409 limit_exceeded, and every control path still works at the limit", async () => {
    const key = await newTenant(local.server.url, "int-caps");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await api<{ id: string }>("POST", "/v1/endpoints", { url: `${local.receiver.url}/hooks/${i}` }, key);
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    expect(await codeOf(api("POST", "/v1/endpoints", { url: `${local.receiver.url}/hooks/4` }, key))).toEqual([409, "limit_exceeded"]);
    expect((await api("PATCH", `/v1/endpoints/${ids[0]}`, { description: "still editable" }, key)).status).toBe(200);
    expect((await api("PUT", "/v1/destinations/slack", { url: `${local.receiver.url}/slack` }, key)).status).toBe(200);
    expect((await api("DELETE", `/v1/endpoints/${ids[0]}`, undefined, key)).status).toBe(204);
    expect((await api("POST", "/v1/endpoints", { url: `${local.receiver.url}/hooks/5` }, key)).status).toBe(201);

    // Sources: a third name is refused; the two may be replaced and deleted.
    for (const name of ["one", "two"]) expect((await api("PUT", `/v1/sources/${name}`, { scheme: "hmac-sha256", secret: `s-${name}` }, key)).status).toBe(200);
    expect(await codeOf(api("PUT", "/v1/sources/three", { scheme: "hmac-sha256", secret: "s-3" }, key))).toEqual([409, "limit_exceeded"]);
    expect((await api("PUT", "/v1/sources/one", { scheme: "github", secret: "s-one-again" }, key)).status).toBe(200);
    // A mapping is bounded (64 KiB): 0.5.0 took 1 MB each, and 25 of them bricked the tenant.
    const mapping = { types: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`provider.event.${i}`, "lead.updated"])) };
    const tooLarge = await api("PUT", "/v1/sources/two", { scheme: "hmac-sha256", secret: "s-2", mapping }, key);
    expect([tooLarge.status, tooLarge.body.error.code, tooLarge.body.error.issues?.[0]?.path]).toEqual([400, "invalid_request", "mapping"]);
    expect((await api("DELETE", "/v1/sources/two", undefined, key)).status).toBe(204);
    expect((await api("GET", "/v1/sources", undefined, key)).status).toBe(200);
  });

  it("holds an entity to MAX_SCHEDULED_PER_ENTITY scheduled events (409), and takes one again once one goes", async () => {
    const at = (n: number) => new Date(Date.now() + 3_600_000 + n).toISOString();
    const schedule = (n: number) => api<{ status: string }>("POST", "/v1/events", { id: `evt-cap-${n}`, type: "lead.updated", deliverAt: at(n), data: { id: "CAP-1", n } });
    for (let n = 1; n <= 3; n++) expect((await schedule(n)).status).toBe(202);
    const refused = await schedule(4);
    expect([refused.status, (refused.body as unknown as { error: { code: string } }).error.code]).toEqual([409, "limit_exceeded"]);
    // Its own repeat is still answered as before, at the bound.
    expect((await schedule(2)).status).toBe(200);
    expect((await api("DELETE", "/v1/entities/lead/CAP-1/scheduled/evt-cap-1")).status).toBe(204);
    expect((await schedule(4)).status).toBe(202);
    const listed = await api<{ scheduled: Array<{ id: string }> }>("GET", "/v1/entities/lead/CAP-1/scheduled");
    expect(listed.body.scheduled.map((s) => s.id)).toEqual(["evt-cap-2", "evt-cap-3", "evt-cap-4"]);
  });

  it("bounds schedules: no faster than SCHEDULE_MIN_INTERVAL_SECONDS (60 by default), and event data of at most 64 KiB", async () => {
    const event = { type: "lead.updated", data: { id: "SCH-1" } };
    const refused = async (body: unknown, path: string) => {
      const answer = await api("POST", "/v1/schedules", body);
      expect([answer.status, answer.body.error.code, answer.body.error.issues?.[0]?.path], JSON.stringify(body).slice(0, 80)).toEqual([400, "invalid_request", path]);
    };
    await refused({ everySeconds: 1, event }, "everySeconds");
    await refused({ cron: "*/10 * * * * *", event }, "cron");
    await refused({ cron: "* * * * * *", event }, "cron");
    await refused({ everySeconds: 3600, event: { ...event, data: { id: "SCH-1", notes: "x".repeat(65 * 1024) } } }, "event.data");
    const ok = await api<{ id: string }>("POST", "/v1/schedules", { everySeconds: 60, event });
    expect(ok.status).toBe(201);
    expect((await api("POST", "/v1/schedules", { cron: "* * * * *", event })).status).toBe(201);
    expect(await codeOf(api("PATCH", `/v1/schedules/${ok.body.id}`, { everySeconds: 5 }))).toEqual([400, "invalid_request"]);
  });
});

describe("the shared D1 mirror", () => {
  it("keeps a large value by its R2 reference, and stops mirroring a tenant past its budget", async () => {
    expect((await api("POST", "/v1/events", { id: "evt-mir-1", type: "lead.updated", data: { id: "MIR-1", notes: "m".repeat(40 * 1024), status: "open" } })).status).toBe(202);
    const row = () => d1Rows<{ state: string }>(local.server.persistDir, `SELECT state FROM leads WHERE tenant = 'demo' AND id = 'MIR-1'`)[0];
    await waitFor(() => row() !== undefined, "the mirror row", 30_000, 100);
    const state = JSON.parse(row()!.state) as { notes: Record<string, unknown>; status: string };
    // 0.5.0 copied the 40 KiB into the row every tenant's database shares.
    expect(row()!.state.length).toBeLessThan(2_000);
    expect(state.status).toBe("open");
    expect(state.notes.$edgeflowPayload).toMatchObject({ bytes: expect.any(Number) });

    // The budget here is 4,000 bytes: the tenant's rows are measured from its metrics flushes, and
    // past it each `database` delivery ends skipped, with the reason, and writes no row.
    let n = 0;
    const skipped = async () => {
      const lead = `MIR-${++n + 1}`;
      await api("POST", "/v1/events", { id: `evt-mir-${n + 1}`, type: "lead.updated", data: { id: lead, company: "c".repeat(1_000) } });
      const settled = async () => {
        const page = await api<{ events: Array<{ deliveries: Array<{ handler: string; status: string; lastError: string | null }> }> }>("GET", `/v1/entities/lead/${lead}/events`);
        const database = page.body.events[0]?.deliveries.find((d) => d.handler === "database");
        return database?.status === "succeeded" || database?.status === "skipped" ? database : undefined;
      };
      let database: Awaited<ReturnType<typeof settled>>;
      await waitFor(async () => (database = await settled()) !== undefined, "the database delivery", 30_000, 100);
      if (database!.status !== "skipped") return false;
      expect(database!.lastError).toMatch(/over the tenant's D1 mirror budget/);
      expect(d1RowsOfEntity(local.server.persistDir, "demo", { type: "lead", id: lead }, "leads")).toBe(0);
      return true;
    };
    await waitFor(skipped, "a database delivery skipped for the budget", 60_000, 500);
  });
});

describe("a rate limit any accepted rate can honour", () => {
  it("delivers the first call at once to an endpoint limited to 0.01 calls a second", async () => {
    const endpoint = await api<{ id: string }>("POST", "/v1/endpoints", { url: `${local.receiver.url}/slow-hook`, eventTypes: ["lead.updated"], rateLimit: { perSecond: 0.01 } });
    expect(endpoint.status).toBe(201);
    expect((await api("POST", "/v1/events", { id: "evt-slow-1", type: "lead.updated", data: { id: "RATE-1" } })).status).toBe(202);
    // 0.5.0 never granted a slot to a rate under about 0.037 a second: the call never came.
    await waitFor(() => local.receiver.calls.some((c) => c.path === "/slow-hook"), "the rate-limited endpoint's first call", 20_000, 100);
    expect((await api("DELETE", `/v1/endpoints/${endpoint.body.id}`)).status).toBe(204);
  });
});

describe("paths", () => {
  it("answers a malformed percent-escape with 400, never a 5xx", async () => {
    for (const path of ["/v1/handlers/%E0%A4%A/pause", "/v1/entities/lead/%zz", "/v1/handlers/%/resume"]) {
      const answer = await fetch(`${local.server.url}${path}`, { method: path.endsWith("pause") || path.endsWith("resume") ? "POST" : "GET", headers: { authorization: `Bearer ${KEY}` } });
      expect([answer.status, ((await answer.json()) as { error: { code: string } }).error.code], path).toEqual([400, "invalid_request"]);
    }
  });
});

describe("one tenant's slow CRM", () => {
  it("does not hold another tenant's queued calls once its calls are known to be slow", async () => {
    // Tenant A's CRM answers after 6 s (its attempt timeout is 10 s), twice.
    const slow = (event: string) => local.receiver.script(`/lead/FAIR-A/${event}:crm`, [{ status: 200, delayMs: 6_000 }]);
    const answered = (path: string, event: string) => local.receiver.calls.find((c) => c.path === path && c.headers["edgeflow-event-id"] === event);
    slow("evt-fair-a1");
    expect((await api("POST", "/v1/events", { id: "evt-fair-a1", type: "lead.updated", data: { id: "FAIR-A" } })).status).toBe(202);
    // Its first slow run holds the queue's batch once: that is how the consumer learns it is slow.
    await waitFor(() => answered("/crm/contacts/FAIR-A", "evt-fair-a1") !== undefined, "tenant A's first CRM call", 30_000, 50);
    slow("evt-fair-a2");
    expect((await api("POST", "/v1/events", { id: "evt-fair-a2", type: "lead.updated", data: { id: "FAIR-A" } })).status).toBe(202);
    const inFlight = async () => {
      const page = await api<{ events: Array<{ id: string; deliveries: Array<{ handler: string; status: string }> }> }>("GET", "/v1/entities/lead/FAIR-A/events");
      return page.body.events.find((e) => e.id === "evt-fair-a2")?.deliveries.find((d) => d.handler === "crm")?.status === "in_flight";
    };
    await waitFor(inFlight, "tenant A's second CRM call to be out", 30_000, 50);
    // Now tenant B's event: its queued CRM call must not wait for A's to end.
    const keyB = await newTenant(local.server.url, "int-fair-b");
    expect((await api("PUT", "/v1/destinations/crm", { url: `${local.receiver.url}/crm`, apiKey: "b" }, keyB)).status).toBe(200);
    expect((await api("POST", "/v1/events", { id: "evt-fair-b", type: "lead.updated", data: { id: "FAIR-B" } }, keyB)).status).toBe(202);
    await waitFor(() => answered("/crm/contacts/FAIR-B", "evt-fair-b") !== undefined && answered("/crm/contacts/FAIR-A", "evt-fair-a2") !== undefined, "both CRM calls", 30_000, 50);
    // The receiver records a call when it answers: B's was answered while A's was still held.
    expect(answered("/crm/contacts/FAIR-B", "evt-fair-b")!.at).toBeLessThan(answered("/crm/contacts/FAIR-A", "evt-fair-a2")!.at);
  });
});
