import { DurableObject } from "cloudflare:workers";
import { tenantActor, type EntityActorRpc, type Implementation } from "../src/rpc/actors.ts";
import { spaceOfActorName } from "../src/rpc/names.ts";
import { deploymentSettings, type DeploymentSettings } from "../src/config.ts";
import { staticTenant } from "../src/control/tenants-config.ts";
import { currentSpace } from "../src/control/model.ts";
import { tenantConfiguration } from "../src/control/runtime.ts";
import { deadLetterId, type DeliveryRef } from "../src/delivery/policy/dead-letters.ts";
import type { QueueClaim, QueuedOutcome } from "../src/delivery/policy/outcome.ts";
import type { ReplayFilter } from "../src/delivery/policy/replay.ts";
import type { EntityView, EventPage, ExportHead, IncomingEvent, IngestResult } from "../src/types.ts";
import { publishLive } from "../src/live/feed.ts";
import { flushMetrics } from "../src/metrics/record.ts";
import { addUsage } from "../src/usage.ts";
import { deleteEntityPayloads, deletePayloads, entityPrefix, PayloadReader } from "../src/payloads.ts";
import { pointAlarm, wakeBy } from "./shared/alarm.ts";
import { Deliveries } from "./entity/deliveries.ts";
import { FanOut } from "./entity/fan-out.ts";
import { ReportSession } from "./entity/queue-leases.ts";
import { appendEvents, appendScheduled } from "./entity/log.ts";
import { EntityStore } from "./entity/store.ts";
import { Retention } from "./entity/retention.ts";
import { entityView, eventPage, exportHead, scheduledList, withPayloads } from "./entity/views.ts";
import { ALL_HANDLERS, type EntityHead } from "./entity/head.ts";
import { eraseEntityFromReadModels } from "../src/handlers/read-models.ts";
import { Db, ENTITY_SQL } from "./shared/sql.ts";

/** How long one alarm keeps working before it re-arms and yields (the platform allows 15 min). */
const ALARM_BUDGET_MS = 25_000;
/** Retry delay for telling the tenant's index about dead letters. */
const REPORT_RETRY_MS = 5_000;
/** Timers fired per alarm turn. */
const TIMERS_PER_TURN = 100;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * One Durable Object per entity (`{tenant}/{type}/{id}`): the source of truth for that entity's
 * event log, its merged state and how far each handler has delivered it. This class only wires
 * RPC methods and the alarm to the modules in ./entity.
 */
