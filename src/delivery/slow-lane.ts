// Two lanes for queued work. A queue consumer's batch ends with its slowest message, and the next
// batch waits for it (locally, where one batch runs at a time; deployed, for a slot of the
// consumer's concurrency): one tenant's CRM that answers in 8 s held every other tenant's queued
// calls for 8 s (0.5.0). workerd waits for a consumer's `waitUntil` work before the batch is done,
// so a slow call cannot be let go of once started. Instead the consumer remembers, per tenant
// space, a run that took SLOW_LANE_MS or more: for SLOW_LANE_HOLD_MS after it, the space's
// messages are forwarded to the slow lane (a second queue with its own consumer), where they wait
// behind each other and nobody else. Its first slow run still holds the fast lane once, which is
// how the consumer learns; a space whose runs are quick again for SLOW_LANE_HOLD_MS comes back.
import { logLine } from "../log.ts";
import { addUsage, queueUnits } from "../usage.ts";

/** The queue that holds the slow lane (wrangler.jsonc); its producer binding is SLOW_LANE. */
export const SLOW_LANE_QUEUE = "edgeflow-slow-work-slow";
/** A queued run this long marks its tenant space slow… */
export const SLOW_LANE_MS = 2_000;
/** …for this long after it. */
export const SLOW_LANE_HOLD_MS = 60_000;
/** Spaces remembered per isolate; the least recently marked is forgotten first. */
const REMEMBERED = 1_000;

export type Lane = "fast" | "slow";

/** Until when each space's messages go to the slow lane. */
const slowUntil = new Map<string, number>();

/** Records how long one queued run of a tenant space took (either lane). */
export function recordSpaceRun(space: string, ms: number, now = Date.now()): void {
  if (ms < SLOW_LANE_MS) return;
  slowUntil.delete(space);
  slowUntil.set(space, now + SLOW_LANE_HOLD_MS);
  if (slowUntil.size > REMEMBERED) slowUntil.delete(slowUntil.keys().next().value!);
}

/** Whether a space's messages go to the slow lane now. */
export function inSlowLane(space: string, now = Date.now()): boolean {
  return (slowUntil.get(space) ?? 0) > now;
}

/**
 * Forwards a message of a space known to be slow to the slow lane: true when it went (the caller
 * acks it here). The actor's lease still stands; its token is good in either lane.
 */
export async function toSlowLane(env: Cloudflare.Env, space: string, body: unknown): Promise<boolean> {
  if (!env.SLOW_LANE || !inSlowLane(space)) return false;
  try {
    await env.SLOW_LANE.send(body, { contentType: "json" });
    addUsage("queueWrites", queueUnits(JSON.stringify(body).length));
    return true;
  } catch (err) {
    // Run here after all: slower for the others, but nothing is lost.
    logLine(env, "warn", "queued work not moved to the slow lane; running it here", { space, error: String(err) });
    return false;
  }
}
