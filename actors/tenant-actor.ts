import { offloadPayloads, releaseRefused } from "../src/payloads.ts";
import { logLine } from "../src/log.ts";
import { DurableObject } from "cloudflare:workers";
import { directory, entityActor, type EndpointChange, type EndpointInput, type Implementation, type SettingsPatch, type TenantActorRpc, type TenantDescription, type Watcher } from "../src/rpc/actors.ts";
import { currentAdminDigest } from "../src/control/admin-key.ts";
import { deploymentSettings, mirrorBudget } from "../src/config.ts";
import { mirrorBytes } from "../src/handlers/database.ts";
import { staticTenant, tenants } from "../src/control/tenants-config.ts";
import { destinationOf, refusedDestination } from "../src/handlers/destinations.ts";
import { notificationChannels } from "../src/handlers/registry.ts";
import { forgetTenant, openSnapshot } from "../src/control/runtime.ts";
import { currentSpace, type ApiKeyInfo, type EndpointInfo, type EndpointStatus, type StoredSource, type TenantRecord, type TenantSnapshot } from "../src/control/model.ts";
import { endpointHandlerName, endpointIdOf, tenantSpace } from "../src/rpc/names.ts";
import { deliveryRefOf, type DeadLetterEntry, type DeadLetterFilter, type DeadLetterPage } from "../src/delivery/policy/dead-letters.ts";
import { VERSION } from "../src/version.ts";
import { LIVE_PROTOCOL, type EntityRef, type LiveMessage } from "../src/types.ts";
import { addUsage } from "../src/usage.ts";
import { deleteEverything, pointAlarm, wakeBy } from "./shared/alarm.ts";
import { Db, METRICS_SQL, TENANT_SQL } from "./shared/sql.ts";
import { MetricsStore } from "./tenant/metrics-store.ts";
import { emptyCounts, mergeCounts, type Counts, type EndpointHealth } from "../src/metrics/counts.ts";
import type { Notification } from "../src/events/notification.ts";
import type { MetricsSnapshot } from "../src/metrics/exposition.ts";
import { takeLocalCounts } from "../src/metrics/record.ts";
import { ControlStore } from "./tenant/control.ts";
import { alertNotification, DeadLetterIndex, type DeadLetterRow } from "./tenant/dead-letter-index.ts";
import { AlertOutbox, channelOutcome, type AlertChannel } from "./tenant/alerts.ts";
import { endpointDisabledNotification } from "./tenant/endpoint-health.ts";
import { eraseStep, forEachLimited } from "./tenant/erase.ts";
import { CLOSE, MAX_WATCHERS, Watchers, type WatcherCheck } from "./tenant/watchers.ts";
import { ApiError, errorBody, type ErrorCode } from "../src/api/errors.ts";
import { erasedScheduleError, firingEventId, nextFiring, scheduleEntity, type Schedule, type ScheduleChange, type ScheduleSpec } from "../src/control/schedules.ts";
import { parseEnvelope } from "../src/events/envelope.ts";
import { MAX_SCHEDULES, ScheduleStore } from "./tenant/schedules.ts";
import { BackfillStore, MAX_RUNNING } from "./tenant/backfills.ts";
import { patched, type TenantSettings } from "../src/control/settings.ts";
import type { Backfill, BackfillSpec } from "../src/control/backfills.ts";
import { recordId } from "../src/control/keys.ts";
import { INTERNAL } from "../src/live/ticket.ts";

/** Dead letters read per page of a replay, and entity replays in flight at once. */
const REPLAY_PAGE = 200;
const REPLAY_CONCURRENCY = 8;
/** Entities woken per alarm after a tenant-wide resume. */
const WAKE_PAGE = 50;
/** Entities a backfill walks per page, and how long one alarm keeps walking before it re-arms. */
const BACKFILL_PAGE = 100;
const BACKFILL_BUDGET_MS = 2_000;
/** When a firing that could not go (its entity unreachable, or the tenant over its rate limit) is tried again. */
const FIRING_RETRY_MS = 5_000;
/** How often a tenant with traffic has its rows in the D1 mirror measured against its budget. */
const MIRROR_MEASURE_EVERY_MS = 600_000;

/**
 * One Durable Object per tenant: its stored configuration (record, API keys, destinations,
 * endpoints: ./tenant/control.ts), the list of its entities, the tenant-wide dead-letter index with
 * its replay and rate-limited alerts (./tenant/dead-letter-index.ts), and its erasure
 * (./tenant/erase.ts). This class only wires RPC methods and the alarm to them.
 */