export class EntityActor extends DurableObject<Cloudflare.Env> implements Implementation<EntityActorRpc> {
  private readonly store: EntityStore;
  private readonly deliveries: Deliveries;
  private readonly fanOut: FanOut;
  private readonly retention: Retention;
  private readonly settings: DeploymentSettings;
  /** The alarm's last pointing (scheduleNextAlarm), which the next one waits for. */
  private pointing: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.settings = deploymentSettings(env);
    // Synchronous SQL in the constructor runs before any request is delivered.
    this.store = new EntityStore(ctx.storage, new Db(ctx.storage.sql, ENTITY_SQL));
    this.deliveries = new Deliveries(this.store);
    this.retention = new Retention(this.store);
    this.fanOut = new FanOut(this.store, this.deliveries, () => this.env, () => this.#space, this.settings, (level, msg, err, extra) => this.#log(level, msg, err, extra));
    // Storage is the truth and the alarm only points at it: if work is waiting but the alarm was
    // lost (a crash between commit and setAlarm, a code reload), point it again.
    if (this.store.head) {
      ctx.blockConcurrencyWhile(async () => {
        if (this.#nextWakeAt() !== null && (await ctx.storage.getAlarm()) === null) await this.#scheduleNextAlarm();
      });
    }
  }

  /**
   * Stores events for this entity in ONE synchronous transaction (dedupe, log append, state merge;
   * see entity/log.ts). The RPC answers only after the write is durable (the output gate holds the
   * reply until then).
   */
  async ingest(tenant: string, events: IncomingEvent[], options: { recreate?: boolean } = {}): Promise<IngestResult[]> {
    // Erased on request: a late retry must not bring it back, unless the tenant allows re-creation
    // (and the caller is a client, not a schedule's firing).
    const recreate = async () => options.recreate !== false && (await tenantConfiguration(this.env, tenant)).settings.erasure.allowRecreate && this.store.revive();
    if (this.store.tombstone && !(await recreate())) {
      return events.map((e) => ({ id: e.id, entity: e.entity, status: "erased", seq: 0 }));
    }
    const now = Date.now();
    const results = appendEvents(this.store, tenant, events, now, { maxScheduled: this.settings.maxScheduledPerEntity });
    const accepted = results.some((r) => r.status === "accepted");
    // An alarm waiting for a queued report stops waiting: the new event's turn goes first.
    if (accepted) this.fanOut.interrupt();
    // New events are due at once, so making the alarm fire by now is all the scheduling ingest
    // needs; if a handler waits behind a pending retry, that early alarm finds nothing and re-arms.
    // So is an entity not yet in its tenant's list, whatever it stored: it belongs to the tenant
    // from its first accepted event, scheduled ones too, and the first alarm registers it (an
    // offboarding that runs meanwhile finds it listed, or the alarm finds it orphaned).
    const unlisted = this.store.head !== null && !this.store.head.listed && results.some((r) => r.status === "scheduled");
    if (accepted || unlisted) await wakeBy(this.ctx.storage, now, "entityKvWrites");
    const scheduled = results.filter((r) => r.status === "scheduled").map((r) => r.deliverAt!);
    if (scheduled.length > 0) await wakeBy(this.ctx.storage, Math.min(...scheduled), "entityKvWrites");
    return results;
  }

  // ─── Fan-out ────────────────────────────────────────────────────────────────────────────────

  /**
   * Fires due timers, tells the tenant's index about new dead letters, and runs every handler's
   * due work (entity/fan-out.ts). Nothing here throws; it re-arms before returning whenever work
   * remains.
   */
  override async alarm(): Promise<void> {
    addUsage("entityRequests");
    const deadline = Date.now() + ALARM_BUDGET_MS;
    try {
      if (this.store.tombstone?.cleanup) {
        await this.#cleanUpErased();
        return;
      }
      if (!this.store.head) return;
      if (await this.#orphaned(this.store.head.tenant)) {
        // Its tenant was erased (and perhaps created again as another incarnation) and the erasure
        // missed it: nothing of it may reach anyone, so it erases itself instead of delivering.
        this.#log("warn", "entity of an erased tenant erased itself", "its space is not its tenant's current one");
        await this.erase();
        return;
      }
      this.#fireTimers(Date.now());
      await Promise.all([this.#register(), this.#reportDeadLetters(), this.fanOut.turn(deadline)]);
      // Erased while the turn's calls were out (an erasure is a request of its own, served between
      // the turn's awaits): nothing is left to report, wait for or compact.
      if (!this.store.head) return;
      // The turn's outcomes go to the live feed now, not after the wait.
      this.ctx.waitUntil(publishLive(this.env, this.store.head.tenant, this.fanOut.takeLive()));
      // Until then, or until anything else is due (a retry, a timer), whichever comes first.
      await this.fanOut.awaitReport(Math.min(deadline, this.#nextWakeAt(true) ?? deadline));
      await this.#compact();
    } catch (err) {
      this.#log("error", "alarm failed", err);
    } finally {
      await this.#scheduleNextAlarm();
      if (this.store.head) await this.#afterWork(this.store.head.tenant);
    }
  }

  /**
   * When the actor next has something to do: a handler behind the log's end (now), a pending
   * retry or replay, a queued lease ending, an unreported dead letter, or a timer. Null when idle.
   * `besidesReports`: what is due other than a queued report's lease and the cursor moves waiting
   * for it, which bounds an alarm's wait for that report.
   */
  #nextWakeAt(besidesReports = false): number | null {
    const head = this.store.head;
    if (this.store.tombstone?.cleanup) return Date.now() + REPORT_RETRY_MS;
    if (!head) return null;
    const now = Date.now();
    const { pending, dead } = this.deliveries.wakeTimes();
    const times: number[] = head.timers.map((t) => t.at);
    const scheduledAt = this.store.scheduled.soonest();
    if (scheduledAt !== null) times.push(scheduledAt);
    if (dead !== null) times.push(dead);
    // A registration that failed is tried again.
    if (!head.listed) times.push(now + REPORT_RETRY_MS);
    const flush = besidesReports ? null : this.fanOut.flushDueAt;
    if (flush !== null) times.push(flush);
    const settings = this.fanOut.tenantSettings();
    const compactAt = settings ? this.retention.wakeAt(settings, now) : null;
    if (compactAt !== null) times.push(compactAt);
    for (const [handler, progress] of Object.entries(head.progress)) {
      // Held work needs no alarm: resuming wakes the entity.
      if (this.fanOut.paused(handler)) continue;
      // Held by its destination's gate (a limit, an open circuit): due again when the hold ends.
      const held = this.fanOut.heldUntil(handler, now) ?? 0;
      if (progress.lease) {
        if (!besidesReports) times.push(progress.lease.until);
      } else if (pending.has(handler)) times.push(Math.max(pending.get(handler)!, held));
      else if (progress.through < head.lastSeq) times.push(Math.max(now, held));
    }
    return times.length === 0 ? null : Math.min(...times);
  }

  /**
   * Points the single alarm at the earliest due work (overdue included), or deletes it when idle.
   * One at a time: an alarm that waited for a report ends beside the report, and two pointings that
   * each read the alarm before the other set it would both set it (two billed rows for one).
   */
  #scheduleNextAlarm(): Promise<void> {
    const pointed = this.pointing.then(() => pointAlarm(this.ctx.storage, this.#nextWakeAt(), "entityKvWrites"));
    this.pointing = pointed.catch(() => undefined);
    return pointed;
  }

  /**
   * Appends what is due: clients' scheduled events (their rows become log events, entity/scheduled.ts)
   * and timers (internal events, and clients' scheduled events kept in the head before 0.6), through
   * the normal log append.
   */
  #fireTimers(now: number): void {
    const head = this.store.existingHead;
    const dueRows = this.store.scheduled.due(now, TIMERS_PER_TURN);
    if (dueRows.length > 0) this.store.update(() => dueRows.forEach((entry) => appendScheduled(this.store, head, entry, now)), "unless-logged");
    const due = head.timers.filter((t) => t.at <= now).slice(0, TIMERS_PER_TURN);
    if (due.length === 0) return;
    this.store.update(() => {
      head.timers = head.timers.filter((t) => !due.includes(t));
      const results = appendEvents(
        this.store,
        head.tenant,
        due.map((t) => ({
          id: t.id, type: t.type, entity: head.entity, occurredAt: t.occurredAt ?? t.at, receivedAt: now, data: t.data,
          ...(t.fingerprint ? { fingerprint: t.fingerprint } : {}), ...(t.payload ? { payload: t.payload } : {}),
        })),
        now,
      );
      // A timer leaves with the row of its event (replayTail drops it again); one whose event was
      // not appended (its id already taken) leaves no row to say so.
      if (results.some((r) => r.status !== "accepted")) this.store.headChanged();
    }, "unless-logged");
  }

  /**
   * Adds this entity to its tenant's list, once: from the first alarm rather than the ingest
   * transaction, so the 202 never waits on the tenant's actor. The flag rides on the next write of
   * the head; a crash before it only registers again (a no-op for the tenant).
   */
  async #register(): Promise<void> {
    const head = this.store.existingHead;
    if (head.listed) return;
    try {
      await tenantActor(this.env, head.tenant).registerEntities(this.#space, [head.entity]);
      head.listed = true;
      this.store.touch();
    } catch (err) {
      this.#log("warn", "could not register with the tenant; will retry", err);
    }
  }

  /** Tells the tenant's dead-letter index about new dead letters; retried from the alarm on failure. */
  async #reportDeadLetters(): Promise<void> {
    const rows = this.deliveries.unreportedDead(Date.now());
    if (rows.length === 0) return;
    const { tenant, entity } = this.store.existingHead;
    const refs = rows.map((r) => ({ handler: r.handler, seq: Number(r.seq) }));
    try {
      await tenantActor(this.env, tenant).recordDeadLetters(
        this.#space,
        rows.map((r) => ({
          id: deadLetterId(entity, Number(r.seq), r.handler),
          entity,
          eventId: r.event_id,
          handler: r.handler,
          attempts: Number(r.tries),
          lastError: r.last_error,
          deadAt: iso(Number(r.completed_at)),
        })),
      );
      this.store.update(() => this.deliveries.markReported(refs), false);
    } catch (err) {
      this.#log("warn", "could not record dead letters; will retry", err);
      this.store.update(() => this.deliveries.postponeReport(refs, Date.now() + REPORT_RETRY_MS), false);
    }
  }

  /** Compacts events past the tenant's retention windows (entity/retention.ts); never throws. */
  async #compact(): Promise<void> {
    const settings = this.fanOut.tenantSettings();
    if (!settings || !this.store.head) return;
    let unused: string[] = [];
    try {
      unused = this.retention.compact(settings, Date.now()).unusedPayloads;
    } catch (err) {
      this.#log("warn", "compaction failed; will retry next turn", err);
    }
    // After the rows are gone: an object deleted first could be read by a reader of its row.
    try {
      await deletePayloads(this.env, unused);
    } catch (err) {
      this.#log("warn", "compacted events' objects not deleted (the entity's erasure deletes them)", err);
    }
  }

  /**
   * Queue consumer: claims the queued work sent under `token` (see FanOut.claim), with a session
   * whose report is `reportWork` without a second billed request.
   */
  async claimWork(token: string): Promise<QueueClaim | null> {
    const work = await this.fanOut.claim(token, Date.now());
    // Looked up when called, not bound now: a test may stand in for reportWork on the instance.
    return work ? { work, session: new ReportSession((outcomes) => this.reportWork(token, outcomes)) } : null;
  }

  /** Queue consumer: the outcomes of claimed work. Stale reports (lease re-issued) are ignored. */
  async reportWork(token: string, outcomes: QueuedOutcome[]): Promise<void> {
    await this.fanOut.report(token, outcomes);
    // A queued handler is often the last to settle: its report is when the events become compactable.
    await this.#compact();
    await this.#scheduleNextAlarm();
    await this.#afterWork(this.store.existingHead.tenant);
  }

  /**
   * Outcomes to the live feed (only while someone watches) and this isolate's counts of the
   * tenant, when due (every 10 s at most): neither costs a request per event.
   */
  async #afterWork(tenant: string): Promise<void> {
    // The feed's batch gathers for a moment (src/live/feed.ts): the alarm does not wait for it.
    this.ctx.waitUntil(publishLive(this.env, tenant, this.fanOut.takeLive()));
    await flushMetrics(this.env, tenant);
  }

  /** Dead-letter replay: dead deliveries go back to pending with the same idempotency key. */
  async replay(refs: DeliveryRef[]): Promise<number> {
    const replayed = this.store.update(() => this.deliveries.replay(refs, Date.now()), false);
    await this.#scheduleNextAlarm();
    return replayed;
  }

  /**
   * Replay on request and backfills: re-delivers `handler`'s events from `filter.fromSeq` in seq
   * order, with their original idempotency keys and `Edgeflow-Replay: true`. Null when the entity
   * has no event; 0 when nothing of it is the handler's.
   */
  async replayHandler(handler: string, filter: ReplayFilter): Promise<number | null> {
    if (!this.store.head) return null;
    const replayed = (await this.fanOut.replay(handler, filter, Date.now())) ?? 0;
    await this.#scheduleNextAlarm();
    return replayed;
  }

  /** A new endpoint takes this entity's whole log: its cursor starts at the first event. How many it has ahead. */
  async followHandler(handler: string): Promise<number | null> {
    if (!this.store.head) return null;
    const ahead = await this.fanOut.follow(handler);
    await this.#scheduleNextAlarm();
    return ahead;
  }

  /** Offboarding: deletes all of this entity's storage and its alarm. */
  async erase(): Promise<void> {
    // Its large data first: should that fail, the erasure is tried again with the storage intact.
    const head = this.store.head;
    if (head) await deleteEntityPayloads(this.env, this.#space, head.entity);
    await this.store.erase();
  }

  /**
   * Erasure on request (`DELETE /v1/entities/{type}/{id}`): the storage goes, a tombstone stays,
   * then its D1 rows and the tenant's index entries go too; if that last part fails, the alarm
   * tries again until it is done.
   */
  async eraseEntity(): Promise<"erased" | "missing" | "gone"> {
    if (this.store.tombstone) return "gone";
    const head = this.store.head;
    if (!head) return "missing";
    // Every read model erases by the entity's type when the cleanup runs (src/handlers/read-models.ts),
    // not by the types its log still holds: retention may have compacted every event that wrote a row.
    await this.store.eraseToTombstone({ tenant: head.tenant, space: this.#space, entity: head.entity, mirrorTables: [] }, Date.now());
    await this.#cleanUpErased();
    return "erased";
  }

  /** Removes an erased entity's D1 rows, large data in R2 and dead-letter entries; re-arms the alarm if it could not. */
  async #cleanUpErased(): Promise<void> {
    const cleanup = this.store.tombstone?.cleanup;
    if (!cleanup) return;
    try {
      await eraseEntityFromReadModels(this.env, cleanup, { mirrorTables: cleanup.mirrorTables });
      await deleteEntityPayloads(this.env, cleanup.space, cleanup.entity);
      await tenantActor(this.env, cleanup.tenant).forgetEntity(cleanup.space, cleanup.entity);
      this.store.cleanedUp();
    } catch (err) {
      this.#log("warn", "erased entity's read models, objects or dead letters not removed yet; will retry", err);
    }
    await this.#scheduleNextAlarm();
  }

  /** The events the entity will append itself later: clients' scheduled events and internal ones. */
  scheduledEvents(): Array<{ id: string; type: string; deliverAt: number }> | null {
    return this.store.head ? scheduledList(this.store) : null;
  }

  /**
   * Cancels a scheduled event before it is appended: false when there is none of that id
   * (appended, or never scheduled). Its data's object in R2, if any, goes too.
   */
  async cancelScheduled(eventId: string): Promise<boolean | null> {
    const head = this.store.head;
    if (!head) return null;
    const timer = head.timers.find((t) => t.id === eventId);
    let payloadKey: string | null = timer?.payload?.key ?? null;
    if (timer) this.store.update(() => (head.timers = head.timers.filter((t) => t.id !== eventId)));
    else {
      const removed = this.store.update(() => this.store.scheduled.remove(eventId), false);
      if (!removed) return false;
      payloadKey = removed.payloadKey;
    }
    // After the commit: the row that referred to it is gone, and nothing else can (its key names its content).
    if (payloadKey !== null) await deletePayloads(this.env, [payloadKey]);
    await this.#scheduleNextAlarm();
    return true;
  }

  /** Holds `handler`'s deliveries (all handlers' when absent); null if the entity has no event. */
  pause(handler?: string): string[] | null {
    const head = this.store.head;
    if (!head) return null;
    const paused = handler === undefined ? [ALL_HANDLERS] : [...new Set([...(head.paused ?? []), handler])];
    if (JSON.stringify(paused) !== JSON.stringify(head.paused ?? [])) this.store.update(() => (head.paused = paused));
    return this.#pausedList(head);
  }

  /** Lets `handler`'s held deliveries (all, when absent) drain in seq order; answers what stays paused. */
  async resume(handler?: string): Promise<string[] | null> {
    const head = this.store.head;
    if (!head) return null;
    let paused = head.paused ?? [];
    if (handler === undefined) paused = [];
    // Resuming one handler of an entity that holds all: the others stay held, by name.
    else if (paused.includes(ALL_HANDLERS)) paused = Object.keys(head.progress).filter((h) => h !== handler);
    else paused = paused.filter((h) => h !== handler);
    this.store.update(() => {
      if (paused.length === 0) delete head.paused;
      else head.paused = paused;
    });
    await this.#scheduleNextAlarm();
    return this.#pausedList(head);
  }

  /** Ends what is pending for `handler` (all, when absent) as skipped with the reason. */
  async cancel(handler: string | undefined, reason: string): Promise<number | null> {
    const head = this.store.head;
    if (!head) return null;
    const cancelled = this.fanOut.cancel(handler === undefined ? Object.keys(head.progress) : [handler], reason, Date.now());
    await this.#scheduleNextAlarm();
    return cancelled;
  }

  /** The tenant resumed a handler for every entity: its held work here is due again. */
  async wake(): Promise<void> {
    if (!this.store.head) return;
    await this.fanOut.reloadConfiguration();
    await this.#scheduleNextAlarm();
  }

  #pausedList(head: EntityHead): string[] {
    return head.paused?.includes(ALL_HANDLERS) ? Object.keys(head.progress) : [...(head.paused ?? [])];
  }

  erasedAt(): number | null {
    return this.store.tombstone?.erasedAt ?? null;
  }

  /**
   * What an export holds besides the log (state, dead letters, scheduled events); the router pages
   * through the log with listEvents, and reads the state's values kept in R2 itself, one at a time,
   * as it streams them: resolved here, a large state alone could pass what one answer may carry.
   */
  exportHead(): ExportHead | null {
    return exportHead(this.store, this.deliveries);
  }

  // ─── Reads ──────────────────────────────────────────────────────────────────────────────────

  async getEntity(): Promise<EntityView | null> {
    const view = entityView(this.store, this.deliveries, this.fanOut.tenantPaused());
    return view && (await withPayloads(this.#payloads(), view));
  }

  async listEvents(after: number, limit: number): Promise<EventPage | null> {
    const page = eventPage(this.store, this.deliveries, after, limit, this.fanOut.tenantPaused());
    return page && (await withPayloads(this.#payloads(), page));
  }

  /** Reads what this entity keeps in R2 (large event data), and nothing else. */
  #payloads(): PayloadReader {
    return new PayloadReader(this.env, entityPrefix(this.#space, this.store.existingHead.entity));
  }

  /**
   * Whether this entity belongs to no tenant that exists now: its space is neither the stored
   * tenant's current one nor a TENANTS tenant's name (the configuration is cached, so this costs
   * no request per turn).
   */
  async #orphaned(tenant: string): Promise<boolean> {
    const { record } = await tenantConfiguration(this.env, tenant);
    return currentSpace(tenant, record, staticTenant(this.env, tenant) !== undefined) !== this.#space;
  }

  /** This entity's tenant space: the first part of the actor's name (`{space}/{type}/{id}`). */
  get #space(): string {
    const name = this.ctx.id.name;
    if (!name) throw new Error("entity actor has no name");
    return spaceOfActorName(name);
  }

  #log(level: "warn" | "error", msg: string, err: unknown, extra: Record<string, unknown> = {}): void {
    console[level === "error" ? "error" : "warn"](
      JSON.stringify({ level, msg, actor: this.ctx.id.name, ...extra, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
    );
  }
}
