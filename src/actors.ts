import type { ApiKeyInfo, DestinationKind, EndpointInfo, TenantRecord, TenantSnapshot, TenantStatus } from "./control/model";
import type { ClaimedWork, QueuedOutcome } from "./delivery/outcome";
import type { DeadLetterEntry, DeadLetterFilter, DeadLetterPage, DeliveryRef } from "./dead-letters";
import type { Counts } from "./metrics/counts";
import type { MetricsSnapshot } from "./metrics/exposition";
import type { EntityRef, EntityView, EventPage, IncomingEvent, IngestResult, LiveMessage } from "./types";

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
  /** Deletes all of the entity's storage and its alarm (offboarding). */
  erase(): Promise<void>;
}

/** What the admin API shows of a stored tenant. */
export type TenantDescription = TenantRecord & { keys: number; entities: number };

export interface EndpointInput {
  url: string;
  eventTypes: string[] | null;
  description: string | null;
}

/**
 * The tenant actor's RPC surface: the tenant's stored configuration and entity list, the
 * tenant-wide dead-letter index with its alerts, and offboarding.
 */
export interface TenantActorRpc {
  snapshot(): Promise<TenantSnapshot>;
  /** Null if the tenant exists already. */
  createTenant(): Promise<TenantRecord | null>;
  describe(): Promise<TenantDescription | null>;
  eraseTenant(): Promise<TenantRecord | null>;
  createKey(label: string | null): Promise<(ApiKeyInfo & { key: string }) | null>;
  /** Null if the tenant is not stored. */
  listKeys(): Promise<ApiKeyInfo[] | null>;
  revokeKey(id: string): Promise<boolean>;
  putDestination(kind: DestinationKind, value: object): Promise<void>;
  deleteDestination(kind: DestinationKind): Promise<boolean>;
  createEndpoint(input: EndpointInput): Promise<EndpointInfo & { secret: string }>;
  listEndpoints(): Promise<EndpointInfo[]>;
  getEndpoint(id: string): Promise<EndpointInfo | null>;
  updateEndpoint(id: string, change: Partial<EndpointInput>): Promise<EndpointInfo | null>;
  deleteEndpoint(id: string): Promise<boolean>;
  rotateEndpointSecret(id: string): Promise<string | null>;
  registerEntities(entities: EntityRef[]): Promise<void>;
  recordDeadLetters(entries: DeadLetterEntry[]): Promise<void>;
  listDeadLetters(limit: number, cursor: number): Promise<DeadLetterPage>;
  replay(filter: DeadLetterFilter): Promise<number>;
  /** Adds an isolate's batched counts (src/metrics/record.ts). */
  recordMetrics(counts: Counts): Promise<void>;
  /** The tenant's metric totals, with the gauges read now. */
  metrics(): Promise<MetricsSnapshot>;
  /** Sends messages to the live feed's watchers. */
  publish(messages: LiveMessage[]): Promise<void>;
}

/** The deployment's list of stored tenants (admin listing only). */
export interface DirectoryActorRpc {
  put(record: TenantRecord): Promise<void>;
  setStatus(name: string, status: TenantStatus): Promise<void>;
  remove(name: string): Promise<void>;
  list(): Promise<TenantRecord[]>;
}

/** Typed RPC stub for an entity's actor. */
export function entityActor(env: Cloudflare.Env, tenant: string, entity: EntityRef): EntityActorRpc {
  // The generated stub type maps JSON values recursively and exceeds tsc's instantiation depth;
  // this interface states the same methods (EntityActor `implements` their sync form).
  return env.ENTITY.getByName(actorName(tenant, entity)) as unknown as EntityActorRpc;
}

/** Typed RPC stub for the deployment's tenant directory (one instance). */
export function directory(env: Cloudflare.Env): DirectoryActorRpc {
  // As for entityActor.
  return env.DIRECTORY.getByName("tenants") as unknown as DirectoryActorRpc;
}

/** Typed RPC stub for a tenant's actor (one per tenant). */
export function tenantActor(env: Cloudflare.Env, tenant: string): TenantActorRpc {
  // As for entityActor: the interface states the methods the generated type would recurse over.
  return env.TENANT.getByName(tenant) as unknown as TenantActorRpc;
}
