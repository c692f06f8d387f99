import { env } from "cloudflare:workers";
import { actorName, entityActor } from "../../src/actors";
import type { IncomingEvent } from "../../src/types";

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
