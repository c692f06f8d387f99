import { actorName } from "./names.ts";
import { addUsage, type UsageKey } from "../usage.ts";
import type { ApiKeyInfo, EndpointInfo, EndpointStatus, StoredSource, TenantRecord, TenantSnapshot, TenantStatus } from "../control/model.ts";
import type { Schedule, ScheduleChange, ScheduleSpec } from "../control/schedules.ts";
import type { QueueClaim, QueuedOutcome } from "../delivery/policy/outcome.ts";
import type { ReplayFilter } from "../delivery/policy/replay.ts";
import type { Backfill, BackfillSpec } from "../control/backfills.ts";
import type { SettingsPatch, TenantSettings } from "../control/settings.ts";
export type { SettingsPatch } from "../control/settings.ts";
import type { DeadLetterEntry, DeadLetterFilter, DeadLetterPage, DeliveryRef } from "../delivery/policy/dead-letters.ts";
import type { Counts } from "../metrics/counts.ts";
import type { MetricsSnapshot } from "../metrics/exposition.ts";
import type { EntityRef, EntityView, EventPage, ExportHead, IncomingEvent, IngestResult, LiveMessage } from "../types.ts";

/** What a class must provide to serve an RPC interface: each method may answer synchronously. */
export type Implementation<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R | Promise<R> : T[K];
};

/** The entity actor's RPC surface, as callers see it. `EntityActor` is checked against it. */
export interface EntityActorRpc {
  /** `recreate: false`: an erased entity stays erased whatever the tenant's settings (a schedule's firing). */
  ingest(tenant: string, events: IncomingEvent[], options?: { recreate?: boolean }): Promise<IngestResult[]>;
  getEntity(): Promise<EntityView | null>;
  listEvents(after: number, limit: number): Promise<EventPage | null>;
  /**
   * The queued work sent under `token` and a session to report its outcomes through, or null if
   * none of it is open any more (claimed, or re-sent under another token).
   */
  claimWork(token: string): Promise<QueueClaim | null>;
  reportWork(token: string, outcomes: QueuedOutcome[]): Promise<void>;
  replay(refs: DeliveryRef[]): Promise<number>;
  /** Re-delivers a handler's events matching the filter, in seq order (replay, backfill): how many; null if the entity has no event. */
  replayHandler(handler: string, filter: ReplayFilter): Promise<number | null>;
  /** A new endpoint that takes the whole log gets its cursor here from the first event: the events it has ahead; null if none. */
  followHandler(handler: string): Promise<number | null>;
  /** Deletes all of the entity's storage and its alarm (offboarding). */
  erase(): Promise<void>;
  /**
   * Erases the entity on request and leaves a tombstone: `missing` if it never had an event,
   * `gone` if it was erased before. Its D1 rows and dead letters go with it (from its alarm if the
   * first try fails).
   */
  eraseEntity(): Promise<"erased" | "missing" | "gone">;
  /** Events the entity will append later; null if it has no event. */
  scheduledEvents(): Promise<Array<{ id: string; type: string; deliverAt: number }> | null>;
  /** Cancels a scheduled event: false if none of that id is waiting; null if the entity has no event. */
  cancelScheduled(eventId: string): Promise<boolean | null>;
  /** Holds a handler's deliveries (all when absent): what is paused after; null if the entity has no event. */
  pause(handler?: string): Promise<string[] | null>;
  /** Releases held deliveries (all when absent) to drain in seq order: what stays paused. */
  resume(handler?: string): Promise<string[] | null>;
  /** Ends pending deliveries (all handlers' when absent) as skipped with the reason: how many. */
  cancel(handler: string | undefined, reason: string): Promise<number | null>;
  /** Re-reads the tenant's configuration and runs what is due (after a tenant-wide resume). */
  wake(): Promise<void>;
  /** When the entity was erased on request, or null. */
  erasedAt(): Promise<number | null>;
  /** What an export holds besides the log; null if it never had an event (or was erased). The log comes from listEvents, a page at a time. */
  exportHead(): Promise<ExportHead | null>;
}

