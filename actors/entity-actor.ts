import { DurableObject } from "cloudflare:workers";
import { actorName, tenantActor, type EntityActorRpc, type Implementation } from "../src/actors";
import { settings as readSettings, type Settings } from "../src/config";
import { deadLetterId } from "../src/dead-letters";
import { executeBatch, executeDelivery } from "../src/delivery/execute";
import type { AttemptReport } from "../src/delivery/outcome";
import { eventDefinition } from "../src/events/registry";
import { INTERNAL_ID_PREFIX } from "../src/schemas/common";
import type { DeliveryJob, HandlerResult } from "../src/handlers/handler";
import { handler as findHandler } from "../src/handlers/registry";
import type { SlowWorkMessage } from "../src/queue";
import type {
  DeliveryStatus,
  DeliveryView,
  EntityRef,
  EntityView,
  EventPage,
  IncomingEvent,
  IngestResult,
  JsonObject,
  JsonValue,
  SourceMeta,
} from "../src/types";
import { pointAlarm, wakeBy } from "./alarm";
import { migrate } from "./migrations";
import { endInlineCall, startInlineCall } from "./outbound";
import { Outbox, type OutboxRow } from "./outbox";
import { Db, ENTITY_SQL, type Sql } from "./sql";
import { addUsage, queueUnits } from "../src/usage";

/** The entity's identity and the next seq, read once per ingest transaction. */
interface IngestLog {
  tenant: string;
  entity: EntityRef;
  nextSeq: number;
  /** Events appended so far in this transaction. */
  appended: number;
}

interface EntityRow extends Record<string, SqlStorageValue> {
  tenant: string;
  type: string;
  id: string;
  version: number;
  created_at: number;
  updated_at: number;
}

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  data: string;
  source: string | null;
}

const MAX_PAGE = 500;
/**
 * Most event data one page of the log carries. A page of 500 events of 256 KiB each would be far
 * over a Worker's 128 MB; a page ends early (with `next`) once this much is read, but always
 * holds at least one event.
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/**
 * Sends of a queued attempt whose lease lapsed with no report (a consumer killed by a CPU limit,
 * an OOM, a failed RPC) before that attempt counts against the retry budget as a failed try, so
 * a delivery that never reports still ends as a dead letter.
 */
export const MAX_UNREPORTED_SENDS = 3;

/** How long one alarm keeps working before it re-arms and yields (the platform allows 15 min). */
const ALARM_BUDGET_MS = 25_000;
/** Extra lease beyond the attempt timeout, so a slow-but-finishing attempt is not run twice. */
const LEASE_MARGIN_MS = 5_000;
/** Retry delay for telling the tenant's index about dead letters. */
const REPORT_RETRY_MS = 5_000;


// Stored by this class from validated JSON values, so parsing gives JSON back.
const parseJson = (text: string): JsonValue => JSON.parse(text) as JsonValue;
const parseJsonObject = (text: string): JsonObject => JSON.parse(text) as JsonObject;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * One Durable Object per entity (`{tenant}/{type}/{id}`): the source of truth for that entity's
 * event log, its merged state and its outbox of deliveries.
 */
