// The fan-out runner: from the alarm, each handler takes its due work from the log (a retrying or
// replayed row first, else the range after its cursor), runs it, and settles the outcome. Queued
// handlers' work leaves in ONE queue message per alarm turn and is settled when the consumer
// reports (queue-leases.ts). Successes only move cursors in memory; the moves are written once:
// with the queued report when one is due within 2 s (the alarm waits for it while that pays, so
// it ends with nothing left to re-arm for), else at the end of the turn (and every second in a
// long one), or earlier with any other write the entity makes. The rooms it composes: what is
// due (work.ts), what the configuration allows (configuration.ts), how outcomes settle (settle.ts).
import type { DeploymentSettings } from "../../src/config.ts";
import type { ClaimedWork, DeliveryResult, QueuedOutcome } from "../../src/delivery/policy/outcome.ts";
import { executeWork } from "../../src/delivery/execute.ts";
import { admit, callOutcome, gateTarget } from "../../src/delivery/gate.ts";
import type { DeliveryJob, Handler } from "../../src/handlers/handler.ts";
import { handler as findHandler } from "../../src/handlers/registry.ts";
import { replays, type ReplayFilter } from "../../src/delivery/policy/replay.ts";
import type { TenantSettings } from "../../src/control/settings.ts";
import type { LiveMessage } from "../../src/types.ts";
import { addUsage } from "../../src/usage.ts";
import { endInlineCall, startInlineCall } from "../shared/outbound.ts";
import { HandlerConfiguration } from "./configuration.ts";
import type { Deliveries } from "./deliveries.ts";
import type { Progress } from "./head.ts";
import { QueueLeases, REPORT_WAIT_PAYS_MS, reportWaitPays } from "./queue-leases.ts";
import { Settler } from "./settle.ts";
import type { EntityStore } from "./store.ts";
import { LONG_RUN, unreadableRun, WorkSource } from "./work.ts";

/** How much of a long chain's progress may be unwritten: what a crash would deliver again. */
const CHAIN_FLUSH_MS = 1_000;
/** How long a turn's cursor moves may wait for a queued report's write to carry them. */
const DEFERRED_FLUSH_MS = 2_000;
/**
 * How long a queued report waits for an alarm turn in progress. Its write then carries the turn's
 * cursor moves too; without the wait it writes the head, and the turn's moves after it need a
 * second write. A turn is normally over in milliseconds; this bounds what a slow inline call (or a
 * backlog, which writes every CHAIN_FLUSH_MS anyway) can make the consumer wait.
 */
const REPORT_WAITS_FOR_TURN_MS = 5_000;

type Log = (level: "warn" | "error", msg: string, err: unknown, extra?: Record<string, unknown>) => void;

export class FanOut {
  private readonly configuration: HandlerConfiguration;
  private readonly work: WorkSource;
  private readonly settler: Settler;
  private readonly leases: QueueLeases;
  /** Handlers with a chain running in this instance: never two chains for one handler. */
  private readonly running = new Set<string>();
  /** See flushDueAt. */
  private flushBy: number | null = null;
  /** The alarm turn in progress, if any (see REPORT_WAITS_FOR_TURN_MS). */
  private turning: Promise<void> | null = null;
  /** The token the last turn sent its queued work under, whose report that turn's alarm may wait for. */
  private sentThisTurn: string | null = null;
  /** Ends the alarm's wait for a report (awaitReport), if it is waiting; `interrupted`: new work came, not a report. */
  private endWait: ((interrupted: boolean) => void) | null = null;

  constructor(
    private readonly store: EntityStore,
    private readonly deliveries: Deliveries,
    /** Read at each use, not kept: the actor's env is what the handlers must see. */
    private readonly env: () => Cloudflare.Env,
    /** The entity's tenant space (its actor's name), which the queue consumer addresses it by. */
    private readonly space: () => string,
    settings: DeploymentSettings,
    private readonly log: Log,
  ) {
    this.configuration = new HandlerConfiguration(store, deliveries, env);
    const concerns = (name: string, type: string) => this.configuration.concerns(name, type);
    this.work = new WorkSource(store, deliveries, concerns, space, env);
    this.settler = new Settler(store, deliveries, settings, env, concerns);
    this.leases = new QueueLeases(store, this.work, this.settler, this.configuration, env, space, settings);
  }

