// Customer webhook endpoints over real HTTP: filters, Standard Webhooks signatures checked with the
// reference `standardwebhooks` library, retries, dead letters and replay, secret rotation, and
// deletion ending what was still pending as skipped.
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type ReceivedCall, type Receiver } from "../../scripts/receiver.ts";
import { signStandardWebhooks } from "../../src/sources/sign.ts";
import { call } from "./control.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";

const KEY = "dev_demo_key";
let server: LocalServer;
let receiver: Receiver;

interface Endpoint {
  id: string;
  url: string;
  eventTypes: string[] | null;
  description: string | null;
  secret?: string;
  createdAt: string;
}
interface Delivery {
  handler: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

beforeAll(async () => {
  receiver = await startReceiver();
  // No destination for the built-in handlers: the receiver sees endpoint calls only.
  server = await startServer({ vars: { RETRY_BASE_MS: "50", RETRY_MAX_DELAY_MS: "5000", RETRY_MAX_ATTEMPTS: "3" } });
});
afterAll(async () => {
  await server?.discard();
  await receiver?.close();
});

const post = async (event: unknown) => expect((await call(server.url, KEY, "POST", "/v1/events", event)).status).toBe(202);
const callsTo = (path: string) => receiver.calls.filter((c) => c.path === path);
const headersOf = (c: ReceivedCall) => ({ "webhook-id": c.headers["webhook-id"]!, "webhook-timestamp": c.headers["webhook-timestamp"]!, "webhook-signature": c.headers["webhook-signature"]! });

async function deliveryOf(type: string, id: string, eventId: string, handler: string): Promise<Delivery | undefined> {
  const page = await call<{ events: Array<{ id: string; deliveries: Delivery[] }> }>(server.url, KEY, "GET", `/v1/entities/${type}/${id}/events`);
  return page.body.events?.find((e) => e.id === eventId)?.deliveries.find((d) => d.handler === handler);
}

async function createEndpoint(body: object): Promise<Endpoint & { secret: string }> {
  const created = await call<Endpoint & { secret: string }>(server.url, KEY, "POST", "/v1/endpoints", body);
  expect(created.status).toBe(201);
  return created.body;
}

describe("customer webhook endpoints", () => {
  it("signs the way the Standard Webhooks test vector says", async () => {
    const headers = await signStandardWebhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", '{"test": 2432232314}', 1614265330_000);
    expect(headers["webhook-signature"]).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("validates what it registers and never shows a secret after creation", async () => {
    const bad = await call<{ error: { code: string } }>(server.url, KEY, "POST", "/v1/endpoints", { url: "not a url" });
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_request"]);
    const unknown = await call<{ error: { code: string } }>(server.url, KEY, "POST", "/v1/endpoints", { url: `${receiver.url}/x`, eventTypes: ["lead.deleted"] });
    expect([unknown.status, unknown.body.error.code]).toEqual([422, "unknown_event_type"]);
    const created = await createEndpoint({ url: `${receiver.url}/hooks/temp`, description: "temp" });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const got = await call<Endpoint>(server.url, KEY, "GET", `/v1/endpoints/${created.id}`);
    expect(got.body).toEqual({ id: created.id, url: `${receiver.url}/hooks/temp`, eventTypes: null, description: "temp", backfill: false, status: "active", lastSuccessAt: null, failingSince: null, rateLimit: null, maxConcurrency: null, createdAt: created.createdAt });
    const patched = await call<Endpoint>(server.url, KEY, "PATCH", `/v1/endpoints/${created.id}`, { eventTypes: ["lead.updated"], description: null });
    expect(patched.body).toMatchObject({ eventTypes: ["lead.updated"], description: null });
    const list = await call<{ endpoints: Endpoint[] }>(server.url, KEY, "GET", "/v1/endpoints");
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect((await call(server.url, KEY, "DELETE", `/v1/endpoints/${created.id}`)).status).toBe(204);
    expect((await call(server.url, KEY, "GET", `/v1/endpoints/${created.id}`)).status).toBe(404);
  });

  it("delivers each matching event to each endpoint, signed, and nothing else", async () => {
    const all = await createEndpoint({ url: `${receiver.url}/hooks/all` });
    const offers = await createEndpoint({ url: `${receiver.url}/hooks/offers`, eventTypes: ["offer.submitted"] });
    await post({ id: "evt_l1", type: "lead.created", occurredAt: "2026-11-20T10:00:00Z", data: { id: "L-1", email: "l1@example.com", name: "Ada" } });
    await post({ id: "evt_o1", type: "offer.submitted", data: { id: "O-1", leadId: "L-1", amount: 120, currency: "EUR" } });
    // The lead's follow-up is due a day after it occurred, so at once: an endpoint for every type gets it too.
    await waitFor(() => callsTo("/hooks/all").length >= 3 && callsTo("/hooks/offers").length >= 1, "the endpoint calls");

    expect(callsTo("/hooks/all").map((c) => c.headers["edgeflow-event-id"]).sort()).toEqual(["edgeflow:evt_l1:follow-up", "evt_l1", "evt_o1"]);
    expect(callsTo("/hooks/offers").map((c) => c.headers["edgeflow-event-id"])).toEqual(["evt_o1"]);
    for (const [endpoint, path] of [[all, "/hooks/all"], [offers, "/hooks/offers"]] as const) {
      for (const c of callsTo(path)) {
        const verified = new Webhook(endpoint.secret).verify(c.body, headersOf(c));
        expect(verified).toEqual(JSON.parse(c.body));
        expect(c.headers["webhook-id"]).toBe(c.headers["idempotency-key"]);
        expect(c.headers["edgeflow-handler"]).toBe(`endpoint:${endpoint.id}`);
        // A body changed on the way fails verification.
        expect(() => new Webhook(endpoint.secret).verify(c.body.replace(`"type"`, `"kind"`), headersOf(c))).toThrow();
      }
    }
    const lead = callsTo("/hooks/all").find((c) => c.headers["edgeflow-event-id"] === "evt_l1")!;
    expect(lead.headers["idempotency-key"]).toBe(`demo/lead/L-1/evt_l1:endpoint:${all.id}`);
    expect(JSON.parse(lead.body)).toEqual({
      type: "lead.created",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { id: "evt_l1", seq: 1, entity: { type: "lead", id: "L-1" }, occurredAt: "2026-11-20T10:00:00.000Z", data: { id: "L-1", email: "l1@example.com", name: "Ada" } },
    });
    // The sequence on the wire: the header and the payload agree, and the follow-up comes after.
    for (const c of callsTo("/hooks/all")) expect(c.headers["edgeflow-seq"]).toBe(String((JSON.parse(c.body) as { data: { seq: number } }).data.seq));
    const followUp = callsTo("/hooks/all").find((c) => c.headers["edgeflow-event-id"] === "edgeflow:evt_l1:follow-up")!;
    expect(followUp.headers["edgeflow-seq"]).toBe("2");
    const view = await deliveryOf("offer", "O-1", "evt_o1", `endpoint:${offers.id}`);
    expect(view).toMatchObject({ status: "succeeded", attempts: 1 });

    // Rotation: later deliveries are signed with the new secret only.
    const rotated = await call<{ secret: string }>(server.url, KEY, "POST", `/v1/endpoints/${offers.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(offers.secret);
    const rotatedAt = Date.now();
    // Actors may sign with the cached secret for up to the documented 5 s bound.
    await waitFor(() => Date.now() - rotatedAt > 5_000, "the configuration cache bound", 6_000, 100);
    await post({ id: "evt_o2", type: "offer.submitted", data: { id: "O-2", leadId: "L-1", amount: 5, currency: "EUR" } });
    await waitFor(() => callsTo("/hooks/offers").some((c) => c.headers["edgeflow-event-id"] === "evt_o2"), "the call after rotation");
    const after = callsTo("/hooks/offers").find((c) => c.headers["edgeflow-event-id"] === "evt_o2")!;
    expect(new Webhook(rotated.body.secret).verify(after.body, headersOf(after))).toBeTruthy();
    expect(() => new Webhook(offers.secret).verify(after.body, headersOf(after))).toThrow();
    await call(server.url, KEY, "DELETE", `/v1/endpoints/${all.id}`);
    await call(server.url, KEY, "DELETE", `/v1/endpoints/${offers.id}`);
  });

  it("retries with backoff, dead-letters what is refused, and replays it under the same key", async () => {
    const ep = await createEndpoint({ url: `${receiver.url}/hooks/flaky`, eventTypes: ["lead.updated"] });
    const handler = `endpoint:${ep.id}`;
    receiver.script(`evt_retry:${handler}`, [{ status: 503 }, { status: 500 }]);
    receiver.script(`evt_gone:${handler}`, [{ status: 410, body: "no such hook" }]);
    await post({ id: "evt_retry", type: "lead.updated", data: { id: "L-2", step: 1 } });
    await post({ id: "evt_gone", type: "lead.updated", data: { id: "L-3", step: 1 } });
    await waitFor(async () => (await deliveryOf("lead", "L-2", "evt_retry", handler))?.status === "succeeded", "the retried delivery");
    expect(await deliveryOf("lead", "L-2", "evt_retry", handler)).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(callsTo("/hooks/flaky").filter((c) => c.headers["edgeflow-event-id"] === "evt_retry").map((c) => c.status)).toEqual([503, 500, 200]);

    const deadId = `lead/L-3/1:${handler}`;
    await waitFor(async () => {
      const page = await call<{ deadLetters: Array<{ id: string }> }>(server.url, KEY, "GET", "/v1/dead-letters");
      return page.body.deadLetters.some((d) => d.id === deadId);
    }, "the dead letter");
    expect(await deliveryOf("lead", "L-3", "evt_gone", handler)).toMatchObject({ status: "dead", lastError: "HTTP 410: no such hook" });
    expect((await call<{ replayed: number }>(server.url, KEY, "POST", "/v1/dead-letters/replay", { ids: [deadId] })).body.replayed).toBe(1);
    await waitFor(async () => (await deliveryOf("lead", "L-3", "evt_gone", handler))?.status === "succeeded", "the replayed delivery");
    const gone = callsTo("/hooks/flaky").filter((c) => c.headers["edgeflow-event-id"] === "evt_gone");
    expect(gone.map((c) => c.status)).toEqual([410, 200]);
    expect(new Set(gone.map((c) => c.headers["webhook-id"]))).toEqual(new Set([`demo/lead/L-3/evt_gone:${handler}`]));
    await call(server.url, KEY, "DELETE", `/v1/endpoints/${ep.id}`);
  });

  it("ends a deleted endpoint's pending deliveries as skipped and sends it nothing more", async () => {
    const ep = await createEndpoint({ url: `${receiver.url}/hooks/doomed` });
    const handler = `endpoint:${ep.id}`;
    // The receiver asks for time: the delivery waits 4 s for its next attempt.
    receiver.script(`evt_wait:${handler}`, Array.from({ length: 5 }, () => ({ status: 503, headers: { "retry-after": "4" } })));
    await post({ id: "evt_wait", type: "lead.updated", data: { id: "L-4", step: 1 } });
    await waitFor(async () => (await deliveryOf("lead", "L-4", "evt_wait", handler))?.attempts === 1, "the first failed attempt");
    expect(await deliveryOf("lead", "L-4", "evt_wait", handler)).toMatchObject({ status: "pending" });
    expect((await call(server.url, KEY, "DELETE", `/v1/endpoints/${ep.id}`)).status).toBe(204);
    await waitFor(async () => (await deliveryOf("lead", "L-4", "evt_wait", handler))?.status === "skipped", "the pending delivery to end", 20_000);
    expect(await deliveryOf("lead", "L-4", "evt_wait", handler)).toMatchObject({ status: "skipped", lastError: "endpoint deleted" });
    expect(callsTo("/hooks/doomed")).toHaveLength(1);
  });
});
