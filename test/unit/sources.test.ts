import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { entityActor } from "../../src/rpc/actors.ts";
import { bytesToBase64, bytesToHex, hmac, hmacKey, signedContent, standardWebhooksKey } from "../../src/crypto.ts";
import { signStandardWebhooks } from "../../src/sources/sign.ts";
import { SCHEMES } from "../../src/sources/schemes.ts";
import { verifySignature } from "../../src/sources/verify.ts";
import { uniqueId } from "./helpers.ts";

// Secrets as configured for tenant "src" in vitest.config.ts.
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STRIPE_SECRET = "whsec_stripe_test_secret";
const GH_SECRET = "gh-test-secret";
const HMAC_SECRET = "hmac-test-secret";
const encoder = new TextEncoder();
const now = () => Math.floor(Date.now() / 1000);

async function swSignature(secret: string, id: string, ts: number | string, body: string): Promise<string> {
  const mac = await hmac(await hmacKey(standardWebhooksKey(secret)!), signedContent(`${id}.${ts}.`, encoder.encode(body)));
  return `v1,${bytesToBase64(mac)}`;
}
async function sha256Hex(content: string): Promise<string> {
  return bytesToHex(await crypto.subtle.digest("SHA-256", encoder.encode(content)));
}
async function hexMac(secret: string, content: string): Promise<string> {
  return bytesToHex(await hmac(await hmacKey(secret), signedContent("", encoder.encode(content))));
}

