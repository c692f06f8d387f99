// An entity's lifecycle over real HTTP against a real server and receiver: scheduled events
// (appended at deliverAt, not before; listed; cancelled), and pause, resume and cancel, per entity
// and for every entity of the tenant: held deliveries show `paused` while events are still stored,
// nothing held is delivered, a resume drains in seq order, a cancel ends them skipped with the reason.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ReceivedCall } from "../../scripts/receiver.ts";
import { call } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000" });

interface Delivery {
  handler: string;
  status: string;
  lastError: string | null;
}

const update = (leadId: string, eventId: string) => ({ id: eventId, type: "lead.updated", data: { id: leadId, step: eventId } });
const post = async (body: unknown) => expect((await call(local.server.url, KEY, "POST", "/v1/events", body)).status).toBe(202);

async function slackOf(leadId: string, eventId: string): Promise<Delivery | undefined> {
  const page = await call<{ events: Array<{ id: string; deliveries: Delivery[] }> }>(local.server.url, KEY, "GET", `/v1/entities/lead/${leadId}/events`);
  return page.body.events?.find((e) => e.id === eventId)?.deliveries.find((d) => d.handler === "slack");
}

const slackCalls = (eventIds: string[]): ReceivedCall[] =>
  local.receiver.calls.filter((c) => c.headers["edgeflow-handler"] === "slack" && eventIds.includes(c.headers["edgeflow-event-id"] ?? "") && c.status < 300);

async function settledSlack(leadId: string, eventId: string): Promise<void> {
  await waitFor(async () => (await slackOf(leadId, eventId))?.status === "succeeded", `${eventId}'s Slack delivery`);
}

function cli(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("npx", ["edgeflow", ...args], { cwd: join(import.meta.dirname, "../.."), env: { ...process.env, EDGEFLOW_URL: local.server.url, EDGEFLOW_API_KEY: KEY, NO_COLOR: "1" } });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.on("close", () => resolve(text));
  });
}

describe("pausing an entity", () => {
  it("holds its deliveries while events are stored, and drains them in seq order on resume", async () => {
    await post(update("P-1", "p1-a"));
    await settledSlack("P-1", "p1-a");
    const paused = await call<{ paused: string[] }>(local.server.url, KEY, "POST", "/v1/entities/lead/P-1/pause", {});
    expect(paused.status).toBe(200);
    expect(paused.body.paused).toEqual(expect.arrayContaining(["slack", "crm"]));

    const held = ["p1-b", "p1-c", "p1-d"];
    for (const id of held) await post(update("P-1", id));
    for (const id of held) await waitFor(async () => (await slackOf("P-1", id))?.status === "paused", `${id} held`);
    // Stored and merged all the same.
    const entity = await call<{ state: { step: string }; events: { count: number } }>(local.server.url, KEY, "GET", "/v1/entities/lead/P-1");
    expect(entity.body).toMatchObject({ state: { step: "p1-d" }, events: { count: 4 } });
    expect(slackCalls(held)).toEqual([]);

    const resumed = await call<{ paused: string[] }>(local.server.url, KEY, "POST", "/v1/entities/lead/P-1/resume");
    expect(resumed.body).toEqual({ paused: [] });
    await waitFor(() => slackCalls(held).length === 3, "the held deliveries");
    expect(slackCalls(held).map((c) => Number(c.headers["edgeflow-seq"]))).toEqual([2, 3, 4]);
  });

  it("pauses one handler while the others go on, and cancels what it holds with the reason", async () => {
    await post(update("P-2", "p2-a"));
    await settledSlack("P-2", "p2-a");
    expect((await call(local.server.url, KEY, "POST", "/v1/entities/lead/P-2/pause", { handler: "slack" })).body).toEqual({ paused: ["slack"] });
    await post(update("P-2", "p2-b"));
    await post(update("P-2", "p2-c"));
    await waitFor(async () => (await slackOf("P-2", "p2-c"))?.status === "paused", "p2-c held");
    // The CRM is not paused: it gets the newest state.
    await waitFor(() => local.receiver.calls.some((c) => c.headers["edgeflow-handler"] === "crm" && c.headers["edgeflow-event-id"] === "p2-c"), "the CRM call");

    const cancelled = await call<{ cancelled: number }>(local.server.url, KEY, "POST", "/v1/entities/lead/P-2/cancel", { handler: "slack", reason: "campaign over" });
    expect(cancelled.body).toEqual({ cancelled: 2 });
    expect(await slackOf("P-2", "p2-b")).toMatchObject({ status: "skipped", lastError: "cancelled: campaign over" });
    expect(await cli(["resume", "lead", "P-2", "--handler", "slack"])).toContain("nothing paused");
    await post(update("P-2", "p2-d"));
    await settledSlack("P-2", "p2-d");
    expect(slackCalls(["p2-b", "p2-c"])).toEqual([]);
  });

  it("answers 404 for an entity with no event and a handler that does not exist", async () => {
    expect((await call(local.server.url, KEY, "POST", "/v1/entities/lead/nobody/pause", {})).status).toBe(404);
    expect((await call(local.server.url, KEY, "POST", "/v1/entities/lead/P-1/pause", { handler: "pager" })).status).toBe(404);
    expect((await call(local.server.url, KEY, "POST", "/v1/handlers/pager/pause")).status).toBe(404);
  });
});

