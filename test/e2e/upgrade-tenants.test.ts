// An upgrade in place of the control plane: test/fixtures/v04-state was written by 0.4 (commit
// 02d9bb2, the last before API-key tags and tenant incarnations) running `npm start` with the
// SECRETS_KEY below: the admin API created tenant `legacy` and a key for it (fixture.json), the
// tenant set a CRM destination and an endpoint, and sent lead.created for lead L-old (whose
// follow-up, due a day later, has been due since 2026-11-29 05:35 UTC). Today's
// code must serve all of it with no manual step: the untagged key, the sealed destination and
// endpoint secret, the entity under its pre-incarnation actor name; and still refuse forged keys
// of other names without a lookup.
import { cpSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Usage } from "../../src/usage.ts";
import { ADMIN, call } from "./control.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";

const FIXTURE = join(import.meta.dirname, "../fixtures/v04-state");
const SECRETS_KEY = "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=";
const written = JSON.parse(readFileSync(join(FIXTURE, "fixture.json"), "utf8")) as { key: string; endpoint: { id: string; secret: string } };

let server: LocalServer;

const d1Files = (persistDir: string) => {
  const dir = join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject");
  return readdirSync(dir).filter((f) => f.endsWith(".sqlite")).map((f) => join(dir, f));
};

function d1Read<T>(persistDir: string, read: (db: DatabaseSync) => T | undefined): T | undefined {
  for (const path of d1Files(persistDir)) {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const found = read(db);
      if (found !== undefined) return found;
    } finally {
      db.close();
    }
  }
  return undefined;
}

const d1LeadStatus = (persistDir: string, tenant: string, id: string) =>
  d1Read(persistDir, (db) => (db.prepare(`SELECT status FROM leads WHERE tenant = ? AND id = ?`).get(tenant, id) as { status: string } | undefined)?.status);
const d1TableSql = (persistDir: string, table: string) =>
  d1Read(persistDir, (db) => (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) as { sql: string } | undefined)?.sql);

beforeAll(async () => {
  const persistDir = mkdtempSync(join(tmpdir(), "edgeflow-upgrade04-"));
  cpSync(FIXTURE, persistDir, { recursive: true });
  server = await startServer({ persistDir, vars: { SECRETS_KEY, USAGE_ENDPOINT: "1" } });
  // L-old's follow-up, scheduled by 0.4 a day after its lead.created (2026-11-28 05:35 UTC), has
  // been due since: the new code's alarm appends it as the entity's second event.
  await waitFor(
    async () => (await call<{ scheduled: unknown[] }>(server.url, written.key, "GET", "/v1/entities/lead/L-old/scheduled")).body.scheduled?.length === 0,
    "L-old's follow-up from 0.4 to be appended",
    30_000,
    200,
  );
});
afterAll(() => server?.discard());

