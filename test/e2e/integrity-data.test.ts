// Data integrity over real HTTP, each a defect a hostile-tenant audit of 0.5.0 found: a refused
// repeat that overwrote a stored event's data in R2; objects left behind by events that never
// reached a log; erasure that left a D1 row or an entity's data; an export too large to answer.
// What no endpoint shows (objects in R2, rows in D1, bytes in an actor's storage) is read from the
// server's state directory.
import { describe, expect, it } from "vitest";
import type { EntityExport } from "../../src/types.ts";
import { ADMIN, call, d1RowsOfEntity, newTenant } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";
import { actorFilesContain, r2Keys } from "./local-files.ts";

const KEY = "dev_demo_key";
const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "2000", RETRY_BASE_MS: "50", RETRY_MAX_DELAY_MS: "500" });
const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, key = KEY) => call<T>(local.server.url, key, method, path, body);
/** The demo tenant's objects of one lead in R2 (src/payloads.ts keys them under the entity). */
const objectsOf = (leadId: string, space = "demo") => r2Keys(local.server.persistDir, `payloads/${space}/lead/${leadId}/`);
const big = (fill: string) => fill.repeat(40 * 1024);

describe("a refused event changes nothing", () => {
  it("keeps a stored large event whole when its id comes again with other content (409), and goes on delivering", async () => {
    const first = { id: "evt-big-A", type: "lead.updated", data: { id: "INT-1", notes: big("a") } };
    expect((await api("POST", "/v1/events", first)).status).toBe(202);
    expect(objectsOf("INT-1")).toHaveLength(1);
    // The same id with other content, large and small: 409, and no object of theirs stays.
    for (const notes of [big("b"), "small"]) {
      const refused = await api<{ error: { code: string } }>("POST", "/v1/events", { ...first, data: { id: "INT-1", notes } });
      expect([refused.status, refused.body.error.code]).toEqual([409, "id_conflict"]);
    }
    expect(objectsOf("INT-1")).toHaveLength(1);
    // A repeat of the same content is a duplicate, and its object is the stored one.
    expect((await api("POST", "/v1/events", first)).status).toBe(200);
    expect(objectsOf("INT-1")).toHaveLength(1);

    // Every reader still gets the first content (0.5.0 answered 503 here for good).
    const entity = await api<{ state: { notes: string } }>("GET", "/v1/entities/lead/INT-1");
    expect(entity.status).toBe(200);
    expect(entity.body.state.notes).toBe(big("a"));
    const events = await api<{ events: Array<{ data: { notes: string } }> }>("GET", "/v1/entities/lead/INT-1/events");
    expect(events.body.events[0]!.data.notes).toBe(big("a"));
    expect((await api("GET", "/v1/entities/lead/INT-1/export")).status).toBe(200);
    // And later events are delivered.
    expect((await api("POST", "/v1/events", { id: "evt-big-B", type: "lead.updated", data: { id: "INT-1", status: "qualified" } })).status).toBe(202);
    await waitFor(() => local.receiver.calls.some((c) => c.path === "/slack" && c.headers["edgeflow-event-id"] === "evt-big-B"), "the next event's Slack call", 30_000, 100);
  });

  it("leaves no object for a 410 to an erased entity or a cancelled scheduled event", async () => {
    expect((await api("POST", "/v1/events", { id: "evt-gone-1", type: "lead.updated", data: { id: "INT-2", status: "open" } })).status).toBe(202);
    await waitFor(async () => (await api("GET", "/v1/entities/lead/INT-2")).status === 200, "the entity");
    expect((await api("DELETE", "/v1/entities/lead/INT-2")).status).toBe(204);
    const gone = await api<{ error: { code: string } }>("POST", "/v1/events", { id: "evt-gone-2", type: "lead.updated", data: { id: "INT-2", notes: big("c") } });
    expect([gone.status, gone.body.error.code]).toEqual([410, "entity_erased"]);
    expect(objectsOf("INT-2")).toEqual([]);

    const later = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await api<{ status: string }>("POST", "/v1/events", { id: "evt-later-1", type: "lead.updated", deliverAt: later, data: { id: "INT-3", notes: big("d") } });
    expect(scheduled.body.status).toBe("scheduled");
    expect(objectsOf("INT-3")).toHaveLength(1);
    expect((await api("DELETE", "/v1/entities/lead/INT-3/scheduled/evt-later-1")).status).toBe(204);
    expect(objectsOf("INT-3")).toEqual([]);
  });
});

