// A per-isolate moving estimate of how long something takes, by key (a claim's kind, a tenant's
// reports), for the choices that only pay while it is quick: holding a report session
// (src/delivery/report-session.ts), an alarm waiting for its queued report (actors/entity/queue-leases.ts).

/** Weight of the newest sample. */
const NEWEST_WEIGHT = 0.3;
/** Keys remembered per isolate; the oldest is forgotten first. */
const REMEMBERED = 1_000;

export class MovingEstimates {
  private readonly estimates = new Map<string, number>();

  /** Whether `key` is estimated under `bound`; a key with no estimate yet is given the benefit. */
  under(key: string, bound: number): boolean {
    const estimate = this.estimates.get(key);
    return estimate === undefined || estimate < bound;
  }

  /** Adds a sample for `key`. */
  record(key: string, ms: number): void {
    const before = this.estimates.get(key);
    // Re-inserted, so the Map's order is least recently recorded first.
    this.estimates.delete(key);
    this.estimates.set(key, before === undefined ? ms : before + NEWEST_WEIGHT * (ms - before));
    if (this.estimates.size > REMEMBERED) this.estimates.delete(this.estimates.keys().next().value!);
  }
}
