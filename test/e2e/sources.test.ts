import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiverVars, startReceiver, type Receiver } from "../../scripts/receiver.ts";
import { signatureHeaders } from "../../scripts/sign.ts";
import { verifySignature } from "../../src/sources/verify.ts";
import { call, newTenant } from "./control.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";

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

describe("signed sources as data", () => {
  it("lets a tenant created over the admin API add a Stripe source: signed 202, bad signature 401, deleted 401", async () => {
    const key = await newTenant(server.url, "shopco");
    const secret = "whsec_shopco_stripe_secret_1234";
    const put = await call(server.url, key, "PUT", "/v1/sources/billing", { scheme: "stripe", secret, mapping: { types: { "customer.created": "lead.created" } } });
    expect(put).toEqual({ status: 200, body: { scheme: "stripe", secret: "…1234", mapping: { types: { "customer.created": "lead.created" } } } });
    const listed = await call<{ sources: Record<string, { secret: string }> }>(server.url, key, "GET", "/v1/sources");
    expect(listed.body.sources).toEqual({ billing: { scheme: "stripe", secret: "…1234", mapping: { types: { "customer.created": "lead.created" } } } });
    expect((await call(server.url, key, "PUT", "/v1/sources/Bad Name", { scheme: "stripe", secret })).status).toBe(400);
    expect((await call(server.url, key, "PUT", "/v1/sources/x", { scheme: "carrier-pigeon", secret })).status).toBe(400);
    expect((await call(server.url, key, "PUT", "/v1/sources/x", { scheme: "stripe", secret, header: "X-Sig" })).status).toBe(400);

    const customer = `cus_${Date.now().toString(36)}`;
    const body = JSON.stringify({ id: `evt_${customer}`, type: "customer.created", created: 1764000000, data: { object: { id: customer, email: "s@example.com", name: "S" } } });
    const accepted = await postSigned("billing", "stripe", secret, body, "unused", "shopco");
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ id: `evt_${customer}`, entity: { type: "lead", id: customer } });
    expect((await call(server.url, key, "GET", `/v1/entities/lead/${customer}`)).status).toBe(200);
    expect((await postSigned("billing", "stripe", "whsec_wrong", body, "unused", "shopco")).status).toBe(401);
    // Another tenant's source of the same name is another source.
    expect((await postSigned("billing", "stripe", secret, body, "unused", "demo")).status).toBe(401);

    expect((await call(server.url, key, "DELETE", "/v1/sources/billing")).status).toBe(204);
    expect((await call(server.url, key, "DELETE", "/v1/sources/billing")).status).toBe(404);
    const after = await postSigned("billing", "stripe", secret, body.replace(customer, `${customer}x`), "unused", "shopco");
    expect(after).toEqual({ status: 401, body: { error: { code: "invalid_signature", message: "The signature is missing or invalid" } } });
  });

  it("takes the Shopify example as the README signs it", async () => {
    const body = readFileSync(resolve(import.meta.dirname, "../../examples/shopify-customer-create.json"), "utf8");
    const headers = await signatureHeaders("shopify", TENANTS.demo.sources.shopify.secret, new TextEncoder().encode(body), { id: crypto.randomUUID(), now: Date.now() });
    expect(Object.keys(headers).sort()).toEqual(["X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Webhook-Id"]);
    const response = await fetch(`${server.url}/v1/sources/demo/shopify`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    expect([200, 202]).toContain(response.status);
    expect(await response.json()).toMatchObject({ entity: { type: "lead", id: "7418372554819" } });
  });
});

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
