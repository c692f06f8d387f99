import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryOf, receiverVars, seededRandom, startReceiver, type Receiver } from "../../scripts/receiver.ts";
import { EdgeflowClient, type EnvelopeInput } from "../../client/index.ts";
import { remoteHandlersOf } from "../../scripts/lib/registry.ts";
import { startServer, waitFor, type LocalServer } from "./harness.ts";

const ENTITIES = 100;
const EVENTS_PER_ENTITY = 10;
/** Handlers that call the receiver, per type; database, analytics and follow-up stay local. */
const REMOTE: Record<string, string[]> = Object.fromEntries(["lead.created", "lead.updated"].map((type) => [type, remoteHandlersOf(type)]));
/** The CRM coalesces: one upsert of the lead's current state, under the newest event's key, delivers a burst. */
const COALESCING = new Set(["crm"]);

let receiver: Receiver;
let server: LocalServer;

beforeAll(async () => {
  receiver = await startReceiver({ failRate: 0.2, seed: 7 });
  server = await startServer({
    vars: { ...receiverVars(receiver.url), RETRY_BASE_MS: "20", RETRY_MAX_DELAY_MS: "250", RETRY_MAX_ATTEMPTS: "12", QUEUE_LEASE_MS: "10000" },
  });
});
afterAll(async () => {
  await server?.discard();
  await receiver?.close();
});

interface Delivery {
  handler: string;
  status: string;
  attempts: number;
}
interface StoredEvent {
  id: string;
  seq: number;
  type: string;
  deliveries: Delivery[];
}

const client = () => new EdgeflowClient({ baseUrl: server.url, key: "dev_demo_key" });

async function post(body: EnvelopeInput): Promise<number> {
  return (await client().raw.postEvent({ body })).status;
}

async function eventsOf(leadId: string): Promise<StoredEvent[]> {
  return (await client().api.getEntityEvents({ type: "lead", id: leadId, query: { limit: 500 } })).events as StoredEvent[];
}

/** Runs `jobs` with at most `width` in flight. */
async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

const settled = (d: Delivery) => d.status === "succeeded" || d.status === "skipped" || d.status === "dead";

