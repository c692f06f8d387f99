// Where a handler sends a tenant's events: the tenant's own destination where it set one (stored,
// or in TENANTS), else the deployment-wide variables, else nowhere (the delivery is skipped).
import { tenantConfig } from "../config";
import type { DestinationKind, Destinations } from "./model";
import type { TenantRuntime } from "./runtime";

type Destination<K extends DestinationKind> = NonNullable<Destinations[K]>;

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

/** Which destination a tenant's handler of this kind uses, and where it came from; null: none. */
export function destinationOf<K extends DestinationKind>(
  env: Cloudflare.Env,
  tenant: string,
  runtime: Pick<TenantRuntime, "destinations">,
  kind: K,
): { destination: Destination<K>; from: "tenant" | "deployment" } | null {
  const stored = runtime.destinations[kind] ?? tenantConfig(env, tenant)?.destinations?.[kind];
  // Both are validated against DESTINATION_SCHEMAS[kind] before they are kept.
  if (stored) return { destination: stored as Destination<K>, from: "tenant" };
  const deployment = deploymentDestination(env, kind);
  return deployment ? { destination: deployment, from: "deployment" } : null;
}
