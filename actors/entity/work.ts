// A handler's due work, read from the log and the exception rows: what the inline chains run and
// the queued leases send. Only reads; settling is settle.ts's.
import { idempotencyKey } from "../../src/delivery/policy/keys.ts";
import { entityPrefix, PAYLOAD_MARK, PayloadReader, refOf } from "../../src/payloads.ts";
import type { JsonValue } from "../../src/types.ts";
import type { DeliveryJob } from "../../src/handlers/handler.ts";
import type { DeliveryResult } from "../../src/delivery/policy/outcome.ts";
import type { Deliveries, EventRow } from "./deliveries.ts";
import { advance, stateValues, type Lease } from "./head.ts";
import type { EntityStore } from "./store.ts";

/** Most events one coalescing or skipped run covers. */
export const LONG_RUN = 100;

/** One handler's due work: a pending exception row (one event), or a range after its cursor. */
export interface Work {
  handler: string;
  events: EventRow[];
  /** The pending row's tries, when this is a retry or a replay; undefined for a range. */
  tries?: number;
  /** For a range: how far the cursor may move once every event in it is settled. */
  scanned: number;
}

export class WorkSource {
  constructor(
    private readonly store: EntityStore,
    private readonly deliveries: Deliveries,
    /** Whether an event of this type is one for this handler to deliver (configuration.ts). */
    private readonly concerns: (name: string, type: string) => boolean,
    /** The entity's tenant space, which idempotency keys are made in. */
    private readonly space: () => string,
    /** The actor's env, read at each use: large data is read back from its R2 bucket. */
    private readonly env: () => Cloudflare.Env,
  ) {}

  /**
   * A handler's due work: its lowest pending row if that is due (nothing, if it is not: the row
   * holds the handler's order), else up to `limit` events after its cursor. A cursor with nothing
   * after it that concerns the handler moves to the end of what was scanned.
   */
  next(name: string, now: number, limit: number): Work | null {
    const progress = this.store.existingHead.progress[name]!;
    const open = this.deliveries.firstOpen(name);
    if (open) {
      if (Number(open.next_attempt_at) > now) return null;
      const event = this.deliveries.event(Number(open.seq));
      return event ? { handler: name, events: [event], tries: Number(open.tries), scanned: Number(open.seq) } : null;
    }
    const { events, scanned } = this.deliveries.rangeAfter(name, progress.through, limit, (type) => this.concerns(name, type));
    if (events.length === 0) {
      if (scanned > progress.through) {
        advance(progress, scanned, now);
        this.store.touch();
      }
      return null;
    }
    return { handler: name, events, scanned };
  }

  /** The work a lease stands for: its events, and the pending row's tries if it is a retry or a replay. */
  leased(handler: string, lease: Lease): Work {
    return {
      handler,
      events: lease.seqs.map((seq) => this.deliveries.event(seq)).filter((e) => e !== undefined),
      tries: lease.exception ? this.deliveries.tries(handler, lease.seqs[0]!) : undefined,
      scanned: lease.seqs[lease.seqs.length - 1] ?? 0,
    };
  }

  /** The jobs for a run: each event with the entity's current state and its idempotency key. */
  async jobs(work: Work): Promise<DeliveryJob[]> {
    const head = this.store.existingHead;
    // Values kept in R2 (src/payloads.ts) are read back: handlers see the whole data.
    const payloads = new PayloadReader(this.env(), entityPrefix(this.space(), head.entity));
    const values = stateValues(head.state);
    // A state value whose object is gone for good shows as null: failing every later delivery of the
    // entity for it would stop the entity for ever. An event's own data that cannot be read fails that delivery.
    const state = await payloads.state(values, true);
    // The stored form of values kept in R2, for handlers that copy the state elsewhere (the D1 mirror).
    const stateRefs = Object.fromEntries(Object.entries(values).filter(([, value]) => refOf(value) !== null));
    // A pending row behind the cursor is a replay: a retrying head is always ahead of it.
    const through = head.progress[work.handler]?.through ?? 0;
    return Promise.all(
      work.events.map(async (event) => ({
        tenant: head.tenant,
        entity: head.entity,
        handler: work.handler,
        attempt: (work.tries ?? 0) + 1,
        event: {
          id: event.id,
          seq: Number(event.seq),
          type: event.type,
          occurredAt: Number(event.occurred_at),
          // Stored by the log from validated JSON objects, or a reference to one.
          data: await payloads.data(event.data),
        },
        state,
        // Keyed by the tenant's space: a tenant created again under an erased one's name is another
        // tenant to its receivers too, and its events never collide with the old one's keys.
        idempotencyKey: await idempotencyKey(this.space(), head.entity, event.id, work.handler),
        ...(work.tries !== undefined && Number(event.seq) <= through ? { replay: true as const } : {}),
        ...storedForm(stateRefs, event.data),
      })),
    );
  }
}

/**
 * A run whose jobs could not be made, because an event's data or a state value kept in R2 could
 * not be read back (its object missing or not matching its hash, or R2 out of reach): a failed
 * attempt at the run's first event, retried with backoff and dead in the end like any other, so
 * it never loops and never holds the rest of the entity's work.
 */
export function unreadableRun(work: Work, err: unknown, now: number): DeliveryResult[] {
  const error = `payload: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
  return [{ seq: Number(work.events[0]!.seq), report: { outcome: { kind: "retry", error }, startedAt: now, durationMs: 0 } }];
}

/** A job's `stored`: only when the entity keeps something of it in R2 (most jobs carry nothing). */
function storedForm(stateRefs: Record<string, JsonValue>, data: string): Pick<DeliveryJob, "stored"> {
  const payload = data.includes(PAYLOAD_MARK) ? refOf(JSON.parse(data)) : null;
  const hasState = Object.keys(stateRefs).length > 0;
  if (!payload && !hasState) return {};
  return { stored: { ...(hasState ? { state: stateRefs } : {}), ...(payload ? { payload } : {}) } };
}
