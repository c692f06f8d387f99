import { DurableObject } from "cloudflare:workers";
import { directory, type EndpointChange, type EndpointInput, type Implementation, type TenantActorRpc, type TenantDescription, type Watcher } from "../src/rpc/actors.ts";
import type { ApiKeyInfo, EndpointInfo, StoredSource, TenantRecord, TenantSnapshot } from "../src/control/model.ts";
import type { Backfill, BackfillSpec } from "../src/control/backfills.ts";
import { erasedScheduleError, type Schedule, type ScheduleChange, type ScheduleSpec } from "../src/control/schedules.ts";
import type { SettingsPatch, TenantSettings } from "../src/control/settings.ts";
import type { DeadLetterEntry, DeadLetterFilter, DeadLetterPage } from "../src/delivery/policy/dead-letters.ts";
import type { Counts } from "../src/metrics/counts.ts";
import type { MetricsSnapshot } from "../src/metrics/exposition.ts";
import type { EntityRef, LiveMessage } from "../src/types.ts";
import { addUsage } from "../src/usage.ts";
import { deleteEverything, pointAlarm } from "./shared/alarm.ts";
import { Db, TENANT_SQL } from "./shared/sql.ts";
import { Alerts } from "./tenant/alerts.ts";
import { Backfills } from "./tenant/backfills.ts";
import { Configuration } from "./tenant/configuration.ts";
import { ControlStore } from "./tenant/control.ts";
import { DeadLetters } from "./tenant/dead-letters.ts";
import { EntityList, WakeWalk } from "./tenant/entities.ts";
import { eraseStep } from "./tenant/erase.ts";
import { LiveFeed } from "./tenant/live.ts";
import { TenantMetrics } from "./tenant/metrics.ts";
import { TenantRoom, type TenantJob } from "./tenant/room.ts";
import { Schedules } from "./tenant/schedules.ts";

/** How long one alarm keeps walking backfills before it re-arms. */
const ALARM_BUDGET_MS = 2_000;
/** When an erasure step that failed is tried again. */
const ERASE_RETRY_MS = 5_000;

/**
 * One Durable Object per tenant. This class only wires its RPC methods and its alarm to the rooms
 * in ./tenant, each owning its data: the stored configuration (control.ts, configuration.ts), the
 * entity list and the wake walk (entities.ts), dead letters (dead-letters.ts) and their alerts
 * (alerts.ts), schedules, backfills, the live feed, metrics, and offboarding (erase.ts).
 */
