// What the read endpoints show of an entity: its state and counters, and pages of its log with
// each event's deliveries, derived from the handlers' cursors and the exception rows.
import { PAYLOAD_MARK, PayloadUnreadable, refOf, type PayloadReader } from "../../src/payloads.ts";
import { handlersFor } from "../../src/handlers/registry.ts";
import { deadLetterId } from "../../src/delivery/policy/dead-letters.ts";
import type { DeliveryStatus, DeliveryView, EntityView, EventPage, EventView, ExportHead, JsonObject, SourceMeta } from "../../src/types.ts";
import type { Deliveries, EventRow, ExceptionRow } from "./deliveries.ts";
import { completedAt, handlersOf, isPaused, skipReasonOf, stateValues, type EntityHead } from "./head.ts";
import type { EntityStore } from "./store.ts";

const MAX_PAGE = 500;
/**
 * Most event data one page of the log carries. A page of 500 events of 256 KiB each would be far
 * over a Worker's 128 MB; a page ends early (with `next`) once this much is read, but always
 * holds at least one event.
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

interface LogRow extends EventRow {
  source: string | null;
}

/** Derives one delivery's view from the handler's cursor, its lease and any exception row. */
class DeliveryViews {
  private readonly rows = new Map<string, ExceptionRow[]>();
  /** Per handler: when its blocking pending row is next due (what the events behind it wait for). */
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly head: EntityHead,
    rows: readonly ExceptionRow[],
    /** Handlers the tenant pauses for every entity, as of the entity's last look at its configuration. */
    private readonly tenantPaused: ReadonlySet<string> = new Set(),
  ) {
    for (const row of rows) {
      const list = this.rows.get(row.handler) ?? [];
      list.push(row);
      this.rows.set(row.handler, list);
      if (row.status === "pending") {
        const at = Number(row.next_attempt_at);
        this.blockedUntil.set(row.handler, Math.min(this.blockedUntil.get(row.handler) ?? at, at));
      }
    }
  }

  /**
   * The handlers an event has deliveries for: its type's, the endpoints that take it, and any
   * other handler with a row for it (an endpoint deleted since, whose deliveries ended skipped).
   */
  handlers(seq: number, type: string): string[] {
    const handlers = handlersOf(this.head, seq, type, handlersFor(type));
    for (const [handler, rows] of this.rows) {
      if (!handlers.includes(handler) && rows.some((r) => seq >= Number(r.seq) && seq <= Number(r.last_seq))) handlers.push(handler);
    }
    return handlers;
  }

  view(handler: string, seq: number, receivedAt: number): DeliveryView {
    const progress = this.head.progress[handler];
    const lease = progress?.lease;
    const leased = lease !== undefined && lease.seqs.includes(seq);
    const row = this.rows.get(handler)?.find((r) => seq >= Number(r.seq) && seq <= Number(r.last_seq));
    const held = !leased && (isPaused(this.head, handler) || this.tenantPaused.has(handler));
    if (row) {
      const pending = row.status === "pending";
      // A retry or replay of a held handler waits for the resume, not for its next attempt time.
      if (pending && held) return { handler, status: "paused", attempts: Number(row.tries), lastError: row.last_error, nextAttemptAt: null, completedAt: null };
      return {
        handler,
        status: pending ? (leased ? "in_flight" : "pending") : (row.status as DeliveryStatus),
        attempts: Number(row.tries),
        lastError: row.last_error,
        nextAttemptAt: pending ? iso(row.next_attempt_at) : null,
        completedAt: pending ? null : iso(row.completed_at),
      };
    }
    if (progress && seq <= progress.through) {
      const skipped = skipReasonOf(progress, seq);
      if (skipped !== null) return { handler, status: "skipped", attempts: 0, lastError: skipped, nextAttemptAt: null, completedAt: iso(completedAt(progress, seq)) };
      return { handler, status: "succeeded", attempts: 1, lastError: null, nextAttemptAt: null, completedAt: iso(completedAt(progress, seq)) };
    }
    const waitsFor = this.blockedUntil.get(handler);
    if (held) {
      return { handler, status: "paused", attempts: 0, lastError: null, nextAttemptAt: null, completedAt: null };
    }
    return {
      handler,
      status: leased ? "in_flight" : "pending",
      attempts: 0,
      lastError: null,
      nextAttemptAt: leased ? null : iso(waitsFor ?? receivedAt),
      completedAt: null,
    };
  }
}

/** What the entity view and the export both begin with. */
function entityHead(head: EntityHead): Pick<EntityView, "entity" | "state" | "version" | "createdAt" | "updatedAt"> {
  return { entity: head.entity, state: stateValues(head.state), version: head.version, createdAt: iso(head.createdAt)!, updatedAt: iso(head.updatedAt)! };
}

