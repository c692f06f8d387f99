// The D1 mirror's schema: the numbered files in migrations/, applied once each and recorded in the
// same `d1_migrations` table `wrangler d1 migrations apply` uses, so either way of applying them
// knows what the other did. Local runs need no set-up step: the database handler applies what is
// missing on its first use in an isolate.
import { addUsage } from "../usage.ts";

// wrangler bundles .sql as text. Loaded on first use, so Node (the CLI, the dashboard build) can
// load the handler registry without a loader for .sql.
const MIGRATIONS = async (): Promise<ReadonlyArray<readonly [name: string, sql: string]>> => [
  ["0001_init.sql", (await import("../../migrations/0001_init.sql")).default],
  ["0002_events_one_index.sql", (await import("../../migrations/0002_events_one_index.sql")).default],
  ["0003_mirror_tables_without_rowid.sql", (await import("../../migrations/0003_mirror_tables_without_rowid.sql")).default],
];

/** wrangler's own table for applied D1 migrations. */
const TRACKING = `CREATE TABLE IF NOT EXISTS d1_migrations(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

const statementsOf = (sql: string): string[] =>
  sql
    .replace(/--.*$/gm, "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

let ready: Promise<void> | undefined;

/** Applies the missing migrations, once per isolate; a failure is retried on the next use. */
export function ensureSchema(db: D1Database): Promise<void> {
  ready ??= apply(db).catch((err: unknown) => {
    ready = undefined;
    throw err;
  });
  return ready;
}

async function apply(db: D1Database): Promise<void> {
  const tracked = await db.batch([db.prepare(TRACKING), db.prepare(`SELECT name FROM d1_migrations`)]);
  countRows(tracked);
  const applied = new Set((tracked[1]!.results as Array<{ name: string }>).map((r) => r.name));
  for (const [name, sql] of await MIGRATIONS()) {
    if (applied.has(name)) continue;
    // Each file and its record in one batch (one transaction). Two isolates racing apply the same
    // idempotent statements; the record is written once.
    countRows(await db.batch([...statementsOf(sql).map((s) => db.prepare(s)), db.prepare(`INSERT OR IGNORE INTO d1_migrations (name) VALUES (?)`).bind(name)]));
  }
}

/** Adds what D1 reports it read and wrote (its result `meta`) to the isolate's usage. */
export function countRows(results: D1Result[]): void {
  for (const { meta } of results) {
    addUsage("d1RowsRead", meta.rows_read ?? 0);
    addUsage("d1RowsWritten", meta.rows_written ?? 0);
  }
}