export class TenantActor extends DurableObject<Cloudflare.Env> implements Implementation<TenantActorRpc> {
  private readonly room: TenantRoom;
  private readonly configuration: Configuration;
  private readonly entities: EntityList;
  private readonly deadLetters: DeadLetters;
  private readonly schedules: Schedules;
  private readonly backfills: Backfills;
  private readonly live: LiveFeed;
  private readonly tenantMetrics: TenantMetrics;
  /** What the alarm runs, in order, while the tenant is not being erased. */
  private readonly jobs: TenantJob[];

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    const name = ctx.id.name;
    if (!name) throw new Error("tenant actor has no name");
    const db = new Db(ctx.storage.sql, TENANT_SQL);
    this.room = new TenantRoom(ctx, env, name, db, new ControlStore(db, ctx.storage, env, name));
    this.entities = new EntityList(this.room);
    this.deadLetters = new DeadLetters(this.room);
    this.schedules = new Schedules(this.room);
    this.backfills = new Backfills(this.room, this.entities);
    this.live = new LiveFeed(this.room);
    this.tenantMetrics = new TenantMetrics(this.room, this.deadLetters);
    const wakeWalk = new WakeWalk(this.room, this.entities);
    this.configuration = new Configuration(this.room, this.backfills, wakeWalk);
    this.jobs = [wakeWalk, new Alerts(this.room, this.deadLetters), this.schedules, this.backfills];
  }

  get #control(): ControlStore {
    return this.room.control;
  }

  // ─── The tenant and its keys (the admin API) ──────────────────────────────────────────────────

  snapshot(): TenantSnapshot {
    return { ...this.#control.snapshot(), watching: this.ctx.getWebSockets().length > 0 };
  }

  createTenant(): TenantRecord | null {
    return this.#control.create(Date.now());
  }

  describe(): TenantDescription | null {
    const record = this.#control.record();
    return record ? { ...record, keys: this.#control.listKeys().length, entities: this.entities.entityCount() } : null;
  }

  /** Starts erasing the tenant: keys stop working now (status), its watchers go, storage goes from the alarm. */
  async eraseTenant(): Promise<TenantRecord | null> {
    const record = this.#control.startErasing(this.entities.entityCount());
    if (!record) return null;
    this.live.closeAll();
    await pointAlarm(this.ctx.storage, Date.now(), "tenantKvWrites");
    return record;
  }

  createKey(label: string | null): Promise<(ApiKeyInfo & { key: string }) | null> {
    return this.#control.createKey(label, Date.now());
  }

  listKeys(): ApiKeyInfo[] | null {
    return this.#control.record() ? this.#control.listKeys() : null;
  }

  /** Revokes a key and closes the live-feed sockets it opened. */
  revokeKey(id: string): boolean {
    const revoked = this.#control.revokeKey(id);
    if (revoked) this.live.keyRevoked(id);
    return revoked;
  }

  setInheritDestinations(inherit: boolean): TenantRecord | null {
    return this.#control.setInheritDestinations(inherit);
  }

  // ─── Configuration ────────────────────────────────────────────────────────────────────────────

  putDestination(space: string, kind: string, value: object): Promise<boolean> {
    return this.configuration.putDestination(space, kind, value);
  }

  deleteDestination(space: string, kind: string): boolean | null {
    return this.configuration.deleteDestination(space, kind);
  }

  createEndpoint(space: string, input: EndpointInput): Promise<(EndpointInfo & { secret: string; backfillId?: string }) | "limit" | null> {
    return this.configuration.createEndpoint(space, input);
  }

  listEndpoints(): EndpointInfo[] {
    return this.#control.sealedEndpoints().map(({ secret: _sealed, ...info }) => info);
  }

  getEndpoint(id: string): EndpointInfo | null {
    return this.#control.endpoint(id);
  }

  updateEndpoint(space: string, id: string, change: EndpointChange & { backfill?: boolean }): Promise<EndpointInfo | null> {
    return this.configuration.updateEndpoint(space, id, change);
  }

  deleteEndpoint(space: string, id: string): boolean {
    return this.configuration.deleteEndpoint(space, id);
  }

  rotateEndpointSecret(space: string, id: string): Promise<string | null> {
    return this.configuration.rotateEndpointSecret(space, id);
  }

  putSource(space: string, name: string, value: StoredSource): Promise<boolean | "limit"> {
    return this.configuration.putSource(space, name, value);
  }

  deleteSource(space: string, name: string): boolean | null {
    return this.configuration.deleteSource(space, name);
  }

  pausedHandlers(): string[] {
    return this.#control.pausedHandlers();
  }

  setHandlerPaused(space: string, handler: string, paused: boolean): Promise<boolean | null> {
    return this.configuration.setHandlerPaused(space, handler, paused);
  }

  settings(): TenantSettings {
    return this.#control.settings();
  }

  updateSettings(space: string, patch: SettingsPatch): TenantSettings | null {
    return this.configuration.updateSettings(space, patch);
  }

  // ─── Entities ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Entities tell their tenant they exist, once each, so erasure and exports need no scan. An
   * entity of another space (an incarnation erased since) is not listed: nothing of it belongs here.
   * While the tenant erases, its own late entities are listed, so the erasure takes them too.
   */
  registerEntities(space: string, entities: EntityRef[]): void {
    if (this.room.isCurrentSpace(space)) this.entities.addEntities(entities);
  }

  /**
   * One entity was erased on request: its dead letters and its place in the tenant's list go too,
   * and the schedules that name it pause, so no firing knocks on its tombstone (or revives it).
   */
  forgetEntity(space: string, entity: EntityRef): void {
    if (!this.room.isCurrentSpace(space)) return;
    this.room.transaction(() => {
      this.deadLetters.forgetEntity(entity);
      this.schedules.store.pauseNaming(entity, erasedScheduleError(entity));
    });
    this.entities.forgetEntities([entity]);
  }

  // ─── Dead letters ─────────────────────────────────────────────────────────────────────────────

  recordDeadLetters(space: string, entries: DeadLetterEntry[]): Promise<void> {
    return this.deadLetters.record(space, entries);
  }

  listDeadLetters(limit: number, cursor: number): DeadLetterPage {
    return this.deadLetters.list(limit, cursor);
  }

  replay(filter: DeadLetterFilter): Promise<number> {
    return this.deadLetters.replay(filter);
  }

  // ─── Backfills and schedules ──────────────────────────────────────────────────────────────────

  startBackfill(space: string, spec: BackfillSpec): Promise<Backfill | "limit" | null> {
    return this.backfills.start(space, spec);
  }

  getBackfill(id: string): Backfill | null {
    return this.backfills.store.get(id);
  }

  listBackfills(): Backfill[] {
    return this.backfills.store.list();
  }

  createSchedule(space: string, spec: ScheduleSpec): Promise<Schedule | "limit" | null> {
    return this.schedules.create(space, spec);
  }

  listSchedules(): Schedule[] {
    return this.schedules.list();
  }

  getSchedule(id: string): Schedule | null {
    return this.schedules.get(id);
  }

  updateSchedule(space: string, id: string, change: ScheduleChange): Promise<Schedule | null> {
    return this.schedules.update(space, id, change);
  }

  deleteSchedule(space: string, id: string): boolean {
    return this.schedules.delete(space, id);
  }

  // ─── Metrics and the live feed ────────────────────────────────────────────────────────────────

  recordMetrics(counts: Counts): Promise<void> {
    return this.tenantMetrics.record(counts);
  }

  metrics(): Promise<MetricsSnapshot> {
    return this.tenantMetrics.snapshot();
  }

  issueTicket(watcher: Watcher): Promise<{ nonce: string; expiresAt: number } | null> {
    return this.live.issueTicket(watcher);
  }

  publish(messages: LiveMessage[]): Promise<void> {
    return this.live.publish(messages);
  }

  /** A watcher opens the live feed (src/router/routes/live.ts sends the upgrade here). */
  override fetch(request: Request): Promise<Response> {
    addUsage("liveRequests");
    return this.live.open(request);
  }

  /** Watchers send nothing but pings, which the auto-response answers; anything else is ignored. */
  override webSocketMessage(): void {}

  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // Already closed.
    }
  }

  // ─── Alarm ────────────────────────────────────────────────────────────────────────────────────

  /** Erases the tenant a step at a time while it is being deleted; otherwise runs each job and re-arms for the soonest it asks. */
  override async alarm(): Promise<void> {
    addUsage("tenantRequests");
    if (this.room.erasing()) return this.#eraseSome();
    const deadline = Date.now() + ALARM_BUDGET_MS;
    let next: number | null = null;
    for (const job of this.jobs) {
      const at = await job.run(deadline);
      if (at !== null) next = Math.min(next ?? at, at);
    }
    if (next !== null) await this.room.wakeBy(next);
  }

  async #eraseSome(): Promise<void> {
    try {
      if (!(await eraseStep(this.room, this.entities))) {
        await pointAlarm(this.ctx.storage, Date.now(), "tenantKvWrites");
        return;
      }
      await directory(this.env).remove(this.room.tenant);
      // Any watcher that connected meanwhile is let go too.
      this.live.closeAll();
      // Last: the record goes with everything else, so until now the erasure's progress was readable.
      // Forgotten first, so a lookup that arrives while the delete runs finds nothing, not a half-gone table.
      this.room.db.tables.forget(true);
      this.tenantMetrics.forgetTables();
      await deleteEverything(this.ctx.storage, "tenantKvWrites");
      this.room.log("info", "tenant erased");
    } catch (err) {
      this.room.log("error", "tenant erasure step failed; will retry", { error: String(err) });
      await pointAlarm(this.ctx.storage, Date.now() + ERASE_RETRY_MS, "tenantKvWrites");
    }
  }
}
