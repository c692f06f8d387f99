// Every statement about deliveries, in one place. A delivery is an (event, handler) pair; most
// are settled by the handler's cursor alone (progress.through in the head) and have no row.
// A `deliveries` row exists only for what is exceptional: a pending retry or replay, a skip with
// its reason, a dead letter, or a success that took more than one attempt. Failed attempts are
// kept in `failures`; successful ones leave nothing behind.
import { withoutControls } from "../../src/text.ts";
import type { DeliveryRef } from "../../src/delivery/policy/dead-letters.ts";
import type { Db, Row } from "../shared/sql.ts";
import type { EntityStore } from "./store.ts";

type ExceptionStatus = "pending" | "succeeded" | "skipped" | "dead";

export interface ExceptionRow extends Row {
  handler: string;
  seq: number;
  /** Equal to seq, except for a run of events skipped together. */
  last_seq: number;
  status: ExceptionStatus;
  /** Attempts that ran and reported since the last replay: what the retry budget counts. */
  tries: number;
  last_error: string | null;
  next_attempt_at: number | null;
  completed_at: number | null;
}

export interface EventRow extends Row {
  seq: number;
  id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  data: string;
}

interface DeadRow extends Row {
  handler: string;
  seq: number;
  tries: number;
  last_error: string | null;
  completed_at: number;
  event_id: string;
}

/** One failed attempt, as `failures` keeps it. */
interface Failure {
  handler: string;
  seq: number;
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: "retry" | "dead";
  statusCode: number | null;
  error: string;
  /** For a retry: how long until the next attempt. */
  nextDelayMs: number | null;
  batchSize: number;
}

/** Events read per scan of the log for one handler's due range. */
const SCAN = 256;

export class Deliveries {
  private readonly db: Db;
  /** The last page pageAfter read, for the rest of the synchronous pass that read it. */
  private recentPage: { after: number; lastSeq: number; rows: EventRow[] } | null = null;

  constructor(private readonly store: EntityStore) {
    this.db = store.db;
  }

  // ─── What is due ──────────────────────────────────────────────────────────────────────────────

  /** A handler's lowest pending exception row (a retry of its first undelivered event, or a replay), if any. */
  firstOpen(handler: string): ExceptionRow | undefined {
    if (!this.store.hasExceptions) return undefined;
    return this.db.all<ExceptionRow>(
      `SELECT * FROM deliveries WHERE handler = ? AND status = 'pending' ORDER BY seq LIMIT 1`,
      handler,
    )[0];
  }

  /**
   * Up to `limit` events after `through` that concern `handler`, in seq order, leaving out any that
   * already have a settled row. `scanned` is how far the cursor may move if all of them are
   * delivered: past the events taken and past any in between that do not concern the handler.
   */
  rangeAfter(handler: string, through: number, limit: number, concerns: (type: string) => boolean): { events: EventRow[]; scanned: number } {
    const settled = this.store.hasExceptions
      ? this.db.all<{ seq: number; last_seq: number }>(
          `SELECT seq, last_seq FROM deliveries WHERE handler = ? AND last_seq > ? AND status <> 'pending'`,
          handler,
          through,
        )
      : [];
    const events: EventRow[] = [];
    let scanned = through;
    for (;;) {
      const page = this.pageAfter(scanned);
      for (const event of page) {
        const seq = Number(event.seq);
        const done = settled.some((r) => seq >= Number(r.seq) && seq <= Number(r.last_seq));
        if (concerns(event.type) && !done) {
          events.push(event);
          if (events.length === limit) return { events, scanned: seq };
        }
        scanned = seq;
      }
      if (page.length < SCAN || events.length > 0) return { events, scanned };
    }
  }