/** What an isolate asks a delivery limiter for (gate.ts), with the limits as configured now. */
export interface LimiterRequest {
  /** Call slots wanted (0: none). */
  slots: number;
  perSecond: number | null;
  /** Concurrency permits this isolate wants to hold in all (it gives back any beyond). */
  permits: number;
  maxConcurrency: number | null;
}

export interface LimiterGrant {
  /** Epoch ms of each granted call slot, ascending; each is used within `1000 / perSecond` ms of it, or not at all. */
  slots: number[];
  permits: number;
  permitsUntil: number;
  /** With no slot granted (the horizon is full): when to ask again; else null. */
  retryAt: number | null;
}

/** A delivery limiter's RPC surface (actors/limiter-actor.ts). */
export interface LimiterActorRpc {
  grant(isolate: string, request: LimiterRequest): Promise<LimiterGrant>;
}

/** What the admin API shows of a stored tenant. */
export type TenantDescription = TenantRecord & { keys: number; entities: number };

/** What the tenant directory lists of a stored tenant. */
export type DirectoryEntry = Pick<TenantRecord, "name" | "status" | "createdAt">;

/** Who opened a live-feed socket: a stored tenant's key (by id), a TENANTS key or the operator (by digest). */
export type Watcher = { kind: "key"; id: string } | { kind: "static"; digest: string } | { kind: "admin"; digest: string };

export interface EndpointInput {
  url: string;
  eventTypes: string[] | null;
  description: string | null;
  backfill?: boolean;
  rateLimit?: { perSecond: number } | null;
  maxConcurrency?: number | null;
}

/** What `PATCH /v1/endpoints/{id}` may change. */
export type EndpointChange = Partial<Omit<EndpointInput, "backfill">> & { status?: EndpointStatus };

/** The tenant itself and its keys, for the admin API (and the snapshot every router looks up). */
export interface TenantAdminRpc {
  snapshot(): Promise<TenantSnapshot>;
  /** Null if the tenant exists already. */
  createTenant(): Promise<TenantRecord | null>;
  describe(): Promise<TenantDescription | null>;
  eraseTenant(): Promise<TenantRecord | null>;
  createKey(label: string | null): Promise<(ApiKeyInfo & { key: string }) | null>;
  /** Null if the tenant is not stored. */
  listKeys(): Promise<ApiKeyInfo[] | null>;
  revokeKey(id: string): Promise<boolean>;
  /** Null if the tenant is not stored (or not active). */
  setInheritDestinations(inherit: boolean): Promise<TenantRecord | null>;
}

/** The tenant's own configuration: destinations, endpoints, sources, paused handlers, settings. */
export interface TenantConfigRpc {
  /** False: the write was refused (see TenantActorRpc). */
  putDestination(space: string, kind: string, value: object): Promise<boolean>;
  /** Null: refused; else whether there was one to delete. */
  deleteDestination(space: string, kind: string): Promise<boolean | null>;
  /** A new endpoint; with `backfill`, a history backfill starts with it (its id in `backfillId`). "limit": the tenant has MAX_ENDPOINTS. */
  createEndpoint(space: string, input: EndpointInput): Promise<(EndpointInfo & { secret: string; backfillId?: string }) | "limit" | null>;
  listEndpoints(): Promise<EndpointInfo[]>;
  getEndpoint(id: string): Promise<EndpointInfo | null>;
  updateEndpoint(space: string, id: string, change: EndpointChange & { backfill?: boolean }): Promise<EndpointInfo | null>;
  deleteEndpoint(space: string, id: string): Promise<boolean>;
  rotateEndpointSecret(space: string, id: string): Promise<string | null>;
  /** False: refused; "limit": a new source past MAX_SOURCES (replacing one is always allowed). */
  putSource(space: string, name: string, value: StoredSource): Promise<boolean | "limit">;
  /** Null: refused; else whether there was one to delete. */
  deleteSource(space: string, name: string): Promise<boolean | null>;
  pausedHandlers(): Promise<string[]>;
  /** Pauses or resumes a handler for every entity; null when refused. */
  setHandlerPaused(space: string, handler: string, paused: boolean): Promise<boolean | null>;
  settings(): Promise<TenantSettings>;
  /** Null when refused (a stale view of the tenant). */
  updateSettings(space: string, patch: SettingsPatch): Promise<TenantSettings | null>;
}

