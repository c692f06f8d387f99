// Replay and backfill over real HTTP against a real server and receiver: one entity's history
// re-delivered to one handler from a seq, in order, under the original idempotency keys and with
// `Edgeflow-Replay: true`; a backfill across the tenant with its progress; a new endpoint that asks
// for history gets each entity's whole log in order (first deliveries, not replays); the CLI follows
// a backfill to the end.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ReceivedCall } from "../../scripts/receiver.ts";
import { call } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000" });

interface Backfill {
  id: string;
  handler: string;
  status: string;
  entities: { done: number; total: number };
  events: number;
}

const update = (leadId: string, eventId: string) => ({ id: eventId, type: "lead.updated", data: { id: leadId, step: eventId } });
const post = async (body: unknown) => expect((await call(local.server.url, KEY, "POST", "/v1/events", body)).status).toBe(202);
async function postBatch(events: unknown[]): Promise<void> {
  const answer = await call<{ results: Array<{ status: string }> }>(local.server.url, KEY, "POST", "/v1/events/batch", { events });
  expect(answer.body.results.map((r) => r.status)).toEqual(events.map(() => "accepted"));
}

const callsOf = (handler: string, entity?: string): ReceivedCall[] =>
  local.receiver.calls.filter((c) => c.headers["edgeflow-handler"] === handler && c.status < 300 && (entity === undefined || c.headers["edgeflow-entity"] === entity));
const seqs = (calls: ReceivedCall[]) => calls.map((c) => Number(c.headers["edgeflow-seq"]));

/** Every lead's Slack delivery has reached the receiver (each event once, first time). */
async function delivered(handler: string, entity: string, count: number): Promise<void> {
  await waitFor(() => callsOf(handler, entity).length >= count, () => `${count} ${handler} calls for ${entity}, saw ${callsOf(handler, entity).length}`);
}

async function finished(id: string): Promise<Backfill> {
  let last: Backfill | undefined;
  await waitFor(async () => {
    last = (await call<Backfill>(local.server.url, KEY, "GET", `/v1/backfills/${id}`)).body;
    return last.status === "done";
  }, () => `backfill ${id} to finish (${JSON.stringify(last)})`, 60_000, 200);
  return last!;
}

describe("replaying one entity", () => {
  it("re-delivers from fromSeq to one handler, in order, with the original keys and Edgeflow-Replay", async () => {
    for (const id of ["r1-a", "r1-b", "r1-c"]) await post(update("R-1", id));
    await delivered("slack", "lead/R-1", 3);
    const first = callsOf("slack", "lead/R-1");
    expect(first.every((c) => c.headers["edgeflow-replay"] === undefined)).toBe(true);

    const answer = await call<{ replayed: number }>(local.server.url, KEY, "POST", "/v1/entities/lead/R-1/replay", { handler: "slack", fromSeq: 2 });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ replayed: 2 });
    await waitFor(() => callsOf("slack", "lead/R-1").filter((c) => c.headers["edgeflow-replay"] === "true").length === 2, "the two replayed calls");
    const replayed = callsOf("slack", "lead/R-1").filter((c) => c.headers["edgeflow-replay"] === "true");
    expect(seqs(replayed)).toEqual([2, 3]);
    const keyOf = (calls: ReceivedCall[], seq: number) => calls.find((c) => Number(c.headers["edgeflow-seq"]) === seq)?.headers["idempotency-key"];
    for (const seq of [2, 3]) expect(keyOf(replayed, seq)).toBe(keyOf(first, seq));
    // Other handlers are not replayed.
    expect(callsOf("crm", "lead/R-1").filter((c) => c.headers["edgeflow-replay"] === "true")).toEqual([]);

    // A new event after the replay is delivered as news, after it.
    await post(update("R-1", "r1-d"));
    await delivered("slack", "lead/R-1", 6);
    const last = callsOf("slack", "lead/R-1").at(-1)!;
    expect([Number(last.headers["edgeflow-seq"]), last.headers["edgeflow-replay"]]).toEqual([4, undefined]);
  });

  it("answers 404 for an unknown entity or handler and 400 for a bad body, replaying nothing", async () => {
    await post(update("R-2", "r2-a"));
    await delivered("slack", "lead/R-2", 1);
    const missing = await call<{ error: { code: string } }>(local.server.url, KEY, "POST", "/v1/entities/lead/nobody/replay", { handler: "slack" });
    expect([missing.status, missing.body.error.code]).toEqual([404, "not_found"]);
    const unknown = await call<{ error: { code: string } }>(local.server.url, KEY, "POST", "/v1/entities/lead/R-2/replay", { handler: "fax" });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "not_found"]);
    const bad = await call<{ error: { code: string } }>(local.server.url, KEY, "POST", "/v1/entities/lead/R-2/replay", { handler: "slack", fromSeq: 0 });
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_request"]);
    const none = await call<{ error: { code: string } }>(local.server.url, KEY, "POST", "/v1/entities/lead/R-2/replay", {});
    expect(none.status).toBe(400);
    expect(callsOf("slack", "lead/R-2")).toHaveLength(1);
  });
});

