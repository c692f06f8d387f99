// A tenant's stored configuration as the router and the handlers use it: fetched from the tenant's
// own actor, opened (secrets decrypted), and cached in the isolate for CONFIG_TTL_MS. Requests are
// never funnelled through one shared object, and a change (a revoked key, a new destination) is
// seen everywhere within the TTL; the isolate that made the change forgets its copy at once.
import { settingsOf, type TenantSettings } from "./settings.ts";
import { tenantActor } from "../rpc/actors.ts";
import { ConfigError } from "../config.ts";
import { staticTenant } from "./tenants-config.ts";
import type { DestinationFields } from "../handlers/destinations.ts";
import { sealContext, type StoredSource, type EndpointInfo, type TenantRecord, type TenantSnapshot } from "./model.ts";
import { endpointHandlerName, tenantSpace } from "../rpc/names.ts";
import { openSecret } from "./secrets.ts";

/** How stale a cached configuration may be: the bound on a revoked key still working. */
export const CONFIG_TTL_MS = 5_000;
/** Tenants kept per isolate; the oldest entry goes first past this. */
const MAX_CACHED = 1_000;

export interface Endpoint extends EndpointInfo {
  /** `whsec_…`, opened. */
  secret: string;
}

export interface TenantConfiguration {
  /** Null when the tenant is not stored (it may still be a TENANTS tenant). */
  record: TenantRecord | null;
  /** Digest → key id, for the stored tenant's API keys. */
  keyDigests: Map<string, string>;
  /** Set over the API, by kind, opened. */
  destinations: Record<string, DestinationFields>;
  /** Listed for the tenant in TENANTS, by kind. */
  fixedDestinations: Record<string, DestinationFields>;
  /** The TENANTS tenant's `signingSecret`: its handlers' calls are signed with it. */
  signingSecret: string | undefined;
  endpoints: Map<string, Endpoint>;
  /** The tenant's stored signed sources, by name, opened. */
  sources: Map<string, StoredSource>;
  /** Handlers the tenant pauses for every entity (POST /v1/handlers/{handler}/pause). */
  pausedHandlers: Set<string>;
  /** Retention and erasure settings (`/v1/settings`). */
  settings: TenantSettings;
  /** Someone watches the live feed (src/live/feed.ts). */
  watching: boolean;
  /** Its rows in the D1 mirror are over D1_TENANT_BUDGET_BYTES: `database` deliveries skip (src/handlers/mirror-bounds.ts). */
  mirrorOverBudget: boolean;
}

/**
 * Only settled configurations are shared. A pending lookup belongs to the request (or actor) that
 * started it, and workerd does not let I/O started for one be awaited by another, so concurrent
 * misses each look up for themselves.
 */
const cache = new Map<string, { at: number; value: TenantConfiguration }>();

/** The tenant's configuration, at most CONFIG_TTL_MS old. */
export async function tenantConfiguration(env: Cloudflare.Env, tenant: string): Promise<TenantConfiguration> {
  const hit = cache.get(tenant);
  if (hit && Date.now() - hit.at < CONFIG_TTL_MS) return hit.value;
  const at = Date.now();
  const value = await load(env, tenant);
  cache.delete(tenant);
  cache.set(tenant, { at, value });
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  return value;
}

/** The configuration as it is now (for the tenant's own reads after a change), cached like any lookup. */
export function freshTenantConfiguration(env: Cloudflare.Env, tenant: string): Promise<TenantConfiguration> {
  forgetTenant(tenant);
  return tenantConfiguration(env, tenant);
}

/** Drops this isolate's copy, after a change made here: the change applies here at once. */
export function forgetTenant(tenant: string): void {
  cache.delete(tenant);
}

async function load(env: Cloudflare.Env, tenant: string): Promise<TenantConfiguration> {
  return openSnapshot(env, tenant, await tenantActor(env, tenant).snapshot());
}

/** A snapshot with its secrets opened. */
export async function openSnapshot(env: Cloudflare.Env, tenant: string, snapshot: TenantSnapshot): Promise<TenantConfiguration> {
  // Sealed under the tenant's space: what an earlier incarnation sealed does not open here.
  const space = tenantSpace(tenant, snapshot.record);
  try {
    const destinations: Record<string, DestinationFields> = {};
    for (const [kind, sealed] of Object.entries(snapshot.destinations)) {
      // Sealed by the tenant actor from a destination validated against its kind's schema.
      destinations[kind] = JSON.parse(await openSecret(env, sealContext.destination(space, kind), sealed)) as DestinationFields;
    }
    const endpoints = new Map<string, Endpoint>();
    for (const e of snapshot.endpoints) {
      endpoints.set(e.id, { ...e, secret: await openSecret(env, sealContext.endpoint(space, e.id), e.secret) });
    }
    const sources = new Map<string, StoredSource>();
    for (const [name, sealed] of Object.entries(snapshot.sources)) {
      // Sealed by the tenant actor from a validated PutSource.
      sources.set(name, JSON.parse(await openSecret(env, sealContext.source(space, name), sealed)) as StoredSource);
    }
    const fixed = staticTenant(env, tenant);
    return {
      record: snapshot.record,
      keyDigests: new Map(snapshot.keys.map((k) => [k.digest, k.id])),
      destinations,
      fixedDestinations: fixed?.destinations ?? {},
      signingSecret: fixed?.signingSecret,
      endpoints, sources,
      // A disabled endpoint holds its deliveries exactly as a paused handler does.
      pausedHandlers: new Set([...snapshot.pausedHandlers, ...snapshot.endpoints.filter((e) => e.status === "disabled").map((e) => endpointHandlerName(e.id))]),
      // A snapshot from a router or actor of the release before has none.
      settings: settingsOf(snapshot.settings ?? null),
      watching: snapshot.watching,
      mirrorOverBudget: snapshot.mirrorOverBudget === true };
  } catch (err) {
    // A sealed value that will not open means SECRETS_KEY changed: the operator's to fix.
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`stored secrets of tenant ${tenant} cannot be opened (was SECRETS_KEY changed?)`);
  }
}
