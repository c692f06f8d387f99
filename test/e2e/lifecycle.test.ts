// An entity's lifecycle over real HTTP against a real server and receiver: scheduled events
// (appended at deliverAt, not before; listed; cancelled), and pause, resume and cancel, per entity
// and for every entity of the tenant: held deliveries show `paused` while events are still stored,
// nothing held is delivered, a resume drains in seq order, a cancel ends them skipped with the reason;
// and schedules: firing ids and times, pause and resume, cron in a time zone, refusals recorded.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ReceivedCall } from "../../scripts/receiver.ts";
import { call } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
// Schedules every second here, so a test sees several firings (the default bound is 60 s).
const local = serverWithReceiver({ FOLLOW_UP_DELAY_MS: "600000", SCHEDULE_MIN_INTERVAL_SECONDS: "1" });

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

describe("schedules", () => {
  interface ScheduleView {
    id: string;
    cron?: string;
    everySeconds?: number;
    timezone: string;
    paused: boolean;
    nextAt: string | null;
    lastFiredAt: string | null;
    lastError: string | null;
  }
  const eventsOf = async (leadId: string) =>
    (await call<{ events?: Array<{ id: string; type: string; occurredAt: string }> }>(local.server.url, KEY, "GET", `/v1/entities/lead/${leadId}/events`)).body.events ?? [];

  it("fires every N seconds with firing ids, stops while paused, and is gone once deleted", async () => {
    const leadId = `L-sched-${Date.now().toString(36)}`;
    await post({ id: `${leadId}-0`, type: "lead.created", data: { id: leadId, email: "s@example.com", name: "S" } });
    const created = await call<ScheduleView>(local.server.url, KEY, "POST", "/v1/schedules", { name: "ping", everySeconds: 1, event: { type: "lead.updated", data: { id: leadId, ping: true } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ everySeconds: 1, timezone: "UTC", paused: false, lastError: null });
    const id = created.body.id;
    const firings = async () => (await eventsOf(leadId)).filter((e) => e.id.startsWith(`edgeflow:schedule:${id}:`));
    await waitFor(async () => (await firings()).length >= 2, "two firings", 20_000, 200);
    for (const e of await firings()) {
      // The id names the firing time, which is the event's occurredAt: a repeated firing is a duplicate.
      expect(Date.parse(e.occurredAt)).toBe(Number(e.id.split(":").pop()));
      expect(e.type).toBe("lead.updated");
    }

    const paused = await call<ScheduleView>(local.server.url, KEY, "PATCH", `/v1/schedules/${id}`, { paused: true });
    expect(paused.body).toMatchObject({ paused: true, nextAt: null });
    // That nothing fires is shown by a witness: another schedule of the tenant, every second, whose
    // firings come from the same alarm. Once it has fired three times after the pause (a firing of
    // the paused one already on its way may still land before its first), the paused one has not.
    const witnessLead = `${leadId}-witness`;
    const witness = await call<ScheduleView>(local.server.url, KEY, "POST", "/v1/schedules", { everySeconds: 1, event: { type: "lead.updated", data: { id: witnessLead } } });
    const witnessFirings = async () => (await eventsOf(witnessLead)).filter((e) => e.id.startsWith(`edgeflow:schedule:${witness.body.id}:`)).length;
    await waitFor(async () => (await witnessFirings()) >= 1, "the witness's first firing", 20_000, 200);
    const whilePaused = (await firings()).length;
    await waitFor(async () => (await witnessFirings()) >= 4, "three more firings of the witness", 20_000, 200);
    expect((await firings()).length).toBe(whilePaused);
    await call(local.server.url, KEY, "DELETE", `/v1/schedules/${witness.body.id}`);
    const resumed = await call<ScheduleView>(local.server.url, KEY, "PATCH", `/v1/schedules/${id}`, { paused: false });
    expect(resumed.body.paused).toBe(false);
    await waitFor(async () => (await firings()).length > whilePaused, "a firing after the resume", 10_000, 200);

    const listed = await call<{ schedules: ScheduleView[] }>(local.server.url, KEY, "GET", "/v1/schedules");
    expect(listed.body.schedules.map((s) => s.id)).toContain(id);
    expect((await call(local.server.url, KEY, "DELETE", `/v1/schedules/${id}`)).status).toBe(204);
    expect((await call(local.server.url, KEY, "GET", `/v1/schedules/${id}`)).status).toBe(404);
    expect((await call(local.server.url, KEY, "DELETE", `/v1/schedules/${id}`)).status).toBe(404);
  });

  it("takes 5- and 6-field cron in a time zone, and refuses what it cannot fire", async () => {
    const event = { type: "lead.updated", data: { id: "L-cron" } };
    const cron = await call<ScheduleView>(local.server.url, KEY, "POST", "/v1/schedules", { cron: "30 9 * * 1-5", timezone: "Europe/Berlin", event });
    expect(cron.status).toBe(201);
    // The next 09:30 on a weekday, Berlin time (07:30 or 08:30 UTC).
    const inBerlin = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(cron.body.nextAt!));
    expect(inBerlin).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:30$/);
    expect(Date.parse(cron.body.nextAt!)).toBeGreaterThan(Date.now());
    const seconds = await call<ScheduleView>(local.server.url, KEY, "POST", "/v1/schedules", { cron: "*/10 * * * * *", event });
    expect(seconds.status).toBe(201);
    expect(Date.parse(seconds.body.nextAt!) % 10_000).toBe(0);
    for (const id of [cron.body.id, seconds.body.id]) await call(local.server.url, KEY, "DELETE", `/v1/schedules/${id}`);

    const refused = async (body: unknown, status: number, code: string) => {
      const answer = await call<{ error: { code: string } }>(local.server.url, KEY, "POST", "/v1/schedules", body);
      expect([answer.status, answer.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    };
    await refused({ cron: "not a cron", event }, 400, "invalid_request");
    await refused({ cron: "* * *", event }, 400, "invalid_request");
    await refused({ everySeconds: 0, event }, 400, "invalid_request");
    await refused({ cron: "* * * * *", everySeconds: 5, event }, 400, "invalid_request");
    await refused({ event }, 400, "invalid_request");
    await refused({ everySeconds: 5, timezone: "Mars/Olympus", event }, 400, "invalid_request");
    await refused({ everySeconds: 5, event: { type: "lead.sold", data: { id: "L-1" } } }, 422, "unknown_event_type");
    await refused({ everySeconds: 5, event: { type: "lead.created", data: { id: "L-1" } } }, 400, "invalid_request");
    // A date that never comes (30 February): refused, not stored to fire nothing for ever.
    await refused({ cron: "0 0 30 2 *", event }, 400, "invalid_request");
    // Event data past 64 KiB: every firing would carry it.
    await refused({ everySeconds: 5, event: { type: "lead.updated", data: { id: "L-1", notes: "x".repeat(65 * 1024) } } }, 400, "invalid_request");
  });

  it("pauses a schedule whose firing meets an erased entity, saying why, and never fires it again", async () => {
    const leadId = `L-gone-${Date.now().toString(36)}`;
    await post({ id: `${leadId}-0`, type: "lead.updated", data: { id: leadId } });
    await waitFor(async () => (await call(local.server.url, KEY, "GET", `/v1/entities/lead/${leadId}`)).status === 200, "the entity", 10_000, 100);
    expect((await call(local.server.url, KEY, "DELETE", `/v1/entities/lead/${leadId}`)).status).toBeLessThan(300);
    const created = await call<ScheduleView>(local.server.url, KEY, "POST", "/v1/schedules", { everySeconds: 1, event: { type: "lead.updated", data: { id: leadId } } });
    const id = created.body.id;
    const get = async () => (await call<ScheduleView>(local.server.url, KEY, "GET", `/v1/schedules/${id}`)).body;
    await waitFor(async () => (await get()).lastError !== null, "a recorded refusal", 15_000, 200);
    const seen = await get();
    expect(seen.lastError).toMatch(/^entity_erased/);
    expect(seen.lastFiredAt).not.toBeNull();
    expect(seen).toMatchObject({ paused: true, nextAt: null });
    await call(local.server.url, KEY, "DELETE", `/v1/schedules/${id}`);
  });
});
