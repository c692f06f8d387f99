// The fan-out runner: from the alarm, each handler takes its due work from the log (a retrying or
// replayed row first, else the range after its cursor), runs it, and settles the outcome. Queued
// handlers' work leaves in ONE queue message per alarm turn and is settled when the consumer
// reports. Successes only move cursors in memory; the moves are written once: with the queued
// report when one is due within 2 s, else at the end of the turn (and every second in a long
// one), or earlier with any other write the entity makes.
import type { Settings } from "../../src/config.ts";
import { destinationOf, noDestinationReason } from "../../src/handlers/destinations.ts";
import { endpointTakes } from "../../src/control/model.ts";
import { endpointHandlerName, endpointIdOf } from "../../src/names.ts";
import { freshTenantRuntime, tenantRuntime, type TenantRuntime } from "../../src/control/runtime.ts";
import { eventDefinition } from "../../src/events/registry.ts";
import { executeWork } from "../../src/handlers/execute.ts";
import type { AttemptReport, ClaimedWork, DeliveryResult, QueuedOutcome } from "../../src/delivery/outcome.ts";
import { idempotencyKey } from "../../src/delivery/keys.ts";
import { retryDelay } from "../../src/delivery/retry.ts";
import type { DeliveryJob, Handler, HandlerResult } from "../../src/handlers/handler.ts";
import { handler as findHandler, handlersFor } from "../../src/handlers/registry.ts";
import type { SlowWorkMessage } from "../../src/queue.ts";
import { errorKind, logLine } from "../../src/log.ts";
import { countAttempt, countQueue } from "../../src/metrics/record.ts";
import { INTERNAL_ID_PREFIX } from "../../src/schemas/common.ts";
import type { JsonObject, LiveMessage } from "../../src/types.ts";
import { addUsage, queueUnits } from "../../src/usage.ts";
import { endInlineCall, startInlineCall } from "../shared/outbound.ts";
import type { Deliveries, EventRow } from "./deliveries.ts";
import { advance, isPaused, mergeState, recordSkip, stateValues, type EntityModel, type Lease, type Progress } from "./model.ts";
import type { EntityStore } from "./store.ts";

/**
 * Sends of a queued delivery whose lease lapsed with no report (a consumer killed by a CPU limit,
 * an OOM, a failed RPC) before that counts against the retry budget as a failed try, so a delivery
 * that never reports still ends as a dead letter.
 */
export const MAX_UNREPORTED_SENDS = 3;
/** Extra lease beyond the attempt timeout, so a slow-but-finishing attempt is not run twice. */
const LEASE_MARGIN_MS = 5_000;
/** Most events one queued handler that calls once per event takes in one message. */
const QUEUED_RUN = 5;
/** How much of a long chain's progress may be unwritten: what a crash would deliver again. */
const CHAIN_FLUSH_MS = 1_000;
/** How long a turn's cursor moves may wait for a queued report's write to carry them. */
const DEFERRED_FLUSH_MS = 2_000;
/** Most events one coalescing or skipped run covers. */
const LONG_RUN = 100;

/** One handler's due work: a pending exception row (one event), or a range after its cursor. */
interface Work {
  handler: string;
  events: EventRow[];
  /** The pending row's tries, when this is a retry or a replay; undefined for a range. */
  tries?: number;
  /** For a range: how far the cursor may move once every event in it is settled. */
  scanned: number;
}

type Log = (level: "warn" | "error", msg: string, err: unknown, extra?: Record<string, unknown>) => void;

export class FanOut {
  /** Outcomes for the live feed's watchers since the last `takeLive` (src/live.ts). */
  private live: LiveMessage[] = [];

  takeLive(): LiveMessage[] {
    const taken = this.live;
    this.live = [];
    return taken;
  }