/** What entities tell their tenant: that they exist, and that they were erased. */
export interface TenantEntitiesRpc {
  registerEntities(space: string, entities: EntityRef[]): Promise<void>;
  /** Forgets one erased entity: its dead-letter entries and its place in the list; pauses the schedules naming it. */
  forgetEntity(space: string, entity: EntityRef): Promise<void>;
}

/** The tenant-wide dead-letter index: reported by entities, listed and replayed by the API. */
export interface TenantDeadLettersRpc {
  recordDeadLetters(space: string, entries: DeadLetterEntry[]): Promise<void>;
  listDeadLetters(limit: number, cursor: number): Promise<DeadLetterPage>;
  replay(filter: DeadLetterFilter): Promise<number>;
}

/** Work the tenant's alarm walks: backfills and schedules. */
export interface TenantJobsRpc {
  /** Starts a backfill; `limit` when the tenant runs as many as it may; null when refused (stale view). */
  startBackfill(space: string, spec: BackfillSpec): Promise<Backfill | "limit" | null>;
  getBackfill(id: string): Promise<Backfill | null>;
  listBackfills(): Promise<Backfill[]>;
  /** Null: the write was refused; "limit": the tenant has as many schedules as it may. */
  createSchedule(space: string, spec: ScheduleSpec): Promise<Schedule | "limit" | null>;
  listSchedules(): Promise<Schedule[]>;
  getSchedule(id: string): Promise<Schedule | null>;
  /** Null: no such schedule (or the write was refused). */
  updateSchedule(space: string, id: string, change: ScheduleChange): Promise<Schedule | null>;
  deleteSchedule(space: string, id: string): Promise<boolean>;
}

/** What the tenant's operators watch: its metrics and the live feed. */
export interface TenantObservabilityRpc {
  /** Adds an isolate's batched counts (src/metrics/record.ts). */
  recordMetrics(counts: Counts): Promise<void>;
  /** The tenant's metric totals, with the gauges read now. */
  metrics(): Promise<MetricsSnapshot>;
  /** Sends messages to the live feed's watchers. */
  publish(messages: LiveMessage[]): Promise<void>;
  /** A single-use ticket to open the live feed as `watcher` (src/live/ticket.ts), valid until `expiresAt`. */
  issueTicket(watcher: Watcher): Promise<{ nonce: string; expiresAt: number } | null>;
}

/**
 * The tenant actor's RPC surface, by concern. Every write names the space the caller believes the
 * tenant has (`tenantSpace`): a write from a stale view of a tenant that was erased, or erased and
 * created again, is refused (false or null) and changes nothing.
 */
export interface TenantActorRpc extends TenantAdminRpc, TenantConfigRpc, TenantEntitiesRpc, TenantDeadLettersRpc, TenantJobsRpc, TenantObservabilityRpc {}

/** Every method of TenantActorRpc by name: what the actor answers over RPC, and nothing more (a test holds the class to it). */
export const TENANT_RPC_METHODS: Readonly<Record<keyof TenantActorRpc, true>> = {
  snapshot: true, createTenant: true, describe: true, eraseTenant: true, createKey: true, listKeys: true, revokeKey: true, setInheritDestinations: true,
  putDestination: true, deleteDestination: true, createEndpoint: true, listEndpoints: true, getEndpoint: true, updateEndpoint: true, deleteEndpoint: true,
  rotateEndpointSecret: true, putSource: true, deleteSource: true, pausedHandlers: true, setHandlerPaused: true, settings: true, updateSettings: true,
  registerEntities: true, forgetEntity: true, recordDeadLetters: true, listDeadLetters: true, replay: true,
  startBackfill: true, getBackfill: true, listBackfills: true, createSchedule: true, listSchedules: true, getSchedule: true, updateSchedule: true, deleteSchedule: true,
  recordMetrics: true, metrics: true, publish: true, issueTicket: true,
};

