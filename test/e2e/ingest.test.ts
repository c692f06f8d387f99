import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type LocalServer } from "./harness.ts";

const TENANTS = { demo: { apiKeys: ["dev_demo_key"] }, acme: { apiKeys: ["acme_key"] } };
const LIMIT = 1_048_576; // the contract's default MAX_BODY_BYTES (v3), left unset on purpose
const DEMO = "Bearer dev_demo_key";
const ACME = "Bearer acme_key";

let server: LocalServer;

beforeAll(async () => {
  server = await startServer({ vars: { TENANTS: JSON.stringify(TENANTS) } });
});
afterAll(async () => {
  await server?.discard();
});

interface Sent {
  status: number;
  // Bodies are asserted field by field against the contract, so they are typed loosely here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}

async function call(path: string, init: RequestInit & { json?: unknown; auth?: string | null } = {}): Promise<Sent> {
  const headers = new Headers(init.headers);
  if (init.auth !== null) headers.set("authorization", init.auth ?? DEMO);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const response = await fetch(`${server.url}${path}`, { ...init, headers, body, duplex: "half" } as RequestInit);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text; the assertion on it will say what came back.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

const lead = (id: string, extra: Record<string, unknown> = {}) => ({ type: "lead.created", data: { id, email: "ada@example.com", name: "Ada", ...extra } });
const uid = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** A lead.created body of exactly `bytes` bytes. */
function bodyOfSize(bytes: number, leadId: string): string {
  const base = JSON.stringify(lead(leadId, { pad: "" }));
  const body = base.replace('"pad":""', `"pad":"${"x".repeat(bytes - base.length)}"`);
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

function expectError(res: Sent, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
}

describe("authentication", () => {
  it("refuses missing, malformed and unknown keys with 401 unauthorized", async () => {
    expectError(await call("/v1/events", { method: "POST", json: lead("L-auth"), auth: null }), 401, "unauthorized");
    expectError(await call("/v1/events", { method: "POST", json: lead("L-auth"), auth: "Basic ZGVtbzp4" }), 401, "unauthorized");
    expectError(await call("/v1/events", { method: "POST", json: lead("L-auth"), auth: "Bearer nope" }), 401, "unauthorized");
    expectError(await call("/v1/entities/lead/L-auth", { auth: null }), 401, "unauthorized");
    expect((await call("/v1/entities/lead/L-auth")).status).toBe(404);
  });

  it("serves /healthz without a key", async () => {
    const res = await call("/healthz", { auth: null });
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
  });
});

describe("errors", () => {
  it("answers every bad request with the contract's code and JSON shape", async () => {
    expectError(await call("/v1/events", { method: "POST", body: "{nope", headers: { "content-type": "application/json" } }), 400, "invalid_json");
    const invalid = await call("/v1/events", { method: "POST", json: { type: "lead.created", data: { id: "L-x", email: "no" } } });
    expectError(invalid, 400, "invalid_event");
    expect(invalid.body.error.issues).toEqual([
      { path: "data.email", message: expect.any(String) },
      { path: "data.name", message: expect.any(String) },
    ]);
    expectError(await call("/v1/events", { method: "POST", json: { type: "lead.exploded", data: { id: "L-x" } } }), 422, "unknown_event_type");
    expectError(await call("/v1/events", { method: "POST", body: JSON.stringify(lead("L-x")), headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
    expectError(await call("/v1/events", { method: "POST", body: JSON.stringify(lead("L-x")) }), 415, "unsupported_media_type");
    expectError(await call("/v1/nothing-here"), 404, "not_found");
    expectError(await call("/v1/entities/lead/never-seen"), 404, "not_found");
    expectError(await call("/v1/entities/lead/never-seen/events"), 404, "not_found");
    expectError(await call("/v1/events", { method: "POST", body: bodyOfSize(LIMIT + 1, "L-x"), headers: { "content-type": "application/json" } }), 413, "payload_too_large");
    // None of those wrote anything.
    expectError(await call("/v1/entities/lead/L-x"), 404, "not_found");
  });
});

describe("hardening over real HTTP", () => {
  const post = (body: string) => call("/v1/events", { method: "POST", body, headers: { "content-type": "application/json" } });

  it("was started by `npm start -- --port P --persist-to DIR --var NAME:VALUE`, and each flag took effect", async () => {
    // --port: it answers here; --var: the acme tenant exists only through TENANTS given that way.
    expect(new URL(server.url).port).not.toBe("8787");
    expect((await call("/v1/entities/lead/none", { auth: ACME })).status).toBe(404);
    // --persist-to: the event's actor is stored under the given directory.
    expect((await call("/v1/events", { method: "POST", json: lead(uid("L-persist")) })).status).toBe(202);
    const files = readdirSync(server.persistDir, { recursive: true }).map(String);
    expect(files.some((f) => f.endsWith(".sqlite"))).toBe(true);
  });

  it("refuses 1e999 with 400 invalid_json and epoch microseconds with 400 invalid_event at occurredAt", async () => {
    const leadId = uid("L-big");
    expectError(await post(`{"type":"offer.submitted","data":{"id":"${leadId}","leadId":"L-1","amount":1e999,"currency":"EUR"}}`), 400, "invalid_json");
    const micro = await post(JSON.stringify({ ...lead(leadId), occurredAt: 1732400000000000 }));
    expectError(micro, 400, "invalid_event");
    expect(micro.body.error.issues).toEqual([{ path: "occurredAt", message: expect.any(String) }]);
    expectError(await call(`/v1/entities/lead/${leadId}`), 404, "not_found");
  });

  it("answers 409 id_conflict for a known id with other content, and 200 duplicate for an honest retry", async () => {
    const leadId = uid("L-conflict");
    const event = { id: `evt_${leadId}`, ...lead(leadId) };
    expect((await call("/v1/events", { method: "POST", json: event })).status).toBe(202);
    expect((await call("/v1/events", { method: "POST", json: event })).body).toMatchObject({ status: "duplicate" });
    expectError(await call("/v1/events", { method: "POST", json: { ...event, data: { ...event.data, name: "Mallory" } } }), 409, "id_conflict");
    expect((await call(`/v1/entities/lead/${leadId}`)).body).toMatchObject({ state: { name: "Ada" }, events: { count: 1 } });
  });
});

describe("body size limit", () => {
  const post = (body: string) => call("/v1/events", { method: "POST", body, headers: { "content-type": "application/json" } });

  it("accepts limit−1 and limit bytes, refuses limit+1", async () => {
    const below = uid("L-below");
    const at = uid("L-at");
    const above = uid("L-above");
    expect((await post(bodyOfSize(LIMIT - 1, below))).status).toBe(202);
    expect((await post(bodyOfSize(LIMIT, at))).status).toBe(202);
    expectError(await post(bodyOfSize(LIMIT + 1, above)), 413, "payload_too_large");
    expect((await call(`/v1/entities/lead/${at}`)).status).toBe(200);
    expect((await call(`/v1/entities/lead/${above}`)).status).toBe(404);
  });

  it("counts the bytes of a streamed body with no Content-Length", async () => {
    const stream = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      // Several chunks, so the limit is hit part-way through the stream.
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 16_384) controller.enqueue(bytes.slice(i, i + 16_384));
          controller.close();
        },
      });
    };
    const ok = uid("L-stream-ok");
    const big = uid("L-stream-big");
    const send = (text: string) =>
      call("/v1/events", { method: "POST", body: stream(text), headers: { "content-type": "application/json" } });
    const huge = uid("L-stream-huge");
    expect((await send(bodyOfSize(LIMIT, ok))).status).toBe(202);
    expectError(await send(bodyOfSize(LIMIT + 1, big)), 413, "payload_too_large");
    // Far over the limit, the server answers and stops reading while the client is still
    // sending, so the client may see the 413 or only the closed connection.
    const early = await send(bodyOfSize(LIMIT * 4, huge)).catch((err: unknown) => err);
    if (!(early instanceof Error)) expectError(early as Sent, 413, "payload_too_large");
    expect((await call(`/v1/entities/lead/${big}`)).status).toBe(404);
    expect((await call(`/v1/entities/lead/${huge}`)).status).toBe(404);
  });
});

describe("malformed bodies", () => {
  it("get a 4xx, never a 5xx, and write nothing", async () => {
    const id = (i: number) => `bad-${i}`;
    const corpus: Array<[string, string | Uint8Array<ArrayBuffer>]> = [
      ["empty", ""],
      ["whitespace", "   "],
      ["null", "null"],
      ["number", "42"],
      ["string", '"lead.created"'],
      ["array", `[${JSON.stringify(lead(id(5)))}]`],
      ["truncated", JSON.stringify(lead(id(6))).slice(0, -3)],
      ["trailing garbage", `${JSON.stringify(lead(id(7)))}}`],
      ["single quotes", `{'type':'lead.created','data':{'id':'${id(8)}'}}`],
      ["invalid utf-8", new Uint8Array([...new TextEncoder().encode(`{"type":"lead.created","data":{"id":"${id(9)}","email":"a@b.co","name":"`), 0xff, 0xfe, ...new TextEncoder().encode('"}}')])],
      ["deep nesting", `{"type":"lead.created","data":{"id":"${id(10)}","email":"a@b.co","name":"A","x":${"[".repeat(200)}${"]".repeat(200)}}}`],
      ["huge number", `{"type":"offer.submitted","data":{"id":"${id(11)}","leadId":"L","amount":1e400,"currency":"USD"}}`],
      ["wrong types", JSON.stringify({ type: 7, data: { id: id(12) } })],
      ["data array", JSON.stringify({ type: "lead.created", data: [id(13)] })],
      ["entity id with slash", JSON.stringify(lead(`${id(14)}/x`))],
      ["proto key only", `{"__proto__":{"type":"lead.created"},"data":{"id":"${id(15)}"}}`],
      ["nul in id", JSON.stringify(lead(`${id(16)}\u0000`))],
      ["occurredAt garbage", JSON.stringify({ ...lead(id(17)), occurredAt: "soon" })],
      ["amount NaN string", JSON.stringify({ type: "offer.submitted", data: { id: id(18), leadId: "L", amount: "NaN", currency: "USD" } })],
      ["unknown type", JSON.stringify({ type: "lead.created.v2", data: { id: id(19) } })],
    ];
    for (const [name, body] of corpus) {
      const res = await call("/v1/events", { method: "POST", body, headers: { "content-type": "application/json" } });
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, name).toBeLessThan(500);
      expect(res.body?.error?.code, name).toEqual(expect.any(String));
    }
    for (let i = 0; i < 20; i++) expect((await call(`/v1/entities/lead/${id(i)}`)).status, id(i)).toBe(404);
    expect((await call(`/v1/entities/offer/${id(11)}`)).status).toBe(404);
  });
});