  /** Handlers with a chain running in this instance: never two chains for one handler. */
  private readonly running = new Set<string>();
  /** See flushDueAt. */
  private flushBy: number | null = null;
  /** Queue tokens this instance issued: the only ones it grants claims on. */
  private readonly issued = new Set<string>();
  /** Per handler: why this deployment cannot run it, or null. The env does not change under an instance. */
  private readonly skipReasons = new Map<string, string | null>();
  /** The tenant's configuration (destinations, endpoints) as of this turn. */
  private runtime: TenantRuntime | null = null;
  /**
   * Reads the tenant's configuration afresh (into the isolate's cache too): after a resume, the
   * cached copy may still say paused, and what is due is decided from it.
   */
  async reloadConfiguration(): Promise<void> {
    this.runtime = await freshTenantRuntime(this.env(), this.store.entity.tenant);
  }

  /** Handlers the tenant pauses for every entity, as of the last turn. */
  tenantPaused(): ReadonlySet<string> {
    return this.runtime?.pausedHandlers ?? new Set();
  }

  constructor(
    private readonly store: EntityStore,
    private readonly deliveries: Deliveries,
    /** Read at each use, not kept: the actor's env is what the handlers must see. */
    private readonly env: () => Cloudflare.Env,
    /** The entity's tenant space (its actor's name), which the queue consumer addresses it by. */
    private readonly space: () => string,
    private readonly settings: Settings,
    private readonly log: Log,
  ) {}

  /**
   * One alarm turn: sends the queued handlers' due work in one message, and runs every inline
   * handler's chain, each on its own so one slow or failing handler never holds back another.
   * Ends by writing the cursors it moved (one row), unless a queued report will write them
   * within DEFERRED_FLUSH_MS.
   */
  async turn(deadline: number): Promise<void> {
    const model = this.store.entity;
    this.runtime = await tenantRuntime(this.env(), model.tenant);
    this.followEndpoints(this.runtime);
    const { pending } = this.deliveries.wakeTimes();
    const due = (name: string, p: Progress) => pending.has(name) || p.through < model.lastSeq || p.lease !== undefined;
    const inline: Handler[] = [];
    const queued: Handler[] = [];
    for (const [name, p] of Object.entries(model.progress)) {
      const handler = findHandler(name);
      // Held: nothing of it runs until it is resumed (its cursor and rows stay as they are).
      if (!handler || !due(name, p) || this.paused(name)) continue;
      (handler.mode === "queued" ? queued : inline).push(handler);
    }
    await Promise.all([this.sendQueued(queued), ...inline.map((handler) => this.chain(handler, deadline))]);
    this.dropDeletedEndpoints();
    const now = Date.now();
    const reportDue = Object.values(model.progress).some((p) => p.lease !== undefined && p.lease.until > now);
    if (reportDue && (this.flushBy === null || now < this.flushBy)) {
      // A queued call is out, and its report will write the head anyway, normally within a
      // second: the cursor moves ride on that write. Should the report be slow, the alarm comes
      // back at flushBy and writes them, so an idle instance never holds them for long.
      this.flushBy ??= now + DEFERRED_FLUSH_MS;
      return;
    }
    this.store.flush();
  }

  /**
   * When unwritten cursor moves must be written if no other write carries them first (the alarm
   * points here too); null when nothing waits.
   */
  get flushDueAt(): number | null {
    if (!this.store.isDirty) this.flushBy = null;
    return this.flushBy;
  }

  // ─── Inline handlers ──────────────────────────────────────────────────────────────────────────

