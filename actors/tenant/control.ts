// The tenant's stored configuration, in its own actor: its record (for tenants created through the
// admin API), API keys (digests only), destinations, endpoints and sources (secrets sealed), paused
// handlers and settings. Tables are created on the first write, so a tenant that only ever serves lookups
// (most TENANTS tenants) costs no schema rows.
import { apiKeyDigest } from "../../src/control/tenants-config.ts";
import { destinationKind } from "../../src/handlers/kinds.ts";
import { currentSpace, sealContext, type ApiKeyInfo, type EndpointInfo, type EndpointStatus, type StoredSource, type TenantRecord, type TenantSnapshot } from "../../src/control/model.ts";
import { tenantSpace } from "../../src/rpc/names.ts";
import { sealSecret } from "../../src/control/secrets.ts";
import { keyPrefix, newApiKey, newSigningSecret, randomHex, recordId } from "../../src/control/keys.ts";
import { settingsOf, type TenantSettings } from "../../src/control/settings.ts";
import { mergeHealth, type EndpointHealth } from "../../src/metrics/counts.ts";
import { mirrorBudget } from "../../src/config.ts";
import type { EndpointChange, EndpointInput } from "../../src/rpc/actors.ts";
import type { Db, Row } from "../shared/sql.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS tenant_record (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    name TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
    erase_total INTEGER NOT NULL DEFAULT 0, erase_done INTEGER NOT NULL DEFAULT 0,
    incarnation TEXT, inherit_destinations INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, digest TEXT NOT NULL, label TEXT, prefix TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS destinations (kind TEXT PRIMARY KEY, sealed TEXT NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS endpoints (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, event_types TEXT, description TEXT, secret TEXT NOT NULL, created_at INTEGER NOT NULL,
    backfill INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'active', last_success_at INTEGER, failing_since INTEGER,
    rate_per_second REAL, max_concurrency INTEGER
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS sources (name TEXT PRIMARY KEY, sealed TEXT NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS paused_handlers (name TEXT PRIMARY KEY) WITHOUT ROWID`,
];
/** Tables of sealed JSON by key, and their key column. */
const SEALED_TABLES = { destinations: "kind", sources: "name" } as const;
type SealedTable = keyof typeof SEALED_TABLES;

/** The tables SCHEMA creates; a tenant stored before one of them existed gets it on its next write. */
const CONFIG_TABLES = ["tenant_record", "api_keys", "destinations", "endpoints", "sources", "paused_handlers"];
/**
 * Columns added since a table was first written, by table: a tenant_record written before 0.5 (its
 * incarnation stays NULL: the plain name); endpoints written before 0.7 (none asked for history;
 * all active, their health not yet known, no limits).
 */
const UPGRADES: Readonly<Record<string, ReadonlyArray<[string, string]>>> = {
  tenant_record: [
    ["incarnation", `ALTER TABLE tenant_record ADD COLUMN incarnation TEXT`],
    ["inherit_destinations", `ALTER TABLE tenant_record ADD COLUMN inherit_destinations INTEGER NOT NULL DEFAULT 0`],
  ],
  endpoints: [
    ["backfill", `ALTER TABLE endpoints ADD COLUMN backfill INTEGER NOT NULL DEFAULT 0`],
    ["status", `ALTER TABLE endpoints ADD COLUMN status TEXT NOT NULL DEFAULT 'active'`],
    ["last_success_at", `ALTER TABLE endpoints ADD COLUMN last_success_at INTEGER`],
    ["failing_since", `ALTER TABLE endpoints ADD COLUMN failing_since INTEGER`],
    ["rate_per_second", `ALTER TABLE endpoints ADD COLUMN rate_per_second REAL`],
    ["max_concurrency", `ALTER TABLE endpoints ADD COLUMN max_concurrency INTEGER`],
  ],
};
const ENDPOINT_ALERTS = `CREATE TABLE IF NOT EXISTS endpoint_alerts (id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID`;
const SETTINGS = `CREATE TABLE IF NOT EXISTS settings (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), doc TEXT NOT NULL)`;
const MIRROR_USAGE = `CREATE TABLE IF NOT EXISTS mirror_usage (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), bytes INTEGER NOT NULL, measured_at INTEGER NOT NULL)`;

interface RecordRow extends Row {
  name: string;
  status: string;
  created_at: number;
  erase_total: number;
  erase_done: number;
  incarnation: string | null;
  inherit_destinations: number;
}
interface KeyRow extends Row {
  id: string;
  digest: string;
  label: string | null;
  prefix: string;
  created_at: number;
}
interface EndpointRow extends Row {
  id: string;
  url: string;
  event_types: string | null;
  description: string | null;
  secret: string;
  created_at: number;
  backfill: number;
  status: string;
  last_success_at: number | null;
  failing_since: number | null;
  rate_per_second: number | null;
  max_concurrency: number | null;
}

export class ControlStore {
  constructor(
    private readonly db: Db,
    private readonly storage: DurableObjectStorage,
    private readonly env: Cloudflare.Env,
    private readonly tenant: string,
  ) {
    for (const table of Object.keys(UPGRADES)) if (this.has(table)) this.upgrade(table);
  }

  /** A table stored by an earlier release gains the columns this one reads, once. */
  private upgrade(table: string): void {
    const columns = new Set(this.db.all<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, table).map((r) => r.name));
    const missing = UPGRADES[table]!.filter(([column]) => !columns.has(column));
    if (missing.length > 0) this.storage.transactionSync(() => this.db.schema(missing.map(([, statement]) => statement)));
  }

  private has(table: string): boolean {
    return this.db.tables.has(table);
  }

  /** The configuration tables, each made if missing (a release may have added some since). */
  private ensure(): void {
    this.db.tables.make(CONFIG_TABLES, SCHEMA);
  }

  // ─── Record ───────────────────────────────────────────────────────────────────────────────────

  record(): TenantRecord | null {
    if (!this.has("tenant_record")) return null;
    const row = this.db.all<RecordRow>(`SELECT * FROM tenant_record`)[0];
    if (!row) return null;
    const status = row.status === "erasing" ? "erasing" : "active";
    return {
      name: row.name,
      status,
      createdAt: Number(row.created_at),
      ...(row.incarnation ? { incarnation: row.incarnation } : {}),
      inheritDestinations: Number(row.inherit_destinations) === 1,
      ...(status === "erasing" ? { progress: { erased: Number(row.erase_done), total: Number(row.erase_total) } } : {}),
    };
  }

  /** Creates the stored tenant; null if it exists already. */
  create(now: number): TenantRecord | null {
    if (this.record()) return null;
    this.storage.transactionSync(() => {
      this.ensure();
      this.db.sql`INSERT INTO tenant_record (singleton, name, status, created_at, incarnation) VALUES (1, ${this.tenant}, 'active', ${now}, ${randomHex(8)})`;
    });
    return this.record();
  }

  /** Sets whether the tenant uses the deployment-wide destinations where it has none; null if not stored. */
  setInheritDestinations(inherit: boolean): TenantRecord | null {
    if (this.record()?.status !== "active") return null;
    this.db.sql`UPDATE tenant_record SET inherit_destinations = ${inherit ? 1 : 0}`;
    return this.record();
  }

  /**
   * The space a write must be addressed to, or null when the tenant takes no writes: a stored
   * tenant that is active, or a TENANTS tenant (no record) while `isStatic` says it is configured.
   * A caller whose view of the tenant is stale (erased, or re-created since) names another space.
   */
  writableSpace(isStatic: boolean): string | null {
    const record = this.record();
    return record?.status === "erasing" ? null : currentSpace(this.tenant, record, isStatic);
  }

  /** The space sealed values are bound to now. */
  private space(): string {
    return tenantSpace(this.tenant, this.record());
  }

  /** Marks the tenant erasing, with how many entities there are to erase. */
  startErasing(total: number): TenantRecord | null {
    const record = this.record();
    if (!record) return null;
    if (record.status === "erasing") return record;
    this.db.sql`UPDATE tenant_record SET status = 'erasing', erase_total = ${total}, erase_done = 0`;
    return this.record();
  }

  countErased(n: number): void {
    if (this.has("tenant_record")) this.db.sql`UPDATE tenant_record SET erase_done = erase_done + ${n}`;
  }

  // ─── API keys ─────────────────────────────────────────────────────────────────────────────────

  async createKey(label: string | null, now: number): Promise<(ApiKeyInfo & { key: string }) | null> {
    if (this.record()?.status !== "active") return null;
    const key = await newApiKey(this.env, this.tenant);
    const info: ApiKeyInfo = { id: recordId("key"), label, prefix: keyPrefix(key), createdAt: now };
    const digest = await apiKeyDigest(key);
    this.db.sql`INSERT INTO api_keys (id, digest, label, prefix, created_at) VALUES (${info.id}, ${digest}, ${label}, ${info.prefix}, ${now})`;
    return { ...info, key };
  }

  listKeys(): ApiKeyInfo[] {
    if (!this.has("api_keys")) return [];
    return this.db.all<KeyRow>(`SELECT * FROM api_keys ORDER BY created_at, id`).map((r) => ({ id: r.id, label: r.label, prefix: r.prefix, createdAt: Number(r.created_at) }));
  }

  revokeKey(id: string): boolean {
    if (!this.has("api_keys")) return false;
    return this.db.all(`DELETE FROM api_keys WHERE id = ? RETURNING id`, id).length > 0;
  }

  // ─── Destinations ─────────────────────────────────────────────────────────────────────────────

  /** Each set destination, still sealed. */
  sealedDestinations(): Record<string, string> {
    if (!this.has("destinations")) return {};
    const out: Record<string, string> = {};
    for (const row of this.db.all<{ kind: string; sealed: string } & Row>(`SELECT kind, sealed FROM destinations`)) {
      // A kind no longer in the registry is kept, unused, in case it comes back.
      if (destinationKind(row.kind)) out[row.kind] = row.sealed;
    }
    return out;
  }

  putDestination(kind: string, value: object): Promise<void> {
    return this.putSealed("destinations", kind, sealContext.destination(this.space(), kind), value);
  }

  deleteDestination(kind: string): boolean {
    return this.deleteSealed("destinations", kind);
  }

  // ─── Sealed JSON by key (destinations by kind, sources by name) ───────────────────────────────

  /** Seals `value` for `context` and stores it under `key`, replacing what was there. */
  private async putSealed(table: SealedTable, key: string, context: string, value: object): Promise<void> {
    const sealed = await sealSecret(this.env, context, JSON.stringify(value));
    this.ensure();
    // Table and column are fixed identifiers from SEALED_TABLES, never input.
    this.db.all(`INSERT INTO ${table} (${SEALED_TABLES[table]}, sealed) VALUES (?, ?) ON CONFLICT (${SEALED_TABLES[table]}) DO UPDATE SET sealed = excluded.sealed`, key, sealed);
  }

  private deleteSealed(table: SealedTable, key: string): boolean {
    if (!this.has(table)) return false;
    return this.db.all(`DELETE FROM ${table} WHERE ${SEALED_TABLES[table]} = ? RETURNING sealed`, key).length > 0;
  }

  // ─── Endpoints ────────────────────────────────────────────────────────────────────────────────

  /** Every endpoint with its secret still sealed. */
  sealedEndpoints(): Array<EndpointInfo & { secret: string }> {
    if (!this.has("endpoints")) return [];
    return this.db.all<EndpointRow>(`SELECT * FROM endpoints ORDER BY created_at, id`).map((r) => ({ ...endpointInfo(r), secret: r.secret }));
  }

  endpointCount(): number {
    if (!this.has("endpoints")) return 0;
    return Number(this.db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM endpoints`)[0]?.n ?? 0);
  }

  endpoint(id: string): EndpointInfo | null {
    if (!this.has("endpoints")) return null;
    const row = this.db.all<EndpointRow>(`SELECT * FROM endpoints WHERE id = ?`, id)[0];
    return row ? endpointInfo(row) : null;
  }

  async createEndpoint(input: EndpointInput, now: number): Promise<EndpointInfo & { secret: string }> {
    const id = recordId("ep");
    const secret = newSigningSecret();
    const sealed = await sealSecret(this.env, sealContext.endpoint(this.space(), id), secret);
    const rateLimit = input.rateLimit ?? null;
    const maxConcurrency = input.maxConcurrency ?? null;
    this.ensure();
    this.db.sql`INSERT INTO endpoints (id, url, event_types, description, secret, created_at, backfill, rate_per_second, max_concurrency)
                VALUES (${id}, ${input.url}, ${input.eventTypes ? JSON.stringify(input.eventTypes) : null}, ${input.description}, ${sealed}, ${now}, ${input.backfill ? 1 : 0},
                        ${rateLimit?.perSecond ?? null}, ${maxConcurrency})`;
    const backfill = input.backfill === true;
    return { id, url: input.url, eventTypes: input.eventTypes, description: input.description, createdAt: now, backfill, status: "active", lastSuccessAt: null, failingSince: null, rateLimit, maxConcurrency, secret };
  }

  updateEndpoint(id: string, change: EndpointChange): EndpointInfo | null {
    const current = this.endpoint(id);
    if (!current) return null;
    const next = { ...current, ...change };
    // Re-enabled by hand: its failure streak starts over.
    if (change.status === "active" && current.status === "disabled") next.failingSince = null;
    this.db.sql`UPDATE endpoints SET url = ${next.url}, event_types = ${next.eventTypes ? JSON.stringify(next.eventTypes) : null}, description = ${next.description},
                status = ${next.status}, failing_since = ${next.failingSince}, rate_per_second = ${next.rateLimit?.perSecond ?? null}, max_concurrency = ${next.maxConcurrency} WHERE id = ${id}`;
    return next;
  }

  /** Endpoints disabled whose alert has not gone out yet, with when they were disabled. */
  pendingEndpointAlerts(): Array<{ id: string; at: number }> {
    if (!this.has("endpoint_alerts")) return [];
    return this.db.all<{ id: string; at: number }>(`SELECT id, at FROM endpoint_alerts ORDER BY at`).map((r) => ({ id: r.id, at: Number(r.at) }));
  }

  queueEndpointAlert(id: string, at: number): void {
    this.db.tables.make("endpoint_alerts", [ENDPOINT_ALERTS]);
    this.db.sql`INSERT INTO endpoint_alerts (id, at) VALUES (${id}, ${at}) ON CONFLICT (id) DO NOTHING`;
  }

  endpointAlerted(id: string): void {
    if (this.has("endpoint_alerts")) this.db.sql`DELETE FROM endpoint_alerts WHERE id = ${id}`;
  }

  /**
   * Folds an isolate's view of an endpoint's outcomes into what is stored, and disables the
   * endpoint once it has failed continuously for `disableAfterMs`. The endpoint as it is now, and
   * whether this disabled it; null if there is no such endpoint.
   */
  recordEndpointHealth(id: string, seen: EndpointHealth, now: number, disableAfterMs: number): { endpoint: EndpointInfo; disabled: boolean } | null {
    const current = this.endpoint(id);
    if (!current) return null;
    const merged = mergeHealth({ lastSuccessAt: current.lastSuccessAt, failingSince: current.failingSince }, seen);
    const disabled = current.status === "active" && merged.failingSince !== null && now - merged.failingSince >= disableAfterMs;
    const status: EndpointStatus = disabled ? "disabled" : current.status;
    if (merged.lastSuccessAt !== current.lastSuccessAt || merged.failingSince !== current.failingSince || disabled) {
      this.db.sql`UPDATE endpoints SET last_success_at = ${merged.lastSuccessAt}, failing_since = ${merged.failingSince}, status = ${status} WHERE id = ${id}`;
    }
    return { endpoint: { ...current, ...merged, status }, disabled };
  }

  deleteEndpoint(id: string): boolean {
    if (!this.has("endpoints")) return false;
    return this.db.all(`DELETE FROM endpoints WHERE id = ? RETURNING id`, id).length > 0;
  }

  async rotateEndpointSecret(id: string): Promise<string | null> {
    if (!this.endpoint(id)) return null;
    const secret = newSigningSecret();
    const sealed = await sealSecret(this.env, sealContext.endpoint(this.space(), id), secret);
    this.db.sql`UPDATE endpoints SET secret = ${sealed} WHERE id = ${id}`;
    return secret;
  }

  // ─── Signed sources ───────────────────────────────────────────────────────────────────────────

  /** Each stored source, still sealed. */
  sealedSources(): Record<string, string> {
    if (!this.has("sources")) return {};
    return Object.fromEntries(this.db.all<{ name: string; sealed: string } & Row>(`SELECT name, sealed FROM sources ORDER BY name`).map((r) => [r.name, r.sealed]));
  }

  sourceNames(): string[] {
    if (!this.has("sources")) return [];
    return this.db.all<{ name: string }>(`SELECT name FROM sources`).map((r) => r.name);
  }

  putSource(name: string, value: StoredSource): Promise<void> {
    return this.putSealed("sources", name, sealContext.source(this.space(), name), value);
  }

  deleteSource(name: string): boolean {
    return this.deleteSealed("sources", name);
  }

  // ─── Paused handlers ──────────────────────────────────────────────────────────────────────────

  pausedHandlers(): string[] {
    if (!this.has("paused_handlers")) return [];
    return this.db.all<{ name: string }>(`SELECT name FROM paused_handlers ORDER BY name`).map((r) => r.name);
  }

  /** Pauses or resumes a handler for every entity; true when that changed anything. */
  setHandlerPaused(name: string, paused: boolean): boolean {
    if (!paused) return this.has("paused_handlers") && this.db.all(`DELETE FROM paused_handlers WHERE name = ? RETURNING name`, name).length > 0;
    this.ensure();
    return this.db.all(`INSERT INTO paused_handlers (name) VALUES (?) ON CONFLICT DO NOTHING RETURNING name`, name).length > 0;
  }

  // ─── Settings ─────────────────────────────────────────────────────────────────────────────────

  settings(): TenantSettings {
    if (!this.has("settings")) return settingsOf(null);
    const row = this.db.all<{ doc: string }>(`SELECT doc FROM settings`)[0];
    // Written by putSettings from a TenantSettings.
    return settingsOf(row ? (JSON.parse(row.doc) as Partial<TenantSettings>) : null);
  }

  putSettings(settings: TenantSettings): void {
    this.db.tables.make("settings", [SETTINGS]);
    this.db.sql`INSERT INTO settings (singleton, doc) VALUES (1, ${JSON.stringify(settings)}) ON CONFLICT (singleton) DO UPDATE SET doc = excluded.doc`;
  }

  // ─── The D1 mirror's budget ────────────────────────────────────────────────────────────────────

  /** What the tenant's rows held in the D1 mirror when last measured, and when; null before the first measure. */
  mirrorUsage(): { bytes: number; measuredAt: number } | null {
    if (!this.has("mirror_usage")) return null;
    const row = this.db.all<{ bytes: number; measured_at: number }>(`SELECT bytes, measured_at FROM mirror_usage`)[0];
    return row ? { bytes: Number(row.bytes), measuredAt: Number(row.measured_at) } : null;
  }

  putMirrorUsage(bytes: number, now: number): void {
    this.db.tables.make("mirror_usage", [MIRROR_USAGE]);
    this.db.sql`INSERT INTO mirror_usage (singleton, bytes, measured_at) VALUES (1, ${bytes}, ${now})
                ON CONFLICT (singleton) DO UPDATE SET bytes = excluded.bytes, measured_at = excluded.measured_at`;
  }

  // ─── Lookups ──────────────────────────────────────────────────────────────────────────────────

  snapshot(): TenantSnapshot {
    const record = this.record();
    return {
      record,
      keys: record && this.has("api_keys") ? this.db.all<KeyRow>(`SELECT id, digest FROM api_keys`).map((r) => ({ id: r.id, digest: r.digest })) : [],
      destinations: this.sealedDestinations(),
      endpoints: this.sealedEndpoints(),
      sources: this.sealedSources(),
      pausedHandlers: this.pausedHandlers(),
      settings: this.settings(),
      watching: false,
      mirrorOverBudget: (this.mirrorUsage()?.bytes ?? 0) > mirrorBudget(this.env),
    };
  }
}

function endpointInfo(r: EndpointRow): EndpointInfo {
  // Written by this module as a JSON array of strings.
  const eventTypes = r.event_types === null ? null : (JSON.parse(r.event_types) as string[]);
  return {
    id: r.id,
    url: r.url,
    eventTypes,
    description: r.description,
    createdAt: Number(r.created_at),
    backfill: Number(r.backfill) === 1,
    status: r.status === "disabled" ? "disabled" : "active",
    lastSuccessAt: r.last_success_at === null ? null : Number(r.last_success_at),
    failingSince: r.failing_since === null ? null : Number(r.failing_since),
    rateLimit: r.rate_per_second === null ? null : { perSecond: Number(r.rate_per_second) },
    maxConcurrency: r.max_concurrency === null ? null : Number(r.max_concurrency),
  };
}