/** The entity's state and counters, or null if it never received an event. */
export function entityView(store: EntityStore, deliveries: Deliveries, tenantPaused: ReadonlySet<string> = new Set()): EntityView | null {
  const head = store.head;
  if (!head) return null;
  const views = new DeliveryViews(head, deliveries.covering(1, head.lastSeq), tenantPaused);
  const counts = { pending: 0, succeeded: 0, skipped: 0, dead: 0 };
  let count = 0;
  for (const row of store.db.iterate<{ seq: number; type: string; received_at: number }>(`SELECT seq, type, received_at FROM events WHERE seq > 0 ORDER BY seq`)) {
    count++;
    for (const handler of views.handlers(Number(row.seq), row.type)) {
      const { status } = views.view(handler, Number(row.seq), Number(row.received_at));
      counts[status === "in_flight" || status === "paused" ? "pending" : status]++;
    }
  }
  return { ...entityHead(head), events: { count, lastSeq: head.lastSeq, compacted: head.compacted?.events ?? 0 }, deliveries: counts, storageBytes: store.bytes };
}

/** A page of the event log in seq order, each event with its deliveries. */
export function eventPage(store: EntityStore, deliveries: Deliveries, after: number, limit: number, tenantPaused: ReadonlySet<string> = new Set()): EventPage | null {
  const head = store.head;
  if (!head) return null;
  const size = Math.min(Math.max(1, limit), MAX_PAGE);
  // Read lazily and stop at the byte budget, so a page of large events is never all in memory.
  const page: LogRow[] = [];
  let bytes = 0;
  let more = false;
  for (const row of store.db.iterate<LogRow>(
    `SELECT seq, id, type, occurred_at, received_at, data, source FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
    Math.max(0, after),
    size + 1,
  )) {
    // Data kept in R2 counts at its full size: the page carries it whole.
    bytes += row.data.includes(PAYLOAD_MARK) ? (refOf(JSON.parse(row.data))?.bytes ?? row.data.length) : row.data.length;
    if (page.length === size || (page.length > 0 && bytes > MAX_PAGE_BYTES)) {
      more = true;
      break;
    }
    page.push(row);
  }
  const views = page.length === 0 ? null : new DeliveryViews(head, deliveries.covering(Number(page[0]!.seq), Number(page[page.length - 1]!.seq)), tenantPaused);
  return {
    events: page.map((e) => ({
      id: e.id,
      seq: Number(e.seq),
      type: e.type,
      occurredAt: iso(e.occurred_at)!,
      receivedAt: iso(e.received_at)!,
      // Stored by the log from validated JSON objects.
      data: JSON.parse(e.data) as JsonObject,
      // Written only by the log from a validated SourceMeta.
      ...(e.source === null ? {} : { source: JSON.parse(e.source) as SourceMeta }),
      deliveries: views!.handlers(Number(e.seq), e.type).map((handler) => views!.view(handler, Number(e.seq), Number(e.received_at))),
    })),
    next: more ? String(page[page.length - 1]!.seq) : null,
  };
}

/** What the entity will append later, soonest first: clients' scheduled events (rows, and timers kept before 0.6) and internal timers. */
export function scheduledList(store: EntityStore): Array<{ id: string; type: string; deliverAt: number }> {
  const head = store.existingHead;
  return [...store.scheduled.list().map((e) => ({ id: e.id, type: e.type, deliverAt: e.at })), ...head.timers.map((t) => ({ id: t.id, type: t.type, deliverAt: t.at }))].sort(
    (a, b) => a.deliverAt - b.deliverAt,
  );
}

/** Everything an export holds but the log (which the router pages through, src/router/routes/entities.ts); null if it has no event. */
export function exportHead(store: EntityStore, deliveries: Deliveries): ExportHead | null {
  const head = store.head;
  if (!head) return null;
  return {
    ...entityHead(head),
    compacted: head.compacted?.events ?? 0,
    deadLetters: deliveries.deadRows().map((r) => ({
      id: deadLetterId(head.entity, Number(r.seq), r.handler),
      eventId: r.event_id,
      handler: r.handler,
      attempts: Number(r.tries),
      lastError: r.last_error,
      deadAt: iso(r.completed_at)!,
    })),
    scheduled: scheduledList(store).map((e) => ({ ...e, deliverAt: iso(e.deliverAt)! })),
  };
}

/**
 * A view with every value kept in R2 read back in: events' data and the state. Most entities have
 * none, and then this reads nothing.
 */
export async function withPayloads<V extends { state?: JsonObject; events?: EventView[] | { count: number } }>(reader: PayloadReader, view: V): Promise<V> {
  if (view.state) view.state = await reader.state(view.state, true);
  if (Array.isArray(view.events)) {
    for (const event of view.events) {
      if (!refOf(event.data)) continue;
      try {
        event.data = await reader.data(JSON.stringify(event.data));
      } catch (err) {
        // An object that is gone or changed: no retry brings it back, so the event shows without
        // its data and says why, rather than the whole answer failing for good.
        if (!(err instanceof PayloadUnreadable)) throw err;
        event.data = {};
        event.dataError = err.message;
      }
    }
  }
  return view;
}
