// Where a handler sends a tenant's events: the tenant's own destination where it set one (stored,
// or in TENANTS); else the deployment-wide variables, but only for the operator's own tenants
// (TENANTS and the local demo) and for stored tenants the operator lets inherit them
// (`inheritDestinations`); else nowhere, and the delivery is skipped with the reason.
import { tenantConfig } from "../config";
import { refusedUrl } from "../net/url-policy";
import type { DestinationKind, Destinations, TenantRecord } from "./model";

type Destination<K extends DestinationKind> = NonNullable<Destinations[K]>;

/** Where a destination came from: set by the tenant over the API, by the operator in TENANTS, or the deployment's variables. */
export type DestinationSource = "stored" | "static" | "deployment";

const set = (value: string | undefined): value is string => typeof value === "string" && value !== "";

/** The deployment-wide destination of a kind, from its variables; null unless every required one is set. */
function deploymentDestination<K extends DestinationKind>(env: Cloudflare.Env, kind: K): Destination<K> | null {
  const found: Destinations = {};
  if (kind === "slack" && set(env.SLACK_WEBHOOK_URL)) found.slack = { url: env.SLACK_WEBHOOK_URL };
  if (kind === "email" && set(env.EMAIL_API_URL) && set(env.EMAIL_API_KEY) && set(env.EMAIL_FROM)) {
    found.email = { url: env.EMAIL_API_URL, apiKey: env.EMAIL_API_KEY, from: env.EMAIL_FROM };
  }
  if (kind === "crm" && set(env.CRM_API_URL) && set(env.CRM_API_KEY)) found.crm = { url: env.CRM_API_URL, apiKey: env.CRM_API_KEY };
  if (kind === "ai" && set(env.AI_API_URL)) {
    found.ai = { url: env.AI_API_URL, ...(set(env.AI_API_KEY) ? { apiKey: env.AI_API_KEY } : {}), ...(set(env.AI_MODEL) ? { model: env.AI_MODEL } : {}) };
  }
  return (found[kind] as Destination<K> | undefined) ?? null;
}

/** What destinationOf needs of a tenant's configuration. */
export interface DestinationLookup {
  destinations: Destinations;
  /** Null for a tenant that is not stored (a TENANTS tenant, or the local demo). */
  record: Pick<TenantRecord, "inheritDestinations"> | null;
}

/** Which destination a tenant's handler of this kind uses, and where it came from; null: none. */
export function destinationOf<K extends DestinationKind>(
  env: Cloudflare.Env,
  tenant: string,
  runtime: DestinationLookup,
  kind: K,
): { destination: Destination<K>; from: DestinationSource } | null {
  // Both are validated against DESTINATION_SCHEMAS[kind] before they are kept.
  const stored = runtime.destinations[kind];
  if (stored) return { destination: stored as Destination<K>, from: "stored" };
  const fixed = tenantConfig(env, tenant)?.destinations?.[kind];
  if (fixed) return { destination: fixed as Destination<K>, from: "static" };
  if (runtime.record !== null && !runtime.record.inheritDestinations) return null;
  const deployment = deploymentDestination(env, kind);
  return deployment ? { destination: deployment, from: "deployment" } : null;
}

/** Why a tenant has no destination of a kind: the skip reason its deliveries end with. */
export function noDestinationReason(runtime: DestinationLookup, kind: DestinationKind): string {
  return runtime.record !== null && !runtime.record.inheritDestinations
    ? `no destination: the tenant has no ${kind} destination (the deployment's is not inherited)`
    : `not configured: no ${kind} destination for the tenant and no deployment-wide one`;
}

/**
 * Why the outbound address policy refuses a destination's URL now, or null. Applies to the URLs a
 * tenant set over the API; the operator's own (TENANTS, variables) are trusted.
 */
export function refusedDestination(env: Cloudflare.Env, found: { destination: { url: string }; from: DestinationSource }): string | null {
  return found.from === "stored" ? refusedUrl(found.destination.url, { env }) : null;
}
