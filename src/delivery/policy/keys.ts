// The idempotency key of one delivery: the same on every retry and replay, unique across tenants,
// entities, events and handlers, at most 255 printable ASCII characters (the contract).
import type { EntityRef } from "../../types.ts";

const MAX_KEY_LENGTH = 255;

/**
 * `{space}/{type}/{id}/{eventId}:{handler}`, the space being the tenant's name (or `{name}~{incarnation}`
 * for tenants stored since 0.5: src/control/model.ts `tenantSpace`). Every part is printable ASCII already (the schemas
 * see to it), and the key reads back one way only: tenant, type and id hold no '/', so they are
 * the first three fields; the handler holds no ':', so it is what follows the last one; the event
 * id (which may hold both) is what is left. A key longer than 255 characters becomes
 * `sha256:{hex}` of that text instead, which no readable key can equal (it has no '/').
 */
export async function idempotencyKey(tenant: string, entity: EntityRef, eventId: string, handler: string): Promise<string> {
  const key = `${tenant}/${entity.type}/${entity.id}/${eventId}:${handler}`;
  if (key.length <= MAX_KEY_LENGTH) return key;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
