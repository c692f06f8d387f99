// An upgrade in place from 0.5: test/fixtures/v05-state was written by 0.5.0 (commit 2bcd309) as
// test/fixtures/make-v05-state.sh says: a stored tenant `acme` with sealed Slack and CRM
// destinations, an endpoint and 51 sources (one over today's cap), leads and offers, a dead letter,
// scheduled events kept inline in a head (one with its data in R2 under 0.5's key), and a large
// event in R2. Today's code serves all of it with no manual step, keeps what is over today's caps
// readable, and holds new writes to the caps.
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../../scripts/receiver.ts";
import { call } from "./control.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";
import { r2Keys } from "./local-files.ts";

const FIXTURE = join(import.meta.dirname, "../fixtures/v05-state");
const SECRETS_KEY = "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=";
const written = JSON.parse(readFileSync(join(FIXTURE, "fixture.json"), "utf8")) as { key: string; endpoint: { id: string }; scheduledAt: string };
/** The port the fixture's destinations and endpoint point at. */
const RECEIVER_PORT = 9912;

let server: LocalServer;
let receiver: Receiver;
const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => call<T>(server.url, written.key, method, path, body);

beforeAll(async () => {
  // The fixture's sealed destinations name this port, so it cannot be a free one: a second copy of
  // the suite running beside this one (two suites on two cores) may hold it for a while.
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      receiver = await startReceiver({ port: RECEIVER_PORT });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const persistDir = mkdtempSync(join(tmpdir(), "edgeflow-upgrade05-"));
  cpSync(FIXTURE, persistDir, { recursive: true });
  server = await startServer({ persistDir, vars: { SECRETS_KEY, FOLLOW_UP_DELAY_MS: "600000" } });
}, 240_000);
afterAll(async () => {
  await server?.discard();
  await receiver?.close();
});

describe("upgrading a 0.5 deployment in place", () => {
  it("keeps the tenant, its key, sealed destinations, endpoint, entities, large data and dead letter", async () => {
    const lead = await api<{ state: Record<string, unknown>; events: { count: number } }>("GET", "/v1/entities/lead/L-1");
    expect(lead.status).toBe(200);
    expect(lead.body.state).toMatchObject({ id: "L-1", company: "Analytical Engines", status: "open" });
    const big = await api<{ state: { notes: string } }>("GET", "/v1/entities/lead/L-big");
    expect(big.body.state.notes).toBe("x".repeat(40 * 1024));
    const destinations = await api<{ destinations: Record<string, Record<string, string>> }>("GET", "/v1/destinations");
    expect(destinations.body.destinations.crm).toEqual({ url: `http://127.0.0.1:${RECEIVER_PORT}/crm`, apiKey: "…cret" });
    const endpoints = await api<{ endpoints: Array<{ id: string }> }>("GET", "/v1/endpoints");
    expect(endpoints.body.endpoints.map((e) => e.id)).toEqual([written.endpoint.id]);
    const dead = await api<{ deadLetters: Array<{ id: string; handler: string }> }>("GET", "/v1/dead-letters");
    expect(dead.body.deadLetters.map((d) => d.id)).toContain("lead/L-dead/1:slack");
    // New events are delivered through the sealed destinations.
    expect((await api("POST", "/v1/events", { id: "evt_v06_1", type: "lead.updated", data: { id: "L-1", status: "qualified" } })).status).toBe(202);
    await waitFor(() => receiver.calls.some((c) => c.path === "/slack" && c.headers["edgeflow-event-id"] === "evt_v06_1"), "the new event's Slack call", 30_000, 100);
  });

  it("keeps 51 sources readable over today's cap of 50: lists, replaces and deletes them, and refuses a new one", async () => {
    const listed = await api<{ sources: Record<string, unknown> }>("GET", "/v1/sources");
    expect(Object.keys(listed.body.sources)).toHaveLength(51);
    const refused = await api<{ error: { code: string } }>("PUT", "/v1/sources/src-new", { scheme: "hmac-sha256", secret: "new" });
    expect([refused.status, refused.body.error.code]).toEqual([409, "limit_exceeded"]);
    expect((await api("PUT", "/v1/sources/src-1", { scheme: "github", secret: "replaced" })).status).toBe(200);
    expect((await api("DELETE", "/v1/sources/src-51", undefined)).status).toBe(204);
    expect((await api("DELETE", "/v1/sources/src-50", undefined)).status).toBe(204);
    expect((await api("PUT", "/v1/sources/src-new", { scheme: "hmac-sha256", secret: "new" })).status).toBe(200);
  });

  it("keeps scheduled events 0.5 kept in the head: listed, exported, cancellable (their object too), beside new ones", async () => {
    const scheduled = async () => (await api<{ scheduled: Array<{ id: string; deliverAt: string }> }>("GET", "/v1/entities/lead/L-sched/scheduled")).body.scheduled;
    const before = await scheduled();
    expect(before.filter((s) => s.id.startsWith("evt_sched_")).map((s) => [s.id, s.deliverAt])).toEqual([
      ["evt_sched_1", written.scheduledAt],
      ["evt_sched_big", written.scheduledAt],
    ]);
    // A repeat of one of them is still its duplicate.
    const repeat = await api<{ status: string }>("POST", "/v1/events", { id: "evt_sched_1", type: "lead.updated", deliverAt: written.scheduledAt, data: { id: "L-sched", status: "follow-up" } });
    expect([repeat.status, repeat.body.status]).toEqual([200, "duplicate"]);
    const legacyObject = r2Keys(server.persistDir).find((k) => k.endsWith("/L-sched/evt_sched_big"));
    expect(legacyObject).toBeDefined();
    expect((await api("DELETE", "/v1/entities/lead/L-sched/scheduled/evt_sched_big")).status).toBe(204);
    expect(r2Keys(server.persistDir)).not.toContain(legacyObject);
    // A new one is kept as a row of its own, and listed beside the one left from 0.5.
    const later = new Date(Date.parse(written.scheduledAt) + 1_000).toISOString();
    expect((await api("POST", "/v1/events", { id: "evt_sched_new", type: "lead.updated", deliverAt: later, data: { id: "L-sched", status: "later" } })).status).toBe(202);
    expect((await scheduled()).filter((s) => s.id.startsWith("evt_sched_")).map((s) => s.id)).toEqual(["evt_sched_1", "evt_sched_new"]);
    const exported = await api<{ scheduled: Array<{ id: string }> }>("GET", "/v1/entities/lead/L-sched/export");
    expect(exported.body.scheduled.map((s) => s.id)).toEqual(expect.arrayContaining(["evt_sched_1", "evt_sched_new"]));
  });

  it("refuses other content under a large event's id without touching the object 0.5 stored for it", async () => {
    const refused = await api<{ error: { code: string } }>("POST", "/v1/events", { id: "evt_big_1", type: "lead.updated", occurredAt: "2026-12-02T15:00:00Z", data: { id: "L-big", notes: "y".repeat(40 * 1024) } });
    expect([refused.status, refused.body.error.code]).toEqual([409, "id_conflict"]);
    const big = await api<{ state: { notes: string } }>("GET", "/v1/entities/lead/L-big");
    expect(big.body.state.notes).toBe("x".repeat(40 * 1024));
    expect(r2Keys(server.persistDir, "payloads/acme").filter((k) => k.includes("/L-big/"))).toHaveLength(1);
  });
});
