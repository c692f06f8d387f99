/**
 * Inline handler calls running at once in this isolate, across every entity actor it hosts. An
 * attempt waits for a slot before it starts (and before its timeout starts), instead of piling
 * more calls onto a saturated runtime or receiver: each attempt's timeout then measures the
 * receiver, not time spent queueing behind thousands of other actors' calls (which turned into
 * spurious timeouts, retries and, under the 10,000-event chaos run, exhausted retry budgets).
 *
 * A plain counter polled by each waiting actor on its own timer, not a queue of waiters: a promise
 * must not be resolved from another actor's request. Waiting touches no storage (re-arming the
 * alarm instead would cost a storage write per wait).
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

/**
 * Waits until a slot is free and takes it, polling with jittered waits that double from 10 ms to
 * 500 ms. False if `deadline` passes first (the caller re-arms and tries again later).
 */
export async function startInlineCall(deadline: number, random: () => number = Math.random): Promise<boolean> {
  let wait = 10;
  while (!tryStartInlineCall()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait * (0.5 + random()))));
    wait = Math.min(wait * 2, 500);
  }
  return true;
}