  /**
   * Re-delivers a handler's settled events from `filter.fromSeq` (replay on request, a backfill),
   * with the configuration read afresh so a new endpoint's cursor exists here first. Null when the
   * handler has no cursor in this entity (it never took any of its events).
   */
  async replay(handler: string, filter: ReplayFilter, now: number): Promise<number | null> {
    const progress = await this.cursorOf(handler);
    if (!progress) return null;
    const take = (event: { type: string; occurred_at: number }) => this.configuration.concerns(handler, event.type) && replays(filter, event);
    return this.store.update(() => this.deliveries.replayRange(handler, filter.fromSeq, progress.through, take, now));
  }

  /**
   * A new endpoint that takes each entity's whole log (a `history` backfill): gives it its cursor
   * here, from the first event, and answers how many events it has ahead; null if none concerns it.
   */
  async follow(handler: string): Promise<number | null> {
    const progress = await this.cursorOf(handler);
    this.store.flush();
    return progress ? this.deliveries.countAfter(progress.through, (type) => this.configuration.concerns(handler, type)) : null;
  }

  /**
   * A handler's cursor in this entity, made first if the configuration has a new member for it
   * (read afresh only then: a backfill calls every entity, and the cached copy serves the rest).
   */
  private async cursorOf(handler: string): Promise<Progress | undefined> {
    await this.configuration.load();
    this.configuration.followMembers();
    if (!this.store.existingHead.progress[handler]) {
      await this.configuration.reload();
      this.configuration.followMembers();
    }
    return this.store.existingHead.progress[handler];
  }

  /** The tenant's settings as of the last turn (retention); null before the first. */
  tenantSettings(): TenantSettings | null {
    return this.configuration.current?.settings ?? null;
  }

  /** Outcomes for the live feed's watchers since the last call (src/live/feed.ts). */
  takeLive(): LiveMessage[] {
    return this.settler.takeLive();
  }

  /** Reads the tenant's configuration afresh (after a resume). */
  reloadConfiguration(): Promise<void> {
    return this.configuration.reload();
  }

  /** Handlers the tenant pauses for every entity, as of the last turn. */
  tenantPaused(): ReadonlySet<string> {
    return this.configuration.tenantPaused();
  }

  /** Until when the gate holds a handler's calls (a limit, an open circuit), or null. */
  heldUntil(name: string, now: number): number | null {
    return this.settler.heldUntil(name, now);
  }

  /** Whether the entity, or the tenant for every entity, holds this handler's deliveries. */
  paused(name: string): boolean {
    return this.configuration.paused(name);
  }

  /** Ends what is pending for these handlers as skipped with `reason` (settle.ts). */
  cancel(handlers: readonly string[], reason: string, now: number): number {
    return this.settler.cancel(handlers, reason, now);
  }

  /** The queue consumer claims the work sent under `token` (queue-leases.ts). */
  claim(token: string, now: number): Promise<ClaimedWork[] | null> {
    return this.leases.claim(token, now);
  }

