import type { DeploymentSettings } from "../../config.ts";
import { PermanentError, RetryableError, SkipDelivery } from "./errors.ts";
import type { AttemptOutcome } from "./outcome.ts";

/** Statuses worth retrying, per the contract; every other non-2xx is permanent. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Maps whatever an attempt threw to its outcome. Unknown errors (network, timeouts, bugs) retry. */
export function outcomeOfError(err: unknown): AttemptOutcome {
  if (err instanceof SkipDelivery) return { kind: "skipped", reason: err.message };
  if (err instanceof PermanentError) return { kind: "dead", error: err.message, statusCode: err.statusCode };
  if (err instanceof RetryableError) {
    return { kind: "retry", error: err.message, statusCode: err.statusCode, retryAfterMs: err.retryAfterMs };
  }
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return { kind: "retry", error: "timed out" };
  }
  return { kind: "retry", error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** The backoff ceiling before attempt `attempt + 1`: base·2^(attempt−1), capped. */
export function backoffCeiling(attempt: number, settings: Pick<DeploymentSettings, "retryBaseMs" | "retryMaxDelayMs">): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 52);
  return Math.min(settings.retryMaxDelayMs, settings.retryBaseMs * 2 ** exponent);
}

/**
 * Delay before the next attempt after `attempt` failed: full jitter (uniform in [0, ceiling]),
 * so retries from many entities spread out instead of hammering a recovering receiver together.
 * A receiver's `Retry-After` is a floor, still capped at `retryMaxDelayMs`.
 */
export function retryDelay(
  attempt: number,
  settings: Pick<DeploymentSettings, "retryBaseMs" | "retryMaxDelayMs">,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const jittered = Math.floor(random() * backoffCeiling(attempt, settings));
  const floor = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, settings.retryMaxDelayMs);
  return Math.max(jittered, floor);
}

/** Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
