import { DurableObject } from "cloudflare:workers";
import type { Implementation, LimiterActorRpc, LimiterGrant, LimiterRequest } from "../src/rpc/actors.ts";

/** How long concurrency permits last unless renewed: what an isolate that went away holds them for. */
export const PERMIT_TTL_MS = 10_000;
/** How far ahead slots are handed out: past this a caller is told when to ask again. */
const HORIZON_MS = 30_000;

/**
 * One per (tenant space, destination or endpoint) that has a rate limit or a concurrency limit:
 * the single place that knows how much of it is in use across every isolate. Isolates come to it
 * for grants in batches (gate.ts), never per call, so at steady state it sees a small fraction of
 * the calls it governs.
 *
 * - Rate: call slots are moments in time, `1 / perSecond` apart, each handed out once. A caller
 *   uses a slot within its own interval or not at all, so no second holds more than
 *   `perSecond + 1` calls however slots are spread over isolates.
 * - Concurrency: each isolate holds some of `maxConcurrency` permits for PERMIT_TTL_MS, renewed
 *   while it uses them; an isolate that goes away frees its share when the lease ends.
 *
 * It keeps nothing in storage: a limiter that restarts starts its slots at the present and forgets
 * permits (the isolates' own caps still hold while their leases run), which writes no billed row.
 */
export class LimiterActor extends DurableObject<Cloudflare.Env> implements Implementation<LimiterActorRpc> {
  private nextSlot = 0;
  private readonly holders = new Map<string, { permits: number; until: number }>();

  grant(isolate: string, request: LimiterRequest): LimiterGrant {
    const now = Date.now();
    const grant: LimiterGrant = { slots: [], permits: 0, permitsUntil: 0, retryAt: null };
    if (request.perSecond !== null && request.slots > 0) {
      const interval = 1000 / request.perSecond;
      // A slow rate's interval can be longer than the horizon: the horizon then stretches to hold
      // one slot, so any accepted rate gets its next slot (the first at once), never none forever.
      const horizon = Math.max(HORIZON_MS, Math.ceil(interval));
      const start = Math.max(this.nextSlot, now);
      const room = Math.floor((now + horizon - start) / interval);
      const count = Math.max(0, Math.min(request.slots, room));
      for (let i = 0; i < count; i++) grant.slots.push(start + i * interval);
      this.nextSlot = start + count * interval;
      if (count === 0) grant.retryAt = start - horizon + interval;
    }
    if (request.maxConcurrency !== null) {
      let others = 0;
      for (const [id, held] of this.holders) {
        if (held.until <= now) this.holders.delete(id);
        else if (id !== isolate) others += held.permits;
      }
      const permits = Math.max(0, Math.min(request.permits, request.maxConcurrency - others));
      if (permits > 0) this.holders.set(isolate, { permits, until: now + PERMIT_TTL_MS });
      else this.holders.delete(isolate);
      grant.permits = permits;
      grant.permitsUntil = now + PERMIT_TTL_MS;
    } else {
      this.holders.clear();
    }
    return grant;
  }
}
