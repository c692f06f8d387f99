// An upgrade in place: a state directory written by the row-per-delivery engine (commit 0d7a181,
// the last before engine v2) is served by today's code. test/fixtures/pre-v2-state was made by
// running that commit's `npm start` against a local receiver that failed one lead's Slack calls
// (503) and answered its welcome email with 410, then stopping the server with deliveries open:
//   lead L-legacy  evt_legacy_1 lead.created: slack retrying, welcome-email dead (indexed as
//                  dead letter lead/L-legacy/2), the rest succeeded;
//                  evt_legacy_2 lead.updated: slack pending behind it, crm in flight (its queue
//                  message lost with the server), database and analytics succeeded;
//                  its follow-up reminder (seq 3): slack pending.
//   offer O-legacy evt_legacy_3 offer.submitted: everything succeeded.
import { EdgeflowClient } from "../../client/index.ts";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryOf, receiverVars, startReceiver, type Receiver } from "../../scripts/receiver.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";

const FIXTURE = join(import.meta.dirname, "../fixtures/pre-v2-state");
const AUTH = { authorization: "Bearer dev_demo_key", "content-type": "application/json" };

let receiver: Receiver;
let server: LocalServer;

interface Delivery {
  handler: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

async function get<T>(path: string): Promise<T> {
  return new EdgeflowClient({ baseUrl: server.url, key: "dev_demo_key" }).call<T>("GET", path);
}

async function deliveriesOf(type: string, id: string): Promise<Map<string, Record<string, Delivery>>> {
  const page = await get<{ events: Array<{ id: string; deliveries: Delivery[] }> }>(`/v1/entities/${type}/${id}/events`);
  return new Map(page.events.map((e) => [e.id, Object.fromEntries(e.deliveries.map((d) => [d.handler, d]))]));
}

/** Successful calls for one delivery, named `{eventId}:{handler}` (one tenant here). */
const callsFor = (delivery: string) => receiver.calls.filter((c) => deliveryOf(c.headers["idempotency-key"] ?? "") === delivery && c.status < 300);

beforeAll(async () => {
  receiver = await startReceiver();
  const persistDir = mkdtempSync(join(tmpdir(), "edgeflow-upgrade-"));
  cpSync(FIXTURE, persistDir, { recursive: true });
  server = await startServer({ persistDir, vars: { ...receiverVars(receiver.url), FOLLOW_UP_DELAY_MS: "600000" } });
});
afterAll(async () => {
  await server?.discard();
  await receiver?.close();
});

describe("upgrading a pre-v2 state directory in place", () => {
  it("keeps every entity's log, state and dead letters, and delivers what was open exactly once", async () => {
    const lead = await get<{ state: Record<string, unknown>; events: { count: number } }>("/v1/entities/lead/L-legacy");
    expect(lead.state).toMatchObject({ id: "L-legacy", email: "ada@example.com", name: "Ada", plan: "pro" });
    expect(lead.events.count).toBe(3);
    const dead = await get<{ deadLetters: Array<{ id: string; eventId: string; handler: string }> }>("/v1/dead-letters");
    expect(dead.deadLetters).toEqual([expect.objectContaining({ id: "lead/L-legacy/2", eventId: "evt_legacy_1", handler: "welcome-email" })]);

    // The open deliveries run: the retrying Slack head, the one behind it, the CRM upsert whose
    // message died with the old server, and the reminder.
    const keys = ["evt_legacy_1:slack", "evt_legacy_2:slack", "evt_legacy_2:crm", "edgeflow:evt_legacy_1:follow-up:slack"];
    await waitFor(() => keys.every((key) => callsFor(key).length > 0), "the open deliveries", 60_000, 200);
    const after = await deliveriesOf("lead", "L-legacy");
    expect(after.get("evt_legacy_1")!.slack).toMatchObject({ status: "succeeded", lastError: expect.stringContaining("503") });
    expect(after.get("evt_legacy_1")!["welcome-email"]).toMatchObject({ status: "dead", attempts: 1 });
    for (const handler of ["slack", "crm", "database", "analytics"]) expect(after.get("evt_legacy_2")![handler]?.status).toBe("succeeded");
    for (const key of keys) expect(callsFor(key)).toHaveLength(1);
    // A handler this release added (discord) takes new events only: the old ones were never its.
    expect(after.get("evt_legacy_2")!.discord).toBeUndefined();
    expect(callsFor("evt_legacy_2:discord")).toHaveLength(0);
    // What the old code had delivered is not delivered again.
    for (const key of ["evt_legacy_1:crm", "evt_legacy_3:slack", "evt_legacy_3:offer-email", "evt_legacy_3:offer-analysis"]) expect(callsFor(key)).toHaveLength(0);
    const offer = await deliveriesOf("offer", "O-legacy");
    expect(Object.values(offer.get("evt_legacy_3")!).every((d) => d.status === "succeeded")).toBe(true);
  });

  it("replays a dead letter indexed by the old code, by its old id", async () => {
    const answer = await fetch(`${server.url}/v1/dead-letters/replay`, { method: "POST", headers: AUTH, body: JSON.stringify({ ids: ["lead/L-legacy/2"] }) });
    expect(answer.status).toBe(202);
    expect(await answer.json()).toEqual({ replayed: 1 });
    await waitFor(() => callsFor("evt_legacy_1:welcome-email").length === 1, "the replayed welcome email", 30_000, 200);
    await waitFor(async () => (await deliveriesOf("lead", "L-legacy")).get("evt_legacy_1")!["welcome-email"]!.status === "succeeded", "its delivery to succeed", 10_000, 100);
  });

  it("goes on storing and delivering new events for upgraded entities", async () => {
    const answer = await fetch(`${server.url}/v1/events`, { method: "POST", headers: AUTH, body: JSON.stringify({ id: "evt_after_1", type: "lead.updated", data: { id: "L-legacy", plan: "enterprise" } }) });
    expect(answer.status).toBe(202);
    expect(await answer.json()).toMatchObject({ seq: 4, status: "accepted" });
    // discord is this release's handler: it starts at the first event after the upgrade.
    await waitFor(() => ["slack", "crm", "discord"].every((h) => callsFor(`evt_after_1:${h}`).length === 1), "the new event's calls", 30_000, 200);
    const crm = callsFor("evt_after_1:crm")[0]!;
    expect(JSON.parse(crm.body)).toMatchObject({ id: "L-legacy", email: "ada@example.com", plan: "enterprise" });
  });

  it("indexes a new dead letter in the dead-letter table the old code made (its outbox_id column dropped on the way)", async () => {
    receiver.script("evt_after_dead:slack", [{ status: 410, body: "gone" }]);
    const answer = await new EdgeflowClient({ baseUrl: server.url, key: "dev_demo_key" }).raw.postEvent({ body: { id: "evt_after_dead", type: "lead.updated", data: { id: "L-legacy", plan: "team" } } });
    expect(answer.status).toBe(202);
    await waitFor(async () => (await get<{ deadLetters: Array<{ eventId: string }> }>("/v1/dead-letters")).deadLetters.some((d) => d.eventId === "evt_after_dead"), "the new dead letter", 30_000, 200);
    const listed = (await get<{ deadLetters: Array<{ id: string; eventId: string; handler: string }> }>("/v1/dead-letters")).deadLetters;
    // The old code's entry is still listed beside it.
    expect(listed.map((d) => d.eventId)).toEqual(expect.arrayContaining(["evt_after_dead"]));
    expect(listed.find((d) => d.eventId === "evt_after_dead")).toMatchObject({ handler: "slack" });
  });
});