  /**
   * Runs one handler's due work until none is due, the time budget is spent, or the handler's
   * per-invocation limit is reached (Analytics Engine throws past 250 data points in one
   * invocation); what remains is due at once, so the re-armed alarm takes it in a new invocation.
   */
  private async chain(handler: Handler, deadline: number): Promise<void> {
    if (this.running.has(handler.name)) return;
    this.running.add(handler.name);
    let room = handler.maxPerInvocation ?? Number.POSITIVE_INFINITY;
    try {
      while (Date.now() < deadline && room > 0) {
        const reason = this.unconfigured(handler);
        const limit = reason !== null ? LONG_RUN : Math.min(handler.maxBatch ?? 1, room);
        // The work first, then a slot: a handler with nothing to do (most handlers of most events
        // of an entity) never queues for one. Only this chain moves this handler's cursor, so the
        // work read here is still due after the wait.
        const work = this.nextWork(handler.name, Date.now(), limit);
        if (!work) return;
        if (reason !== null) {
          this.skip(work, reason);
          continue;
        }
        if (!(await startInlineCall(deadline))) return;
        try {
          room -= work.events.length;
          const results = await executeWork(await this.jobs(work), this.env(), this.runtime!);
          this.settle(work, results);
          // A long chain (a backlog) writes its progress every so often, so a crash re-runs
          // at most that much of it.
          if (this.store.sinceWrite() > CHAIN_FLUSH_MS) this.store.flush();
        } catch (err) {
          // A bug must not loop: the work stays due and the next alarm tries again.
          this.log("error", "delivery attempt failed unexpectedly", err, { handler: handler.name });
          return;
        } finally {
          endInlineCall();
        }
      }
    } finally {
      this.running.delete(handler.name);
    }
  }