  /** The queue consumer's outcomes for the work sent under `token`, once any turn in progress has ended (or REPORT_WAITS_FOR_TURN_MS has gone by). */
  async report(token: string, outcomes: readonly QueuedOutcome[]): Promise<void> {
    const turn = this.turning;
    if (turn) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // The turn's own failure is the alarm's to handle; the report goes on either way.
      await Promise.race([turn.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, REPORT_WAITS_FOR_TURN_MS)))]);
      clearTimeout(timer);
    }
    this.leases.report(token, outcomes);
    this.endWait?.(false);
  }

  /**
   * Keeps the alarm open, after its turn, until the queued work it sent reports, so that the report
   * writes the head with nothing left to do and the alarm ends unset: one alarm operation for the
   * event (the ingest's), not three (the re-arm for the lease's end, and its delete when the report
   * comes). Waits only while it pays (queue-leases.ts, REPORT_WAIT_PAYS_MS) and ends early when new
   * work arrives (`interrupt`), so an event never waits behind another's report. The wait is billed
   * as duration, so counted: an upper bound, since the claim's session overlaps it.
   */
  async awaitReport(until: number): Promise<void> {
    const token = this.sentThisTurn;
    this.sentThisTurn = null;
    const started = Date.now();
    if (token === null || until <= started || !this.leases.awaitingReport(token, started) || !reportWaitPays(this.space())) return;
    const end = Math.min(until, started + REPORT_WAIT_PAYS_MS);
    let interrupted = false;
    while (!interrupted && Date.now() < end && this.leases.awaitingReport(token, Date.now())) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      interrupted = await new Promise<boolean>((resolve) => {
        this.endWait = resolve;
        timer = setTimeout(() => resolve(false), end - Date.now());
      });
      clearTimeout(timer);
      this.endWait = null;
    }
    const waited = Date.now() - started;
    addUsage("entityHeldMs", waited);
    if (!interrupted && this.leases.awaitingReport(token, Date.now())) this.leases.reportLate();
  }

  /** New work arrived: an alarm waiting for a report stops waiting, so the next turn takes it now. */
  interrupt(): void {
    this.endWait?.(true);
  }

  /**
   * One alarm turn: sends the queued handlers' due work in one message, and runs every inline
   * handler's chain, each on its own so one slow or failing handler never holds back another.
   * Ends by writing the cursors it moved (one row), unless a queued report will write them
   * within DEFERRED_FLUSH_MS.
   */
  async turn(deadline: number): Promise<void> {
    const turn = this.runTurn(deadline);
    this.turning = turn;
    try {
      await turn;
    } finally {
      if (this.turning === turn) this.turning = null;
    }
  }

  private async runTurn(deadline: number): Promise<void> {
    const head = this.store.existingHead;
    await this.configuration.load();
    this.configuration.followMembers();
    const { pending } = this.deliveries.wakeTimes();
    const now = Date.now();
    const due = (name: string, p: Progress) => (pending.has(name) || p.through < head.lastSeq || p.lease !== undefined) && (p.lease !== undefined || this.settler.heldUntil(name, now) === null);
    const inline: Handler[] = [];
    const queued: Handler[] = [];
    for (const [name, p] of Object.entries(head.progress)) {
      const handler = findHandler(name);
      // Held: nothing of it runs until it is resumed (its cursor and rows stay as they are).
      if (!handler || !due(name, p) || this.paused(name)) continue;
      (handler.mode === "queued" ? queued : inline).push(handler);
    }
    const [sent] = await Promise.all([this.leases.send(queued), ...inline.map((handler) => this.chain(handler, deadline))]);
    this.sentThisTurn = sent;
    this.configuration.dropDeletedMembers();
    const after = Date.now();
    const reportDue = Object.values(head.progress).some((p) => p.lease !== undefined && p.lease.until > after);
    if (reportDue && (this.flushBy === null || after < this.flushBy)) {
      // A queued call is out, and its report will write the head anyway, normally within a
      // second: the cursor moves ride on that write. Should the report be slow, the alarm comes
      // back at flushBy and writes them, so an idle instance never holds them for long.
      this.flushBy ??= after + DEFERRED_FLUSH_MS;
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
        const reason = this.configuration.unconfigured(handler);
        const limit = reason !== null ? LONG_RUN : Math.min(handler.maxBatch ?? 1, room);
        // The work first, then a slot: a handler with nothing to do (most handlers of most events
        // of an entity) never queues for one. Only this chain moves this handler's cursor, so the
        // work read here is still due after the wait.
        const work = this.work.next(handler.name, Date.now(), limit);
        if (!work) return;
        if (reason !== null) {
          this.settler.skip(work, reason);
          continue;
        }
        // The destination's gate: its circuit, rate and concurrency limits (src/delivery/gate.ts).
        const target = gateTarget(handler.name, this.configuration.current!);
        const admission = target ? await admit(this.env(), this.space(), target, deadline) : null;
        if (admission && !admission.ok) {
          this.settler.hold(work, admission);
          return;
        }
        // A wait on a timer or a limiter may have been long: take the work as it is now (a pause or
        // a cancel may have come). An admission that did not wait let nothing else run here.
        const current = admission?.waited ? this.work.next(handler.name, Date.now(), limit) : work;
        if (!current || this.paused(handler.name) || !(await startInlineCall(deadline))) {
          if (admission) admission.done(null);
          return;
        }
        let results: DeliveryResult[] = [];
        try {
          let jobs: DeliveryJob[];
          try {
            jobs = await this.work.jobs(current);
          } catch (err) {
            this.settler.settle(current, unreadableRun(current, err, Date.now()));
            continue;
          }
          if (admission && !(await admission.start())) {
            // Its rate slot went by while it waited for an inline slot: ask again, from the top.
            continue;
          }
          room -= current.events.length;
          results = await executeWork(jobs, this.env(), this.configuration.current!);
          this.settler.settle(current, results);
          // A long chain (a backlog) writes its progress every so often, so a crash re-runs
          // at most that much of it.
          if (this.store.unwrittenFor() > CHAIN_FLUSH_MS) this.store.flush();
        } catch (err) {
          // A bug must not loop: the work stays due and the next alarm tries again.
          this.log("error", "delivery attempt failed unexpectedly", err, { handler: handler.name });
          return;
        } finally {
          if (admission) admission.done(callOutcome(results));
          endInlineCall();
        }
      }
    } finally {
      this.running.delete(handler.name);
    }
  }
}
