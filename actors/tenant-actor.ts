import { DurableObject } from "cloudflare:workers";
import { directory, entityActor, type Implementation, type TenantActorRpc, type TenantDescription } from "../src/actors";
import { settings as readSettings, tenantConfig } from "../src/config";
import { destinationOf } from "../src/control/destinations";
import { openSnapshot } from "../src/control/runtime";
import type { ApiKeyInfo, DestinationKind, EndpointInfo, TenantRecord, TenantSnapshot } from "../src/control/model";
import { deliveryRefOf, type DeadLetterEntry, type DeadLetterFilter, type DeadLetterPage } from "../src/dead-letters";
import { VERSION } from "../src/version";
import { LIVE_PROTOCOL, type EntityRef, type LiveMessage } from "../src/types";
import { addUsage } from "../src/usage";
import { pointAlarm, wakeBy } from "./alarm";
import { Db, METRICS_SQL, TENANT_SQL } from "./sql";
import { MetricsStore } from "./tenant/metrics-store";
import { emptyCounts, mergeCounts, type Counts } from "../src/metrics/counts";
import type { MetricsSnapshot } from "../src/metrics/exposition";
import { takeLocalCounts } from "../src/metrics/record";
import { ControlStore } from "./tenant/control";
import { alertText, DeadLetterIndex, type DeadLetterRow } from "./tenant/dead-letter-index";
import { eraseStep, forEachLimited } from "./tenant/erase";

/** Dead letters read per page of a replay, and entity replays in flight at once. */
const REPLAY_PAGE = 200;
const REPLAY_CONCURRENCY = 8;

/**
 * One Durable Object per tenant: its stored configuration (record, API keys, destinations,
 * endpoints: ./tenant/control.ts), the list of its entities, the tenant-wide dead-letter index with
 * its replay and rate-limited alerts (./tenant/dead-letter-index.ts), and its erasure
 * (./tenant/erase.ts). This class only wires RPC methods and the alarm to them.
 */