describe("ingest", () => {
  it("stores the same event sent 3× concurrently exactly once", async () => {
    const leadId = uid("L-race");
    const event = { id: `evt-${leadId}`, ...lead(leadId) };
    const results = await Promise.all([1, 2, 3].map(() => call("/v1/events", { method: "POST", json: event })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 202]);
    for (const r of results) expect(r.body).toMatchObject({ id: event.id, entity: { type: "lead", id: leadId }, seq: 1 });
    const view = await call(`/v1/entities/lead/${leadId}`);
    expect(view.body.events).toEqual({ count: 1, lastSeq: 1, compacted: 0 });
  });

  it("keeps identical ids under two tenants apart", async () => {
    const leadId = uid("L-shared");
    const id = `evt-${leadId}`;
    const a = await call("/v1/events", { method: "POST", json: { id, ...lead(leadId, { name: "Demo's" }) } });
    const b = await call("/v1/events", { method: "POST", auth: ACME, json: { id, ...lead(leadId, { name: "Acme's" }) } });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect((await call(`/v1/entities/lead/${leadId}`)).body.state.name).toBe("Demo's");
    expect((await call(`/v1/entities/lead/${leadId}`, { auth: ACME })).body.state.name).toBe("Acme's");
  });

  it("answers a batch with one result per event, in request order", async () => {
    const l1 = uid("L-b1");
    const l2 = uid("L-b2");
    const events = [
      { id: `e1-${l1}`, ...lead(l1) },
      { id: `e2-${l2}`, ...lead(l2) },
      { type: "lead.updated", data: { id: l1, email: "nope" } },
      { id: `e3-${l1}`, type: "lead.updated", data: { id: l1, status: "hot" } },
      { id: `e1-${l1}`, ...lead(l1) },
      { type: "mystery.event", data: { id: "x" } },
    ];
    const res = await call("/v1/events/batch", { method: "POST", json: { events } });
    expect(res.status).toBe(207);
    const results = res.body.results;
    expect(results).toHaveLength(6);
    expect(results[0]).toMatchObject({ id: `e1-${l1}`, status: "accepted", seq: 1 });
    expect(results[1]).toMatchObject({ id: `e2-${l2}`, status: "accepted", seq: 1 });
    expect(results[2]).toMatchObject({ error: { code: "invalid_event", issues: [{ path: "events.2.data.email" }] } });
    expect(results[3]).toMatchObject({ id: `e3-${l1}`, status: "accepted", seq: 2 });
    expect(results[4]).toMatchObject({ id: `e1-${l1}`, status: "duplicate", seq: 1 });
    expect(results[5]).toMatchObject({ error: { code: "unknown_event_type" } });
    expect((await call(`/v1/entities/lead/${l1}`)).body.state.status).toBe("hot");

    const tooMany = Array.from({ length: 101 }, (_, i) => lead(`${l1}-${i}`));
    expectError(await call("/v1/events/batch", { method: "POST", json: tooMany }), 400, "invalid_event");
  });

  it("lists the log with deliveries, page by page", async () => {
    const leadId = uid("L-log");
    for (let i = 0; i < 3; i++) {
      const type = i === 0 ? "lead.created" : "lead.updated";
      expect((await call("/v1/events", { method: "POST", json: { type, data: { id: leadId, email: "a@b.co", name: "A", step: i } } })).status).toBe(202);
    }
    const first = await call(`/v1/entities/lead/${leadId}/events?limit=2`);
    expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(first.body.next).toBe("2");
    expect(first.body.events[0].deliveries.map((d: { handler: string }) => d.handler)).toContain("welcome-email");
    const second = await call(`/v1/entities/lead/${leadId}/events?after=${first.body.next}&limit=2`);
    expect(second.body.events.map((e: { seq: number }) => e.seq)).toEqual([3]);
    expect(second.body.next).toBeNull();
    expectError(await call(`/v1/entities/lead/${leadId}/events?limit=0`), 400, "invalid_request");
  });
});