export class TenantActor extends DurableObject<Cloudflare.Env> implements Implementation<TenantActorRpc> {
  private readonly index: DeadLetterIndex;
  private readonly alerts: AlertOutbox;
  /** A measure of the D1 mirror is under way in this instance. */
  private measuringMirror = false;
  private readonly control: ControlStore;
  private readonly metricTotals: MetricsStore;
  private readonly watchers: Watchers;
  private readonly schedules: ScheduleStore;
  private readonly backfills: BackfillStore;
  private readonly db: Db;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    const db = new Db(ctx.storage.sql, TENANT_SQL);
    this.db = db;
    this.schedules = new ScheduleStore(db);
    this.backfills = new BackfillStore(db);
    this.index = new DeadLetterIndex(db);
    this.alerts = new AlertOutbox(db, (change) => ctx.storage.transactionSync(change), (msg, extra) => logLine(env, "warn", msg, { tenant: this.tenant, ...extra }));
    this.control = new ControlStore(db, ctx.storage, env, this.tenant);
    this.metricTotals = new MetricsStore(new Db(ctx.storage.sql, METRICS_SQL));
    this.watchers = new Watchers(ctx);
    // Watchers' keep-alive pings are answered without waking the actor from hibernation.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  private get tenant(): string {
    const name = this.ctx.id.name;
    if (!name) throw new Error("tenant actor has no name");
    return name;
  }

  // ─── Configuration ────────────────────────────────────────────────────────────────────────────

  snapshot(): TenantSnapshot {
    return { ...this.control.snapshot(), watching: this.ctx.getWebSockets().length > 0 };
  }

  createTenant(): TenantRecord | null {
    return this.control.create(Date.now());
  }

  describe(): TenantDescription | null {
    const record = this.control.record();
    return record ? { ...record, keys: this.control.listKeys().length, entities: this.control.entityCount() } : null;
  }

  /** Starts erasing the tenant: keys stop working now (status), storage goes from the alarm. */
  async eraseTenant(): Promise<TenantRecord | null> {
    const record = this.control.startErasing();
    // Its watchers are let go now: nothing of an erasing tenant is sent after this.
    if (record) this.watchers.closeAll(CLOSE.tenantDeleted, "tenant deleted");
    if (record) await pointAlarm(this.ctx.storage, Date.now(), "tenantKvWrites");
    return record;
  }

  createKey(label: string | null): Promise<(ApiKeyInfo & { key: string }) | null> {
    return this.control.createKey(label, Date.now());
  }

  listKeys(): ApiKeyInfo[] | null {
    return this.control.record() ? this.control.listKeys() : null;
  }

  /** Revokes a key and closes the live-feed sockets it opened. */
  revokeKey(id: string): boolean {
    const revoked = this.control.revokeKey(id);
    if (revoked) this.watchers.closeOpenedBy({ kind: "key", id }, CLOSE.keyRevoked, "key revoked");
    return revoked;
  }

  setInheritDestinations(inherit: boolean): TenantRecord | null {
    return this.control.setInheritDestinations(inherit);
  }

  /** Whether `space` is the tenant's space now (stored, whatever its status, or TENANTS): an entity of another belongs to no tenant here. */
  private isCurrentSpace(space: string): boolean {
    return currentSpace(this.tenant, this.control.record(), staticTenant(this.env, this.tenant) !== undefined) === space;
  }

  /** Whether a write addressed to `space` may land: the tenant is active and still the one the caller saw. */
  private writable(space: string): boolean {
    return this.control.writableSpace(staticTenant(this.env, this.tenant) !== undefined) === space;
  }

  async putDestination(space: string, kind: string, value: object): Promise<boolean> {
    if (!this.writable(space)) return false;
    await this.control.putDestination(kind, value);
    return true;
  }

  deleteDestination(space: string, kind: string): boolean | null {
    return this.writable(space) ? this.control.deleteDestination(kind) : null;
  }

  async createEndpoint(space: string, input: EndpointInput): Promise<(EndpointInfo & { secret: string; backfillId?: string }) | "limit" | null> {
    if (!this.writable(space)) return null;
    // Each endpoint is a call per event it takes: a tenant's count is bounded (MAX_ENDPOINTS).
    if (this.control.endpointCount() >= deploymentSettings(this.env).maxEndpoints) return "limit";
    const created = await this.control.createEndpoint({ ...input, backfill: input.backfill === true }, Date.now());
    if (!input.backfill) return created;
    // Its cursor starts at each entity's first event; the walk makes every listed entity take it now.
    const started = await this.startBackfill(space, { handler: endpointHandlerName(created.id), mode: "history", eventTypes: null, since: null });
    return typeof started === "object" && started !== null ? { ...created, backfillId: started.id } : created;
  }

  // ─── Settings ─────────────────────────────────────────────────────────────────────────────────

  settings(): TenantSettings {
    return this.control.settings();
  }

  /** Applies a PATCH to the settings; null when refused (a stale view of the tenant). */
  updateSettings(space: string, patch: SettingsPatch): TenantSettings | null {
    if (!this.writable(space)) return null;
    const next = patched(this.control.settings(), patch);
    this.ctx.storage.transactionSync(() => this.control.putSettings(next));
    return next;
  }

  // ─── Backfills ────────────────────────────────────────────────────────────────────────────────

  /**
   * Starts walking every listed entity for one handler (see BackfillMode), from the alarm a page at
   * a time, resumable after a restart. At most MAX_RUNNING at once per tenant.
   */
  async startBackfill(space: string, spec: BackfillSpec): Promise<Backfill | "limit" | null> {
    if (!this.writable(space)) return null;
    if (this.backfills.running().length >= MAX_RUNNING) return "limit";
    const backfill = this.ctx.storage.transactionSync(() => this.backfills.create(recordId("bf"), spec, this.control.entityCount(), Date.now()));
    await wakeBy(this.ctx.storage, Date.now(), "tenantKvWrites");
    return backfill;
  }

  getBackfill(id: string): Backfill | null {
    return this.backfills.get(id);
  }

  listBackfills(): Backfill[] {
    return this.backfills.list();
  }

  /**
   * Walks the running backfills a page of entities at a time (8 entity calls in flight), no faster
   * than BACKFILL_RATE entities a second each, until the alarm's budget is spent. Answers when to
   * come back (null: nothing left). A page that keeps failing is walked again later: its entities
   * that were done re-deliver under the same idempotency keys.
   */
  private async backfillSome(deadline: number): Promise<number | null> {
    const record = this.control.record();
    if (record?.status === "erasing") return null;
    const space = tenantSpace(this.tenant, record);
    const rate = deploymentSettings(this.env).backfillRate;
    const pageSize = Math.min(BACKFILL_PAGE, rate);
    let resumeAt: number | null = null;
    for (const backfill of this.backfills.running()) {
      const filter = { fromSeq: 1, ...(backfill.eventTypes ? { eventTypes: backfill.eventTypes } : {}), ...(backfill.since !== null ? { since: backfill.since } : {}) };
      for (;;) {
        const pageStart = Date.now();
        const page = this.control.entitiesAfter(this.backfills.cursor(backfill.id), pageSize);
        let events = 0;
        // Entities whose call failed are called again (3 tries) before the page counts as walked:
        // walking the page again would re-deliver what its other entities already replayed.
        let left = page;
        for (let attempt = 1; left.length > 0 && attempt <= 3; attempt++) {
          const failed: EntityRef[] = [];
          await forEachLimited(left, REPLAY_CONCURRENCY, async (entity) => {
            try {
              const actor = entityActor(this.env, space, entity);
              // Awaited before the sum: `events += await …` would read events before the call and lose its siblings' counts.
              const handed = backfill.mode === "history" ? await actor.followHandler(backfill.handler) : await actor.replayHandler(backfill.handler, filter);
              events += handed ?? 0;
            } catch (err) {
              failed.push(entity);
              logLine(this.env, "warn", "backfill call failed", { tenant: this.tenant, backfill: backfill.id, entity, attempt, error: String(err) });
            }
          });
          left = failed;
        }
        if (left.length > 0) {
          // The page is walked again later: its entities that were done re-deliver under the same keys.
          resumeAt = Math.min(resumeAt ?? Infinity, Date.now() + 5_000);
          break;
        }
        const last = page.length < pageSize ? null : page[page.length - 1]!;
        this.ctx.storage.transactionSync(() => this.backfills.advance(backfill.id, last, page.length, events, Date.now()));
        if (last === null) {
          logLine(this.env, "info", "backfill done", { tenant: this.tenant, backfill: backfill.id, handler: backfill.handler });
          break;
        }
        // The next page may start once this one has had its share of a second at the rate.
        const paced = pageStart + (page.length * 1000) / rate;
        if (paced > Date.now() + 50 || Date.now() > deadline) {
          resumeAt = Math.min(resumeAt ?? Infinity, Math.max(paced, Date.now()));
          break;
        }
      }
    }
    return resumeAt;
  }

  async putSource(space: string, name: string, value: StoredSource): Promise<boolean | "limit"> {
    if (!this.writable(space)) return false;
    // A new name past MAX_SOURCES is refused; a tenant over it (stored before the cap) can still replace and delete.
    const sources = this.control.sourceNames();
    if (!sources.includes(name) && sources.length >= deploymentSettings(this.env).maxSources) return "limit";
    await this.control.putSource(name, value);
    return true;
  }

  /** Null: refused; else whether there was one to delete. */
  deleteSource(space: string, name: string): boolean | null {
    return this.writable(space) ? this.control.deleteSource(name) : null;
  }

  listEndpoints(): EndpointInfo[] {
    return this.control.sealedEndpoints().map(({ secret: _sealed, ...info }) => info);
  }

  getEndpoint(id: string): EndpointInfo | null {
    return this.control.endpoint(id);
  }

  /** A change; re-enabling a disabled endpoint wakes every entity, as a resume does, so what it held drains. */
  async updateEndpoint(space: string, id: string, change: EndpointChange & { backfill?: boolean }): Promise<EndpointInfo | null> {
    if (!this.writable(space)) return null;
    const before = this.control.endpoint(id);
    const { backfill: _fixedAtCreation, ...editable } = change;
    let reenabled = false;
    const updated = this.ctx.storage.transactionSync(() => {
      const next = this.control.updateEndpoint(id, editable);
      reenabled = before?.status === "disabled" && next?.status === "active";
      if (reenabled) this.control.setWakeCursor("start");
      return next;
    });
    if (reenabled) await wakeBy(this.ctx.storage, Date.now(), "tenantKvWrites");
    return updated;
  }

  deleteEndpoint(space: string, id: string): boolean {
    return this.writable(space) && this.control.deleteEndpoint(id);
  }

  rotateEndpointSecret(space: string, id: string): Promise<string | null> {
    return this.writable(space) ? this.control.rotateEndpointSecret(id) : Promise.resolve(null);
  }

  /**
   * Entities tell their tenant they exist, once each, so erasure and exports need no scan. An
   * entity of another space (an incarnation erased since) is not listed: nothing of it belongs here.
   * While the tenant erases, its own late entities are listed, so the erasure takes them too.
   */
  registerEntities(space: string, entities: EntityRef[]): void {
    if (!this.isCurrentSpace(space)) return;
    this.control.addEntities(entities);
  }

  /** The handlers paused for every entity. */
  pausedHandlers(): string[] {
    return this.control.pausedHandlers();
  }

  /**
   * Pauses or resumes a handler for every entity; null when refused (a stale view of the tenant).
   * A resume wakes every entity, a page at a time from the alarm, so their held work drains.
   */
  async setHandlerPaused(space: string, handler: string, paused: boolean): Promise<boolean | null> {
    if (!this.writable(space)) return null;
    const changed = this.ctx.storage.transactionSync(() => {
      const changed = this.control.setHandlerPaused(handler, paused);
      if (changed && !paused) this.control.setWakeCursor("start");
      return changed;
    });
    if (changed && !paused) await wakeBy(this.ctx.storage, Date.now(), "tenantKvWrites");
    return paused;
  }

  /**
   * One entity was erased on request: its dead letters and its place in the tenant's list go too,
   * and the schedules that name it pause, so no firing knocks on its tombstone (or revives it).
   */
  forgetEntity(space: string, entity: EntityRef): void {
    if (!this.isCurrentSpace(space)) return;
    this.ctx.storage.transactionSync(() => {
      this.index.forgetEntity(entity);
      this.schedules.pauseNaming(entity, erasedScheduleError(entity));
    });
    this.control.forgetEntities([entity]);
  }

  // ─── Dead letters ─────────────────────────────────────────────────────────────────────────────

  async recordDeadLetters(space: string, entries: DeadLetterEntry[]): Promise<void> {
    // A dead letter of an erased incarnation is dropped: the entity stops reporting, nothing lands.
    if (!this.writable(space)) return;
    this.ctx.storage.transactionSync(() => this.index.record(entries));
    // Alerts go out from the alarm, never inline: at most one per interval, the rest summarised.
    const at = Math.max(Date.now(), this.index.lastAlertAt() + deploymentSettings(this.env).alertIntervalMs);
    await wakeBy(this.ctx.storage, at, "tenantKvWrites");
  }

  listDeadLetters(limit: number, cursor: number): DeadLetterPage {
    return this.index.page(limit, cursor);
  }

  /**
   * Replays the matching dead letters on their entities, a page at a time with a bounded number of
   * entity calls in flight, so a tenant with a million dead letters costs bounded memory and
   * never floods its actors. Only dead letters indexed before the replay started are taken: one
   * that dies again during the replay is re-indexed behind that mark and waits for the next one.
   * Progress is logged per page.
   */
  async replay(filter: DeadLetterFilter): Promise<number> {
    const tenant = this.tenant;
    const space = tenantSpace(tenant, this.control.record());
    const until = this.index.lastN();
    let cursor = 0;
    let replayed = 0;
    let matched = 0;
    for (;;) {
      const page = this.matchingPage(filter, cursor, until, REPLAY_PAGE);
      if (page.length === 0) break;
      cursor = Number(page[page.length - 1]!.n);
      matched += page.length;
      const byEntity = new Map<string, { entity: EntityRef; rows: DeadLetterRow[] }>();
      for (const row of page) {
        const key = `${row.entity_type}/${row.entity_id}`;
        const group = byEntity.get(key) ?? { entity: { type: row.entity_type, id: row.entity_id }, rows: [] };
        group.rows.push(row);
        byEntity.set(key, group);
      }
      await forEachLimited([...byEntity.values()], REPLAY_CONCURRENCY, async ({ entity, rows }) => {
        try {
          // Awaited before the sum, for the reason backfillSome gives.
          const count = await entityActor(this.env, space, entity).replay(rows.map((r) => deliveryRefOf(r.id)).filter((ref) => ref !== null));
          replayed += count;
          this.forgetReplayed(rows);
        } catch (err) {
          // Left in the index: a later replay tries again.
          logLine(this.env, "error", "replay failed for entity", { tenant, entity, error: String(err) });
        }
      });
      logLine(this.env, "info", "dead-letter replay progress", { tenant, matched, replayed });
    }
    return replayed;
  }

  /** One page of the dead letters matching `filter`, with `cursor < n <= until`. */
  matchingPage(filter: DeadLetterFilter, cursor: number, until: number, limit: number): DeadLetterRow[] {
    return this.index.matching(filter, cursor, until, limit);
  }

  /** Removes replayed rows from the index (see DeadLetterIndex.forget). */
  forgetReplayed(rows: ReadonlyArray<Pick<DeadLetterRow, "id" | "n">>): void {
    this.ctx.storage.transactionSync(() => this.index.forget(rows));
  }

  // ─── Metrics ──────────────────────────────────────────────────────────────────────────────────

  async recordMetrics(counts: Counts): Promise<void> {
    // Only a tenant that exists keeps metrics: a late flush must not leave a row behind an erasure.
    const record = this.control.record();
    if (record ? record.status !== "active" : !staticTenant(this.env, this.tenant)) return;
    const { health, ...totals } = counts;
    this.metricTotals.add(totals);
    if (health) await this.recordEndpointHealth(health);
    // Flushes come while the tenant has traffic: the time to see how much of the shared D1 mirror it holds.
    const usage = this.control.mirrorUsage();
    if (this.env.DB && !this.measuringMirror && (usage === null || usage.measuredAt < Date.now() - MIRROR_MEASURE_EVERY_MS)) {
      this.measuringMirror = true;
      this.ctx.waitUntil(this.measureMirror(this.env.DB).finally(() => (this.measuringMirror = false)));
    }
  }

  /** Measures the tenant's rows in the D1 mirror; over D1_TENANT_BUDGET_BYTES, its `database` deliveries skip. */
  private async measureMirror(db: D1Database): Promise<void> {
    try {
      const bytes = await mirrorBytes(db, this.tenant);
      this.control.putMirrorUsage(bytes, Date.now());
      if (bytes > mirrorBudget(this.env)) logLine(this.env, "warn", "tenant over its D1 mirror budget", { tenant: this.tenant, bytes, budget: mirrorBudget(this.env) });
    } catch (err) {
      logLine(this.env, "warn", "D1 mirror not measured", { tenant: this.tenant, error: String(err) });
    }
  }

  /**
   * Endpoint health rides on the metrics flushes (no request of its own): each endpoint's last
   * success and the start of its failure streak. One failing continuously for
   * ENDPOINT_DISABLE_AFTER_MS is disabled: its deliveries hold (as a paused handler's do) and an
   * alert goes to the tenant's notification destinations, from the alarm until it is delivered.
   */
  private async recordEndpointHealth(health: Record<string, EndpointHealth>): Promise<void> {
    const now = Date.now();
    const disableAfter = deploymentSettings(this.env).endpointDisableAfterMs;
    let disabled = false;
    this.ctx.storage.transactionSync(() => {
      for (const [handler, seen] of Object.entries(health)) {
        const id = endpointIdOf(handler);
        const result = id === null ? null : this.control.recordEndpointHealth(id, seen, now, disableAfter);
        if (!result?.disabled) continue;
        this.control.queueEndpointAlert(result.endpoint.id, now);
        disabled = true;
        logLine(this.env, "warn", "endpoint disabled", { tenant: this.tenant, endpoint: result.endpoint.id, failingSince: result.endpoint.failingSince });
      }
    });
    if (disabled) {
      forgetTenant(this.tenant);
      await wakeBy(this.ctx.storage, now, "tenantKvWrites");
    }
  }

  /** Totals, plus what this isolate counted and has not flushed yet, plus the gauges read now. */
  async metrics(): Promise<MetricsSnapshot> {
    const local = takeLocalCounts(this.tenant);
    if (local) await this.recordMetrics(local);
    // Merged into a fresh copy, which also drops minutes past the hour kept.
    const endpoints = this.control.sealedEndpoints().map((e) => ({ id: e.id, disabled: e.status === "disabled", failingSince: e.failingSince }));
    return { counts: mergeCounts(emptyCounts(), this.metricTotals.current()), deadLettersOpen: this.index.openByHandler(), endpoints };
  }

  // ─── Live feed ────────────────────────────────────────────────────────────────────────────────

  /** A single-use ticket to open the live feed as `watcher` (src/live/ticket.ts); null if it may not watch. */
  async issueTicket(watcher: Watcher): Promise<{ nonce: string; expiresAt: number } | null> {
    if ((await this.watcherCheck())(watcher) !== null) return null;
    return this.watchers.issueTicket(watcher, Date.now());
  }

  /**
   * A watcher connects, with a ticket's nonce or as the router authenticated it (internal headers
   * the router sets on a request it builds itself): the socket hibernates with the actor, tagged
   * with who opened it, so an idle dashboard costs nothing. Routers see `watching` within the
   * configuration cache's TTL.
   */
  override async fetch(request: Request): Promise<Response> {
    addUsage("liveRequests");
    const refuse = (status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) =>
      Response.json(errorBody(code, message), { status, headers });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return refuse(426, "upgrade_required", "expected a WebSocket upgrade");
    const nonce = request.headers.get(INTERNAL.ticket);
    const stated = request.headers.get(INTERNAL.watcher);
    // Set by the router from its own authentication; parsed from its own JSON.
    const watcher = nonce !== null ? this.watchers.redeem(nonce, Date.now()) : stated !== null ? (JSON.parse(stated) as Watcher) : null;
    if (watcher === null) return refuse(401, "unauthorized", "The ticket is unknown, used or expired; ask for another");
    const refused = (await this.watcherCheck())(watcher);
    if (refused) return refuse(refused.code === CLOSE.tenantDeleted ? 404 : 401, refused.code === CLOSE.tenantDeleted ? "not_found" : "unauthorized", refused.reason);
    if (this.watchers.count() >= MAX_WATCHERS) {
      return refuse(429, "rate_limited", `At most ${MAX_WATCHERS} live-feed watchers per tenant`, { "Retry-After": "10" });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.watchers.accept(server, watcher);
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    const headers: HeadersInit = offered.includes(LIVE_PROTOCOL) ? { "sec-websocket-protocol": LIVE_PROTOCOL } : {};
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /**
   * Who may watch now: a stored key still listed, a TENANTS key still configured for this tenant,
   * the operator's current admin key; nobody while the tenant is erasing.
   */
  private async watcherCheck(): Promise<WatcherCheck> {
    const record = this.control.record();
    const stored = record !== null;
    const erasing = record?.status === "erasing" || (!stored && !staticTenant(this.env, this.tenant));
    const keyIds = new Set(this.control.listKeys().map((k) => k.id));
    const staticDigests = new Set([...(await tenants(this.env).keyDigests)].filter(([, owner]) => owner === this.tenant).map(([digest]) => digest));
    const admin = await currentAdminDigest(this.env);
    return (watcher) => {
      if (erasing) return { code: CLOSE.tenantDeleted, reason: "tenant deleted" };
      if (watcher.kind === "key") return keyIds.has(watcher.id) ? null : { code: CLOSE.keyRevoked, reason: "key revoked" };
      if (watcher.kind === "static") return staticDigests.has(watcher.digest) ? null : { code: CLOSE.keyRevoked, reason: "key no longer configured" };
      return watcher.digest === admin ? null : { code: CLOSE.adminKeyChanged, reason: "admin key changed" };
    };
  }

  /** Sends to every watcher whose opener is still valid; the others are closed first, and get nothing. */
  async publish(messages: LiveMessage[]): Promise<void> {
    const open = this.watchers.valid(await this.watcherCheck());
    const texts = messages.map((m) => JSON.stringify(m));
    for (const ws of open) {
      for (const text of texts) {
        try {
          ws.send(text);
        } catch {
          // A socket closing as we send: its close handler tidies up.
        }
      }
    }
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

  // ─── Schedules ────────────────────────────────────────────────────────────────────────────────

  /** Stores a new schedule and points the alarm at its first firing; "limit" past MAX_SCHEDULES. */
  async createSchedule(space: string, spec: ScheduleSpec): Promise<Schedule | "limit" | null> {
    if (!this.writable(space)) return null;
    if (this.schedules.count() >= MAX_SCHEDULES) return "limit";
    const now = Date.now();
    const schedule: Schedule = { id: recordId("sch"), ...spec, paused: false, nextAt: nextFiring(spec, now), lastFiredAt: null, lastError: null, createdAt: now };
    this.ctx.storage.transactionSync(() => this.schedules.put(schedule));
    if (schedule.nextAt !== null) await wakeBy(this.ctx.storage, schedule.nextAt, "tenantKvWrites");
    return schedule;
  }

  listSchedules(): Schedule[] {
    return this.schedules.list();
  }

  getSchedule(id: string): Schedule | null {
    return this.schedules.get(id);
  }

  /** Pauses, resumes or changes a schedule; its next firing is computed again from now. */
  async updateSchedule(space: string, id: string, change: ScheduleChange): Promise<Schedule | null> {
    const found = this.writable(space) ? this.schedules.get(id) : null;
    if (!found) return null;
    const now = Date.now();
    const recurrence =
      change.cron !== undefined ? { cron: change.cron, everySeconds: null } : change.everySeconds !== undefined ? { cron: null, everySeconds: change.everySeconds } : {};
    const next: Schedule = { ...found, ...recurrence, ...(change.name !== undefined ? { name: change.name } : {}), ...(change.timezone ? { timezone: change.timezone } : {}), ...(change.event ? { event: change.event } : {}), paused: change.paused ?? found.paused };
    next.nextAt = next.paused ? null : nextFiring(next, now);
    this.ctx.storage.transactionSync(() => this.schedules.put(next));
    if (next.nextAt !== null) await wakeBy(this.ctx.storage, next.nextAt, "tenantKvWrites");
    return next;
  }

  deleteSchedule(space: string, id: string): boolean {
    return this.writable(space) && this.schedules.delete(id);
  }

  /**
   * Fires the schedules that are due: each sends its event through the same validation as a posted
   * one into the entity its data names, under the id `edgeflow:schedule:{id}:{firingAt}`, so a firing
   * repeated after a crash is a duplicate. A refusal (invalid data, an erased entity) is recorded on
   * the schedule and not retried; a failure to reach the entity is retried in 5 s.
   */
  private async fireSchedules(): Promise<void> {
    const record = this.control.record();
    if (record?.status === "erasing") return;
    const space = tenantSpace(this.tenant, record);
    const now = Date.now();
    const due = this.schedules.due(now);
    const waiting = new Set<string>();
    for (const schedule of due) {
      const firingAt = schedule.nextAt!;
      let error: string | null = null;
      let erased = false;
      try {
        const event = await parseEnvelope({ id: "schedule", type: schedule.event.type, data: schedule.event.data, occurredAt: firingAt }, { receivedAt: now });
        event.id = firingEventId(schedule.id, firingAt);
        // A firing is a request the tenant makes: it counts against the tenant's rate limit, and
        // waits for the next window when over it (its id is fixed, so it fires once however late).
        if (this.env.RATE_LIMITER && !(await this.env.RATE_LIMITER.limit({ key: this.tenant })).success) {
          waiting.add(schedule.id);
          continue;
        }
        // Large data goes to R2 as a posted event's does (src/payloads.ts); a firing never re-creates an erased entity.
        const offloaded = await offloadPayloads(this.env, space, [event]);
        const results = await entityActor(this.env, space, event.entity).ingest(this.tenant, offloaded, { recreate: false });
        await releaseRefused(this.env, offloaded, results);
        const [result] = results;
        if (result?.status === "erased") erased = true;
      } catch (err) {
        if (err instanceof ApiError) {
          error = `${err.code}: ${err.message}${(err.issues ?? []).map((i) => `; ${i.path}: ${i.message}`).join("")}`.slice(0, 500);
        } else {
          logLine(this.env, "warn", "schedule firing not delivered; will retry", { tenant: this.tenant, schedule: schedule.id, error: String(err) });
          waiting.add(schedule.id);
          continue;
        }
      }
      this.ctx.storage.transactionSync(() => {
        this.schedules.fired(schedule, firingAt, erased ? erasedScheduleError(scheduleEntity(schedule)) : error, Date.now());
        // An erased entity's schedules pause: no firing knocks on its tombstone again, nor brings it back.
        if (erased) this.schedules.pauseNaming(scheduleEntity(schedule), erasedScheduleError(scheduleEntity(schedule)));
      });
    }
    const soonest = this.schedules.soonest(waiting);
    const at = [waiting.size > 0 ? now + FIRING_RETRY_MS : null, soonest, due.length === 20 ? now : null].filter((t): t is number => t !== null);
    if (at.length > 0) await wakeBy(this.ctx.storage, Math.min(...at), "tenantKvWrites");
  }

  // ─── Alarm ────────────────────────────────────────────────────────────────────────────────────

  /** Erases the tenant a step at a time while it is being deleted; otherwise sends dead-letter alerts. */
  override async alarm(): Promise<void> {
    addUsage("tenantRequests");
    if (this.control.record()?.status === "erasing") return this.eraseSome();
    const more = await this.wakeSome();
    const alertAt = await this.alert();
    await this.fireSchedules();
    const walkAt = await this.backfillSome(Date.now() + BACKFILL_BUDGET_MS);
    if (more) await wakeBy(this.ctx.storage, Date.now(), "tenantKvWrites");
    if (walkAt !== null) await wakeBy(this.ctx.storage, walkAt, "tenantKvWrites");
    if (alertAt !== null) await wakeBy(this.ctx.storage, alertAt, "tenantKvWrites");
  }

  /** Wakes a page of entities after a resume (8 at once); true while more remain. */
  private async wakeSome(): Promise<boolean> {
    const cursor = this.control.wakeCursor();
    if (cursor === undefined) return false;
    const page = this.control.entitiesAfter(cursor, WAKE_PAGE);
    const space = tenantSpace(this.tenant, this.control.record());
    await forEachLimited(page, REPLAY_CONCURRENCY, async (entity) => {
      try {
        await entityActor(this.env, space, entity).wake();
      } catch (err) {
        // Its held work stays due; its own next alarm or event moves it.
        logLine(this.env, "warn", "entity not woken after a resume", { tenant: this.tenant, entity, error: String(err) });
      }
    });
    this.control.setWakeCursor(page.length < WAKE_PAGE ? null : page[page.length - 1]!);
    return page.length === WAKE_PAGE;
  }

  private async eraseSome(): Promise<void> {
    const tenant = this.tenant;
    try {
      if (!(await eraseStep(this.env, this.control, tenant, tenantSpace(tenant, this.control.record())))) {
        await pointAlarm(this.ctx.storage, Date.now(), "tenantKvWrites");
        return;
      }
      await directory(this.env).remove(tenant);
      // Any watcher that connected meanwhile is let go too.
      this.watchers.closeAll(CLOSE.tenantDeleted, "tenant deleted");
      // Last: the record goes with everything else, so until now the erasure's progress was readable.
      // Forgotten first, so a lookup that arrives while the delete runs finds nothing, not a half-gone table.
      this.db.tables.forget(true);
      this.metricTotals.forgetTables();
      await deleteEverything(this.ctx.storage, "tenantKvWrites");
      logLine(this.env, "info", "tenant erased", { tenant });
    } catch (err) {
      logLine(this.env, "error", "tenant erasure step failed; will retry", { tenant, error: String(err) });
      await pointAlarm(this.ctx.storage, Date.now() + 5_000, "tenantKvWrites");
    }
  }

  /**
   * Queues what there is to alert about: everything that went dead since the last dead-letter alert
   * (at most one per ALERT_INTERVAL_MS, the rest summarised in the next) and each endpoint disabled
   * since; then delivers the queue to every chat service the tenant has a destination for, each on
   * its own (./tenant/alerts.ts). Answers when to come back, or null.
   */
  private async alert(): Promise<number | null> {
    const now = Date.now();
    let comeBack: number | null = null;
    const unalerted = this.index.unalerted();
    if (unalerted.count > 0) {
      const at = this.index.lastAlertAt() + deploymentSettings(this.env).alertIntervalMs;
      if (at <= now) {
        this.ctx.storage.transactionSync(() => {
          this.alerts.enqueue(`alert:${this.tenant}:${unalerted.lastN}`, alertNotification(this.tenant, unalerted), now);
          this.index.markAlerted(unalerted.lastN, now);
        });
      } else comeBack = at;
    }
    for (const { id, at } of this.control.pendingEndpointAlerts()) {
      const endpoint = this.control.endpoint(id);
      this.ctx.storage.transactionSync(() => {
        if (endpoint) this.alerts.enqueue(`endpoint-disabled:${this.tenant}:${id}:${at}`, endpointDisabledNotification(this.tenant, endpoint), now);
        this.control.endpointAlerted(id);
      });
    }
    if (this.alerts.pending() === 0) return comeBack;
    const retryAt = await this.alerts.deliver(await this.alertChannels(), now);
    return retryAt === null ? comeBack : Math.min(retryAt, comeBack ?? Infinity);
  }

  /**
   * The chat services the tenant has a destination for now (Slack, Discord, Teams: each renders the
   * same message its own way). A URL the outbound address policy refuses is never called: that
   * service is left out, as with none.
   */
  private async alertChannels(): Promise<AlertChannel[]> {
    const configuration = await openSnapshot(this.env, this.tenant, this.control.snapshot());
    const channels: AlertChannel[] = [];
    for (const { kind, channel } of notificationChannels()) {
      const found = destinationOf(this.env, configuration, kind);
      if (!found || refusedDestination(this.env, found)) continue;
      const url = channel.target?.(found.destination.url) ?? found.destination.url;
      channels.push({
        name: kind.kind,
        send: async (notification, idempotencyKey) => {
          try {
            const response = await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", "user-agent": `edgeflow/${VERSION}`, "idempotency-key": idempotencyKey },
              body: JSON.stringify(channel.render(notification)),
              signal: AbortSignal.timeout(deploymentSettings(this.env).handlerTimeoutMs),
            });
            await response.body?.cancel();
            return channelOutcome(response.status);
          } catch (err) {
            return { kind: "failed", error: String(err).slice(0, 200) };
          }
        },
      });
    }
    return channels;
  }

}
