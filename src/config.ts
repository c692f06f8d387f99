import { DEFAULT_TENANT_BUDGET_BYTES } from "./handlers/mirror-bounds.ts";

// The deployment's numeric settings (wrangler vars with the contract's defaults) and the error for
// configuration the operator must fix. Tenants (TENANTS) are the control plane's:
// src/control/tenants-config.ts.

/** Thrown when the operator's configuration cannot be used; never the client's fault. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Positive integer setting from a wrangler var, falling back to the contract's default. */
function intSetting(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

/** Every numeric knob from the contract's configuration table, resolved with defaults. */
export interface DeploymentSettings {
  retryMaxAttempts: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  handlerTimeoutMs: number;
  followUpDelayMs: number;
  maxBodyBytes: number;
  /** How long a queued attempt may take before the actor re-sends it (the local broker can lose messages). */
  queueLeaseMs: number;
  /** At most one dead-letter alert per this interval; the rest are summarised. */
  alertIntervalMs: number;
  /** Entities a backfill walks per second at most, so its re-deliveries do not swamp the receiver or the deployment. */
  backfillRate: number;
  /** An endpoint failing continuously for this long is disabled (its deliveries hold). */
  endpointDisableAfterMs: number;
  /** The shortest interval a schedule may fire at (everySeconds, and the gaps of a cron). */
  scheduleMinIntervalSeconds: number;
  /** Endpoints a tenant may have: each is a call per event it takes. */
  maxEndpoints: number;
  /** Signed sources a tenant may store. */
  maxSources: number;
  /** Scheduled events one entity may hold at once, each a row until its time comes. */
  maxScheduledPerEntity: number;
}

export function deploymentSettings(env: Cloudflare.Env): DeploymentSettings {
  return {
    retryMaxAttempts: Math.max(1, intSetting(env.RETRY_MAX_ATTEMPTS, 10)),
    retryBaseMs: intSetting(env.RETRY_BASE_MS, 1000),
    retryMaxDelayMs: intSetting(env.RETRY_MAX_DELAY_MS, 3_600_000),
    handlerTimeoutMs: Math.max(1, intSetting(env.HANDLER_TIMEOUT_MS, 10_000)),
    followUpDelayMs: intSetting(env.FOLLOW_UP_DELAY_MS, 86_400_000),
    maxBodyBytes: Math.max(1, intSetting(env.MAX_BODY_BYTES, 1_048_576)),
    queueLeaseMs: Math.max(1000, intSetting(env.QUEUE_LEASE_MS, 120_000)),
    alertIntervalMs: intSetting(env.ALERT_INTERVAL_MS, 300_000),
    backfillRate: Math.max(1, intSetting(env.BACKFILL_RATE, 100)),
    endpointDisableAfterMs: Math.max(1, intSetting(env.ENDPOINT_DISABLE_AFTER_MS, 432_000_000)),
    scheduleMinIntervalSeconds: Math.max(1, intSetting(env.SCHEDULE_MIN_INTERVAL_SECONDS, 60)),
    maxEndpoints: intSetting(env.MAX_ENDPOINTS, 100),
    maxSources: intSetting(env.MAX_SOURCES, 50),
    maxScheduledPerEntity: intSetting(env.MAX_SCHEDULED_PER_ENTITY, 1000),
  };
}

/** D1_TENANT_BUDGET_BYTES: what one tenant's rows may hold in the shared D1 mirror (src/handlers/mirror-bounds.ts). */
export function mirrorBudget(env: Cloudflare.Env): number {
  return intSetting(env.D1_TENANT_BUDGET_BYTES, DEFAULT_TENANT_BUDGET_BYTES);
}
