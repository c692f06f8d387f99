/**
 * Inline handler calls running at once in this isolate, across every entity actor it hosts. An
 * alarm that finds the cap reached defers its work by a moment instead of piling more calls onto
 * a saturated runtime or receiver: each attempt's timeout then measures the receiver, not time
 * spent queueing behind thousands of other actors' calls (which turned into spurious timeouts,
 * retries and, under the 10,000-event chaos run, exhausted retry budgets).
 *
 * A plain counter, not a queue of waiters: promises must not be resolved across the requests of
 * different actors, and a deferred alarm needs no waiting at all.
 */
export const MAX_INLINE_CALLS_PER_ISOLATE = 64;

let inFlight = 0;

/** Takes a slot for one inline call; false when the isolate is at its cap. */
export function tryStartInlineCall(): boolean {
  if (inFlight >= MAX_INLINE_CALLS_PER_ISOLATE) return false;
  inFlight++;
  return true;
}

export function endInlineCall(): void {
  inFlight = Math.max(0, inFlight - 1);
}

/** True when no inline call can start now: an alarm then defers before doing any other work. */
export function isolateAtCap(): boolean {
  return inFlight >= MAX_INLINE_CALLS_PER_ISOLATE;
}

/**
 * How long an alarm waits after its `consecutive`-th deferral in a row: full jitter over a window
 * that doubles from 100 ms to 3.2 s, so a thousand waiting actors spread out instead of all
 * waking every few milliseconds to find the isolate still busy.
 */
export function deferralMs(consecutive: number, random: () => number = Math.random): number {
  const window = Math.min(3200, 100 * 2 ** Math.min(Math.max(consecutive - 1, 0), 5));
  return 25 + Math.floor(random() * window);
}