export class EntityActor extends DurableObject<Cloudflare.Env> implements Implementation<EntityActorRpc> {
  private readonly db: Db;
  private readonly sql: Sql;
  private readonly outbox: Outbox;
  private readonly settings: Settings;
  /** Per handler: why this deployment cannot run it, or null. The env does not change under an instance. */
  private readonly skipReasons = new Map<string, string | null>();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.db = new Db(ctx.storage.sql, ENTITY_SQL);
    this.sql = this.db.sql;
    this.outbox = new Outbox(this.db);
    this.settings = readSettings(env);
    // Synchronous SQL in the constructor runs before any request is delivered.
    const isNew = migrate(ctx.storage, this.db) === 0;
    // Rows are the truth and the alarm only points at them: if work is waiting but the alarm
    // was lost (a crash between commit and setAlarm, a code reload), point it again. A new
    // actor has no rows, so it skips the check.
    if (!isNew) {
      ctx.blockConcurrencyWhile(async () => {
        if (this.outbox.nextWakeAt() !== null && (await ctx.storage.getAlarm()) === null) await this.scheduleNextAlarm();
      });
    }
  }

  /** Points the single alarm at the earliest due work (overdue included), or deletes it when idle. */
  private async scheduleNextAlarm(): Promise<void> {
    await pointAlarm(this.ctx.storage, this.outbox.nextWakeAt());
  }

  /**
   * Stores events for this entity. For each event, in ONE synchronous transaction: dedupe by id,
   * append to the log with the next seq, merge `data` into the state (per-field last writer wins
   * by occurredAt, then id), and write one outbox row per handler. The RPC answers only after the
   * write is durable (the output gate holds the reply until then).
   */
  async ingest(tenant: string, events: IncomingEvent[]): Promise<IngestResult[]> {
    addUsage("entityRequests");
    const now = Date.now();
    const results = this.ctx.storage.transactionSync(() => {
      const log = this.openLog(tenant, events[0]!.entity, now);
      const results = events.map((event) => this.ingestOne(tenant, event, now, log));
      this.closeLog(log, now);
      return results;
    });
    // New rows are due at once, so making the alarm fire by now is all the scheduling ingest
    // needs; if they wait behind an open head, that early alarm finds nothing and re-arms.
    if (results.some((r) => r.status === "accepted")) await wakeBy(this.ctx.storage, now);
    return results;
  }

  /**
   * Reads (or creates) the entity row and the next seq once per transaction, so a batch of an
   * entity's events costs one read of each, not one per event. Call inside a transaction only.
   */
  private openLog(tenant: string, entity: EntityRef, now: number): IngestLog {
    const current = this.identity();
    if (!current) {
      this.sql`INSERT INTO entity (singleton, tenant, type, id, version, created_at, updated_at)
               VALUES (1, ${tenant}, ${entity.type}, ${entity.id}, 0, ${now}, ${now})`;
    }
    const nextSeq = Number(this.sql<{ seq: number }>`SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events`[0]!.seq);
    return { ...(current ?? { tenant, entity }), nextSeq, appended: 0 };
  }

  private closeLog(log: IngestLog, now: number): void {
    if (log.appended > 0) this.sql`UPDATE entity SET version = version + ${log.appended}, updated_at = ${now}`;
  }

  private ingestOne(tenant: string, event: IncomingEvent, now: number, log: IngestLog): IngestResult {
    if (log.tenant !== tenant || log.entity.type !== event.entity.type || log.entity.id !== event.entity.id) {
      // Actor names are derived from these three values, so a mismatch is a routing bug.
      throw new Error("event routed to the wrong entity actor");
    }
    const known = this.sql<{ seq: number; fingerprint: string | null }>`SELECT seq, fingerprint FROM events WHERE id = ${event.id}`[0];
    if (known) {
      // Events stored before fingerprints existed (NULL) cannot be told apart: a repeat is a duplicate.
      const conflict = known.fingerprint !== null && event.fingerprint !== undefined && known.fingerprint !== event.fingerprint;
      return { id: event.id, entity: event.entity, status: conflict ? "conflict" : "duplicate", seq: known.seq };
    }

    const definition = eventDefinition(event.type);
    if (!definition) throw new Error(`unregistered event type reached the actor: ${event.type}`);

    const seq = log.nextSeq++;
    log.appended++;
    this.sql`INSERT INTO events (seq, id, type, occurred_at, received_at, data, fingerprint, source)
             VALUES (${seq}, ${event.id}, ${event.type}, ${event.occurredAt}, ${event.receivedAt}, ${JSON.stringify(event.data)},
                     ${event.fingerprint ?? null}, ${event.source ? JSON.stringify(event.source) : null})`;
    this.mergeState(event.data, event.occurredAt, event.id);
    for (const handler of definition.handlers) {
      const skip = this.unconfigured(handler);
      if (skip === null) {
        this.sql`INSERT INTO outbox (event_seq, handler, status, next_attempt_at, created_at)
                 VALUES (${seq}, ${handler}, 'pending', ${now}, ${now})`;
      } else {
        this.sql`INSERT INTO outbox (event_seq, handler, status, last_error, completed_at, created_at)
                 VALUES (${seq}, ${handler}, 'skipped', ${skip}, ${now}, ${now})`;
      }
    }
    return { id: event.id, entity: event.entity, status: "accepted", seq };
  }

  private unconfigured(handlerName: string): string | null {
    let reason = this.skipReasons.get(handlerName);
    if (reason === undefined) {
      reason = findHandler(handlerName)?.unconfigured?.(this.env) ?? null;
      this.skipReasons.set(handlerName, reason);
    }
    return reason;
  }

  /**
   * Per-field last-writer-wins: a field takes the new value only if (occurredAt, eventId) is
   * greater than what wrote it last, so any arrival order of the same events gives the same state.
   */
  private mergeState(data: JsonObject, occurredAt: number, eventId: string): void {
    for (const [field, value] of Object.entries(data)) {
      this.sql`INSERT INTO state_fields (field, value, occurred_at, event_id)
               VALUES (${field}, ${JSON.stringify(value)}, ${occurredAt}, ${eventId})
               ON CONFLICT (field) DO UPDATE SET
                 value = excluded.value, occurred_at = excluded.occurred_at, event_id = excluded.event_id
               WHERE excluded.occurred_at > state_fields.occurred_at
                  OR (excluded.occurred_at = state_fields.occurred_at AND excluded.event_id > state_fields.event_id)`;
    }
  }


  // ─── Fan-out ────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs what is due: fires timers, tells the tenant's index about new dead letters, and runs
   * every handler's due head, each handler in its own chain so one slow or failing handler never
   * holds back another. Each row is handled on its own; nothing here throws. Re-arms before
   * returning whenever work remains.
   */
  override async alarm(): Promise<void> {
    addUsage("entityRequests");
    const deadline = Date.now() + ALARM_BUDGET_MS;
    try {
      this.fireTimers(Date.now());
      const handlers = [...new Set(this.outbox.dueHeads(Date.now()).map((row) => row.handler))];
      await Promise.all([this.reportDeadLetters(), ...handlers.map((name) => this.runChain(name, deadline))]);
    } catch (err) {
      this.log("error", "alarm failed", err);
    } finally {
      await this.scheduleNextAlarm();
    }
  }

  /**
   * Runs one handler's due heads in seq order until none is due, the time budget is spent, or the
   * handler's per-invocation limit is reached (Analytics Engine throws past 250 data points in one
   * invocation); what remains is due at once, so the re-armed alarm takes it in a new invocation.
   */
  private async runChain(handlerName: string, deadline: number): Promise<void> {
    const found = findHandler(handlerName);
    const maxBatch = found?.maxBatch ?? 1;
    let room = found?.maxPerInvocation ?? Number.POSITIVE_INFINITY;
    const inline = found?.mode !== "queued";
    while (Date.now() < deadline && room > 0) {
      // A slot first, then the rows: what is due is read after any wait, never before it.
      if (inline && !(await startInlineCall(deadline))) return;
      try {
        // A batching handler takes the due run from its head; anything else, or a lone row, goes singly.
        const batch = maxBatch > 1 ? this.outbox.dueRun(Date.now(), handlerName, Math.min(maxBatch, room)) : [];
        const rows = batch.length > 1 ? batch : [this.outbox.dueHead(Date.now(), handlerName)].filter((r) => r !== undefined);
        if (rows.length === 0) return;
        room -= rows.length;
        try {
          if (rows.length > 1) await this.attemptBatch(rows);
          else await this.attempt(rows[0]!);
        } catch (err) {
          // A bug must not strand the row in flight forever: its lease still lapses and it re-runs.
          this.log("error", "delivery attempt failed unexpectedly", err, { handler: handlerName, outboxId: rows[0]!.id });
          return;
        }
      } finally {
        if (inline) endInlineCall();
      }
    }
  }

  private async attempt(row: OutboxRow): Promise<void> {
    const handler = findHandler(row.handler);
    const queued = handler?.mode === "queued";
    const now = Date.now();
    const lapsed = queued ? this.outbox.lapsedSends(row) : 0;
    if (queued && row.status === "in_flight" && lapsed >= MAX_UNREPORTED_SENDS) {
      // The consumer keeps dying before it reports: count it as a failed try, so the delivery
      // backs off and ends dead like any failure instead of being re-sent forever.
      const outcome = { kind: "retry" as const, error: `no outcome reported after ${lapsed} queue sends (lease lapsed each time)` };
      this.finishAttempt(row.id, Number(row.attempts), { outcome, startedAt: now, durationMs: 0 });
      return;
    }
    // Each lapse of a queued lease doubles the next one (up to 64×): a re-send that only joins a
    // slow queue's backlog must not multiply it.
    const leaseMs = queued ? this.settings.queueLeaseMs * 2 ** Math.min(6, lapsed) : this.settings.handlerTimeoutMs + LEASE_MARGIN_MS;
    const attempt = this.outbox.begin(row, now, leaseMs);
    if (queued) {
      const { tenant, entity } = this.identity()!;
      const message: SlowWorkMessage = { tenant, entity, outboxId: row.id, attempt };
      try {
        await this.env.SLOW_WORK.send(message, { contentType: "json" });
        addUsage("queueWrites", queueUnits(JSON.stringify(message).length));
      } catch (err) {
        this.finishAttempt(row.id, attempt, { outcome: { kind: "retry", error: `queue send failed: ${String(err)}` }, startedAt: now, durationMs: 0 });
      }
      return;
    }
    const job = this.job(row.id, attempt);
    if (!job) return;
    const report = await executeDelivery(job, this.env);
    this.finishAttempt(row.id, attempt, report);
  }

  /**
   * One call for several of a batching handler's due rows: all leased in one transaction, all
   * finished with the same outcome (each with its own attempt count, so backoff and dead-lettering
   * stay per row). Seq order is kept: the run starts at the head and has no gaps.
   */
  private async attemptBatch(rows: OutboxRow[]): Promise<void> {
    const now = Date.now();
    const leaseMs = this.settings.handlerTimeoutMs + LEASE_MARGIN_MS;
    const attempts = this.ctx.storage.transactionSync(() => rows.map((row) => this.outbox.begin(row, now, leaseMs)));
    const state = this.state();
    const jobs = rows.map((row, i) => this.job(row.id, attempts[i]!, state));
    if (jobs.some((job) => job === null)) return;
    const report = await executeBatch(jobs as DeliveryJob[], this.env);
    // A batch that failed part-way delivered its first `delivered` rows: those succeed, and only
    // the rest are retried, so nothing the handler wrote is written again.
    const delivered = report.delivered ?? 0;
    const succeeded: AttemptReport = { ...report, outcome: { kind: "succeeded" } };
    this.ctx.storage.transactionSync(() => {
      rows.forEach((row, i) => this.outbox.finish(row.id, attempts[i]!, i < delivered ? succeeded : report, Date.now(), this.settings, rows.length));
    });
  }

  /** The delivery for one outbox row: its event and the entity's current state. */
  private job(outboxId: number, attempt: number, state: JsonObject = this.state()): DeliveryJob | null {
    const row = this.sql<OutboxRow & { e_id: string; e_type: string; e_occurred_at: number; e_data: string }>`
      SELECT o.*, e.id AS e_id, e.type AS e_type, e.occurred_at AS e_occurred_at, e.data AS e_data
      FROM outbox o JOIN events e ON e.seq = o.event_seq WHERE o.id = ${outboxId}`[0];
    const identity = this.identity();
    if (!row || !identity) return null;
    return {
      ...identity,
      outboxId,
      handler: row.handler,
      attempt,
      event: { id: row.e_id, seq: row.event_seq, type: row.e_type, occurredAt: row.e_occurred_at, data: parseJsonObject(row.e_data) },
      state,
      idempotencyKey: `${row.e_id}:${row.handler}`,
    };
  }

  /** Records an attempt's outcome and, on success, applies the handler's effects, atomically. */
  private finishAttempt(outboxId: number, attempt: number, report: AttemptReport): void {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      const finished = this.outbox.finish(outboxId, attempt, report, now, this.settings);
      if (finished === "succeeded" && report.result) this.applyResult(outboxId, report.result, now);
    });
  }

  private applyResult(outboxId: number, result: HandlerResult, now: number): void {
    const source = this.sql<{ event_id: string; handler: string }>`
      SELECT e.id AS event_id, o.handler FROM outbox o JOIN events e ON e.seq = o.event_seq WHERE o.id = ${outboxId}`[0]!;
    // Internal ids carry a prefix no client id may have, so a client cannot pre-empt them. The
    // source event's id comes right after the prefix, so an internal event's idempotency keys
    // (`edgeflow:{eventId}:follow-up:slack`) never end with a key of the source event's own.
    const internalId = `${INTERNAL_ID_PREFIX}${source.event_id}:${source.handler}`;
    if (result.statePatch) {
      this.mergeState(result.statePatch, now, internalId);
      this.sql`UPDATE entity SET version = version + 1, updated_at = ${now}`;
    }
    if (result.schedule) {
      // Keyed by the source event and handler, so a re-run of this delivery schedules nothing new.
      const id = internalId;
      this.sql`INSERT INTO timers (id, type, due_at, data) VALUES (${id}, ${result.schedule.type}, ${result.schedule.at},
               ${JSON.stringify(result.schedule.data)}) ON CONFLICT (id) DO NOTHING`;
    }
  }

  /** Emits due timers as internal events of this entity, through the normal ingest path. */
  private fireTimers(now: number): void {
    const due = this.sql<{ id: string; type: string; due_at: number; data: string }>`
      SELECT id, type, due_at, data FROM timers WHERE fired_at IS NULL AND due_at <= ${now} ORDER BY due_at LIMIT 100`;
    if (due.length === 0) return;
    const { tenant, entity } = this.identity()!;
    this.ctx.storage.transactionSync(() => {
      const log = this.openLog(tenant, entity, now);
      for (const timer of due) {
        this.ingestOne(tenant, {
          id: timer.id,
          type: timer.type,
          entity,
          occurredAt: timer.due_at,
          receivedAt: now,
          data: parseJsonObject(timer.data),
        }, now, log);
        this.sql`UPDATE timers SET fired_at = ${now} WHERE id = ${timer.id}`;
      }
      this.closeLog(log, now);
    });
  }

  /** Tells the tenant's dead-letter index about new dead letters; retried from the alarm on failure. */
  private async reportDeadLetters(): Promise<void> {
    const rows = this.outbox.unreportedDead(Date.now());
    if (rows.length === 0) return;
    const { tenant, entity: ref } = this.identity()!;
    const ids = rows.map((r) => r.id);
    try {
      await tenantActor(this.env, tenant).recordDeadLetters(
        rows.map((r) => ({
          id: deadLetterId(ref, r.id),
          entity: ref,
          eventId: r.event_id,
          handler: r.handler,
          attempts: Number(r.attempts),
          lastError: r.last_error,
          deadAt: iso(r.dead_at)!,
        })),
      );
      this.outbox.markReported(ids);
    } catch (err) {
      this.log("warn", "could not record dead letters; will retry", err);
      this.outbox.postponeReport(ids, Date.now() + REPORT_RETRY_MS);
    }
  }

  /**
   * Queue consumer: the job for a queued attempt, if that attempt still holds the lease and no one
   * has claimed it yet. Claiming restarts the lease for one attempt's run, so time spent waiting
   * in the queue's backlog never makes the actor re-send an attempt that is already running, and
   * it is recorded, so a re-delivered message (the consumer failed to report and the queue
   * retried it) finds the attempt taken instead of calling the receiver again.
   */
  claimDelivery(outboxId: number, attempt: number): DeliveryJob | null {
    addUsage("entityRequests");
    if (!this.outbox.claim(outboxId, attempt, Date.now() + this.settings.handlerTimeoutMs + LEASE_MARGIN_MS)) return null;
    return this.job(outboxId, attempt);
  }

  /** Queue consumer: the outcome of a queued attempt. Stale reports (lease re-issued) are ignored. */
  async reportOutcome(outboxId: number, attempt: number, report: AttemptReport): Promise<void> {
    addUsage("entityRequests");
    this.finishAttempt(outboxId, attempt, report);
    await this.scheduleNextAlarm();
  }

  /** Dead-letter replay: dead rows go back to pending with the same idempotency key. */
  async replay(outboxIds: number[]): Promise<number> {
    addUsage("entityRequests");
    const replayed = this.ctx.storage.transactionSync(() => this.outbox.replay(outboxIds, Date.now()));
    await this.scheduleNextAlarm();
    return replayed;
  }

  private log(level: "warn" | "error", msg: string, err: unknown, extra: Record<string, unknown> = {}): void {
    const identity = this.identity();
    console[level === "error" ? "error" : "warn"](
      JSON.stringify({ level, msg, actor: identity ? actorName(identity.tenant, identity.entity) : undefined, ...extra, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
    );
  }

  // ─── Reads ──────────────────────────────────────────────────────────────────────────────────

  /** The merged state as a plain object. */
  private state(): JsonObject {
    const state: JsonObject = {};
    for (const { field, value } of this.sql<{ field: string; value: string }>`SELECT field, value FROM state_fields ORDER BY field`) {
      // defineProperty, not assignment: a field named __proto__ must stay a plain own property.
      Object.defineProperty(state, field, { value: parseJson(value), enumerable: true, writable: true, configurable: true });
    }
    return state;
  }

  /** The entity's state and counters, or null if it never received an event. */
  getEntity(): EntityView | null {
    addUsage("entityRequests");
    const row = this.sql<EntityRow>`SELECT * FROM entity`[0];
    if (!row) return null;
    const state = this.state();
    const log = this.sql<{ count: number; last: number | null }>`SELECT COUNT(*) AS count, MAX(seq) AS last FROM events`[0]!;
    const deliveries = { pending: 0, succeeded: 0, skipped: 0, dead: 0 };
    for (const { status, n } of this.sql<{ status: string; n: number }>`SELECT status, COUNT(*) AS n FROM outbox GROUP BY status`) {
      const bucket = status === "in_flight" ? "pending" : status;
      if (bucket === "pending" || bucket === "succeeded" || bucket === "skipped" || bucket === "dead") deliveries[bucket] += Number(n);
    }
    return {
      entity: { type: row.type, id: row.id },
      state,
      version: Number(row.version),
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
      events: { count: Number(log.count), lastSeq: Number(log.last ?? 0) },
      deliveries,
    };
  }

  /** A page of the event log in seq order, each event with its deliveries. */
  listEvents(after: number, limit: number): EventPage | null {
    addUsage("entityRequests");
    if (!this.sql`SELECT 1 FROM entity`[0]) return null;
    const size = Math.min(Math.max(1, limit), MAX_PAGE);
    // Read lazily and stop at the byte budget, so a page of large events is never all in memory.
    const page: EventRow[] = [];
    let bytes = 0;
    let more = false;
    for (const row of this.db.iterate<EventRow>(
      `SELECT seq, id, type, occurred_at, received_at, data, source FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
      after,
      size + 1,
    )) {
      bytes += row.data.length;
      if (page.length === size || (page.length > 0 && bytes > MAX_PAGE_BYTES)) {
        more = true;
        break;
      }
      page.push(row);
    }
    const bySeq = new Map<number, DeliveryView[]>();
    if (page.length > 0) {
      const first = page[0]!.seq;
      const last = page[page.length - 1]!.seq;
      for (const d of this.sql<OutboxRow>`SELECT * FROM outbox WHERE event_seq BETWEEN ${first} AND ${last} ORDER BY id`) {
        const list = bySeq.get(d.event_seq) ?? [];
        list.push({
          handler: d.handler,
          // Written only by this class with DeliveryStatus values.
          status: d.status as DeliveryStatus,
          attempts: Number(d.tries),
          lastError: d.last_error,
          nextAttemptAt: d.status === "pending" || d.status === "in_flight" ? iso(d.next_attempt_at) : null,
          completedAt: iso(d.completed_at),
        });
        bySeq.set(d.event_seq, list);
      }
    }
    return {
      events: page.map((e) => ({
        id: e.id,
        seq: e.seq,
        type: e.type,
        occurredAt: iso(e.occurred_at)!,
        receivedAt: iso(e.received_at)!,
        data: parseJsonObject(e.data),
        // Written only by this class from a validated SourceMeta.
        ...(e.source === null ? {} : { source: JSON.parse(e.source) as SourceMeta }),
        deliveries: bySeq.get(e.seq) ?? [],
      })),
      next: more ? String(page[page.length - 1]!.seq) : null,
    };
  }

  /** Which tenant and entity this actor is; undefined until its first event. */
  private identity(): { tenant: string; entity: EntityRef } | undefined {
    const row = this.sql<EntityRow>`SELECT tenant, type, id FROM entity`[0];
    return row ? { tenant: row.tenant, entity: { type: row.type, id: row.id } } : undefined;
  }
}