describe("fan-out under failures", () => {
  it("delivers every (event, handler) pair once per idempotency key, in order, with 20% of calls failing", async () => {
    const run = Date.now().toString(36);
    // Relative to now, so no follow-up (FOLLOW_UP_DELAY_MS, a day here) falls due during the test.
    const base = Date.now() - 3_600_000;
    const leads = Array.from({ length: ENTITIES }, (_, i) => `L-${run}-${i}`);
    const events = leads.flatMap((leadId) =>
      Array.from({ length: EVENTS_PER_ENTITY }, (_, n) => ({
        id: `evt-${leadId}-${n}`,
        type: n === 0 ? "lead.created" : "lead.updated",
        occurredAt: base + n * 1000,
        data: n === 0 ? { id: leadId, email: `${leadId}@example.com`, name: `Lead ${leadId}` } : { id: leadId, step: n },
      })),
    );
    // Every event twice, in a shuffled order, 16 requests in flight.
    const random = seededRandom(11);
    const sends = [...events, ...events].map((e) => ({ e, k: random() })).sort((a, b) => a.k - b.k).map(({ e }) => () => post(e));
    const statuses = await pool(sends, 16);
    expect(statuses.filter((s) => s === 202)).toHaveLength(events.length);
    expect(statuses.filter((s) => s === 200)).toHaveLength(events.length);

    // Drain: every delivery of every event settles.
    let stored: Map<string, StoredEvent[]> = new Map();
    await waitFor(
      async () => {
        stored = new Map(await pool(leads.map((l) => async () => [l, await eventsOf(l)] as const), 8));
        return [...stored.values()].every((list) => list.length === EVENTS_PER_ENTITY && list.every((e) => e.deliveries.every(settled)));
      },
      "every delivery to settle",
      150_000,
      500,
    );

    const all = [...stored.values()].flat();
    expect(all).toHaveLength(events.length);
    const notSucceeded = all.flatMap((e) => e.deliveries.filter((d) => d.status !== "succeeded").map((d) => `${e.id}:${d.handler}=${d.status}`));
    expect(notSucceeded).toEqual([]);

    // At the receiver: each expected key succeeded exactly once; nothing unexpected succeeded. A
    // coalescing handler's keys may each appear at most once, and its last call per lead is for
    // the lead's newest event, with the lead's final state.
    const keysOf = (coalescing: boolean) => new Set(all.flatMap((e) => REMOTE[e.type]!.filter((h) => COALESCING.has(h) === coalescing).map((h) => `${e.id}:${h}`)));
    const expected = keysOf(false);
    const allowed = keysOf(true);
    // One tenant here: the event and handler name the delivery.
    const succeededKeys = [...receiver.successes.entries()].filter(([key]) => key.includes(`-${run}-`)).map(([key, n]) => [deliveryOf(key), n] as const);
    expect(succeededKeys.filter(([key]) => !expected.has(key) && !allowed.has(key))).toEqual([]);
    expect(succeededKeys.filter(([, n]) => n !== 1)).toEqual([]);
    expect(succeededKeys.filter(([key]) => expected.has(key)).length).toBe(expected.size);
    for (const [leadId, list] of stored) {
      const newest = [...list].sort((a, b) => b.seq - a.seq)[0]!;
      const crm = receiver.calls.filter((c) => c.status === 200 && c.path === `/crm/contacts/${leadId}`);
      expect(crm.at(-1)?.headers["idempotency-key"]).toBe(`demo/lead/${leadId}/${newest.id}:crm`);
      expect(JSON.parse(crm.at(-1)!.body)).toMatchObject({ id: leadId, step: EVENTS_PER_ENTITY - 1 });
    }
    const failures = receiver.calls.filter((c) => c.status >= 500 && c.headers["idempotency-key"]?.includes(`-${run}-`)).length;
    expect(failures).toBeGreaterThan(expected.size * 0.1);

    // Per (entity, handler) order: each handler's successes follow seq order.
    const successAt = new Map(receiver.calls.filter((c) => c.status === 200).map((c) => [deliveryOf(c.headers["idempotency-key"] ?? ""), c.at]));
    for (const [, list] of stored) {
      for (const handler of ["slack", "crm"]) {
        const times = list
          .sort((a, b) => a.seq - b.seq)
          .map((e) => successAt.get(`${e.id}:${handler}`))
          .filter((t) => t !== undefined);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }
    }
  });

  it("replays dead letters to success once the receiver is healthy, with the same idempotency keys", async () => {
    receiver.setFailRate(1);
    const leadId = `L-dead-${Date.now().toString(36)}`;
    expect(await post({ id: `evt-${leadId}`, type: "lead.created", data: { id: leadId, email: "d@example.com", name: "D" } })).toBe(202);
    const dead = await (async () => {
      let list: Array<{ id: string; eventId: string; handler: string }> = [];
      await waitFor(async () => {
        list = (await client().api.listDeadLetters({ query: { limit: 500 } })).deadLetters.filter((d) => d.eventId === `evt-${leadId}`);
        return list.length === REMOTE["lead.created"]!.length;
        // Five failures open each destination's circuit; its probes (this delivery's retries) fail
        // after 5 and 10 s, and from then on a retry counts once per cool-down (20 s:
        // src/delivery/gate.ts), so 12 attempts take one to two minutes.
      }, "a dead letter per remote handler", 150_000, 200);
      return list;
    })();
    expect(dead.map((d) => d.handler).sort()).toEqual([...REMOTE["lead.created"]!].sort());
    expect(REMOTE["lead.created"]).toEqual(expect.arrayContaining(["ai-analysis", "crm", "slack", "welcome-email"]));

    receiver.setFailRate(0);
    expect(await client().api.replayDeadLetters({ body: { entity: { type: "lead", id: leadId } } })).toEqual({ replayed: REMOTE["lead.created"]!.length });
    await waitFor(async () => (await eventsOf(leadId))[0]!.deliveries.every((d) => d.status === "succeeded"), "replayed deliveries", 30_000, 100);
    for (const handler of REMOTE["lead.created"]!) expect(receiver.successes.get(`demo/lead/${leadId}/evt-${leadId}:${handler}`)).toBe(1);
    const state = await client().api.getEntity({ type: "lead", id: leadId });
    expect((state.state as { analysis?: { score: number } }).analysis?.score).toBe(72);
  });
});
