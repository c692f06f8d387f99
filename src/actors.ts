import type { ClaimedWork, QueuedOutcome } from "./delivery/outcome";
import type { DeadLetterEntry, DeadLetterFilter, DeadLetterPage, DeliveryRef } from "./dead-letters";
import type { EntityRef, EntityView, EventPage, IncomingEvent, IngestResult } from "./types";

/** The actor name for an entity: tenant, type and id, none of which may contain '/'. */
export function actorName(tenant: string, entity: EntityRef): string {
  return `${tenant}/${entity.type}/${entity.id}`;
}

/** What a class must provide to serve an RPC interface: each method may answer synchronously. */
export type Implementation<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R | Promise<R> : T[K];
};

/** The entity actor's RPC surface, as callers see it. `EntityActor` is checked against it. */
export interface EntityActorRpc {
  ingest(tenant: string, events: IncomingEvent[]): Promise<IngestResult[]>;
  getEntity(): Promise<EntityView | null>;
  listEvents(after: number, limit: number): Promise<EventPage | null>;
  /** The queued work sent under `token`, or null if none of it is open any more (claimed, or re-sent under another token). */
  claimWork(token: string): Promise<ClaimedWork[] | null>;
  reportWork(token: string, outcomes: QueuedOutcome[]): Promise<void>;
  replay(refs: DeliveryRef[]): Promise<number>;
}

/** The tenant actor's RPC surface: the tenant-wide dead-letter index and its alerts. */
export interface TenantActorRpc {
  recordDeadLetters(entries: DeadLetterEntry[]): Promise<void>;
  listDeadLetters(limit: number, cursor: number): Promise<DeadLetterPage>;
  replay(filter: DeadLetterFilter): Promise<number>;
}

/** Typed RPC stub for an entity's actor. */
export function entityActor(env: Cloudflare.Env, tenant: string, entity: EntityRef): EntityActorRpc {
  // The generated stub type maps JSON values recursively and exceeds tsc's instantiation depth;
  // this interface states the same methods (EntityActor `implements` their sync form).
  return env.ENTITY.getByName(actorName(tenant, entity)) as unknown as EntityActorRpc;
}

/** Typed RPC stub for a tenant's actor (one per tenant). */
export function tenantActor(env: Cloudflare.Env, tenant: string): TenantActorRpc {
  // As for entityActor: the interface states the methods the generated type would recurse over.
  return env.TENANT.getByName(tenant) as unknown as TenantActorRpc;
}
