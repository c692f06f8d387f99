import { env } from "cloudflare:workers";
import type { EntityStore } from "../../actors/entity/store.ts";
import type { ClaimedWork } from "../../src/delivery/policy/outcome.ts";
import { entityActor } from "../../src/rpc/actors.ts";
import { actorName } from "../../src/rpc/names.ts";
import type { IncomingEvent } from "../../src/types.ts";

/** A fresh entity id per test: storage is isolated per file, not per test. */
export function uniqueId(prefix = "L"): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

export function leadEvent(leadId: string, overrides: Partial<IncomingEvent> = {}): IncomingEvent {
  const now = Date.now();
  return {
    id: `evt_${crypto.randomUUID()}`,
    type: "lead.created",
    entity: { type: "lead", id: leadId },
    occurredAt: now,
    receivedAt: now,
    data: { id: leadId, email: "ada@example.com", name: "Ada" },
    ...overrides,
  };
}

/** The RPC surface of a lead's actor, as the router calls it. */
export function leadActor(leadId: string, tenant = "demo") {
  return entityActor(env, tenant, { type: "lead", id: leadId });
}

/** The raw stub, for the cloudflare:test helpers (runInDurableObject, alarms, eviction). */
export function leadStub(leadId: string, tenant = "demo") {
  return env.ENTITY.getByName(actorName(tenant, { type: "lead", id: leadId }));
}

/** A request to the router Worker as a local client would send it. */
export function apiRequest(path: string, init: RequestInit & { json?: unknown } = {}): Request {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", "Bearer dev_demo_key");
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return new Request(`http://localhost${path}`, { ...init, headers, body });
}

/** Polls `probe` until it returns a value that is not undefined, or fails at the deadline. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The real local receiver the handlers call (started by global-setup.ts). */
export const receiver = {
  url: (): string => (env as unknown as Record<string, string>).SLACK_WEBHOOK_URL!.replace(/\/slack$/, ""),
  /** The next calls whose idempotency key contains `match` get these answers, in order. */
  async script(match: string, responses: Array<{ status: number; headers?: Record<string, string>; body?: string; delayMs?: number }>, path?: string) {
    await fetch(`${receiver.url()}/_control/script`, { method: "POST", body: JSON.stringify({ match, responses, ...(path ? { path } : {}) }) });
  },
  async calls(match: string): Promise<Array<{ path: string; headers: Record<string, string>; body: string; at: number; status: number }>> {
    return (await fetch(`${receiver.url()}/_control/calls?match=${encodeURIComponent(match)}`)).json();
  },
};

/** The deliveries of one event, by handler. */
export async function deliveries(leadId: string, eventId: string, tenant = "demo") {
  const page = await entityActor(env, tenant, { type: "lead", id: leadId }).listEvents(0, 500);
  const event = page?.events.find((e) => e.id === eventId);
  return Object.fromEntries((event?.deliveries ?? []).map((d) => [d.handler, d]));
}

/**
 * The parts of an entity actor a test may reach into: its store (the in-memory head) and the
 * queue tokens its fan-out issued (the only ones it grants claims on).
 */
type Internals = { store: EntityStore; fanOut: { leases: { issued: Map<string, number> }; claim(token: string, now: number): Promise<ClaimedWork[] | null> } };

export function internals(instance: unknown): Internals {
  return instance as Internals;
}

/** A lead delivery's idempotency key (src/delivery/policy/keys.ts), as the receiver sees it. */
export function leadKey(leadId: string, eventId: string, handler: string, tenant = "demo"): string {
  return `${tenant}/lead/${leadId}/${eventId}:${handler}`;
}