describe("upgrading a 0.4 control plane in place", () => {
  it("keeps the tenant's untagged key, its sealed destination and endpoint, and its entity", async () => {
    const entity = await call<{ state: Record<string, unknown>; events: { count: number } }>(server.url, written.key, "GET", "/v1/entities/lead/L-old");
    expect(entity.status).toBe(200);
    expect(entity.body.state).toMatchObject({ id: "L-old", email: "old@example.com" });
    // Its event from 0.4 and the follow-up that event scheduled then.
    expect(entity.body.events.count).toBe(2);
    const events = await call<{ events: Array<{ seq: number; id: string; type: string }> }>(server.url, written.key, "GET", "/v1/entities/lead/L-old/events");
    expect(events.body.events.map((e) => [e.seq, e.type])).toEqual([
      [1, "lead.created"],
      [2, "lead.follow_up_due"],
    ]);
    const destinations = await call<{ destinations: Record<string, Record<string, string>> }>(server.url, written.key, "GET", "/v1/destinations");
    expect(destinations.body.destinations.crm).toEqual({ url: "http://127.0.0.1:9911/crm", apiKey: "…cret" });
    // The endpoints table 0.4 wrote has no backfill column: it gains it, and the old endpoint did not ask for history.
    const endpoints = await call<{ endpoints: Array<{ id: string; backfill: boolean }> }>(server.url, written.key, "GET", "/v1/endpoints");
    expect(endpoints.body.endpoints.map((e) => [e.id, e.backfill])).toEqual([[written.endpoint.id, false]]);
    // New events land in the same entity (its pre-incarnation actor name), after the old one.
    const posted = await call<{ seq: number }>(server.url, written.key, "POST", "/v1/events", { id: "evt_new_1", type: "lead.updated", data: { id: "L-old", status: "won" } });
    expect(posted.status).toBe(202);
    expect(posted.body.seq).toBe(3);
    const detail = await call(server.url, ADMIN, "GET", "/v1/admin/tenants/legacy");
    expect(detail.body).toMatchObject({ name: "legacy", status: "active", inheritDestinations: false, keys: 1 });
  });

  it("takes the features of 0.7 on the old tables: an endpoint with history, settings, a replay of the old event", async () => {
    const created = await call<{ id: string; backfill: boolean; backfillId: string }>(server.url, written.key, "POST", "/v1/endpoints", { url: "http://127.0.0.1:9/history", backfill: true });
    expect([created.status, created.body.backfill]).toEqual([201, true]);
    expect(created.body.backfillId).toMatch(/^bf_/);
    expect((await call(server.url, written.key, "GET", "/v1/settings")).body).toEqual({ retention: { days: null, eventsPerEntity: null }, erasure: { allowRecreate: false }, mirror: { events: false } });
    const replayed = await call<{ replayed: number }>(server.url, written.key, "POST", "/v1/entities/lead/L-old/replay", { handler: `endpoint:${written.endpoint.id}`, fromSeq: 2 });
    expect(replayed.status).toBe(202);
  });

  it("tags the keys it makes now, and still refuses forged keys of other names without a lookup", async () => {
    const fresh = await call<{ key: string }>(server.url, ADMIN, "POST", "/v1/admin/tenants/legacy/keys", { label: "new" });
    expect(fresh.status).toBe(201);
    expect((await call(server.url, fresh.body.key, "GET", "/v1/destinations")).status).toBe(200);
    await call(server.url, "x", "GET", "/_usage");
    for (let i = 0; i < 20; i++) {
      const forged = `ek_nobody${i}_${"ab".repeat(24)}`;
      expect((await call(server.url, forged, "GET", "/v1/dead-letters")).status).toBe(401);
    }
    const used = (await call<Usage>(server.url, "x", "GET", "/_usage")).body;
    expect(used.tenantRequests).toBe(0);
    // An untagged key under the legacy tenant's name is looked up (it may be one of its old keys), and refused.
    expect((await call(server.url, `ek_legacy_${"cd".repeat(24)}`, "GET", "/v1/dead-letters")).status).toBe(401);
  });

  it("keeps what it accepted across a SIGKILL right after the 202: an old entity's new event, and a new entity, whose heads may not be written yet (0.11)", async () => {
    const old = await call<{ seq: number }>(server.url, written.key, "POST", "/v1/events", { id: "evt_new_2", type: "lead.updated", data: { id: "L-old", status: "lost" } });
    const fresh = await call<{ seq: number }>(server.url, written.key, "POST", "/v1/events", { id: "evt_fresh_1", type: "lead.created", data: { id: "L-fresh", email: "fresh@example.com", name: "Fresh" } });
    expect([old.status, fresh.status]).toEqual([202, 202]);
    await server.stop("SIGKILL");
    server = await startServer({ persistDir: server.persistDir, vars: { SECRETS_KEY, USAGE_ENDPOINT: "1" } });

    const entity = await call<{ state: Record<string, unknown>; events: { count: number; lastSeq: number } }>(server.url, written.key, "GET", "/v1/entities/lead/L-old");
    expect(entity.body.state).toMatchObject({ id: "L-old", email: "old@example.com", status: "lost" });
    expect(entity.body.events).toMatchObject({ count: 4, lastSeq: 4 });
    const created = await call<{ state: Record<string, unknown>; events: { count: number } }>(server.url, written.key, "GET", "/v1/entities/lead/L-fresh");
    expect(created.status).toBe(200);
    expect(created.body.state).toMatchObject({ id: "L-fresh", email: "fresh@example.com" });
    // Each id is still known, and the next event takes the next seq.
    const again = await call<{ status: string; seq: number }>(server.url, written.key, "POST", "/v1/events", { id: "evt_new_2", type: "lead.updated", data: { id: "L-old", status: "lost" } });
    expect(again.body).toMatchObject({ status: "duplicate", seq: 4 });
    const next = await call<{ seq: number }>(server.url, written.key, "POST", "/v1/events", { id: "evt_fresh_2", type: "lead.updated", data: { id: "L-fresh", plan: "pro" } });
    expect(next.body.seq).toBe(2);
    // The D1 mirror 0.4 wrote went through migration 0003 (WITHOUT ROWID) and goes on mirroring.
    await waitFor(() => d1LeadStatus(server.persistDir, "legacy", "L-old") === "lost", "L-old's mirror row to say lost", 30_000, 200);
    expect(d1TableSql(server.persistDir, "leads")).toMatch(/WITHOUT ROWID/);
  });
});
