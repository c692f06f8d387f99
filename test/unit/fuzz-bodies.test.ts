import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../scripts/receiver.ts";
import { entityActor } from "../../src/rpc/actors.ts";

const COUNT = 10_000;
const IDS = 40;
const random = seededRandom(2026);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const encoder = new TextEncoder();

const valid = (i: number) => ({
  type: pick(["lead.created", "lead.updated", "offer.submitted"]),
  data: { id: `fz-${i % IDS}`, email: "f@example.com", name: "F", leadId: `fz-${i % IDS}`, amount: 10, currency: "USD" },
});

/** Ten ways to be malformed, each certain to be invalid whatever the random choices. */
const GENERATORS: Array<(i: number) => string | Uint8Array<ArrayBuffer>> = [
  // Truncated JSON: a proper prefix of an object never closes it.
  (i) => {
    const text = JSON.stringify(valid(i));
    return text.slice(0, 1 + Math.floor(random() * (text.length - 2)));
  },
  // Wrong types for required fields.
  (i) => JSON.stringify({ ...valid(i), type: pick([null, 7, true, [], {}]) }),
  (i) => JSON.stringify({ type: "lead.created", data: { id: `fz-${i % IDS}`, email: pick([5, null, [], "no-at-sign", "a@"]), name: "F" } }),
  (i) => JSON.stringify({ type: "offer.submitted", data: { id: `fz-${i % IDS}`, leadId: "x", amount: pick(["10", -1, 0, null, {}]), currency: "USD" } }),
  (i) => JSON.stringify({ type: "lead.updated", data: pick([[], "x", 5, null]), _i: i }),
  // Deep nesting past the 32-level limit.
  (i) => {
    const depth = 33 + Math.floor(random() * 200);
    return `{"type":"lead.updated","data":{"id":"fz-${i % IDS}","x":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
  },
  // Invalid UTF-8 inside a string.
  (i) => {
    const [head, tail] = [encoder.encode(`{"type":"lead.updated","data":{"id":"fz-${i % IDS}","note":"`), encoder.encode('"}}')];
    const bad = pick([[0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc], [0xed, 0xa0, 0x80]]);
    return new Uint8Array([...head, ...bad, ...tail]);
  },
  // Huge numbers: they parse to Infinity, which no amount or timestamp accepts.
  (i) => `{"type":"offer.submitted","occurredAt":${"9".repeat(310 + Math.floor(random() * 50))},"data":{"id":"fz-${i % IDS}","leadId":"l","amount":5,"currency":"USD"}}`,
  (i) => `{"type":"offer.submitted","data":{"id":"fz-${i % IDS}","leadId":"l","amount":1e${309 + Math.floor(random() * 999)},"currency":"USD"}}`,
  // Prototype keys carrying the required fields, which must not count as present.
  (i) =>
    pick([
      `{"__proto__":{"type":"lead.created"},"data":{"id":"fz-${i % IDS}","email":"a@b.co","name":"x"}}`,
      `{"type":"lead.created","data":{"__proto__":{"id":"fz-${i % IDS}","email":"a@b.co","name":"x"}}}`,
      `{"type":"lead.created","constructor":{"prototype":{"polluted":1}},"data":{"id":"fz-${i % IDS}","email":"a@b.co"}}`,
    ]),
];

describe("malformed bodies", () => {
  it(`get a 4xx for all ${COUNT} generated bodies, never a 5xx, and store nothing`, async () => {
    const statuses = new Map<number, number>();
    for (let i = 0; i < COUNT; i++) {
      const body = GENERATORS[i % GENERATORS.length]!(i);
      const response = await exports.default.fetch(
        new Request("http://localhost/v1/events", {
          method: "POST",
          headers: { authorization: "Bearer dev_demo_key", "content-type": "application/json" },
          body,
        }),
      );
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const json = await response.json<{ error?: { code?: string } }>();
      if (response.status < 400 || response.status >= 500 || !json.error?.code) {
        throw new Error(`body #${i} got ${response.status}: ${typeof body === "string" ? body.slice(0, 200) : "bytes"}`);
      }
    }
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(COUNT);
    for (let n = 0; n < IDS; n++) {
      for (const type of ["lead", "offer"]) expect(await entityActor(env, "demo", { type, id: `fz-${n}` }).getEntity()).toBeNull();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);
});
