// The tenant's metrics: its running totals (src/metrics/counts.ts): kept in memory, written as
// one row per flush received. Flushes come at most every 10 s from each isolate, so this row is
// written per flush, never per event. Created with the first flush.
import { emptyCounts, mergeCounts, type Counts, type EndpointHealth } from "../../src/metrics/counts.ts";
import { forgetTenant } from "../../src/control/runtime.ts";
import { staticTenant } from "../../src/control/tenants-config.ts";
import { deploymentSettings, mirrorBudget } from "../../src/config.ts";
import { mirrorBytes } from "../../src/handlers/database.ts";
import type { MetricsSnapshot } from "../../src/metrics/exposition.ts";
import { takeLocalCounts } from "../../src/metrics/record.ts";
import { endpointIdOf } from "../../src/rpc/names.ts";
import type { DeadLetters } from "./dead-letters.ts";
import type { TenantRoom } from "./room.ts";
import { Db, METRICS_SQL } from "../shared/sql.ts";

const SCHEMA = [`CREATE TABLE IF NOT EXISTS metrics (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), counts TEXT NOT NULL)`];

export class MetricsStore {
  private totals: Counts | null = null;

  constructor(private readonly db: Db) {}

  /** After the actor's storage was deleted: the table is gone. */
  forgetTables(): void {
    this.db.tables.forget(true);
    this.totals = emptyCounts();
  }

  current(): Counts {
    if (this.totals) return this.totals;
    const row = this.db.tables.has("metrics") ? this.db.sql<{ counts: string }>`SELECT counts FROM metrics WHERE singleton = 1`[0] : undefined;
    this.totals = row ? (JSON.parse(row.counts) as Counts) : emptyCounts();
    return this.totals;
  }

  /** Adds a flush to the totals and writes them (one row). */
  add(delta: Counts): void {
    const totals = mergeCounts(this.current(), delta);
    this.db.tables.make("metrics", SCHEMA);
    this.db.sql`INSERT INTO metrics (singleton, counts) VALUES (1, ${JSON.stringify(totals)})
      ON CONFLICT (singleton) DO UPDATE SET counts = excluded.counts`;
  }
}

/** How often a tenant with traffic has its rows in the D1 mirror measured against its budget. */
const MIRROR_MEASURE_EVERY_MS = 600_000;

/**
 * The tenant's metrics as a room of its actor: isolates' counts added up, endpoint health riding on
 * those flushes, and the D1 mirror's measure against the tenant's budget.
 */
export class TenantMetrics {
  private readonly totals: MetricsStore;
  /** A measure of the D1 mirror is under way in this instance. */
  private measuringMirror = false;

  constructor(
    private readonly room: TenantRoom,
    private readonly deadLetters: DeadLetters,
  ) {
    this.totals = new MetricsStore(new Db(room.ctx.storage.sql, METRICS_SQL));
  }

  /** The tables go with the tenant's erasure. */
  forgetTables(): void {
    this.totals.forgetTables();
  }

  async record(counts: Counts): Promise<void> {
    // Only a tenant that exists keeps metrics: a late flush must not leave a row behind an erasure.
    const record = this.room.control.record();
    if (record ? record.status !== "active" : !staticTenant(this.room.env, this.room.tenant)) return;
    const { health, ...totals } = counts;
    this.totals.add(totals);
    if (health) await this.recordEndpointHealth(health);
    // Flushes come while the tenant has traffic: the time to see how much of the shared D1 mirror it holds.
    const usage = this.room.control.mirrorUsage();
    if (this.room.env.DB && !this.measuringMirror && (usage === null || usage.measuredAt < Date.now() - MIRROR_MEASURE_EVERY_MS)) {
      this.measuringMirror = true;
      this.room.ctx.waitUntil(this.measureMirror(this.room.env.DB).finally(() => (this.measuringMirror = false)));
    }
  }

  /** Measures the tenant's rows in the D1 mirror; over D1_TENANT_BUDGET_BYTES, its `database` deliveries skip. */
  private async measureMirror(db: D1Database): Promise<void> {
    try {
      const bytes = await mirrorBytes(db, this.room.tenant);
      this.room.control.putMirrorUsage(bytes, Date.now());
      if (bytes > mirrorBudget(this.room.env)) this.room.log("warn", "tenant over its D1 mirror budget", { bytes, budget: mirrorBudget(this.room.env) });
    } catch (err) {
      this.room.log("warn", "D1 mirror not measured", { error: String(err) });
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
    const disableAfter = deploymentSettings(this.room.env).endpointDisableAfterMs;
    let disabled = false;
    this.room.transaction(() => {
      for (const [handler, seen] of Object.entries(health)) {
        const id = endpointIdOf(handler);
        const result = id === null ? null : this.room.control.recordEndpointHealth(id, seen, now, disableAfter);
        if (!result?.disabled) continue;
        this.room.control.queueEndpointAlert(result.endpoint.id, now);
        disabled = true;
        this.room.log("warn", "endpoint disabled", { endpoint: result.endpoint.id, failingSince: result.endpoint.failingSince });
      }
    });
    if (disabled) {
      forgetTenant(this.room.tenant);
      await this.room.wakeBy(now);
    }
  }

  /** Totals, plus what this isolate counted and has not flushed yet, plus the gauges read now. */
  async snapshot(): Promise<MetricsSnapshot> {
    const local = takeLocalCounts(this.room.tenant);
    if (local) await this.record(local);
    // Merged into a fresh copy, which also drops minutes past the hour kept.
    const endpoints = this.room.control.sealedEndpoints().map((e) => ({ id: e.id, disabled: e.status === "disabled", failingSince: e.failingSince }));
    return { counts: mergeCounts(emptyCounts(), this.totals.current()), deadLettersOpen: this.deadLetters.index.openByHandler(), endpoints };
  }
}
