// How the queue consumer holds a claim's report session (src/delivery/consumer.ts). A report through the
// session rides on the claim's billed request, but the actor stays active, and so billed as
// duration, for as long as the consumer holds it. Whether holding pays depends on how long the
// calls take, so it is decided per tenant space and claimed handlers from their recent runs.
import type { ReportSessionRpc } from "./policy/outcome.ts";
import { MovingEstimates } from "./moving-estimate.ts";
import { addUsage } from "../usage.ts";

/**
 * The longest a session is held. A request costs $0.15 per million; an active actor $12.50 per
 * million GB-s at 128 MB: the same at 96 ms. Calls done by then report on the session; slower
 * ones let the actor go and report with a request of their own.
 */
export const REPORT_SESSION_HOLD_MS = 96;

/** Recent run times by claim kind. */
const runTimes = new MovingEstimates();

/**
 * How long to hold the session of a claim of this kind: the full hold unless its recent runs took
 * longer on average, in which case holding would only add duration to the request paid anyway.
 */
export function holdFor(kind: string): number {
  return runTimes.under(kind, REPORT_SESSION_HOLD_MS) ? REPORT_SESSION_HOLD_MS : 0;
}

/** Records how long a claim of this kind took to run, for the next `holdFor`. */
export function recordRun(kind: string, ms: number): void {
  runTimes.record(kind, ms);
}

/** A claim's report session, let go once: after the report, or when its hold time is up. */
export interface HeldSession {
  /** The session, if still held; its hold timer stops, so it is not let go under the report. */
  take(): ReportSessionRpc | null;
  release(): void;
}

export function holdSession(stub: ReportSessionRpc | null, holdMs: number): HeldSession {
  if (!stub) return { take: () => null, release: () => {} };
  const since = Date.now();
  let held = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const release = () => {
    if (!held) return;
    held = false;
    clearTimeout(timer);
    stub[Symbol.dispose]();
    // The actor was kept active meanwhile: billed as duration, so counted (usage.ts).
    addUsage("entityHeldMs", Date.now() - since);
  };
  if (holdMs > 0) timer = setTimeout(release, holdMs);
  else release();
  return {
    take: () => {
      clearTimeout(timer);
      return held ? stub : null;
    },
    release,
  };
}
