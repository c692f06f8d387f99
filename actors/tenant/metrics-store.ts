// The tenant's running totals of its metrics (src/metrics/counts.ts): kept in memory, written as
// one row per flush received. Flushes come at most every 10 s from each isolate, so this row is
// written per flush, never per event. Created with the first flush.
import { emptyCounts, mergeCounts, type Counts } from "../../src/metrics/counts.ts";
import type { Db } from "../shared/sql.ts";

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
