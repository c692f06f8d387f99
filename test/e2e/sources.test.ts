import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiverVars, startReceiver, type Receiver } from "../../scripts/receiver";
import { signatureHeaders } from "../../scripts/sign";
import { verifySignature } from "../../src/sources/verify";
import { startServer, waitFor, type LocalServer } from "./harness";

// The README's example configuration, used verbatim.
const TENANTS = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../examples/tenants.json"), "utf8"));
const SIGNING_SECRET: string = TENANTS.demo.signingSecret;

let receiver: Receiver;
let server: LocalServer;

beforeAll(async () => {
  receiver = await startReceiver();
  server = await startServer({ vars: { ...receiverVars(receiver.url), TENANTS: JSON.stringify(TENANTS) } });
});
afterAll(async () => {
  await server?.discard();
  await receiver?.close();
});

async function postSigned(source: string, scheme: Parameters<typeof signatureHeaders>[0], secret: string, body: string, id: string, tenant = "demo") {
  const headers = await signatureHeaders(scheme, secret, new TextEncoder().encode(body), { id, now: Date.now(), header: "X-Zapier-Signature" });
  const response = await fetch(`${server.url}/v1/sources/${tenant}/${source}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("signed sources over HTTP", () => {
  it("takes a signed Stripe event once, however often it is re-sent, and signs the fan-out calls", async () => {
    const customer = `cus_${Date.now().toString(36)}`;
    const body = JSON.stringify({ id: `evt_${customer}`, type: "customer.created", created: 1764000000, data: { object: { id: customer, email: "j@example.com", name: "J" } } });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await postSigned("stripe", "stripe", TENANTS.demo.sources.stripe.secret, body, "unused"));
    expect(results.map((r) => r.status)).toEqual([202, 200, 200, 200, 200]);
    expect(results[0]!.body).toMatchObject({ id: `evt_${customer}`, entity: { type: "lead", id: customer }, seq: 1 });

    const key = `demo/lead/${customer}/evt_${customer}:slack`;
    await waitFor(() => receiver.successes.get(key) === 1, "the signed Slack call");
    const call = receiver.calls.find((c) => c.headers["idempotency-key"] === key)!;
    expect(call.headers["webhook-id"]).toBe(key);
    const verified = await verifySignature({ scheme: "standard-webhooks", secret: SIGNING_SECRET }, new Headers(call.headers), new TextEncoder().encode(call.body));
    expect(verified).toEqual({ deliveryId: key });
  });

  it("answers unknown tenants, unknown sources and bad signatures identically", async () => {
    const body = readFileSync(resolve(import.meta.dirname, "../../examples/standard-webhooks-lead.json"), "utf8");
    const secret = TENANTS.demo.sources.forms.secret;
    const answers = [
      await postSigned("forms", "standard-webhooks", "whsec_d3Jvbmc=", body, "msg_a"),
      await postSigned("forms", "standard-webhooks", secret, body, "msg_b", "nobody"),
      await postSigned("nope", "standard-webhooks", secret, body, "msg_c"),
    ];
    for (const a of answers) expect(a).toEqual({ status: 401, body: { error: { code: "invalid_signature", message: "The signature is missing or invalid" } } });
    expect((await postSigned("forms", "standard-webhooks", secret, body, "msg_d")).status).toBe(202);
  });
});