const send = (tenant: string, source: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>) =>
  exports.default.fetch(
    new Request(`http://localhost/v1/sources/${tenant}/${source}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }),
  );

async function sendSw(body: string, opts: { id?: string; ts?: number; secret?: string; tenant?: string; source?: string; signature?: string } = {}) {
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const ts = opts.ts ?? now();
  const signature = opts.signature ?? (await swSignature(opts.secret ?? SW_SECRET, id, ts, body));
  return send(opts.tenant ?? "src", opts.source ?? "sw", body, { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature });
}

const leadBody = (leadId: string) => JSON.stringify({ type: "lead.created", timestamp: "2026-11-24T10:00:00Z", data: { id: leadId, email: "s@example.com", name: "Sig" } });

async function expectRejected(response: Response) {
  expect(response.status).toBe(401);
  expect(await response.json()).toEqual({ error: { code: "invalid_signature", message: "The signature is missing or invalid" } });
}

describe("Standard Webhooks", () => {
  it("matches the specification's reference vector", async () => {
    const body = '{"test": 2432232314}';
    expect(await swSignature(SW_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    const headers = new Headers({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
    const source = { scheme: "standard-webhooks" as const, secret: SW_SECRET };
    expect(await verifySignature(source, headers, encoder.encode(body), 1614265330_000)).toEqual({ deliveryId: "msg_p5jXN8AQM9LWM0D4loKWxJek" });
    expect(await verifySignature(source, headers, encoder.encode('{"test": 2432232315}'), 1614265330_000)).toBeNull();
    expect(await verifySignature(source, headers, encoder.encode(body), 1614265330_000 + 301_000)).toBeNull();
  });

  it("accepts a valid delivery and stores it under the webhook-id", async () => {
    const leadId = uniqueId();
    const response = await sendSw(leadBody(leadId), { id: `msg_${leadId}` });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id: `msg_${leadId}`, entity: { type: "lead", id: leadId }, status: "accepted", seq: 1 });
    const view = await entityActor(env, "src", { type: "lead", id: leadId }).getEntity();
    expect(view?.state).toMatchObject({ email: "s@example.com", name: "Sig" });
  });

  it("rejects tampering, re-serialised JSON, wrong secrets and bad or duplicated headers", async () => {
    const leadId = uniqueId();
    const body = leadBody(leadId);
    const id = `msg_${leadId}`;
    const ts = now();
    const good = await swSignature(SW_SECRET, id, ts, body);
    const tampered = body.replace('"Sig"', '"Sih"');
    expect(tampered.length).toBe(body.length);
    await expectRejected(await sendSw(tampered, { id, ts, signature: good }));
    await expectRejected(await sendSw(JSON.stringify(JSON.parse(body), null, 1), { id, ts, signature: good }));
    await expectRejected(await sendSw(body, { id, ts, secret: "whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==" }));
    await expectRejected(await sendSw(body, { id, ts, tenant: "t1", source: "hook" }));
    await expectRejected(await send("src", "sw", body, { "webhook-timestamp": String(ts), "webhook-signature": good }));
    await expectRejected(await send("src", "sw", body, { "webhook-id": id, "webhook-signature": good }));
    await expectRejected(await send("src", "sw", body, { "webhook-id": id, "webhook-timestamp": String(ts) }));
    const duplicated = new Headers({ "content-type": "application/json", "webhook-signature": good });
    duplicated.append("webhook-id", id);
    duplicated.append("webhook-id", "msg_other");
    duplicated.append("webhook-timestamp", String(ts));
    await expectRejected(await exports.default.fetch(new Request("http://localhost/v1/sources/src/sw", { method: "POST", headers: duplicated, body })));
    expect(await entityActor(env, "src", { type: "lead", id: leadId }).getEntity()).toBeNull();
  });

  it("accepts one valid signature among several (key rotation)", async () => {
    const leadId = uniqueId();
    const body = leadBody(leadId);
    const id = `msg_${leadId}`;
    const ts = now();
    const old = await swSignature("whsec_b2xkLXJvdGF0ZWQta2V5LWJ5dGVzLTEyMzQ=", id, ts, body);
    const current = await swSignature(SW_SECRET, id, ts, body);
    expect((await sendSw(body, { id, ts, signature: `v1,bm90LWEtc2lnbmF0dXJl ${old} ${current}` })).status).toBe(202);
    await expectRejected(await sendSw(body, { id: `${id}-2`, ts, signature: `${old} v2,${current.slice(3)}` }));
  });

  it.each([
    [-299, 202],
    [299, 202],
    [-301, 401],
    [301, 401],
  ])("timestamp skew %i s → %i", async (skew, status) => {
    const response = await sendSw(leadBody(uniqueId()), { ts: now() + skew });
    expect(response.status).toBe(status);
  });

  it("stores a valid request replayed 5× once", async () => {
    const leadId = uniqueId();
    const body = leadBody(leadId);
    const id = `msg_${leadId}`;
    const ts = now();
    const signature = await swSignature(SW_SECRET, id, ts, body);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await sendSw(body, { id, ts, signature })).status);
    expect(statuses).toEqual([202, 200, 200, 200, 200]);
    expect((await entityActor(env, "src", { type: "lead", id: leadId }).getEntity())?.events.count).toBe(1);
  });

  it("answers an unknown tenant or source exactly like a bad signature", async () => {
    const body = leadBody(uniqueId());
    await expectRejected(await sendSw(body, { tenant: "nobody" }));
    await expectRejected(await sendSw(body, { source: "nope" }));
    await expectRejected(await sendSw(body, { tenant: "__proto__" }));
    await expectRejected(await sendSw(body, { source: "constructor" }));
  });

  it("accepts no tenant's secret on any other tenant's source (20 tenants)", async () => {
    let accepted = 0;
    for (let i = 1; i <= 20; i++) {
      for (let j = 1; j <= 20; j++) {
        const body = leadBody(uniqueId());
        const response = await sendSw(body, { tenant: `t${j}`, source: "hook", secret: `whsec_${btoa(`secret-of-tenant-${i}`)}` });
        if (i === j) expect(response.status).toBe(202);
        else if (response.status !== 401) accepted++;
      }
    }
    expect(accepted).toBe(0);
  });
});

describe("Stripe", () => {
  const event = (customerId: string) =>
    JSON.stringify({ id: `evt_${customerId}`, type: "customer.created", created: 1764000000, data: { object: { id: customerId, email: "c@example.com", name: "Cus" } } });
  const sign = async (body: string, t: number, secret = STRIPE_SECRET) => `t=${t},v1=${await hexMac(secret, `${t}.${body}`)}`;

  it("verifies Stripe-Signature, maps the event and dedupes on the Stripe event id", async () => {
    const customer = `cus_${crypto.randomUUID().slice(0, 8)}`;
    const body = event(customer);
    const t = now();
    const header = `t=${t},v1=${"0".repeat(64)},v1=${await hexMac(STRIPE_SECRET, `${t}.${body}`)},v0=abc`;
    const first = await send("src", "stripe", body, { "stripe-signature": header });
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ id: `evt_${customer}`, entity: { type: "lead", id: customer } });
    expect((await send("src", "stripe", body, { "stripe-signature": header })).status).toBe(200);
    const view = await entityActor(env, "src", { type: "lead", id: customer }).getEntity();
    expect(view?.state).toMatchObject({ email: "c@example.com", name: "Cus" });
    expect(view?.events.count).toBe(1);
  });

  it.each([
    ["tampered body", async (b: string, t: number) => ({ body: b.replace("Cus", "Cuz"), header: await sign(b, t) })],
    ["wrong secret", async (b: string, t: number) => ({ body: b, header: await sign(b, t, "whsec_other") })],
    ["301 s old", async (b: string, t: number) => ({ body: b, header: await sign(b, t - 301) })],
    ["301 s ahead", async (b: string, t: number) => ({ body: b, header: await sign(b, t + 301) })],
    ["two timestamps", async (b: string, t: number) => ({ body: b, header: `${await sign(b, t)},t=${t + 1}` })],
    ["no v1", async (b: string, t: number) => ({ body: b, header: `t=${t}` })],
  ])("rejects %s", async (_name, make) => {
    const { body, header } = await make(event(`cus_${crypto.randomUUID().slice(0, 8)}`), now());
    await expectRejected(await send("src", "stripe", body, { "stripe-signature": header }));
  });

  it("accepts ±299 s", async () => {
    for (const skew of [-299, 299]) {
      const body = event(`cus_${crypto.randomUUID().slice(0, 8)}`);
      expect((await send("src", "stripe", body, { "stripe-signature": await sign(body, now() + skew) })).status).toBe(202);
    }
  });
});

describe("GitHub and generic HMAC", () => {
  it("verifies X-Hub-Signature-256 and dedupes on the signed body, keeping X-GitHub-Delivery as metadata", async () => {
    const login = `octo-${crypto.randomUUID().slice(0, 8)}`;
    const body = JSON.stringify({ action: "opened", issue: { number: 7, title: "Pricing?" }, sender: { login } });
    const headers = {
      "x-hub-signature-256": `sha256=${await hexMac(GH_SECRET, body)}`,
      "x-github-delivery": crypto.randomUUID(),
      "x-github-event": "issues",
    };
    const first = await send("src", "gh", body, headers);
    expect(first.status).toBe(202);
    const bodyId = `sha256:${await sha256Hex(body)}`;
    expect(await first.json()).toMatchObject({ id: bodyId, entity: { type: "lead", id: login } });
    expect((await send("src", "gh", body, headers)).status).toBe(200);
    // A captured body re-sent under a fresh, unsigned delivery id is the same event, not a new one.
    const replayed = await send("src", "gh", body, { ...headers, "x-github-delivery": crypto.randomUUID() });
    expect(replayed.status).toBe(200);
    expect(await replayed.json()).toMatchObject({ id: bodyId, status: "duplicate" });
    const page = await entityActor(env, "src", { type: "lead", id: login }).listEvents(0, 10);
    expect(page!.events.map((e) => [e.id, e.source])).toEqual([[bodyId, { name: "gh", deliveryId: headers["x-github-delivery"] }]]);
    await expectRejected(await send("src", "gh", `${body} `, headers));
    await expectRejected(await send("src", "gh", body, { ...headers, "x-hub-signature-256": `sha256=${await hexMac("wrong", body)}` }));
    await expectRejected(await send("src", "gh", body, { "x-hub-signature-256": headers["x-hub-signature-256"], "x-github-event": "issues" }));
  });

  it("verifies a hex HMAC in the configured header", async () => {
    const leadId = uniqueId();
    const body = JSON.stringify({ id: `hm_${leadId}`, type: "lead.created", data: { id: leadId, email: "h@example.com", name: "H" } });
    const sig = await hexMac(HMAC_SECRET, body);
    expect((await send("src", "hmac", body, { "x-edgeflow-signature": sig })).status).toBe(202);
    expect((await send("src", "hmac", body, { "x-edgeflow-signature": `sha256=${sig}` })).status).toBe(200);
    // The unsigned Idempotency-Key header cannot make a replay new: the signed payload id decides.
    expect((await send("src", "hmac", body, { "x-edgeflow-signature": sig, "idempotency-key": "fresh-1" })).status).toBe(200);
    // A payload without an id is deduplicated by the digest of its signed bytes.
    const anonymous = JSON.stringify({ type: "lead.updated", data: { id: leadId, plan: "pro" } });
    const anonymousSig = await hexMac(HMAC_SECRET, anonymous);
    const firstAnonymous = await send("src", "hmac", anonymous, { "x-edgeflow-signature": anonymousSig, "idempotency-key": "a" });
    expect(firstAnonymous.status).toBe(202);
    expect(await firstAnonymous.json()).toMatchObject({ id: `sha256:${await sha256Hex(anonymous)}` });
    expect((await send("src", "hmac", anonymous, { "x-edgeflow-signature": anonymousSig, "idempotency-key": "b" })).status).toBe(200);
    await expectRejected(await send("src", "hmac", body, { "x-signature": sig }));
    await expectRejected(await send("src", "hmac", body.replace("H", "I"), { "x-edgeflow-signature": sig }));
  });
});

describe("Shopify", () => {
  const SHOP_SECRET = "shpss_test_secret";
  // Shopify's own recipe: base64 of HMAC-SHA256 over the raw body, keyed by the client secret.
  const shopifyMac = async (secret: string, body: string) => bytesToBase64(await hmac(await hmacKey(secret), signedContent("", encoder.encode(body))));

  it("verifies X-Shopify-Hmac-Sha256, maps the topic, and takes the event id from the signed body", async () => {
    const customer = Date.now() * 1000 + Math.floor(Math.random() * 1000);
    const body = JSON.stringify({ id: customer, email: "g@example.com", first_name: "Grace", updated_at: "2026-11-28T09:00:00-05:00" });
    const headers = { "x-shopify-hmac-sha256": await shopifyMac(SHOP_SECRET, body), "x-shopify-topic": "customers/create", "x-shopify-webhook-id": crypto.randomUUID() };
    const first = await send("src", "shop", body, headers);
    expect(first.status, await first.clone().text()).toBe(202);
    expect(await first.json()).toMatchObject({ id: `sha256:${await sha256Hex(body)}`, entity: { type: "lead", id: String(customer) } });
    // The webhook id header is not signed: a fresh one makes no new event.
    expect((await send("src", "shop", body, { ...headers, "x-shopify-webhook-id": crypto.randomUUID() })).status).toBe(200);
    await expectRejected(await send("src", "shop", body, { ...headers, "x-shopify-hmac-sha256": await shopifyMac("wrong", body) }));
    await expectRejected(await send("src", "shop", `${body} `, headers));
  });
});

describe("the scheme registry", () => {
  it("verifies what each scheme signs, and nothing else: sign and verify share one signing function", async () => {
    const at = 1_764_000_000_000;
    const body = encoder.encode(JSON.stringify({ id: "evt_1", type: "lead.created", data: { id: "L-1" } }));
    for (const scheme of SCHEMES) {
      const secret = scheme.name === "standard-webhooks" ? SW_SECRET : "a-secret";
      const headers = new Headers(await scheme.sign({ secret, body, id: "msg_1", now: at, event: "issues" }));
      expect(await scheme.verify({ headers, body, secret, now: at }), scheme.name).not.toBeNull();
      expect(await scheme.verify({ headers, body: encoder.encode("{}"), secret, now: at }), scheme.name).toBeNull();
      const other = scheme.name === "standard-webhooks" ? "whsec_b3RoZXItc2VjcmV0LWJ5dGVz" : "another-secret";
      expect(await scheme.verify({ headers, body, secret: other, now: at }), scheme.name).toBeNull();
    }
  });
});

describe("outbound signing", () => {
  it("produces Standard Webhooks headers that verify with the same secret", async () => {
    const body = JSON.stringify({ text: "hello" });
    const headers = await signStandardWebhooks(SW_SECRET, "evt_1:slack", body, 1614265330_000);
    expect(headers["webhook-id"]).toBe("evt_1:slack");
    expect(headers["webhook-timestamp"]).toBe("1614265330");
    expect(headers["webhook-signature"]).toBe(await swSignature(SW_SECRET, "evt_1:slack", 1614265330, body));
    const verified = await verifySignature({ scheme: "standard-webhooks", secret: SW_SECRET }, new Headers(headers), encoder.encode(body), 1614265330_000);
    expect(verified).toEqual({ deliveryId: "evt_1:slack" });
  });
});
