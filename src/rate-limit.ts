import { ApiError } from "./errors";

/** Seconds a limited client should wait: the Rate Limiting binding counts in 10-second windows. */
const RETRY_AFTER_S = 10;

/**
 * Per-tenant rate limit on the Workers Rate Limiting binding (limits in wrangler.jsonc), keyed by
 * tenant. Without the binding (it is optional) nothing is limited.
 */
export async function enforceRateLimit(env: Cloudflare.Env, tenant: string): Promise<void> {
  if (!env.RATE_LIMITER) return;
  const { success } = await env.RATE_LIMITER.limit({ key: tenant });
  if (!success) {
    throw new ApiError(429, "rate_limited", "Too many requests for this tenant; retry later", undefined, { "Retry-After": String(RETRY_AFTER_S) });
  }
}
