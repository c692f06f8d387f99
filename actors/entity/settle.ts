// Settling outcomes: what a run came to, event by event, in the head (cursor moves, skip runs)
// and, only for what is exceptional, in rows (retries, deaths, replays); plus a success's effects
// on its entity, the metrics, the live feed and the log line of each outcome.
import type { DeploymentSettings } from "../../src/config.ts";
import type { AttemptReport, DeliveryResult, Hold } from "../../src/delivery/policy/outcome.ts";
import { retryDelay } from "../../src/delivery/policy/retry.ts";
import type { HandlerResult } from "../../src/handlers/handler.ts";
import { errorKind, logLine } from "../../src/log.ts";
import { countAttempt } from "../../src/metrics/record.ts";
import { INTERNAL_ID_PREFIX } from "../../src/schemas/common.ts";
import type { LiveMessage } from "../../src/types.ts";
import type { Deliveries, EventRow } from "./deliveries.ts";
import { advance, mergeState, recordSkip, type Progress } from "./head.ts";
import type { EntityStore } from "./store.ts";
import { LONG_RUN, type Work } from "./work.ts";

export class Settler {
  /** Outcomes for the live feed's watchers since the last `takeLive` (src/live/feed.ts). */
  private live: LiveMessage[] = [];
  /**
   * Handlers whose calls the gate holds (a limit, an open circuit), until when. In memory only: an
   * actor that restarts asks the gate again, which holds it again if it must.
   */
  private readonly holds = new Map<string, number>();

  constructor(
    private readonly store: EntityStore,
    private readonly deliveries: Deliveries,
    private readonly settings: DeploymentSettings,
    private readonly env: () => Cloudflare.Env,
    private readonly concerns: (name: string, type: string) => boolean,
  ) {}

  /**
   * The gate held a handler's call: nothing ran. A call held by a limit or by a circuit that just
   * opened, or a first delivery however held, uses no attempt and is due again at `until`. A retry
   * that falls due while its destination is down (its circuit open through failed probes,
   * src/delivery/gate.ts) counts as a failed attempt, with the reason: a destination that stays
   * down must still end its deliveries dead (and alert) on the retry schedule, not hold them for
   * ever. It counts once per cool-down at most.
   */
  hold(work: Work, held: Hold): void {
    if (held.down && work.tries !== undefined) {
      const now = Date.now();
      this.settle(work, [{ seq: Number(work.events[0]!.seq), report: { outcome: { kind: "retry", error: held.reason }, startedAt: now, durationMs: 0 } }]);
    }
    // Even so, not before the hold ends: one attempt per cool-down at most, however short the
    // retry delays, so a brief opening of the circuit costs a delivery one attempt, not dozens.
    this.holds.set(work.handler, held.until);
  }

  /** Until when a handler's calls are held, or null when they may go. */
  heldUntil(handler: string, now: number): number | null {
    const until = this.holds.get(handler);
    if (until === undefined) return null;
    if (until > now) return until;
    this.holds.delete(handler);
    return null;
  }

  takeLive(): LiveMessage[] {
    const taken = this.live;
    this.live = [];
    return taken;
  }

  /**
   * Records what a run came to, event by event in seq order. A success moves the cursor (in
   * memory); a skip or a death writes its row and moves it too; a retryable failure writes a
   * pending row for that event, which holds the handler there until it is settled. Results may
   * stop short of the work: what was not tried stays due.
   */
  settle(work: Work, results: readonly DeliveryResult[]): void {
    const head = this.store.existingHead;
    const progress = head.progress[work.handler]!;
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
    // Rows and the head change together; a run of plain successes writes nothing yet.
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
    const { tenant, entity } = this.store.existingHead;
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

  /**
   * Settles work as skipped because the handler is not configured. A range after the cursor costs
   * no row: the cursor moves past it in memory and the head records the run with its reason
   * (written with the turn's other cursor moves). A pending row (a retry or replay whose handler
   * lost its configuration) is settled in its own row, as it already has one.
   */
  skip(work: Work, reason: string): void {
    const progress = this.store.existingHead.progress[work.handler]!;
    const first = Number(work.events[0]!.seq);
    const last = Number(work.events[work.events.length - 1]!.seq);
    const now = Date.now();
    countAttempt(this.store.existingHead.tenant, work.handler, "skipped", undefined, work.events.length);
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

  /**
   * Ends what is pending for these handlers as skipped with `reason`: a retry or replay row is
   * settled in its row, the events after the cursor in a skipped run of the head (no row each).
   * A queued call already out is left to finish. Returns how many deliveries it ended.
   */
  cancel(handlers: readonly string[], reason: string, now: number): number {
    let cancelled = 0;
    this.store.update(() => {
      for (const name of handlers) {
        const progress = this.store.existingHead.progress[name];
        if (!progress || progress.lease) continue;
        for (;;) {
          const open = this.deliveries.firstOpen(name);
          if (open) {
            this.deliveries.put({ handler: name, seq: Number(open.seq), status: "skipped", tries: Number(open.tries), error: reason, nextAttemptAt: null, completedAt: now });
            advance(progress, Number(open.seq), now);
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

  /** A succeeded delivery's effects on its entity: state fields, a timer. In memory, written with the cursor. */
  private applyResult(event: EventRow, handler: string, result: HandlerResult, now: number): void {
    const head = this.store.existingHead;
    // Internal ids carry a prefix no client id may have, so a client cannot pre-empt them. The
    // source event's id comes right after the prefix, so an internal event's idempotency keys
    // (`edgeflow:{eventId}:follow-up:slack`) never end with a key of the source event's own.
    const internalId = `${INTERNAL_ID_PREFIX}${event.id}:${handler}`;
    if (result.statePatch) {
      mergeState(head.state, result.statePatch, now, internalId);
      head.version++;
      head.updatedAt = now;
    }
    if (result.schedule) {
      // Keyed by the source event and handler: a re-run of this delivery (after a crash, before
      // its cursor move was written) finds the timer or its event and schedules nothing new.
      const known = head.timers.some((t) => t.id === internalId) || this.deliveries.hasEvent(internalId);
      if (!known) head.timers.push({ id: internalId, type: result.schedule.type, at: result.schedule.at, data: result.schedule.data });
    }
  }
}
