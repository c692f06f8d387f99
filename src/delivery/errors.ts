// Errors that carry their delivery disposition: one class per decision the retry policy makes.

/** A transient failure: try again after the backoff (or after `retryAfterMs`, if the receiver said). */
export class RetryableError extends Error {
  override name = "RetryableError";
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A failure that no retry can fix (a 4xx other than 408/409/425/429): dead at once. */
export class PermanentError extends Error {
  override name = "PermanentError";
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/** The handler has nothing to do (not configured, or not applicable): the delivery ends `skipped`. */
export class SkipDelivery extends Error {
  override name = "SkipDelivery";
}
