// Errors that carry their delivery disposition: one class per decision the retry policy makes.

/** A transient failure: try again after the backoff (or after `retryAfterMs`, if the receiver said). */
export class RetryableError extends Error {
  override name = "RetryableError";
  readonly statusCode?: number;
  readonly retryAfterMs?: number;
  constructor(message: string, statusCode?: number, retryAfterMs?: number) {
    super(message);
    this.statusCode = statusCode;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A failure that no retry can fix (a 4xx other than 408/409/425/429): dead at once. */
export class PermanentError extends Error {
  override name = "PermanentError";
  readonly statusCode?: number;
  constructor(message: string, statusCode?: number) {
    super(message);
    this.statusCode = statusCode;
  }
}

/** The handler has nothing to do (not configured, or not applicable): the delivery ends `skipped`. */
export class SkipDelivery extends Error {
  override name = "SkipDelivery";
}

/**
 * A batch that failed after its first `delivered` deliveries took effect (a write that is not
 * idempotent, such as an Analytics Engine data point): those count as succeeded, and only the
 * rest are retried, with the outcome of `cause`.
 */
export class PartialBatchError extends Error {
  override name = "PartialBatchError";
  readonly delivered: number;
  override readonly cause: unknown;
  constructor(delivered: number, cause: unknown) {
    super(`delivered ${delivered} before: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.delivered = delivered;
    this.cause = cause;
  }
}
