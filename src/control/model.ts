// The control plane's shapes: what a tenant stores (keys, destinations, endpoints), how requests
// to change it are validated, and the snapshot its actor hands to the router and the handlers.
import type { TenantSettings } from "./settings.ts";
import { array, boolean, define, enums, nonempty, nullable, object, optional, pattern, record, size, string, type Infer } from "superstruct";
import { tenantSpace } from "../rpc/names.ts";
import { HttpUrl } from "../schemas/common.ts";
import { DeliveryControlFields } from "../delivery/policy/controls.ts";
import { SourceMappingSchema } from "../sources/mapping-schema.ts";
import { SCHEME_NAMES } from "../sources/schemes.ts";

const Text = (max: number) => size(nonempty(string()), 1, max);

/** Names of stored things a path names (tenants, sources): simple, so they never need escaping. */
export const SIMPLE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** What `PUT /v1/sources/{name}` takes: a scheme of the registry (src/sources/schemes.ts) and its secret. */
export const PutSource = object({
  scheme: enums(SCHEME_NAMES),
  secret: Text(1024),
  header: optional(pattern(size(string(), 1, 100), /^[A-Za-z0-9-]+$/)),
  mapping: optional(SourceMappingSchema),
});
export type StoredSource = Infer<typeof PutSource>;

export const CreateTenant = object({ name: string() });
export const UpdateTenant = object({ inheritDestinations: optional(boolean()) });
export const CreateKey = object({ label: optional(size(string(), 0, 200)) });

const EventTypes = size(array(string()), 1, 50);
export const CreateEndpoint = object({
  url: HttpUrl,
  eventTypes: optional(nullable(EventTypes)),
  description: optional(nullable(size(string(), 0, 500))),
  backfill: optional(boolean()),
  ...DeliveryControlFields,
});
export const UpdateEndpoint = object({
  url: optional(HttpUrl),
  eventTypes: optional(nullable(EventTypes)),
  description: optional(nullable(size(string(), 0, 500))),
  /** `active` re-enables a disabled endpoint (its held deliveries drain in order); `disabled` holds it by hand. */
  status: optional(enums(["active", "disabled"])),
  ...DeliveryControlFields,
});

export type EndpointStatus = "active" | "disabled";

/** How the API answers with a stored record: the same fields, `createdAt` as ISO-8601. */
export type Answered<T extends { createdAt: number }> = Omit<T, "createdAt"> & { createdAt: string };

/** An endpoint as the API answers it: its times as ISO-8601. */
export type EndpointAnswer = Omit<EndpointInfo, "createdAt" | "lastSuccessAt" | "failingSince"> & { createdAt: string; lastSuccessAt: string | null; failingSince: string | null };

/** A stored tenant's life: active, then erasing while its delete runs, then gone. */
export type TenantStatus = "active" | "erasing";

export interface TenantRecord {
  name: string;
  status: TenantStatus;
  createdAt: number;
  /**
   * Random per creation of the name: part of the tenant's entity actors' names and of its sealing
   * contexts, so nothing a deleted tenant left behind (a late write, an entity its erasure missed,
   * a sealed secret) belongs to a new tenant of the same name. Absent for tenants stored before
   * incarnations existed, which keep the plain name.
   */
  incarnation?: string;
  /** The operator lets this tenant use the deployment-wide destinations where it has none of its own. */
  inheritDestinations: boolean;
  /** While erasing: entities erased so far, of how many. */
  progress?: { erased: number; total: number };
}

/** A stored tenant as the admin API shows it (its incarnation is internal). */
export type TenantView = Answered<Omit<TenantRecord, "incarnation">>;

export interface ApiKeyInfo {
  id: string;
  label: string | null;
  prefix: string;
  createdAt: number;
}

export interface EndpointInfo {
  id: string;
  url: string;
  /** Null: every event type. */
  eventTypes: string[] | null;
  description: string | null;
  createdAt: number;
  /** It takes each entity's whole log, not only what arrives after it was created (`"backfill": true`). */
  backfill: boolean;
  /** `disabled`: it failed continuously for ENDPOINT_DISABLE_AFTER_MS (or was disabled by hand); its deliveries hold. */
  status: EndpointStatus;
  lastSuccessAt: number | null;
  /** When its current run of failures began; null while its last outcome was a success. */
  failingSince: number | null;
  /** Calls a second across the tenant's entities (src/delivery/gate.ts); null: no limit. */
  rateLimit: { perSecond: number } | null;
  /** Calls in flight at once across the tenant's entities; null: no limit. */
  maxConcurrency: number | null;
}

/**
 * What the tenant's actor hands out for lookups, with every secret still sealed: the router caches
 * it to authenticate, the handlers to find destinations and endpoints (src/control/runtime.ts).
 */
export interface TenantSnapshot {
  /** Null for a tenant that exists only in TENANTS (or not at all). */
  record: TenantRecord | null;
  keys: Array<{ id: string; digest: string }>;
  /** Per kind (src/handlers/kinds.ts), the destination's JSON, sealed. */
  destinations: Record<string, string>;
  endpoints: Array<EndpointInfo & { secret: string }>;
  /** Per name, the stored signed source's JSON, sealed. */
  sources: Record<string, string>;
  /** Handlers paused for every entity of the tenant. */
  pausedHandlers: string[];
  /** Retention and erasure settings (`/v1/settings`). */
  settings: TenantSettings;
  /** Whether a dashboard or `edgeflow tail` is watching the tenant's live feed. */
  watching: boolean;
  /** The tenant's rows in the shared D1 mirror passed D1_TENANT_BUDGET_BYTES when last measured (absent from actors before 0.6). */
  mirrorOverBudget?: boolean;
}

/**
 * The space a tenant has now: a stored tenant's (by its record, whatever its status), a TENANTS
 * tenant's name when `isStatic`, or null for a tenant that does not exist.
 */
export function currentSpace(tenant: string, record: Pick<TenantRecord, "incarnation"> | null, isStatic: boolean): string | null {
  return record ? tenantSpace(tenant, record) : isStatic ? tenant : null;
}

/** Seal contexts: a sealed value opens only for the tenant (incarnation) and field it was sealed for. */
export const sealContext = {
  destination: (space: string, kind: string) => `${space}/destination/${kind}`,
  endpoint: (space: string, id: string) => `${space}/endpoint/${id}`,
  source: (space: string, name: string) => `${space}/source/${name}`,
};
