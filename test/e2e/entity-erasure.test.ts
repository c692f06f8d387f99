// One entity's lifecycle end: export everything it holds, then erase it for good, over real HTTP
// against a real server and receiver, with the D1 mirror read from the local database files.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { EntityExport } from "../../src/types.ts";
import { call, d1RowsOfEntity } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
const local = serverWithReceiver({ RETRY_MAX_ATTEMPTS: "2", RETRY_BASE_MS: "50", RETRY_MAX_DELAY_MS: "200" });

const lead = (id: string, eventId: string, type = "lead.created") => ({ id: eventId, type, data: { id, email: `${id.toLowerCase()}@example.com`, name: id } });

function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", ["edgeflow", ...args], { cwd: join(import.meta.dirname, "../.."), env: { ...process.env, EDGEFLOW_URL: local.server.url, EDGEFLOW_API_KEY: KEY, NO_COLOR: "1" } });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

describe("export and erasure of one entity", () => {
  it("exports state, every event with its deliveries, dead letters and scheduled events as one document", async () => {
    local.receiver.script("/lead/X-1/x1-created:crm", [{ status: 422, body: "no such pipeline" }]);
    expect((await call(local.server.url, KEY, "POST", "/v1/events", lead("X-1", "x1-created"))).status).toBe(202);
    expect((await call(local.server.url, KEY, "POST", "/v1/events", { ...lead("X-1", "x1-updated", "lead.updated"), data: { id: "X-1", status: "qualified" } })).status).toBe(202);
    const settled = async () => {
      const doc = (await call<EntityExport>(local.server.url, KEY, "GET", "/v1/entities/lead/X-1/export")).body;
      return doc.events.every((e) => e.deliveries.every((d) => d.status !== "pending" && d.status !== "in_flight")) && doc.deadLetters.length === 1 ? doc : null;
    };
    await waitFor(async () => (await settled()) !== null, "the deliveries to settle", 60_000, 200);
    const doc = (await settled())!;
    expect(doc.entity).toEqual({ type: "lead", id: "X-1" });
    expect(doc.state).toMatchObject({ id: "X-1", name: "X-1", status: "qualified" });
    expect(doc.events.map((e) => [e.seq, e.id, e.type])).toEqual([
      [1, "x1-created", "lead.created"],
      [2, "x1-updated", "lead.updated"],
    ]);
    expect(doc.events[0]!.deliveries.find((d) => d.handler === "crm")).toMatchObject({ status: "dead" });
    expect(doc.deadLetters).toEqual([expect.objectContaining({ id: "lead/X-1/1:crm", eventId: "x1-created", handler: "crm", lastError: "HTTP 422: no such pipeline" })]);
    // The follow-up the lead schedules for itself.
    expect(doc.scheduled).toEqual([expect.objectContaining({ id: "edgeflow:x1-created:follow-up", type: "lead.follow_up_due" })]);
    expect(Date.parse(doc.exportedAt)).toBeGreaterThan(0);
    // The CLI prints the same document.
    const exported = await cli(["export", "lead", "X-1"]);
    expect(exported.code).toBe(0);
    expect((JSON.parse(exported.stdout) as EntityExport).events).toHaveLength(2);
  });

  it("erases it for good: storage, D1 rows and dead letters go; it answers 410 and takes no event again", async () => {
    expect((await call(local.server.url, KEY, "POST", "/v1/events", lead("X-2", "x2-created"))).status).toBe(202);
    await waitFor(() => d1RowsOfEntity(local.server.persistDir, "demo", { type: "lead", id: "X-1" }, "leads") > 0, "the D1 mirror of X-1", 30_000, 200);
    const dead = () => call<{ deadLetters: Array<{ id: string }> }>(local.server.url, KEY, "GET", "/v1/dead-letters").then((r) => r.body.deadLetters.map((d) => d.id));
    await waitFor(async () => (await dead()).includes("lead/X-1/1:crm"), "the dead letter in the tenant's index");

    expect((await cli(["erase", "lead", "X-1"])).code).not.toBe(0);
    expect((await call(local.server.url, KEY, "DELETE", "/v1/entities/lead/X-1")).status).toBe(204);
    const gone = await call<{ error: { code: string } }>(local.server.url, KEY, "GET", "/v1/entities/lead/X-1");
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe("gone");
    for (const path of ["/v1/entities/lead/X-1/events", "/v1/entities/lead/X-1/export"]) expect((await call(local.server.url, KEY, "GET", path)).status).toBe(410);
    // A late retry of an old event, and a new one, are refused: nothing brings it back.
    for (const event of [lead("X-1", "x1-created"), { ...lead("X-1", "x1-late", "lead.updated"), data: { id: "X-1", status: "won" } }]) {
      const refused = await call<{ error: { code: string } }>(local.server.url, KEY, "POST", "/v1/events", event);
      expect(refused.status).toBe(410);
      expect(refused.body.error.code).toBe("entity_erased");
    }
    const batch = await call<{ results: Array<{ error?: { code: string } }> }>(local.server.url, KEY, "POST", "/v1/events/batch", { events: [lead("X-1", "x1-batch", "lead.updated")] });
    expect(batch.body.results[0]!.error?.code).toBe("entity_erased");
    expect((await call(local.server.url, KEY, "DELETE", "/v1/entities/lead/X-1")).status).toBe(410);
    expect((await call(local.server.url, KEY, "DELETE", "/v1/entities/lead/never")).status).toBe(404);

    await waitFor(async () => !(await dead()).includes("lead/X-1/1:crm"), "the dead letter to leave the index");
    await waitFor(() => d1RowsOfEntity(local.server.persistDir, "demo", { type: "lead", id: "X-1" }, "leads") === 0, "the D1 rows to go");
    // The other lead is untouched; the CLI erases it too, when told so.
    expect((await call(local.server.url, KEY, "GET", "/v1/entities/lead/X-2")).status).toBe(200);
    expect((await cli(["erase", "lead", "X-2", "--yes"])).code).toBe(0);
    expect((await call(local.server.url, KEY, "GET", "/v1/entities/lead/X-2")).status).toBe(410);
  });
});