export class TenantActor extends DurableObject<Cloudflare.Env> implements Implementation<TenantActorRpc> {
  private readonly index: DeadLetterIndex;
  private readonly control: ControlStore;
  private readonly metricTotals: MetricsStore;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    const db = new Db(ctx.storage.sql, TENANT_SQL);
    this.index = new DeadLetterIndex(db);
    this.control = new ControlStore(db, ctx.storage, env, this.tenant);
    this.metricTotals = new MetricsStore(new Db(ctx.storage.sql, METRICS_SQL));
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
    addUsage("tenantRequests");
    return { ...this.control.snapshot(), watching: this.ctx.getWebSockets().length > 0 };
  }

  createTenant(): TenantRecord | null {
    addUsage("tenantRequests");
    return this.control.create(Date.now());
  }

  describe(): TenantDescription | null {
    addUsage("tenantRequests");
    const record = this.control.record();
    return record ? { ...record, keys: this.control.listKeys().length, entities: this.control.entityCount() } : null;
  }

  /** Starts erasing the tenant: keys stop working now (status), storage goes from the alarm. */
  async eraseTenant(): Promise<TenantRecord | null> {
    addUsage("tenantRequests");
    const record = this.control.startErasing();
    if (record) await pointAlarm(this.ctx.storage, Date.now());
    return record;
  }

  createKey(label: string | null): Promise<(ApiKeyInfo & { key: string }) | null> {
    addUsage("tenantRequests");
    return this.control.createKey(label, Date.now());
  }

  listKeys(): ApiKeyInfo[] | null {
    addUsage("tenantRequests");
    return this.control.record() ? this.control.listKeys() : null;
  }

  revokeKey(id: string): boolean {
    addUsage("tenantRequests");
    return this.control.revokeKey(id);
  }

  putDestination(kind: DestinationKind, value: object): Promise<void> {
    addUsage("tenantRequests");
    return this.control.putDestination(kind, value);
  }

  deleteDestination(kind: DestinationKind): boolean {
    addUsage("tenantRequests");
    return this.control.deleteDestination(kind);
  }

  createEndpoint(input: { url: string; eventTypes: string[] | null; description: string | null }): Promise<EndpointInfo & { secret: string }> {
    addUsage("tenantRequests");
    return this.control.createEndpoint(input, Date.now());
  }

  listEndpoints(): EndpointInfo[] {
    addUsage("tenantRequests");
    return this.control.sealedEndpoints().map(({ secret: _sealed, ...info }) => info);
  }

  getEndpoint(id: string): EndpointInfo | null {
    addUsage("tenantRequests");
    return this.control.endpoint(id);
  }

  updateEndpoint(id: string, change: { url?: string; eventTypes?: string[] | null; description?: string | null }): EndpointInfo | null {
    addUsage("tenantRequests");
    return this.control.updateEndpoint(id, change);
  }

  deleteEndpoint(id: string): boolean {
    addUsage("tenantRequests");
    return this.control.deleteEndpoint(id);
  }

  rotateEndpointSecret(id: string): Promise<string | null> {
    addUsage("tenantRequests");
    return this.control.rotateEndpointSecret(id);
  }

  /** Entities tell their tenant they exist, once each, so erasure and exports need no scan. */
  registerEntities(entities: EntityRef[]): void {
    addUsage("tenantRequests");
    this.control.addEntities(entities);
  }

  // ─── Dead letters ─────────────────────────────────────────────────────────────────────────────

  async recordDeadLetters(entries: DeadLetterEntry[]): Promise<void> {
    addUsage("tenantRequests");
    this.ctx.storage.transactionSync(() => this.index.record(entries));
    // Alerts go out from the alarm, never inline: at most one per interval, the rest summarised.
    const at = Math.max(Date.now(), this.index.lastAlertAt() + readSettings(this.env).alertIntervalMs);
    await wakeBy(this.ctx.storage, at);
  }

  listDeadLetters(limit: number, cursor: number): DeadLetterPage {
    addUsage("tenantRequests");
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
    addUsage("tenantRequests");
    const tenant = this.tenant;
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
          replayed += await entityActor(this.env, tenant, entity).replay(rows.map((r) => deliveryRefOf(r.id)).filter((ref) => ref !== null));
          this.forgetReplayed(rows);
        } catch (err) {
          // Left in the index: a later replay tries again.
          console.error(JSON.stringify({ level: "error", msg: "replay failed for entity", tenant, entity, error: String(err) }));
        }
      });
      console.log(JSON.stringify({ level: "info", msg: "dead-letter replay progress", tenant, matched, replayed }));
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

  recordMetrics(counts: Counts): void {
    addUsage("metricsRequests");
    // Only a tenant that exists keeps metrics: a late flush must not leave a row behind an erasure.
    const record = this.control.record();
    if (record ? record.status !== "active" : !tenantConfig(this.env, this.tenant)) return;
    this.metricTotals.add(counts);
  }

  /** Totals, plus what this isolate counted and has not flushed yet, plus the gauges read now. */
  metrics(): MetricsSnapshot {
    addUsage("metricsRequests");
    const local = takeLocalCounts(this.tenant);
    if (local) this.metricTotals.add(local);
    // Merged into a fresh copy, which also drops minutes past the hour kept.
    return { counts: mergeCounts(emptyCounts(), this.metricTotals.current()), deadLettersOpen: this.index.openByHandler() };
  }

  // ─── Live feed ────────────────────────────────────────────────────────────────────────────────

  /**
   * A watcher connects (the router authenticated it): the socket hibernates with the actor, so an
   * idle dashboard costs nothing. Routers see `watching` within the configuration cache's TTL.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    const headers: HeadersInit = offered.includes(LIVE_PROTOCOL) ? { "sec-websocket-protocol": LIVE_PROTOCOL } : {};
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  publish(messages: LiveMessage[]): void {
    addUsage("liveRequests");
    for (const ws of this.ctx.getWebSockets()) {
      for (const message of messages) {
        try {
          ws.send(JSON.stringify(message));
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

  // ─── Alarm ────────────────────────────────────────────────────────────────────────────────────

  /** Erases the tenant a step at a time while it is being deleted; otherwise sends dead-letter alerts. */
  override async alarm(): Promise<void> {
    addUsage("tenantRequests");
    if (this.control.record()?.status === "erasing") return this.eraseSome();
    return this.alert();
  }

  private async eraseSome(): Promise<void> {
    const tenant = this.tenant;
    try {
      if (!(await eraseStep(this.env, this.control, tenant))) {
        await pointAlarm(this.ctx.storage, Date.now());
        return;
      }
      await directory(this.env).remove(tenant);
      // Watchers of an erased tenant are told so and let go.
      for (const ws of this.ctx.getWebSockets()) ws.close(4404, "tenant deleted");
      // Last: the record goes with everything else, so until now the erasure's progress was readable.
      // Forgotten first, so a lookup that arrives while the delete runs finds nothing, not a half-gone table.
      this.control.forgetTables();
      this.index.forgetTables();
      this.metricTotals.forgetTables();
      await this.ctx.storage.deleteAll();
      await this.ctx.storage.deleteAlarm();
      console.log(JSON.stringify({ level: "info", msg: "tenant erased", tenant }));
    } catch (err) {
      console.error(JSON.stringify({ level: "error", msg: "tenant erasure step failed; will retry", tenant, error: String(err) }));
      await pointAlarm(this.ctx.storage, Date.now() + 5_000);
    }
  }

  /** Sends one alert for everything that went dead since the last one, to the tenant's Slack. */
  private async alert(): Promise<void> {
    const pending = this.index.unalerted();
    if (pending.length === 0) return;
    const tenant = this.tenant;
    const now = Date.now();
    const slack = destinationOf(this.env, tenant, await openSnapshot(this.env, tenant, this.control.snapshot()), "slack");
    if (slack) {
      try {
        const response = await fetch(slack.destination.url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": `edgeflow/${VERSION}`, "idempotency-key": `alert:${tenant}:${pending[pending.length - 1]!.n}` },
          body: JSON.stringify({ text: alertText(tenant, pending) }),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch (err) {
        console.error(JSON.stringify({ level: "warn", msg: "dead-letter alert not delivered; will retry", error: String(err) }));
        await pointAlarm(this.ctx.storage, now + Math.max(readSettings(this.env).alertIntervalMs, 10_000));
        return;
      }
    }
    this.ctx.storage.transactionSync(() => this.index.markAlerted(pending[pending.length - 1]!.n, now));
  }
}
