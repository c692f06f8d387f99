import type { Settings } from "../src/config";
import type { AttemptReport } from "../src/delivery/outcome";
import { retryDelay } from "../src/delivery/retry";
import type { Db, Row, Sql } from "./sql";

export interface OutboxRow extends Row {
  id: number;
  event_seq: number;
  handler: string;
  status: string;
  /** The lease token: bumped by every attempt started, whether or not it reports back. */
  attempts: number;
  /** Attempts that reported an outcome since the last replay: what the retry budget counts. */
  tries: number;
  last_error: string | null;
  next_attempt_at: number | null;
  lease_until: number | null;
  completed_at: number | null;
}

export interface DeadRow extends Row {
  id: number;
  handler: string;
  attempts: number;
  last_error: string | null;
  dead_at: number;
  event_id: string;
}

/** What finishing an attempt did, so the actor can apply the handler's effects on success. */
export type Finished = "succeeded" | "skipped" | "retry" | "dead" | "stale";

// The head of a handler's queue: its open row with the lowest seq. Only heads may run, which is
// what makes each handler see an entity's events in seq order. The grouped MIN walks the partial
// index outbox_open_by_handler once, instead of running a subquery for every open row, which
// made a hot entity's backlog slower to drain the longer it grew.
const HEADS = `
  SELECT o.* FROM outbox o
  JOIN (SELECT handler, MIN(event_seq) AS head_seq FROM outbox WHERE status IN ('pending', 'in_flight') GROUP BY handler) h
    ON o.handler = h.handler AND o.event_seq = h.head_seq
  WHERE o.status IN ('pending', 'in_flight')`;

// One handler's head: an index seek on outbox_open_by_handler.
const HEAD_OF = `SELECT * FROM outbox WHERE handler = ?1 AND status IN ('pending', 'in_flight') ORDER BY event_seq LIMIT 1`;

/** The outbox's SQL, in one place: which deliveries are due, and how each attempt ends. */
export class Outbox {
  private readonly sql: Sql;

  constructor(private readonly db: Db) {
    this.sql = db.sql;
  }

  /** Due heads: pending and due, or in flight with a lapsed lease (a crash or a lost message). */
  dueHeads(now: number): OutboxRow[] {
    return this.db.all<OutboxRow>(
      `${HEADS} AND ((o.status = 'pending' AND o.next_attempt_at <= ?1) OR (o.status = 'in_flight' AND o.lease_until <= ?1))
       ORDER BY o.event_seq, o.id`,
      now,
    );
  }

  /**
   * Up to `limit` of one handler's open rows from its head on, in seq order, as long as each is
   * pending and due: what a batching handler may take in one call. Empty when the head is not due
   * or is in flight (a lapsed lease re-runs on its own).
   */
  dueRun(now: number, handler: string, limit: number): OutboxRow[] {
    const rows = this.db.all<OutboxRow>(`SELECT * FROM outbox WHERE handler = ?1 AND status IN ('pending', 'in_flight') ORDER BY event_seq LIMIT ?2`, handler, limit);
    const run: OutboxRow[] = [];
    for (const row of rows) {
      if (row.status !== "pending" || Number(row.next_attempt_at) > now) break;
      run.push(row);
    }
    return run;
  }

  /** One handler's head if it is due now, else undefined. */
  dueHead(now: number, handler: string): OutboxRow | undefined {
    const head = this.db.all<OutboxRow>(HEAD_OF, handler)[0];
    if (!head) return undefined;
    const due = head.status === "pending" ? Number(head.next_attempt_at) <= now : Number(head.lease_until) <= now;
    return due ? head : undefined;
  }