describe("durability", () => {
  it("keeps state and the log across a server restart", async () => {
    const leadId = uid("L-durable");
    const created = await call("/v1/events", { method: "POST", json: { id: `evt-${leadId}`, ...lead(leadId, { plan: "pro" }) } });
    expect(created.status).toBe(202);
    const before = (await call(`/v1/entities/lead/${leadId}`)).body;

    await server.stop();
    server = await startServer({ persistDir: server.persistDir, vars: { TENANTS: JSON.stringify(TENANTS) } });

    const after = (await call(`/v1/entities/lead/${leadId}`)).body;
    expect(after).toEqual(before);
    const repeat = await call("/v1/events", { method: "POST", json: { id: `evt-${leadId}`, ...lead(leadId, { plan: "pro" }) } });
    expect(repeat).toMatchObject({ status: 200, body: { status: "duplicate", seq: 1 } });
    // The fingerprint survived the restart too: the same id with other content is still refused.
    expectError(await call("/v1/events", { method: "POST", json: { id: `evt-${leadId}`, ...lead(leadId) } }), 409, "id_conflict");
    const next = await call("/v1/events", { method: "POST", json: { type: "lead.updated", data: { id: leadId, plan: "team" } } });
    expect(next).toMatchObject({ status: 202, body: { seq: 2 } });
  });
});