  /**
   * Up to SCAN events after `after`, in seq order. A new event puts most handlers' cursors at the
   * same place, and a turn asks for each handler's work in one synchronous pass: that pass reads
   * the page once, not once per handler. The page is kept until the pass ends (a microtask), while
   * nothing can append to or delete from the log, and only for the log's current last seq.
   */
  private pageAfter(after: number): EventRow[] {
    const lastSeq = this.store.existingHead.lastSeq;
    // Nothing is stored past the last seq: a cursor already there needs no query.
    if (after >= lastSeq) return [];
    const kept = this.recentPage;
    if (kept && kept.after === after && kept.lastSeq === lastSeq) return kept.rows;
    const rows = this.db.all<EventRow>(`SELECT seq, id, type, occurred_at, received_at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, SCAN);
    if (this.recentPage === null) queueMicrotask(() => (this.recentPage = null));
    this.recentPage = { after, lastSeq, rows };
    return rows;
  }

  /** The newest event received before `at` (0 if none): where a cursor starts that takes events from `at` on. */
  lastSeqBefore(at: number): number {
    // From the newest backwards: an endpoint is usually newer than most of the log.
    return Number(this.db.all<{ seq: number }>(`SELECT seq FROM events WHERE seq > 0 AND received_at < ? ORDER BY seq DESC LIMIT 1`, at)[0]?.seq ?? 0);
  }

  /** How many events after `through` are of a type `concerns` takes. */
  countAfter(through: number, concerns: (type: string) => boolean): number {
    return this.db
      .all<{ type: string; n: number }>(`SELECT type, COUNT(*) AS n FROM events WHERE seq > ? GROUP BY type`, through)
      .reduce((sum, row) => sum + (concerns(row.type) ? Number(row.n) : 0), 0);
  }

  /** One stored event by seq. */
  event(seq: number): EventRow | undefined {
    return seq > 0 ? this.db.all<EventRow>(`SELECT seq, id, type, occurred_at, received_at, data FROM events WHERE seq = ?`, seq)[0] : undefined;
  }

  /** Whether the log holds an event with this id. */
  hasEvent(id: string): boolean {
    return this.db.all(`SELECT 1 FROM events WHERE id = ? AND seq > 0`, id).length > 0;
  }

  /** A pending row's tries (0 if it has none): the attempts already made of a retry or a replay. */
  tries(handler: string, seq: number): number {
    if (!this.store.hasExceptions) return 0;
    return Number(this.db.all<{ tries: number }>(`SELECT tries FROM deliveries WHERE handler = ? AND seq = ?`, handler, seq)[0]?.tries ?? 0);
  }

  /** Per handler, when its earliest pending row is due; and when the earliest unreported dead letter is. */
  wakeTimes(): { pending: Map<string, number>; dead: number | null } {
    const pending = new Map<string, number>();
    let dead: number | null = null;
    if (!this.store.hasExceptions) return { pending, dead };
    // The partial index holds exactly the rows with a next_attempt_at.
    for (const row of this.db.all<{ handler: string; status: string; at: number }>(
      `SELECT handler, status, MIN(next_attempt_at) AS at FROM deliveries WHERE next_attempt_at IS NOT NULL GROUP BY handler, status`,
    )) {
      if (row.status === "pending") pending.set(row.handler, Number(row.at));
      else if (row.status === "dead") dead = Math.min(dead ?? Number.POSITIVE_INFINITY, Number(row.at));
    }
    return { pending, dead };
  }

  // ─── Recording outcomes (call inside EntityStore.update) ──────────────────────────────────────

  /** Writes or overwrites a delivery's exception row; a null error keeps the last one recorded. */
  put(row: {
    handler: string;
    seq: number;
    lastSeq?: number;
    status: ExceptionStatus;
    tries: number;
    error: string | null;
    nextAttemptAt: number | null;
    completedAt: number | null;
  }): void {
    this.store.ensureExceptionTables();
    const deadReported = row.status === "dead" ? 0 : null;
    this.db.sql`INSERT INTO deliveries (handler, seq, last_seq, status, tries, last_error, next_attempt_at, completed_at, dead_reported)
                VALUES (${row.handler}, ${row.seq}, ${row.lastSeq ?? row.seq}, ${row.status}, ${row.tries}, ${storedError(row.error)},
                        ${row.nextAttemptAt}, ${row.completedAt}, ${deadReported})
                ON CONFLICT (handler, seq) DO UPDATE SET last_seq = excluded.last_seq, status = excluded.status, tries = excluded.tries,
                  last_error = COALESCE(excluded.last_error, deliveries.last_error), next_attempt_at = excluded.next_attempt_at,
                  completed_at = excluded.completed_at, dead_reported = excluded.dead_reported`;
  }

  recordFailure(f: Failure): void {
    this.store.ensureExceptionTables();
    this.db.sql`INSERT INTO failures (handler, seq, attempt, started_at, duration_ms, outcome, status_code, error, next_delay_ms, batch_size)
                VALUES (${f.handler}, ${f.seq}, ${f.attempt}, ${f.startedAt}, ${f.durationMs}, ${f.outcome}, ${f.statusCode}, ${storedError(f.error)},
                        ${f.nextDelayMs}, ${f.batchSize})`;
  }

  // ─── Dead letters ─────────────────────────────────────────────────────────────────────────────

  /** Dead rows the tenant's index does not know about yet. */
  unreportedDead(now: number): DeadRow[] {
    if (!this.store.hasExceptions) return [];
    return this.db.all<DeadRow>(
      `SELECT d.handler, d.seq, d.tries, d.last_error, d.completed_at, e.id AS event_id
       FROM deliveries d JOIN events e ON e.seq = d.seq
       WHERE d.next_attempt_at <= ? AND d.status = 'dead' ORDER BY d.next_attempt_at LIMIT 100`,
      now,
    );
  }

  /** Every dead delivery, oldest first (an export). */
  deadRows(): DeadRow[] {
    if (!this.store.hasExceptions) return [];
    return this.db.all<DeadRow>(
      `SELECT d.handler, d.seq, d.tries, d.last_error, d.completed_at, e.id AS event_id
       FROM deliveries d JOIN events e ON e.seq = d.seq WHERE d.status = 'dead' ORDER BY d.completed_at, d.seq`,
    );
  }

  markReported(rows: ReadonlyArray<{ handler: string; seq: number }>): void {
    for (const r of rows) this.db.sql`UPDATE deliveries SET dead_reported = 1, next_attempt_at = NULL WHERE handler = ${r.handler} AND seq = ${r.seq} AND status = 'dead'`;
  }

  /** The tenant's index could not be told; try again at `at`. */
  postponeReport(rows: ReadonlyArray<{ handler: string; seq: number }>, at: number): void {
    for (const r of rows) this.db.sql`UPDATE deliveries SET next_attempt_at = ${at} WHERE handler = ${r.handler} AND seq = ${r.seq} AND status = 'dead' AND dead_reported = 0`;
  }

  /**
   * Puts dead deliveries back to pending with a fresh attempt budget, due now; the idempotency key
   * is unchanged. A replayed row runs before the handler's cursor moves on, like a retrying head.
   */
  replay(refs: readonly DeliveryRef[], now: number): number {
    if (!this.store.hasExceptions) return 0;
    let replayed = 0;
    for (const ref of refs) {
      const target = "seq" in ref ? ref : this.legacyRef(ref.legacyOutboxId);
      if (!target) continue;
      const rows = this.db.sql`UPDATE deliveries SET status = 'pending', tries = 0, next_attempt_at = ${now}, dead_reported = NULL, completed_at = NULL
                               WHERE handler = ${target.handler} AND seq = ${target.seq} AND status = 'dead' RETURNING seq`;
      replayed += rows.length;
    }
    return replayed;
  }

  /**
   * Replay on request: every event from `fromSeq` through the handler's cursor that `take` accepts
   * gets a pending row due now, with a fresh attempt budget and its original idempotency key. Rows
   * run lowest seq first, before the cursor moves on, so the handler sees them in order. A delivery
   * already pending (a retry, a replay) is left as it is, and so is a dead letter: it keeps its
   * place in the tenant's index, and replaying it is the dead-letter replay's job.
   */
  replayRange(handler: string, fromSeq: number, through: number, take: (event: { type: string; occurred_at: number }) => boolean, now: number): number {
    let replayed = 0;
    let after = Math.max(0, fromSeq - 1);
    while (after < through) {
      const page = this.db.all<{ seq: number; type: string; occurred_at: number }>(
        `SELECT seq, type, occurred_at FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
        after,
        through,
        SCAN,
      );
      if (page.length === 0) break;
      for (const event of page) {
        if (!take({ type: event.type, occurred_at: Number(event.occurred_at) })) continue;
        this.store.ensureExceptionTables();
        replayed += this.db.all(
          `INSERT INTO deliveries (handler, seq, last_seq, status, tries, next_attempt_at) VALUES (?, ?, ?, 'pending', 0, ?)
           ON CONFLICT (handler, seq) DO UPDATE SET status = 'pending', last_seq = excluded.last_seq, tries = 0,
             next_attempt_at = excluded.next_attempt_at, completed_at = NULL, dead_reported = NULL
           WHERE deliveries.status IN ('succeeded', 'skipped') RETURNING seq`,
          handler,
          Number(event.seq),
          Number(event.seq),
          now,
        ).length;
      }
      after = Number(page[page.length - 1]!.seq);
    }
    return replayed;
  }

  /** A dead letter indexed before engine v2 names its old outbox row; that table is kept for this. */
  private legacyRef(outboxId: number): { seq: number; handler: string } | undefined {
    const row = this.db.all<{ seq: number; handler: string }>(`SELECT event_seq AS seq, handler FROM outbox WHERE id = ?`, outboxId)[0];
    return row ? { seq: Number(row.seq), handler: row.handler } : undefined;
  }

  // ─── Reads ────────────────────────────────────────────────────────────────────────────────────

  /** Exception rows touching seqs first..last, for the delivery view. */
  covering(first: number, last: number): ExceptionRow[] {
    if (!this.store.hasExceptions) return [];
    return this.db.all<ExceptionRow>(`SELECT * FROM deliveries WHERE seq <= ? AND last_seq >= ?`, last, first);
  }
}

/**
 * An error as it is kept: receivers' text (a body quoted after "HTTP 503: ") is untrusted wherever
 * it is shown later (CLI, dashboard, alerts), so it is stored without control characters.
 */
function storedError<T extends string | null>(error: T): T {
  // null stays null and a string stays a string, so the type it came in with holds.
  return (error === null ? null : withoutControls(error, 1_000)) as T;
}