  /**
   * When the actor next has something to do: the earliest head due or lease end, an unreported
   * dead letter, or a timer. Overdue times are included (they mean "now"). Null when idle.
   */
  nextWakeAt(): number | null {
    const head = this.db.all<{ at: number | null }>(`SELECT MIN(CASE status WHEN 'pending' THEN next_attempt_at ELSE lease_until END) AS at FROM (${HEADS})`)[0]?.at ?? null;
    const dead = this.sql<{ at: number | null }>`SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'dead' AND dead_reported = 0`[0]?.at ?? null;
    const timer = this.sql<{ at: number | null }>`SELECT MIN(due_at) AS at FROM timers WHERE fired_at IS NULL`[0]?.at ?? null;
    const times = [head, dead, timer].filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  /** Sends of this row since its last reported attempt: each one's lease lapsed with no outcome. */
  lapsedSends(row: OutboxRow): number {
    const lastReported = Number(this.sql<{ n: number }>`SELECT COALESCE(MAX(attempt), 0) AS n FROM attempts WHERE outbox_id = ${row.id}`[0]!.n);
    return Math.max(0, Number(row.attempts) - lastReported);
  }

  /**
   * Marks a head in flight under a lease and returns the attempt number it starts (the token a
   * queued attempt's claim and report must carry).
   */
  begin(row: OutboxRow, now: number, leaseMs: number): number {
    const attempt = Number(row.attempts) + 1;
    this.sql`UPDATE outbox SET status = 'in_flight', attempts = ${attempt}, lease_until = ${now + leaseMs} WHERE id = ${row.id}`;
    return attempt;
  }

  /**
   * Claims a queued attempt for one consumer run and restarts its lease: true only for the first
   * claim of the current attempt of a row still in flight. A second claim of the same attempt
   * (a re-delivered message) is refused, so the call never runs twice under one lease.
   */
  claim(outboxId: number, attempt: number, leaseUntil: number): boolean {
    const claimed = this.sql`UPDATE outbox SET lease_until = ${leaseUntil}, claimed_attempt = ${attempt}
                             WHERE id = ${outboxId} AND status = 'in_flight' AND attempts = ${attempt}
                               AND (claimed_attempt IS NULL OR claimed_attempt <> ${attempt})
                             RETURNING id`;
    return claimed.length === 1;
  }

  /**
   * Records an attempt and moves the row on: succeeded/skipped end it; a retryable failure
   * reschedules it with backoff, or makes it dead once attempts are used up; a permanent failure
   * makes it dead at once. A report for an attempt that is no longer current is ignored ("stale").
   */
  finish(outboxId: number, attempt: number, report: AttemptReport, now: number, settings: Settings, batchSize = 1): Finished {
    const row = this.sql<OutboxRow>`SELECT * FROM outbox WHERE id = ${outboxId}`[0];
    if (!row || row.status !== "in_flight" || Number(row.attempts) !== attempt) return "stale";
    const { outcome } = report;
    // Only attempts that ran count against the budget: a queued attempt re-sent because its lease
    // lapsed in a queue backlog has not been tried.
    const tries = Number(row.tries) + 1;
    let finished: Finished;
    let nextDelay: number | null = null;
    let error: string | null = null;
    if (outcome.kind === "succeeded") {
      finished = "succeeded";
      this.sql`UPDATE outbox SET status = 'succeeded', tries = ${tries}, completed_at = ${now}, next_attempt_at = NULL, lease_until = NULL WHERE id = ${outboxId}`;
    } else if (outcome.kind === "skipped") {
      finished = "skipped";
      error = outcome.reason;
      this.sql`UPDATE outbox SET status = 'skipped', tries = ${tries}, completed_at = ${now}, last_error = ${error}, next_attempt_at = NULL, lease_until = NULL
               WHERE id = ${outboxId}`;
    } else if (outcome.kind === "retry" && tries < settings.retryMaxAttempts) {
      finished = "retry";
      error = outcome.error;
      nextDelay = retryDelay(tries, settings, outcome.retryAfterMs);
      this.sql`UPDATE outbox SET status = 'pending', tries = ${tries}, last_error = ${error}, next_attempt_at = ${now + nextDelay}, lease_until = NULL
               WHERE id = ${outboxId}`;
    } else {
      finished = "dead";
      error = outcome.kind === "retry" ? `${outcome.error} (gave up after ${tries} attempts)` : outcome.error;
      // next_attempt_at now means "report to the tenant's dead-letter index now".
      this.sql`UPDATE outbox SET status = 'dead', tries = ${tries}, dead_at = ${now}, dead_reported = 0, last_error = ${error},
               next_attempt_at = ${now}, lease_until = NULL WHERE id = ${outboxId}`;
    }
    const statusCode = outcome.kind === "skipped" ? null : (outcome.statusCode ?? null);
    this.sql`INSERT INTO attempts (outbox_id, attempt, started_at, duration_ms, outcome, status_code, error, next_delay_ms, batch_size)
             VALUES (${outboxId}, ${attempt}, ${report.startedAt}, ${report.durationMs}, ${finished}, ${statusCode}, ${error}, ${nextDelay}, ${batchSize})`;
    return finished;
  }

  /** Dead rows the tenant's index does not know about yet. */
  unreportedDead(now: number): DeadRow[] {
    return this.sql<DeadRow>`SELECT o.id, o.handler, o.tries AS attempts, o.last_error, o.dead_at, e.id AS event_id
                             FROM outbox o JOIN events e ON e.seq = o.event_seq
                             WHERE o.status = 'dead' AND o.dead_reported = 0 AND o.next_attempt_at <= ${now}
                             ORDER BY o.id LIMIT 100`;
  }

  markReported(ids: number[]): void {
    for (const id of ids) this.sql`UPDATE outbox SET dead_reported = 1, next_attempt_at = NULL WHERE id = ${id} AND status = 'dead'`;
  }

  /** The tenant's index could not be told; try again at `at`. */
  postponeReport(ids: number[], at: number): void {
    for (const id of ids) this.sql`UPDATE outbox SET next_attempt_at = ${at} WHERE id = ${id} AND status = 'dead' AND dead_reported = 0`;
  }

  /** Puts dead rows back to pending with a fresh attempt budget; the idempotency key is unchanged. */
  replay(ids: number[], now: number): number {
    let replayed = 0;
    for (const id of ids) {
      if (!this.sql`SELECT 1 FROM outbox WHERE id = ${id} AND status = 'dead'`[0]) continue;
      // The lease token (attempts) keeps counting up, so no message from before the replay can
      // pass for a new attempt; the budget (tries) starts again.
      this.sql`UPDATE outbox SET status = 'pending', tries = 0, next_attempt_at = ${now}, dead_at = NULL, dead_reported = NULL,
               lease_until = NULL, completed_at = NULL WHERE id = ${id}`;
      replayed++;
    }
    return replayed;
  }

}
