// How things are named across the system: entity actors, tenant spaces, endpoint handlers. Plain
// functions with no imports, so every layer (handlers, control plane, actors) can share them.
import type { EntityRef } from "../types.ts";

/** `endpoint:{id}`: the handler name an endpoint's deliveries go by. */
const ENDPOINT_HANDLER_PREFIX = "endpoint:";

export function endpointHandlerName(id: string): string {
  return `${ENDPOINT_HANDLER_PREFIX}${id}`;
}

/** The endpoint id in a handler name, or null if the handler is not an endpoint. */
export function endpointIdOf(handler: string): string | null {
  return handler.startsWith(ENDPOINT_HANDLER_PREFIX) ? handler.slice(ENDPOINT_HANDLER_PREFIX.length) : null;
}

/**
 * The tenant's space: what its entity actors' names and its sealing contexts begin with. The plain
 * name for TENANTS tenants and tenants stored before incarnations; `{name}~{incarnation}` for the
 * rest ('~' is never part of a tenant name).
 */
export function tenantSpace(tenant: string, record: { incarnation?: string | undefined } | null | undefined): string {
  return record?.incarnation ? `${tenant}~${record.incarnation}` : tenant;
}

/**
 * The actor name for an entity: the tenant's space (`tenantSpace`), type and id, none of which may
 * contain '/'.
 */
export function actorName(space: string, entity: EntityRef): string {
  return `${space}/${entity.type}/${entity.id}`;
}

/** The space in an entity actor's name. */
export function spaceOfActorName(name: string): string {
  return name.slice(0, name.indexOf("/"));
}
