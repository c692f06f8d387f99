// Large payloads over real HTTP: a 900 KB event is accepted (MAX_BODY_BYTES is 1 MiB), its data
// is kept in the local R2 bucket by reference, and every reader gets it whole: the endpoint and
// the CRM (through the queue, by reference), the entity's state, its events and its export.
// Erasure deletes the object. A client cannot forge a reference.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { call } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000", USAGE_ENDPOINT: "1" });
const api = <T>(method: string, path: string, body?: unknown) => call<T>(local.server.url, KEY, method, path, body);
const usage = async () => (await (await fetch(`${local.server.url}/_usage`)).json()) as Record<string, number>;

/** Objects in the server's local R2 bucket (wrangler keeps their index in SQLite under v3/r2). */
function r2Objects(): number {
  const dir = join(local.server.persistDir, "v3", "r2", "miniflare-R2BucketObject");
  if (!existsSync(dir)) return 0;
  let count = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sqlite"))) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      if (db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_mf_objects'`).get()) {
        count += Number((db.prepare(`SELECT COUNT(*) AS n FROM _mf_objects`).get() as { n: number }).n);
      }
    } finally {
      db.close();
    }
  }
  return count;
}

describe("large payloads", () => {
  it("takes a 900 KB event, keeps its data in R2 by reference, and gives it whole to every reader", async () => {
    const endpoint = await api<{ id: string }>("POST", "/v1/endpoints", { url: `${local.receiver.url}/big-hook`, eventTypes: ["lead.updated"] });
    expect(endpoint.status).toBe(201);
    await usage();
    const notes = "n".repeat(900_000);
    const event = { id: "big-1", type: "lead.updated", data: { id: "BIG-1", notes, stage: "qualified" } };
    const posted = await api<{ status: string; seq: number }>("POST", "/v1/events", event);
    expect(posted.status).toBe(202);
    expect(r2Objects()).toBe(1);

    // The endpoint gets the whole data, signed as ever.
    const hook = () => local.receiver.calls.find((c) => c.path === "/big-hook" && c.body.includes('"big-1"'));
    await waitFor(() => hook() !== undefined, "the endpoint's call", 30_000, 100);
    const delivered = JSON.parse(hook()!.body) as { data: { seq: number; data: { notes: string; stage: string } } };
    expect(delivered.data.data.notes).toHaveLength(900_000);
    expect(delivered.data.seq).toBe(1);
    // The CRM is queued: the message carries a reference to the work, and the call the whole state.
    const crm = () => local.receiver.calls.find((c) => c.path === "/crm/contacts/BIG-1");
    await waitFor(() => crm() !== undefined, "the CRM's call", 30_000, 100);
    expect((JSON.parse(crm()!.body) as { notes: string }).notes).toHaveLength(900_000);

    const entity = await api<{ state: { notes: string; stage: string }; storageBytes: number }>("GET", "/v1/entities/lead/BIG-1");
    expect(entity.body.state.notes).toHaveLength(900_000);
    expect(entity.body.state.stage).toBe("qualified");
    // By reference: the entity's own storage holds none of the 900 KB.
    expect(entity.body.storageBytes).toBeLessThan(100_000);
    const events = await api<{ events: Array<{ data: { notes: string } }> }>("GET", "/v1/entities/lead/BIG-1/events");
    expect(events.body.events[0]!.data.notes).toHaveLength(900_000);
    const exported = await api<{ events: Array<{ data: { notes: string } }>; state: { notes: string } }>("GET", "/v1/entities/lead/BIG-1/export");
    expect(exported.body.events[0]!.data.notes).toHaveLength(900_000);
    expect(exported.body.state.notes).toHaveLength(900_000);

    // A small update leaves the large value where it is; the state still reads it whole.
    expect((await api("POST", "/v1/events", { id: "big-2", type: "lead.updated", data: { id: "BIG-1", stage: "won" } })).status).toBe(202);
    const after = await api<{ state: { notes: string; stage: string } }>("GET", "/v1/entities/lead/BIG-1");
    expect(after.body.state).toMatchObject({ stage: "won" });
    expect(after.body.state.notes).toHaveLength(900_000);

    const used = await usage();
    expect(used.r2ClassA).toBe(1);
    expect(used.r2ClassB).toBeGreaterThan(0);
    // Every queue message is one billed operation (under 64 KB), however large the data.
    expect(used.queueWrites).toBeGreaterThan(0);
    expect(used.queueWrites).toBeLessThanOrEqual(4);

    // Erasure deletes the object with the entity.
    expect((await api("DELETE", "/v1/entities/lead/BIG-1")).status).toBe(204);
    await waitFor(() => r2Objects() === 0, () => `the object to be deleted (${r2Objects()} left)`, 15_000, 100);
    expect((await api("DELETE", `/v1/endpoints/${endpoint.body.id}`)).status).toBe(204);
  }, 120_000);

  it("refuses a body over MAX_BODY_BYTES (1 MiB) and data that forges a reference, storing nothing", async () => {
    const tooBig = await api<{ error: { code: string } }>("POST", "/v1/events", { type: "lead.updated", data: { id: "BIG-2", notes: "n".repeat(1_100_000) } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("payload_too_large");
    const forged = await api<{ error: { code: string; issues: Array<{ path: string }> } }>("POST", "/v1/events", {
      type: "lead.updated",
      data: { id: "BIG-3", stolen: { $edgeflowPayload: { key: "payloads/other/lead/X/evt", sha256: "0".repeat(64), bytes: 1 } } },
    });
    expect(forged.status).toBe(400);
    expect(forged.body.error.issues.map((i) => i.path)).toEqual(["data.stolen"]);
    expect((await api("GET", "/v1/entities/lead/BIG-3")).status).toBe(404);
    expect((await api("GET", "/v1/entities/lead/BIG-2")).status).toBe(404);
  });
});