describe("erasure leaves nothing", () => {
  it("deletes the entity's D1 mirror row even when retention has compacted every event that wrote it", async () => {
    // Keep one event: the follow-up (a type no mirror table takes, 2 s after lead.created) ends
    // the log, so after the compaction no event left names the `leads` table (0.5.0 chose the
    // tables from those). 64 events before it are one short of a compaction batch (64 past the
    // window); the follow-up makes it.
    expect((await api("PATCH", "/v1/settings", { retention: { eventsPerEntity: 1 } })).status).toBe(200);
    const lead = "INT-4";
    expect((await api("POST", "/v1/events", { id: "evt-int4-0", type: "lead.created", data: { id: lead, email: "int4@example.com", name: "Four" } })).status).toBe(202);
    const updates = Array.from({ length: 63 }, (_, i) => ({ id: `evt-int4-${i + 1}`, type: "lead.updated", data: { id: lead, step: i } }));
    expect((await api("POST", "/v1/events/batch", { events: updates })).status).toBe(207);
    await waitFor(() => d1RowsOfEntity(local.server.persistDir, "demo", { type: "lead", id: lead }, "leads") > 0, "the D1 mirror row", 30_000, 200);
    const compacted = async () => (await api<{ events: { count: number; compacted: number } }>("GET", `/v1/entities/lead/${lead}`)).body.events;
    await waitFor(async () => (await compacted()).compacted >= 64, "the compaction", 60_000, 200);
    const left = await api<{ events: Array<{ type: string }> }>("GET", `/v1/entities/lead/${lead}/events`);
    expect(left.body.events.map((e) => e.type)).toEqual(["lead.follow_up_due"]);
    expect((await api("PATCH", "/v1/settings", { retention: { eventsPerEntity: null } })).status).toBe(200);

    expect((await api("DELETE", `/v1/entities/lead/${lead}`)).status).toBe(204);
    await waitFor(() => d1RowsOfEntity(local.server.persistDir, "demo", { type: "lead", id: lead }, "leads") === 0, "the D1 row gone", 30_000, 200);
  });

  it("offboards an entity that holds only a scheduled event: its data, its actor's storage and its objects go", async () => {
    const tenantKey = await newTenant(local.server.url, "int-offboard");
    const pii = `pii-${crypto.randomUUID()}`;
    const deliverAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const posted = await api<{ status: string }>("POST", "/v1/events", { id: "evt-sched-only", type: "lead.updated", deliverAt, data: { id: "INT-5", email: `${pii}@example.com`, notes: big("e") } }, tenantKey);
    expect(posted.body.status).toBe("scheduled");
    const admin = (method: string, path: string) => api<{ entities?: number; status?: string }>(method, path, undefined, ADMIN);
    // It belongs to its tenant from its first accepted event (0.5.0 listed it at its first alarm, 30 days on).
    await waitFor(async () => (await admin("GET", "/v1/admin/tenants/int-offboard")).body.entities === 1, "the entity in the tenant's list", 30_000, 200);
    expect(actorFilesContain(local.server.persistDir, "EntityActor", pii)).toBe(true);
    expect(r2Keys(local.server.persistDir, "payloads/int-offboard").length).toBe(1);

    expect((await admin("DELETE", "/v1/admin/tenants/int-offboard")).status).toBe(202);
    await waitFor(async () => (await admin("GET", "/v1/admin/tenants/int-offboard")).status === 404, "the tenant erased", 60_000, 200);
    expect(r2Keys(local.server.persistDir, "payloads/int-offboard")).toEqual([]);
    await waitFor(() => !actorFilesContain(local.server.persistDir, "EntityActor", pii), "the entity's data gone from its actor's storage", 30_000, 200);
  });
});

describe("export of an entity of any size", () => {
  it("streams a log past the 32 MiB one RPC answer may carry", async () => {
    const lead = "INT-6";
    // 34 events of 1,000,000 bytes of data each: 34 MB, more than one answer between a Worker and an actor may hold.
    for (let i = 0; i < 34; i++) {
      const posted = await api("POST", "/v1/events", { id: `evt-int6-${i}`, type: "lead.updated", data: { id: lead, [`part${i}`]: String(i % 10).repeat(999_900) } });
      expect(posted.status).toBe(202);
    }
    const response = await fetch(`${local.server.url}/v1/entities/lead/${lead}/export`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.length).toBeGreaterThan(34_000_000);
    const document = JSON.parse(text) as EntityExport;
    expect(document.events.map((e) => e.id)).toEqual(Array.from({ length: 34 }, (_, i) => `evt-int6-${i}`));
    expect((document.events[33]!.data as Record<string, string>).part33).toHaveLength(999_900);
    expect(Date.parse(document.exportedAt)).toBeGreaterThan(0);
  }, 180_000);
});
