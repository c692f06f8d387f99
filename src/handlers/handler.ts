import type { DeploymentSettings } from "../config.ts";
import type { EventDefinition } from "../events/definition.ts";
import type { DeliveryJob, HandlerResult } from "../delivery/policy/job.ts";
import type { DestinationLookup } from "./destinations.ts";
import type { Notification } from "../events/notification.ts";
import { missingVariables, type DestinationKindDef } from "./destination-kind.ts";

/** How a chat service takes a service-neutral message: the JSON body, and the URL to post it to. */
export interface NotificationChannel {
  render(notification: Notification): object;
  /** The URL to post to, from the destination's (Discord answers only once posted with `?wait=true`). */
  target?(url: string): string;
}

export type { DeliveryJob, HandlerResult } from "../delivery/policy/job.ts";

/**
 * What a handler reads of its tenant's configuration: where its destinations are, the signing
 * secret, the endpoints, the mirror's settings. The control plane's TenantConfiguration
 * (src/control/runtime.ts) is one; handlers, below the control plane, name no more of it.
 */
export interface HandlerTenant extends DestinationLookup {
  record: { incarnation?: string; inheritDestinations: boolean } | null;
  /** A TENANTS tenant's `signingSecret`: its handlers' calls are signed with it. */
  signingSecret: string | undefined;
  /** The tenant's endpoints, their secrets opened. */
  endpoints: ReadonlyMap<string, HandlerEndpoint>;
  settings: { mirror: { events: boolean } };
  /** Its rows in the D1 mirror are over their budget (mirror-bounds.ts). */
  mirrorOverBudget: boolean;
}

/** What the endpoint handlers read of one customer endpoint. */
export interface HandlerEndpoint {
  id: string;
  url: string;
  /** `whsec_…`, opened. */
  secret: string;
  eventTypes: string[] | null;
  backfill: boolean;
  createdAt: number;
}

export interface HandlerContext extends DeliveryJob {
  env: Cloudflare.Env;
  /** The tenant's stored configuration (destinations, endpoints), opened. */
  configuration: HandlerTenant;
  settings: DeploymentSettings;
  /** Aborts when the attempt's `HANDLER_TIMEOUT_MS` runs out. */
  signal: AbortSignal;
}

/**
 * One side effect. `inline` runs from the actor's alarm; `queued` runs in the Queue consumer
 * (slow calls), with the actor still owning the outcome and the retry policy.
 * Throw `SkipDelivery`, `PermanentError` or `RetryableError` to say how an attempt ended.
 */
export interface Handler<N extends string = string> {
  name: N;
  mode: "inline" | "queued";
  /** For the README's handler table (markdown): what it does, and when its deliveries end `skipped`. */
  docs: { does: string; skippedWhen: string };
  /**
   * The event types it handles: a list, or a test of each type's definition ("every type with a
   * notification"). Each type's handlers run in the registry's order (src/handlers/registry.ts).
   */
  takes: readonly string[] | ((definition: EventDefinition) => boolean);
  /**
   * Why this deployment cannot run the handler at all (an unset URL, a missing binding), or null.
   * Checked at ingest, so such deliveries are settled as skipped in the same transaction and cost
   * no alarm turn and no queue round trip.
   */
  unconfigured?(env: Cloudflare.Env): string | null;
  /**
   * The kind of destination it sends to, declared with its fields (destination-kind.ts): the
   * tenant's own where set (destinations.ts), else the deployment-wide variables. Where the handler
   * has no `unconfigured` of its own, a required variable unset is what makes it unconfigured.
   */
  destination?: DestinationKindDef;
  /**
   * For a notification handler: how it posts a service-neutral message (notify.ts). Besides event
   * notifications, the tenant's dead-letter alerts go out through every channel it has a destination for.
   */
  channel?: NotificationChannel;
  run(context: HandlerContext): Promise<HandlerResult | void>;
  /**
   * Optional: delivers up to `maxBatch` of one entity's consecutive due deliveries, in seq order,
   * in one call that succeeds or fails as a whole. An entity with a backlog (a hot lead, a replay)
   * then costs one round trip instead of one per event. Batched handlers return no effects.
   */
  runBatch?(contexts: HandlerContext[]): Promise<void>;
  maxBatch?: number;
  /**
   * Optional: the handler sends the entity's current state, so one call for the newest of several
   * due events delivers all of them (a burst of updates to one lead is one CRM upsert).
   */
  coalesce?: boolean;
  /**
   * Optional: most deliveries one actor invocation (one alarm) may run, for a service that caps
   * writes per invocation. The rest wait for the next alarm, which is due at once.
   */
  maxPerInvocation?: number;
}

/**
 * Declares a handler, keeping its name as a literal type so the registry can derive `HandlerName`.
 * A handler with a destination and no `unconfigured` is unconfigured while a required variable of
 * its kind is unset.
 */
export function defineHandler<const N extends string>(handler: Handler<N>): Handler<N> {
  const kind = handler.destination;
  if (handler.unconfigured || !kind) return handler;
  return { ...handler, unconfigured: (env) => missingVariables(env, kind) };
}

/** Whether a handler takes events of a type. */
export function takes(handler: Pick<Handler, "takes">, definition: EventDefinition): boolean {
  return typeof handler.takes === "function" ? handler.takes(definition) : handler.takes.includes(definition.type);
}

/**
 * Handlers the tenant's configuration makes at run time, one per configured thing (a customer
 * endpoint each), under names only the family uses. Registered like handlers (registry.ts); the
 * fan-out asks the family, not the configuration, which exist, what they take and whether they can run.
 */
export interface HandlerFamily {
  /** The handler of a name in this family, or undefined for a name that is not. */
  handler(name: string): Handler | undefined;
  /** The tenant's members now: each takes events received after `since` (epoch ms) of `types` (null: all). */
  members(runtime: HandlerTenant): Array<{ name: string; since: number; types: string[] | null }>;
  /** Whether a member takes a type (a deleted member takes everything left, to settle it). */
  takes(name: string, type: string, runtime: HandlerTenant): boolean;
  /** Why a member cannot run (it was deleted), or null. */
  unconfigured(name: string, runtime: HandlerTenant): string | null;
}