describe("backfills", () => {
  it("re-delivers one handler's matching events across every entity, with progress, each entity in order", async () => {
    const leads = Array.from({ length: 40 }, (_, i) => `B-${String(i).padStart(2, "0")}`);
    await postBatch(leads.flatMap((lead) => [update(lead, `${lead}-1`), update(lead, `${lead}-2`)]));
    for (const lead of leads) await delivered("slack", `lead/${lead}`, 2);
    // Every entity is in the tenant's list once its first alarm has run (the list is what a backfill walks).
    const before = local.receiver.calls.length;

    const started = await call<Backfill>(local.server.url, KEY, "POST", "/v1/backfills", { handler: "slack", eventTypes: ["lead.updated"] });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ handler: "slack", status: "running" });
    const done = await finished(started.body.id);
    expect(done.entities.done).toBe(done.entities.total);
    expect(done.entities.total).toBeGreaterThanOrEqual(leads.length);
    expect(done.events).toBeGreaterThanOrEqual(leads.length * 2);

    for (const lead of leads) {
      await waitFor(() => callsOf("slack", `lead/${lead}`).filter((c) => c.headers["edgeflow-replay"] === "true").length === 2, `${lead}'s replays`);
      expect(seqs(callsOf("slack", `lead/${lead}`).filter((c) => c.headers["edgeflow-replay"] === "true"))).toEqual([1, 2]);
    }
    // Only Slack, only replays: no other handler was called again.
    const since = local.receiver.calls.slice(before).filter((c) => c.headers["edgeflow-replay"] === "true");
    expect(new Set(since.map((c) => c.headers["edgeflow-handler"]))).toEqual(new Set(["slack"]));

    const listed = await call<{ backfills: Backfill[] }>(local.server.url, KEY, "GET", "/v1/backfills");
    expect(listed.body.backfills.map((b) => b.id)).toContain(started.body.id);
    expect((await call(local.server.url, KEY, "GET", "/v1/backfills/bf_nothing")).status).toBe(404);
    const unknown = await call<{ error: { code: string } }>(local.server.url, KEY, "POST", "/v1/backfills", { handler: "fax" });
    expect(unknown.status).toBe(404);
    const badTime = await call<{ error: { issues: Array<{ path: string }> } }>(local.server.url, KEY, "POST", "/v1/backfills", { handler: "slack", since: "yesterday" });
    expect([badTime.status, badTime.body.error.issues[0]?.path]).toEqual([400, "since"]);
  });

  it("gives a new endpoint that asks for history each entity's whole log, in order, as first deliveries", async () => {
    const leads = ["H-1", "H-2", "H-3"];
    await postBatch(leads.flatMap((lead) => [update(lead, `${lead}-1`), update(lead, `${lead}-2`), update(lead, `${lead}-3`)]));
    for (const lead of leads) await delivered("slack", `lead/${lead}`, 3);
    const plain = await call<{ id: string }>(local.server.url, KEY, "POST", "/v1/endpoints", { url: `${local.receiver.url}/hooks/plain` });
    const created = await call<{ id: string; backfill: boolean; backfillId: string }>(local.server.url, KEY, "POST", "/v1/endpoints", {
      url: `${local.receiver.url}/hooks/history`,
      eventTypes: ["lead.updated"],
      backfill: true,
    });
    expect(created.status).toBe(201);
    expect(created.body.backfill).toBe(true);
    const done = await finished(created.body.backfillId);
    expect(done.handler).toBe(`endpoint:${created.body.id}`);
    const handler = `endpoint:${created.body.id}`;
    for (const lead of leads) {
      await delivered(handler, `lead/${lead}`, 3);
      const calls = callsOf(handler, `lead/${lead}`);
      expect(seqs(calls)).toEqual([1, 2, 3]);
      expect(calls.every((c) => c.path === "/hooks/history" && c.headers["edgeflow-replay"] === undefined)).toBe(true);
    }
    // The endpoint that did not ask takes only what arrives after it was created.
    await post(update("H-1", "H-1-4"));
    await delivered(`endpoint:${plain.body.id}`, "lead/H-1", 1);
    expect(seqs(callsOf(`endpoint:${plain.body.id}`, "lead/H-1"))).toEqual([4]);
    await delivered(handler, "lead/H-1", 4);
    expect(seqs(callsOf(handler, "lead/H-1"))).toEqual([1, 2, 3, 4]);
  });

  it("is followed to the end by the CLI", async () => {
    const text = await new Promise<string>((resolve) => {
      const child = spawn("npx", ["edgeflow", "backfills", "start", "--handler", "crm", "--types", "lead.updated", "--wait", "--json"], {
        cwd: join(import.meta.dirname, "../.."),
        env: { ...process.env, EDGEFLOW_URL: local.server.url, EDGEFLOW_API_KEY: KEY, NO_COLOR: "1" },
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("close", () => resolve(out));
    });
    const answer = JSON.parse(text) as Backfill;
    expect(answer).toMatchObject({ handler: "crm", status: "done" });
    expect(answer.entities.done).toBe(answer.entities.total);
    expect(answer.events).toBeGreaterThan(0);
  });
});
