// Endpoint health over real HTTP: an endpoint that fails every call for ENDPOINT_DISABLE_AFTER_MS
// (3 s here) is disabled: its deliveries hold (shown paused, not dead), the tenant's Slack is
// alerted, /metrics and GET /v1/endpoints show it; PATCH {"status":"active"} re-enables it and
// what it held is delivered in seq order.
import { describe, expect, it } from "vitest";
import type { ReceivedCall } from "../../scripts/receiver.ts";
import { call } from "./control.ts";
import { serverWithReceiver, waitFor } from "./harness.ts";

const KEY = "dev_demo_key";
const local = serverWithReceiver({
  ENDPOINT_DISABLE_AFTER_MS: "3000",
  RETRY_BASE_MS: "100",
  RETRY_MAX_DELAY_MS: "1000",
  RETRY_MAX_ATTEMPTS: "100",
  FOLLOW_UP_DELAY_MS: "600000",
});

interface Endpoint {
  id: string;
  status: string;
  lastSuccessAt: string | null;
  failingSince: string | null;
}

const api = <T>(method: string, path: string, body?: unknown) => call<T>(local.server.url, KEY, method, path, body);
const update = (n: number) => ({ id: `eh-${n}`, type: "lead.updated", data: { id: "EH-1", step: n } });

async function endpointDeliveries(handler: string): Promise<string[]> {
  const page = await api<{ events: Array<{ deliveries: Array<{ handler: string; status: string }> }> }>("GET", "/v1/entities/lead/EH-1/events");
  return page.body.events.map((e) => e.deliveries.find((d) => d.handler === handler)?.status ?? "none");
}

describe("endpoint health", () => {
  it("disables an endpoint that keeps failing, holds its deliveries, alerts, and drains them in order once re-enabled", async () => {
    // Nothing listens on port 9: every call fails with a network error.
    const created = await api<Endpoint>("POST", "/v1/endpoints", { url: "http://127.0.0.1:9/down", eventTypes: ["lead.updated"] });
    expect(created.body).toMatchObject({ status: "active", lastSuccessAt: null, failingSince: null });
    const id = created.body.id;
    const handler = `endpoint:${id}`;
    for (const n of [1, 2, 3]) expect((await api("POST", "/v1/events", update(n))).status).toBe(202);

    let seen: Endpoint | undefined;
    await waitFor(
      async () => {
        // A scrape flushes the server's counts at once, which is where endpoint health comes from.
        await call(local.server.url, KEY, "GET", "/metrics");
        seen = (await api<Endpoint>("GET", `/v1/endpoints/${id}`)).body;
        return seen.status === "disabled";
      },
      () => `the endpoint to be disabled (${JSON.stringify(seen)})`,
      60_000,
      250,
    );
    expect(seen!.failingSince).not.toBeNull();
    const metrics = await call<string>(local.server.url, KEY, "GET", "/metrics");
    expect(String(metrics.body)).toContain(`edgeflow_endpoint_disabled{tenant="demo",endpoint="${id}"} 1`);
    expect((await api<{ handlers: Array<{ name: string; paused: boolean }> }>("GET", "/v1/handlers")).body.handlers).toContainEqual({ name: handler, paused: true });

    // The alert reaches the tenant's Slack, naming the endpoint.
    const alerted = (c: ReceivedCall) => c.path.startsWith("/slack") && c.body.includes(`Webhook endpoint ${id}`) && c.body.includes("is disabled");
    await waitFor(() => local.receiver.calls.some(alerted), "the disabled-endpoint alert");

    // Held, not dead: new events wait too.
    for (const n of [4, 5]) expect((await api("POST", "/v1/events", update(n))).status).toBe(202);
    await waitFor(async () => (await endpointDeliveries(handler)).every((s) => s === "paused"), "every delivery to hold");
    expect((await api<{ deadLetters: unknown[] }>("GET", "/v1/dead-letters")).body.deadLetters).toEqual([]);

    // Re-enabled at a working URL: everything it held arrives, in seq order.
    const enabled = await api<Endpoint>("PATCH", `/v1/endpoints/${id}`, { url: `${local.receiver.url}/hooks/back`, status: "active" });
    expect(enabled.body).toMatchObject({ status: "active", failingSince: null });
    const delivered = () => local.receiver.calls.filter((c) => c.path === "/hooks/back" && c.status < 300);
    await waitFor(() => delivered().length >= 5, () => `the held deliveries (${delivered().length} of 5)`);
    expect(delivered().map((c) => Number(c.headers["edgeflow-seq"]))).toEqual([1, 2, 3, 4, 5]);
    await waitFor(
      async () => {
        await call(local.server.url, KEY, "GET", "/metrics");
        return (await api<Endpoint>("GET", `/v1/endpoints/${id}`)).body.lastSuccessAt !== null;
      },
      "its last success to show",
    );
    expect((await api<{ status: string }>("PATCH", `/v1/endpoints/${id}`, { status: "paused" })).status).toBe(400);
  });
});
