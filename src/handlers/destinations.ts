// Where a handler sends a tenant's events: the tenant's own destination where it set one (stored,
// or in TENANTS); else the deployment-wide variables, but only for the operator's own tenants
// (TENANTS and the local demo) and for stored tenants the operator lets inherit them
// (`inheritDestinations`); else nowhere, and the delivery is skipped with the reason.
import { refusedUrl } from "../net/url-policy.ts";
import { deploymentDestination, type DestinationKindDef, type DestinationValue } from "./destination-kind.ts";

/** Where a destination came from: set by the tenant over the API, by the operator in TENANTS, or the deployment's variables. */
type DestinationSource = "stored" | "static" | "deployment";

/** A destination's fields by name, as stored or listed in TENANTS (validated against its kind's schema). */
export type DestinationFields = Record<string, string>;

/** What destinationOf needs of a tenant's configuration (src/control/runtime.ts). */
export interface DestinationLookup {
  /** Set over the API, by kind. */
  destinations: Readonly<Record<string, DestinationFields>>;
  /** Listed in TENANTS, by kind. */
  fixedDestinations: Readonly<Record<string, DestinationFields>>;
  /** Null for a tenant that is not stored (a TENANTS tenant, or the local demo). */
  record: { inheritDestinations: boolean } | null;
}

/** Which destination a tenant's handler of this kind uses, and where it came from; null: none. */
export function destinationOf<D extends DestinationKindDef>(
  env: Cloudflare.Env,
  runtime: DestinationLookup,
  kind: D,
): { destination: DestinationValue<D>; from: DestinationSource } | null {
  // Both were validated against the kind's schema before they were kept.
  const stored = runtime.destinations[kind.kind];
  if (stored) return { destination: stored as DestinationValue<D>, from: "stored" };
  const fixed = runtime.fixedDestinations[kind.kind];
  if (fixed) return { destination: fixed as DestinationValue<D>, from: "static" };
  if (runtime.record !== null && !runtime.record.inheritDestinations) return null;
  const deployment = deploymentDestination(env, kind);
  return deployment ? { destination: deployment, from: "deployment" } : null;
}

/** Why a tenant has no destination of a kind: the skip reason its deliveries end with. */
export function noDestinationReason(runtime: DestinationLookup, kind: DestinationKindDef): string {
  return runtime.record !== null && !runtime.record.inheritDestinations
    ? `no destination: the tenant has no ${kind.kind} destination (the deployment's is not inherited)`
    : `not configured: no ${kind.kind} destination for the tenant and no deployment-wide one`;
}

/**
 * Why the outbound address policy refuses a destination's URL now, or null. Applies to the URLs a
 * tenant set over the API; the operator's own (TENANTS, variables) are trusted.
 */
export function refusedDestination(env: Cloudflare.Env, found: { destination: { url: string }; from: DestinationSource }): string | null {
  return found.from === "stored" ? refusedUrl(found.destination.url, { env }) : null;
}