/** Every method of EntityActorRpc by name (as TENANT_RPC_METHODS). */
export const ENTITY_RPC_METHODS: Readonly<Record<keyof EntityActorRpc, true>> = {
  ingest: true, getEntity: true, listEvents: true, claimWork: true, reportWork: true, replay: true, replayHandler: true, followHandler: true,
  erase: true, eraseEntity: true, scheduledEvents: true, cancelScheduled: true, pause: true, resume: true, cancel: true, wake: true, erasedAt: true, exportHead: true,
};

/** The deployment's list of stored tenants (admin listing only). */
export interface DirectoryActorRpc {
  put(record: DirectoryEntry): Promise<void>;
  setStatus(name: string, status: TenantStatus): Promise<void>;
  remove(name: string): Promise<void>;
  list(): Promise<DirectoryEntry[]>;
  /** Active tenants stored before API keys carried a tag: only their untagged keys are looked up. */
  legacyKeyTenants(): Promise<string[]>;
}

/**
 * Every RPC call is one billed Durable Object request, so it is counted here, once, where every
 * caller makes it: the stub counts each method call under its meter. (Alarms and WebSocket
 * upgrades do not pass through a stub; the actors count those themselves.)
 */
function metered<T extends object>(stub: T, meterOf: (method: string) => UsageKey): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof prop !== "string" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        addUsage(meterOf(prop));
        // Reflect.apply, not value.apply: on an RPC stub every property, `apply` too, names a remote method.
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

/** The tenant actor's calls for metrics and the live feed are counted apart from its per-event work. */
const TENANT_METERS: Partial<Record<keyof TenantActorRpc, UsageKey>> = {
  recordMetrics: "metricsRequests",
  metrics: "metricsRequests",
  publish: "liveRequests",
  issueTicket: "liveRequests",
};

/** Typed RPC stub for an entity's actor, in its tenant's space (`tenantSpace`). */
export function entityActor(env: Cloudflare.Env, space: string, entity: EntityRef): EntityActorRpc {
  // The generated stub type maps JSON values recursively and exceeds tsc's instantiation depth;
  // this interface states the same methods (EntityActor `implements` their sync form).
  return metered(env.ENTITY.getByName(actorName(space, entity)) as unknown as EntityActorRpc, (method) => (method === "reportWork" ? "entityReportRequests" : "entityRequests"));
}

/** Typed RPC stub for the deployment's tenant directory (one instance). */
export function directory(env: Cloudflare.Env): DirectoryActorRpc {
  // As for entityActor.
  return metered(env.DIRECTORY.getByName("tenants") as unknown as DirectoryActorRpc, () => "directoryRequests");
}

/** Typed RPC stub for the limiter of one destination or endpoint of a tenant space (gate.ts). */
export function limiterActor(env: Cloudflare.Env, space: string, key: string): LimiterActorRpc {
  return metered(env.LIMITER.getByName(`${space}|${key}`) as unknown as LimiterActorRpc, () => "limiterRequests");
}

/** Typed RPC stub for a tenant's actor (one per tenant). */
export function tenantActor(env: Cloudflare.Env, tenant: string): TenantActorRpc {
  // As for entityActor: the interface states the methods the generated type would recurse over.
  return metered(env.TENANT.getByName(tenant) as unknown as TenantActorRpc, (method) => TENANT_METERS[method as keyof TenantActorRpc] ?? "tenantRequests");
}
