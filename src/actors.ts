import type { EntityRef, EntityView, EventPage, IncomingEvent, IngestResult } from "./types";

/** The actor name for an entity: tenant, type and id, none of which may contain '/'. */
export function actorName(tenant: string, entity: EntityRef): string {
  return `${tenant}/${entity.type}/${entity.id}`;
}

/** The entity actor's RPC surface, as callers see it. `EntityActor` is checked against it. */
export interface EntityActorRpc {
  ingest(tenant: string, events: IncomingEvent[]): Promise<IngestResult[]>;
  getEntity(): Promise<EntityView | null>;
  listEvents(after: number, limit: number): Promise<EventPage | null>;
}

/** Typed RPC stub for an entity's actor. */
export function entityActor(env: Cloudflare.Env, tenant: string, entity: EntityRef): EntityActorRpc {
  // The generated stub type maps JSON values recursively and exceeds tsc's instantiation depth;
  // this interface states the same methods (EntityActor `implements` their sync form).
  return env.ENTITY.getByName(actorName(tenant, entity)) as unknown as EntityActorRpc;
}
