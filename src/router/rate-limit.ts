import { ApiError } from "../api/errors.ts";

/** Seconds a limited client should wait: the Rate Limiting binding counts in 10-second windows. */
const RETRY_AFTER_S = 10;
/** The failed-authentication limit counts in 60-second windows. */
const AUTH_RETRY_AFTER_S = 60;

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

/**
 * Counts a failed authentication against the client's address on the `AUTH_FAILURE_LIMITER`
 * binding, and answers 429 past its limit, so API keys cannot be guessed at speed. The address is
 * Cloudflare's `CF-Connecting-IP`; without it (a local server) all clients share one bucket.
 */
export async function enforceAuthFailureLimit(env: Cloudflare.Env, request: Request): Promise<void> {
  if (!env.AUTH_FAILURE_LIMITER) return;
  const address = request.headers.get("cf-connecting-ip") ?? "unknown";
  const { success } = await env.AUTH_FAILURE_LIMITER.limit({ key: address });
  if (!success) {
    throw new ApiError(429, "rate_limited", "Too many failed authentication attempts; retry later", undefined, {
      "Retry-After": String(AUTH_RETRY_AFTER_S),
    });
  }
}