  /**
   * A handler's due work: its lowest pending row if that is due (nothing, if it is not: the row
   * holds the handler's order), else up to `limit` events after its cursor. A cursor with nothing
   * after it that concerns the handler moves to the end of what was scanned.
   */
  private nextWork(name: string, now: number, limit: number): Work | null {
    const progress = this.store.entity.progress[name]!;
    const head = this.deliveries.openHead(name);
    if (head) {
      if (Number(head.next_attempt_at) > now) return null;
      const event = this.deliveries.event(Number(head.seq));
      return event ? { handler: name, events: [event], tries: Number(head.tries), scanned: Number(head.seq) } : null;
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

  // ─── Queued handlers ──────────────────────────────────────────────────────────────────────────

  /**
   * Leases every queued handler's due work under one token and sends one message for all of it.
   * The lease is held in memory until the next row write: if the actor dies first, the message's
   * claim finds no such lease and runs nothing, and the restarted actor sends the work again.
   */
  private async sendQueued(handlers: Handler[]): Promise<void> {
    const model = this.store.entity;
    const now = Date.now();
    const token = `${now.toString(36)}.${crypto.randomUUID().slice(0, 8)}`;
    const sent: string[] = [];
    for (const handler of handlers) {
      const progress = model.progress[handler.name]!;
      let lapses = 0;
      if (progress.lease) {
        if (progress.lease.until > now) continue;
        const lease = progress.lease;
        delete progress.lease;
        this.store.touch();
        lapses = lease.lapses + 1;
        if (lapses >= MAX_UNREPORTED_SENDS) {
          // The consumer keeps dying before it reports: count a failed try, so the delivery backs
          // off and ends dead like any failure instead of being re-sent forever.
          this.failTry(handler.name, `no outcome reported after ${lapses} queue sends (lease lapsed each time)`, now);
          continue;
        }
      }
      const reason = this.unconfigured(handler);
      const work = this.nextWork(handler.name, now, reason !== null || handler.coalesce ? LONG_RUN : QUEUED_RUN);
      if (!work) continue;
      if (reason !== null) {
        this.skip(work, reason);
        continue;
      }
      // Each lapse doubles the next lease (up to 64×): a re-send that only joins a slow queue's
      // backlog must not multiply it.
      progress.lease = {
        token,
        seqs: work.events.map((e) => Number(e.seq)),
        exception: work.tries !== undefined,
        until: now + this.settings.queueLeaseMs * 2 ** Math.min(6, lapses),
        claimed: false,
        lapses,
      };
      this.store.touch();
      sent.push(handler.name);
    }
    this.forgetTokens();
    if (sent.length === 0) return;
    this.issued.add(token);
    const message: SlowWorkMessage = { v: 2, tenant: model.tenant, space: this.space(), entity: model.entity, token };
    try {
      await this.env().SLOW_WORK.send(message, { contentType: "json" });
      addUsage("queueWrites", queueUnits(JSON.stringify(message).length));
      countQueue(model.tenant, "sent");
    } catch (err) {
      for (const name of sent) {
        const progress = model.progress[name]!;
        if (progress.lease?.token !== token) continue;
        delete progress.lease;
        this.failTry(name, `queue send failed: ${String(err)}`, Date.now());
      }
    }
  }

  /** Records a failed try of a handler's due head that never reached a call (a send failed, or never reported). */
  private failTry(name: string, error: string, now: number): void {
    const work = this.nextWork(name, now, 1);
    if (work) this.settle(work, [{ seq: Number(work.events[0]!.seq), report: { outcome: { kind: "retry", error }, startedAt: now, durationMs: 0 } }]);
  }

  /**
   * The queue consumer claims the work sent under `token`: each handler's lease is restarted for
   * one run and marked claimed, so a copy of the message finds nothing left to claim and never
   * runs a call twice. Only the instance that issued a token grants claims on it, so the claim
   * needs no write: an actor that restarts forgets its tokens, refuses their messages, and sends
   * the work again under a new one when the lease lapses. Null when nothing under this token is open.
   */
  async claim(token: string, now: number): Promise<ClaimedWork[] | null> {
    const model = this.store.model;
    if (!model || !this.issued.has(token)) return null;
    // Marked claimed before the first await, so a copy of the message arriving meanwhile gets nothing.
    const claimed: Work[] = [];
    for (const [name, progress] of Object.entries(model.progress)) {
      const lease = progress.lease;
      if (!lease || lease.token !== token || lease.claimed) continue;
      const handler = findHandler(name);
      const work = this.leasedWork(name, lease);
      if (!handler || work.events.length === 0) continue;
      const calls = handler.coalesce ? 1 : work.events.length;
      lease.claimed = true;
      lease.until = now + calls * this.settings.handlerTimeoutMs + LEASE_MARGIN_MS;
      claimed.push(work);
    }
    if (claimed.length === 0) return null;
    this.store.touch();
    return Promise.all(claimed.map(async (work) => ({ handler: work.handler, jobs: await this.jobs(work) })));
  }

  /** The work a lease stands for: its events, and the pending row's tries if it is a retry or a replay. */
  private leasedWork(handler: string, lease: Lease): Work {
    return {
      handler,
      events: lease.seqs.map((seq) => this.deliveries.event(seq)).filter((e) => e !== undefined),
      tries: lease.exception ? this.deliveries.tries(handler, lease.seqs[0]!) : undefined,
      scanned: lease.seqs[lease.seqs.length - 1] ?? 0,
    };
  }

  /** The consumer's outcomes for the work sent under `token`. Anything not under a live lease is stale and ignored. */
  report(token: string, outcomes: readonly QueuedOutcome[]): void {
    const model = this.store.model;
    if (!model) return;
    const live = outcomes.filter((o) => model.progress[o.handler]?.lease?.token === token);
    if (live.length === 0) return;
    this.store.update(() => {
      for (const outcome of live) {
        const progress = model.progress[outcome.handler]!;
        const work = this.leasedWork(outcome.handler, progress.lease!);
        delete progress.lease;
        this.settle(work, outcome.results);
      }
    });
    this.forgetTokens();
  }

  /** Drops issued tokens no lease holds any more (reported, or re-sent under another). */
  private forgetTokens(): void {
    const held = new Set(Object.values(this.store.entity.progress).map((p) => p.lease?.token));
    for (const token of this.issued) if (!held.has(token)) this.issued.delete(token);
  }

  // ─── Settling outcomes ────────────────────────────────────────────────────────────────────────

  /**
   * Records what a run came to, event by event in seq order. A success moves the cursor (in
   * memory); a skip or a death writes its row and moves it too; a retryable failure writes a
   * pending row for that event, which holds the handler there until it is settled. Results may
   * stop short of the work: what was not tried stays due.
   */
  private settle(work: Work, results: readonly DeliveryResult[]): void {
    const model = this.store.entity;
    const progress = model.progress[work.handler]!;
    const now = Date.now();
    const exceptional = work.tries !== undefined || results.some((r) => r.report.outcome.kind !== "succeeded");
    const apply = () => {
      let settledAll = results.length === work.events.length;
      for (const { seq, report } of results) {
        const event = work.events.find((e) => Number(e.seq) === seq);
        if (!event) continue;
        const ended = this.settleOne(work, progress, event, report, now, work.events.length);
        if (!ended) {
          settledAll = false;
          break;
        }
      }
      if (settledAll && work.tries === undefined) advance(progress, work.scanned, now);
      this.store.touch();
    };
    // Rows and the entity row change together; a run of plain successes writes nothing yet.
    if (exceptional) this.store.update(apply);
    else apply();
  }

  /** Settles one event's delivery; false when it stays pending (a retry is due later). */
  private settleOne(work: Work, progress: Progress, event: EventRow, report: AttemptReport, now: number, batchSize: number): boolean {
    const seq = Number(event.seq);
    const handler = work.handler;
    const tries = (work.tries ?? 0) + 1;
    const { outcome } = report;
    this.logOutcome(event, handler, tries, report, tries < this.settings.retryMaxAttempts);
    if (outcome.kind === "succeeded") {
      if (work.tries !== undefined) this.deliveries.put({ handler, seq, status: "succeeded", tries, error: null, nextAttemptAt: null, completedAt: now });
      advance(progress, seq, now);
      if (report.result) this.applyResult(event, handler, report.result, now);
      return true;
    }
    if (outcome.kind === "skipped") {
      this.deliveries.put({ handler, seq, status: "skipped", tries, error: outcome.reason, nextAttemptAt: null, completedAt: now });
      advance(progress, seq, now);
      return true;
    }
    const statusCode = outcome.statusCode ?? null;
    const failure = { handler, seq, attempt: tries, startedAt: report.startedAt, durationMs: report.durationMs, statusCode, batchSize };
    if (outcome.kind === "retry" && tries < this.settings.retryMaxAttempts) {
      const delay = retryDelay(tries, this.settings, outcome.retryAfterMs);
      this.deliveries.put({ handler, seq, status: "pending", tries, error: outcome.error, nextAttemptAt: now + delay, completedAt: null });
      this.deliveries.recordFailure({ ...failure, outcome: "retry", error: outcome.error, nextDelayMs: delay });
      return false;
    }
    const error = outcome.kind === "retry" ? `${outcome.error} (gave up after ${tries} attempts)` : outcome.error;
    // next_attempt_at on a dead row means "tell the tenant's dead-letter index now".
    this.deliveries.put({ handler, seq, status: "dead", tries, error, nextAttemptAt: now, completedAt: now });
    this.deliveries.recordFailure({ ...failure, outcome: "dead", error, nextDelayMs: null });
    advance(progress, seq, now);
    return true;
  }

  /**
   * Reports one delivery outcome: counted for the metrics, queued for the live feed, and one log
   * line (a dead letter is logged as such, as a warning).
   */
  private logOutcome(event: EventRow, handler: string, attempt: number, report: AttemptReport, mayRetry: boolean): void {
    const { tenant, entity } = this.store.entity;
    const { outcome } = report;
    const status = outcome.kind === "retry" && !mayRetry ? "dead" : outcome.kind;
    const error = outcome.kind === "succeeded" ? null : outcome.kind === "skipped" ? outcome.reason : outcome.error;
    const fields = {
      eventId: event.id,
      handler,
      attempt,
      status,
      statusCode: outcome.kind === "skipped" ? null : (outcome.statusCode ?? null),
      durationMs: report.durationMs,
      error: errorKind(error),
    };
    countAttempt(tenant, handler, status, Number(event.received_at));
    this.live.push({ kind: "delivery", entity, ...fields, at: Date.now() });
    logLine(this.env(), status === "dead" ? "warn" : "info", status === "dead" ? "dead letter" : "delivery", { tenant, entity: `${entity.type}/${entity.id}`, ...fields });
  }

  /** Whether the entity, or the tenant for every entity, holds this handler's deliveries. */
  paused(name: string): boolean {
    return isPaused(this.store.entity, name) || (this.runtime?.pausedHandlers.has(name) ?? false);
  }

  /**
   * Ends what is pending for these handlers as skipped with `reason`: a retry or replay row is
   * settled in its row, the events after the cursor in a skipped run of the head (no row each).
   * A queued call already out is left to finish. Returns how many deliveries it ended.
   */
  cancel(handlers: readonly string[], reason: string, now: number): number {
    let cancelled = 0;
    this.store.update(() => {
      for (const name of handlers) {
        const progress = this.store.entity.progress[name];
        if (!progress || progress.lease) continue;
        for (;;) {
          const head = this.deliveries.openHead(name);
          if (head) {
            this.deliveries.put({ handler: name, seq: Number(head.seq), status: "skipped", tries: Number(head.tries), error: reason, nextAttemptAt: null, completedAt: now });
            advance(progress, Number(head.seq), now);
            cancelled++;
            continue;
          }
          const { events, scanned } = this.deliveries.rangeAfter(name, progress.through, LONG_RUN, (type) => this.concerns(name, type));
          if (events.length === 0) {
            advance(progress, scanned, now);
            break;
          }
          const evicted = recordSkip(progress, Number(events[0]!.seq), scanned, reason);
          if (evicted) this.deliveries.put({ handler: name, seq: evicted[0], lastSeq: evicted[1], status: "skipped", tries: 0, error: evicted[2], nextAttemptAt: null, completedAt: now });
          advance(progress, scanned, now);
          cancelled += events.length;
        }
      }
    });
    return cancelled;
  }

  /**
   * Settles work as skipped because the handler is not configured. A range after the cursor costs
   * no row: the cursor moves past it in memory and the head records the run with its reason
   * (written with the turn's other cursor moves). A pending row (a retry or replay whose handler
   * lost its configuration) is settled in its own row, as it already has one.
   */
  private skip(work: Work, reason: string): void {
    const progress = this.store.entity.progress[work.handler]!;
    const first = Number(work.events[0]!.seq);
    const last = Number(work.events[work.events.length - 1]!.seq);
    const now = Date.now();
    countAttempt(this.store.entity.tenant, work.handler, "skipped", undefined, work.events.length);
    const row = (from: number, through: number, why: string, tries: number) =>
      this.deliveries.put({ handler: work.handler, seq: from, lastSeq: through, status: "skipped", tries, error: why, nextAttemptAt: null, completedAt: now });
    if (work.tries !== undefined) {
      this.store.update(() => {
        row(first, last, reason, work.tries!);
        advance(progress, first, now);
      });
      return;
    }
    const evicted = recordSkip(progress, first, work.scanned, reason);
    advance(progress, work.scanned, now);
    if (evicted) this.store.update(() => row(evicted[0], evicted[1], evicted[2], 0));
    else this.store.touch();
  }

  /** A succeeded delivery's effects on its entity: state fields, a timer. In memory, written with the cursor. */
  private applyResult(event: EventRow, handler: string, result: HandlerResult, now: number): void {
    const model = this.store.entity;
    // Internal ids carry a prefix no client id may have, so a client cannot pre-empt them. The
    // source event's id comes right after the prefix, so an internal event's idempotency keys
    // (`edgeflow:{eventId}:follow-up:slack`) never end with a key of the source event's own.
    const internalId = `${INTERNAL_ID_PREFIX}${event.id}:${handler}`;
    if (result.statePatch) {
      mergeState(model.state, result.statePatch, now, internalId);
      model.version++;
      model.updatedAt = now;
    }
    if (result.schedule) {
      // Keyed by the source event and handler: a re-run of this delivery (after a crash, before
      // its cursor move was written) finds the timer or its event and schedules nothing new.
      const known = model.timers.some((t) => t.id === internalId) || this.deliveries.hasEvent(internalId);
      if (!known) model.timers.push({ id: internalId, type: result.schedule.type, at: result.schedule.at, data: result.schedule.data });
    }
  }

  // ─── Jobs ─────────────────────────────────────────────────────────────────────────────────────

  /** The jobs for a run: each event with the entity's current state and its idempotency key. */
  private jobs(work: Work): Promise<DeliveryJob[]> {
    const model: EntityModel = this.store.entity;
    const state = stateValues(model.state);
    return Promise.all(work.events.map(async (event) => ({
      tenant: model.tenant,
      entity: model.entity,
      handler: work.handler,
      attempt: (work.tries ?? 0) + 1,
      event: {
        id: event.id,
        seq: Number(event.seq),
        type: event.type,
        occurredAt: Number(event.occurred_at),
        // Stored by the log from validated JSON objects.
        data: JSON.parse(event.data) as JsonObject,
      },
      state,
      // Keyed by the tenant's space: a tenant created again under an erased one's name is another
      // tenant to its receivers too, and its events never collide with the old one's keys.
      idempotencyKey: await idempotencyKey(this.space(), model.entity, event.id, work.handler),
    })));
  }

  /**
   * Why a handler cannot run for this tenant now, or null: an endpoint that was deleted, a
   * destination the tenant did not set with no deployment-wide one either, a missing binding.
   */
  private unconfigured(handler: Handler): string | null {
    const endpointId = endpointIdOf(handler.name);
    if (endpointId !== null) return this.runtime?.endpoints.has(endpointId) ? null : "endpoint deleted";
    if (handler.destination && this.runtime) {
      if (destinationOf(this.env(), this.runtime, handler.destination)) return null;
      // A stored tenant that does not inherit: the deployment's settings are not what is missing.
      if (this.runtime.record !== null && !this.runtime.record.inheritDestinations) return noDestinationReason(this.runtime, handler.destination);
    }
    let reason = this.skipReasons.get(handler.name);
    if (reason === undefined) {
      reason = handler.unconfigured?.(this.env()) ?? (handler.destination ? `not configured: no ${handler.destination.kind} destination` : null);
      this.skipReasons.set(handler.name, reason);
    }
    return reason;
  }

  /** Whether an event of this type is one for this handler to deliver. */
  private concerns(name: string, type: string): boolean {
    const endpointId = endpointIdOf(name);
    if (endpointId === null) return handlersFor(type).includes(name);
    const endpoint = this.runtime?.endpoints.get(endpointId);
    // A deleted endpoint's remaining events are all settled, as skipped.
    return endpoint === undefined || endpointTakes(endpoint, type);
  }

  /**
   * Gives each of the tenant's endpoints a cursor here once this entity has events it must take:
   * those received since the endpoint was created. Keeps each cursor's copy of its endpoint's event
   * types current, for the delivery views.
   */
  private followEndpoints(runtime: TenantRuntime): void {
    const model = this.store.entity;
    for (const endpoint of runtime.endpoints.values()) {
      const name = endpointHandlerName(endpoint.id);
      const progress = model.progress[name];
      if (progress) {
        if (progress.endpoint && JSON.stringify(progress.endpoint.types) !== JSON.stringify(endpoint.eventTypes)) {
          progress.endpoint = { from: progress.endpoint.from, types: endpoint.eventTypes };
          this.store.touch();
        }
        continue;
      }
      const before = this.deliveries.lastSeqBefore(endpoint.createdAt);
      if (before >= model.lastSeq) continue;
      model.progress[name] = { through: before, marks: [], endpoint: { from: before, types: endpoint.eventTypes } };
      this.store.touch();
    }
  }

  /** Forgets the cursor of a deleted endpoint once its last delivery here is settled. */
  private dropDeletedEndpoints(): void {
    const model = this.store.entity;
    if (!this.runtime) return;
    const { pending } = this.deliveries.wakeTimes();
    for (const [name, progress] of Object.entries(model.progress)) {
      const id = endpointIdOf(name);
      if (id === null || this.runtime.endpoints.has(id)) continue;
      if (progress.through >= model.lastSeq && !progress.lease && !pending.has(name)) {
        delete model.progress[name];
        this.store.touch();
      }
    }
  }
}

