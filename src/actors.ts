import type { EntityRef } from "./types";

/** The actor name for an entity: tenant, type and id, none of which may contain '/'. */
export function actorName(tenant: string, entity: EntityRef): string {
  return `${tenant}/${entity.type}/${entity.id}`;
}

/** Typed RPC stub for an entity's actor. */
export function entityActor(env: Cloudflare.Env, tenant: string, entity: EntityRef) {
  return env.ENTITY.getByName(actorName(tenant, entity));
}