describe("pausing a handler for every entity", () => {
  it("holds it on every entity, lists it as paused, and wakes every entity on resume", async () => {
    for (const lead of ["T-1", "T-2"]) {
      await post(update(lead, `${lead}-a`));
      await settledSlack(lead, `${lead}-a`);
    }
    expect((await call(local.server.url, KEY, "POST", "/v1/handlers/slack/pause")).body).toEqual({ handler: "slack", paused: true });
    const listed = await call<{ handlers: Array<{ name: string; paused: boolean }> }>(local.server.url, KEY, "GET", "/v1/handlers");
    expect(listed.body.handlers).toContainEqual({ name: "slack", paused: true });
    expect(listed.body.handlers).toContainEqual({ name: "crm", paused: false });

    for (const lead of ["T-1", "T-2"]) await post(update(lead, `${lead}-b`));
    for (const lead of ["T-1", "T-2"]) await waitFor(async () => (await slackOf(lead, `${lead}-b`))?.status === "paused", `${lead}-b held`);
    expect(slackCalls(["T-1-b", "T-2-b"])).toEqual([]);

    expect(await cli(["handlers", "resume", "slack"])).toContain("resumed for every entity");
    await waitFor(() => slackCalls(["T-1-b", "T-2-b"]).length === 2, "both entities' held Slack deliveries");
  });
});

describe("scheduled events", () => {
  it("appends an event at deliverAt and not before; repeats are duplicates, other content under its id a conflict", async () => {
    const deliverAt = Date.now() + 3_000;
    const event = { ...update("S-1", "s1-later"), deliverAt: new Date(deliverAt).toISOString() };
    const scheduled = await call<{ status: string; deliverAt: string }>(local.server.url, KEY, "POST", "/v1/events", event);
    expect(scheduled).toEqual({ status: 202, body: { id: "s1-later", entity: { type: "lead", id: "S-1" }, status: "scheduled", deliverAt: new Date(deliverAt).toISOString() } });
    expect((await call(local.server.url, KEY, "POST", "/v1/events", event)).body).toMatchObject({ status: "duplicate" });
    expect((await call(local.server.url, KEY, "POST", "/v1/events", { ...event, data: { id: "S-1", step: "other" } })).status).toBe(409);
    const listed = await call<{ scheduled: Array<{ id: string; deliverAt: string }> }>(local.server.url, KEY, "GET", "/v1/entities/lead/S-1/scheduled");
    expect(listed.body.scheduled).toEqual([{ id: "s1-later", type: "lead.updated", deliverAt: new Date(deliverAt).toISOString() }]);
    expect((await call<{ events: { count: number } }>(local.server.url, KEY, "GET", "/v1/entities/lead/S-1")).body.events.count).toBe(0);

    await waitFor(() => slackCalls(["s1-later"]).length === 1, "the scheduled event's Slack call", 30_000, 100);
    // Not before its time (the receiver's own clock; a little slack for clock reading).
    expect(slackCalls(["s1-later"])[0]!.at).toBeGreaterThanOrEqual(deliverAt - 50);
    const entity = await call<{ events: { count: number }; state: { step: string } }>(local.server.url, KEY, "GET", "/v1/entities/lead/S-1");
    expect(entity.body).toMatchObject({ events: { count: 1 }, state: { step: "s1-later" } });
    // Appended: a repeat is still a duplicate, and it can no longer be cancelled.
    expect((await call(local.server.url, KEY, "POST", "/v1/events", event)).status).toBe(200);
    expect((await call(local.server.url, KEY, "DELETE", "/v1/entities/lead/S-1/scheduled/s1-later")).status).toBe(404);
  });

  it("cancels a scheduled event before its time, and refuses one more than a year ahead", async () => {
    const later = { ...update("S-2", "s2-cancelled"), deliverAt: Date.now() + 60_000 };
    expect((await call(local.server.url, KEY, "POST", "/v1/events", later)).body).toMatchObject({ status: "scheduled" });
    expect((await call(local.server.url, KEY, "DELETE", "/v1/entities/lead/S-2/scheduled/s2-cancelled")).status).toBe(204);
    expect((await call<{ scheduled: unknown[] }>(local.server.url, KEY, "GET", "/v1/entities/lead/S-2/scheduled")).body.scheduled).toEqual([]);
    const tooFar = await call<{ error: { code: string; issues: Array<{ path: string }> } }>(local.server.url, KEY, "POST", "/v1/events", { ...update("S-2", "s2-far"), deliverAt: Date.now() + 400 * 86_400_000 });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.error.issues.map((i) => i.path)).toEqual(["deliverAt"]);
  });
});
